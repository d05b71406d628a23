//! Importing into the library: 1,000 mixed cards with thumbnails, and one 30 MB card.
//!
//! `cargo bench -p confab-core --bench library_import` prints wall time, cards
//! per second and peak heap memory, and, as a baseline measured in the same run,
//! the time to merely read the same files and decode their avatars' pixels.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use confab_core::card::{self, CardData, CardSpec, Image, Limits};
use confab_core::library::{self, ImportStatus};
use confab_core::sink::Discard;
use confab_core::store::Store;

/// Counts live heap bytes and remembers the peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn reset_peak() -> usize {
    let live = LIVE.load(Ordering::Relaxed);
    PEAK.store(live, Ordering::Relaxed);
    live
}

fn peak_since(base: usize) -> usize {
    PEAK.load(Ordering::Relaxed).saturating_sub(base)
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cards")
}

/// Writes `count` distinct cards: PNGs on real avatars, JSON, and CHARX, in rotation.
fn make_cards(dir: &Path, count: usize) -> u64 {
    let avatars: Vec<Image> = [
        "v2_png__st_default_Seraphina_2024.png",
        "v2_png__st_default_FluxTheCat.png",
        "v1_png__st_Megumin.png",
        "v2_png__st_default_CodingSensei.png",
    ]
    .iter()
    .map(|name| Image {
        bytes: std::fs::read(fixtures().join(name)).expect("fixture avatar"),
        mime: "image/png",
    })
    .collect();
    let mut total = 0u64;
    for i in 0..count {
        let data = CardData {
            name: format!("Character {i:04}"),
            description: "A character made for the import benchmark. ".repeat(20),
            first_mes: format!("Hello, I am number {i}."),
            tags: vec!["bench".into(), format!("group-{}", i % 10)],
            ..Default::default()
        };
        let (bytes, ext) = match i % 4 {
            0 | 1 => (
                card::write_png(&data, None, Some(&avatars[i % avatars.len()])).expect("png"),
                "png",
            ),
            2 => (card::write_json(&data, None, CardSpec::V3), "json"),
            _ => (
                card::write_charx(&data, None, Some(&avatars[i % avatars.len()]), &[])
                    .expect("charx"),
                "charx",
            ),
        };
        total += bytes.len() as u64;
        std::fs::write(dir.join(format!("card-{i:04}.{ext}")), bytes).expect("write card");
    }
    total
}

/// The floor: read every file and decode the avatar pixels, nothing else.
fn baseline(dir: &Path) -> f64 {
    let start = Instant::now();
    for entry in std::fs::read_dir(dir).expect("dir") {
        let path = entry.expect("entry").path();
        let bytes = std::fs::read(&path).expect("read");
        if path.extension().is_some_and(|e| e == "png") {
            let _ = image::load_from_memory(&bytes).expect("decode");
        }
    }
    start.elapsed().as_secs_f64()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let work = tempfile::tempdir().expect("tempdir");
    let cards = work.path().join("cards");
    std::fs::create_dir_all(&cards).expect("cards dir");
    let bytes = make_cards(&cards, 1_000);
    println!(
        "library import benchmark ({} cores)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "  input: 1,000 cards (500 PNG, 250 JSON, 250 CHARX), {:.1} MB",
        mb(bytes as usize)
    );

    let floor = baseline(&cards);

    runtime.block_on(async {
        let store = Store::open(&work.path().join("data")).await.expect("store");
        let base = reset_peak();
        let start = Instant::now();
        let summary =
            library::import_paths(&store, std::slice::from_ref(&cards), &Limits::default(), &Discard).await;
        let elapsed = start.elapsed().as_secs_f64();
        let peak = peak_since(base);
        assert_eq!(summary.imported, 1_000, "{:?}", summary.outcomes.iter().find(|o| o.status == ImportStatus::Failed));
        println!(
            "  import 1,000 cards with thumbnails: {elapsed:.2} s ({:.0} cards/s), peak heap {:.1} MB (target < 10 s)",
            1_000.0 / elapsed,
            mb(peak)
        );
        println!(
            "  baseline, read files + decode avatar pixels only: {floor:.2} s; import/baseline = {:.2}x",
            elapsed / floor
        );

        // One ~30 MB card: the PNG holds the text twice (chara and ccv3), base64-encoded.
        let big = CardData {
            name: "Thirty Megabytes".into(),
            description: "x".repeat(11 * 1024 * 1024),
            ..Default::default()
        };
        let avatar = Image {
            bytes: std::fs::read(fixtures().join("v1_png__st_Megumin.png")).expect("avatar"),
            mime: "image/png",
        };
        let png = card::write_png(&big, None, Some(&avatar)).expect("big png");
        let big_path = work.path().join("thirty.png");
        std::fs::write(&big_path, &png).expect("write big");
        drop((big, png));
        let size = std::fs::metadata(&big_path).expect("size").len() as usize;
        let base = reset_peak();
        let start = Instant::now();
        let summary =
            library::import_paths(&store, &[big_path], &Limits::default(), &Discard).await;
        let elapsed = start.elapsed().as_secs_f64();
        let peak = peak_since(base);
        assert_eq!(summary.imported, 1, "{:?}", summary.outcomes);
        println!(
            "  import one {:.1} MB card: {elapsed:.2} s, peak heap {:.1} MB = {:.2}x the file (target < 3x)",
            mb(size),
            mb(peak),
            peak as f64 / size as f64
        );
        store.close().await;
    });
}
