//! Card parsing speed and memory, printed as plain figures (not a test).
//!
//! Run: `cargo bench -p confab-core --bench card_parse`

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Cursor;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use confab_core::card::{read_card, write_png, CardData, Image, Limits};

/// Counts live heap bytes and their peak, to report memory as a multiple of file size.
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let grow = new_size - layout.size();
                let now = CURRENT.fetch_add(grow, Ordering::Relaxed) + grow;
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Deterministic noise so the pixels do not compress away.
fn noise(len: usize, mut x: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect()
}

/// A PNG of pure noise (stored, incompressible) or of a photo-like image: a
/// gradient with noise in the low bits, which compresses and decodes like a photo.
fn noisy_png(w: u32, h: u32, photo_like: bool) -> Vec<u8> {
    let mut px = noise((w * h * 3) as usize, 7);
    if photo_like {
        for (i, p) in px.iter_mut().enumerate() {
            let x = (i / 3) as u32 % w;
            let y = (i / 3) as u32 / w;
            let base = ((x * 160 / w) + (y * 80 / h) + (i % 3) as u32 * 20) as u8;
            *p = base.wrapping_add(*p & 0x07);
        }
    }
    let img = image::RgbImage::from_raw(w, h, px).expect("sized buffer");
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .expect("encode");
    out
}

fn card(description_len: usize) -> CardData {
    let words = [
        "the ",
        "quiet ",
        "archivist ",
        "keeps ",
        "every ",
        "letter ",
        "safe. ",
    ];
    let mut description = String::with_capacity(description_len + 16);
    let mut i = 0;
    while description.len() < description_len {
        description.push_str(words[i % words.len()]);
        i += 7 + i / 3;
    }
    CardData {
        name: "Bench".into(),
        description,
        first_mes: "Hello.".into(),
        tags: vec!["bench".into()],
        ..CardData::default()
    }
}

fn stats(mut times: Vec<Duration>) -> (f64, f64) {
    times.sort();
    let mean = times.iter().map(Duration::as_secs_f64).sum::<f64>() / times.len() as f64;
    let median = times[times.len() / 2].as_secs_f64();
    (mean * 1e6, median * 1e6)
}

fn main() {
    let limits = Limits::default();

    // ~2 MB PNG card: a 1200x1100 photo-like avatar and a 20 KB card.
    let avatar = Image {
        bytes: noisy_png(1200, 1100, true),
        mime: "image/png",
    };
    let png = write_png(&card(20_000), None, Some(&avatar)).expect("write");
    let iterations = 300;
    let mut parse = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let t = Instant::now();
        let c = read_card(&png, "bench.png", &limits).expect("read");
        parse.push(t.elapsed());
        std::hint::black_box(c);
    }
    let (parse_mean, parse_median) = stats(parse);
    let mut decode = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let img = image::load_from_memory(&png).expect("decode");
        decode.push(t.elapsed());
        std::hint::black_box(img);
    }
    let (decode_mean, decode_median) = stats(decode);
    println!(
        "2 MB PNG card ({:.2} MB, {iterations} reads): parse card mean {:.0} µs, median {:.0} µs; decode pixels mean {:.0} µs, median {:.0} µs; ratio {:.0}x",
        png.len() as f64 / 1e6,
        parse_mean,
        parse_median,
        decode_mean,
        decode_median,
        decode_median / parse_median
    );

    // ~30 MB PNG card: 8 MB of pixels and an 8 MB description, written twice
    // (`chara` and `ccv3`) as base64: about 11 MB each.
    let big_avatar = Image {
        bytes: noisy_png(1600, 1700, false),
        mime: "image/png",
    };
    let big = write_png(&card(8 << 20), None, Some(&big_avatar)).expect("write");
    drop(big_avatar);
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let t = Instant::now();
    let parsed = read_card(&big, "big.png", &limits).expect("read big");
    let elapsed = t.elapsed();
    let peak = PEAK.load(Ordering::Relaxed) - base;
    let kept = CURRENT.load(Ordering::Relaxed) - base;
    drop(parsed);
    println!(
        "30 MB PNG card ({:.1} MB): read in {:.0} ms; peak extra heap {:.1} MB = {:.2}x file size (result kept: {:.1} MB = {:.2}x)",
        big.len() as f64 / 1e6,
        elapsed.as_secs_f64() * 1e3,
        peak as f64 / 1e6,
        peak as f64 / big.len() as f64,
        kept as f64 / 1e6,
        kept as f64 / big.len() as f64,
    );
}
