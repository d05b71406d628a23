//! Paths that are not what they seem: a link to `/dev/zero`, a FIFO, a folder
//! full of files. Each gets a typed error (or is skipped) in bounded time and
//! memory; nothing waits for a writer or reads forever.

use std::path::{Path, PathBuf};

use confab_core::card::{self, Limits};
use confab_core::library::{self, ImportStatus};
use confab_core::session::service;
use confab_core::sink::Discard;
use confab_core::store::Store;
use confab_core::ErrorCode;

/// A FIFO at `path`, made by the system's `mkfifo`; `None` where there is none.
#[cfg(unix)]
fn fifo(path: &Path) -> Option<PathBuf> {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .ok()?;
    made.success().then(|| path.to_owned())
}

/// A symlink at `path` to `/dev/zero` (which says it is empty and never ends).
#[cfg(unix)]
fn dev_zero(path: &Path) -> PathBuf {
    std::os::unix::fs::symlink("/dev/zero", path).unwrap();
    path.to_owned()
}

#[cfg(unix)]
#[tokio::test]
async fn devices_and_fifos_named_in_a_drop_are_refused_without_reading() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("data")).await.unwrap();
    let mut paths = vec![
        // A card name and a world-book name: both readers go through the cap.
        dev_zero(&dir.path().join("zero.png")),
        dev_zero(&dir.path().join("zero.json")),
    ];
    let fifos = [
        fifo(&dir.path().join("pipe.png")),
        fifo(&dir.path().join("pipe.json")),
    ];
    assert!(fifos.iter().all(Option::is_some), "mkfifo is missing");
    paths.extend(fifos.into_iter().flatten());
    let summary = library::import_paths(&store, &paths, &Limits::default(), &Discard).await;
    assert_eq!(summary.failed, 4, "{:#?}", summary.outcomes);
    for outcome in &summary.outcomes {
        assert_eq!(outcome.status, ImportStatus::Failed);
        let error = outcome.error.as_ref().unwrap();
        assert_eq!(error.code, ErrorCode::InvalidInput, "{error:?}");
        assert!(error.message.contains("not a regular file"), "{error:?}");
    }
    // The card reader on its own says the same.
    let err = card::read_card_file(&dir.path().join("zero.png"), &Limits::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
}

#[cfg(unix)]
#[tokio::test]
async fn an_image_dropped_on_a_chat_that_is_a_device_or_fifo_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("data")).await.unwrap();
    let zero = dev_zero(&dir.path().join("zero.png"));
    let err = service::attach_image_file(&store, &zero).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput, "{err}");
    let pipe = fifo(&dir.path().join("pipe.png")).expect("mkfifo");
    let err = service::attach_image_file(&store, &pipe).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput, "{err}");
    // A real image next to them still attaches.
    let png = dir.path().join("real.png");
    let mut bytes = Vec::new();
    image::RgbImage::new(2, 2)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    std::fs::write(&png, &bytes).unwrap();
    assert!(service::attach_image_file(&store, &png).await.is_ok());
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cards")
        .join(name)
}

#[tokio::test]
async fn a_folder_takes_text_files_only_when_they_look_like_cards() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("data")).await.unwrap();
    let pack = dir.path().join("Pack");
    std::fs::create_dir_all(pack.join("docs")).unwrap();
    std::fs::copy(fixture("v1_png__st_Megumin.png"), pack.join("Megumin.png")).unwrap();
    // Kept: a small text card with no card of its name beside it.
    std::fs::write(pack.join("Bob the Baker.md"), "Bob bakes bread at dawn.").unwrap();
    // Left out: the card's notes, documents, a big text, something binary.
    std::fs::write(pack.join("megumin.txt"), "Notes on the card above.").unwrap();
    std::fs::write(pack.join("README.md"), "# My pack").unwrap();
    std::fs::write(pack.join("LICENSE-MIT.txt"), "MIT License").unwrap();
    std::fs::write(pack.join("docs/changelog.en.md"), "v2: more art").unwrap();
    let big = "word ".repeat(library::MAX_FOLDER_TEXT_CARD_BYTES as usize / 5 + 1);
    std::fs::write(pack.join("Big.txt"), big).unwrap();
    std::fs::write(pack.join("Binary.txt"), b"ab\0\x01\x02").unwrap();

    let expansion = library::expand_paths(std::slice::from_ref(&pack));
    let names: Vec<String> = expansion
        .jobs
        .iter()
        .map(|j| j.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["Bob the Baker.md", "Megumin.png"]);
    assert!(expansion.refused.is_empty());

    let summary = library::import_paths(
        &store,
        std::slice::from_ref(&pack),
        &Limits::default(),
        &Discard,
    )
    .await;
    assert_eq!(summary.imported, 2, "{:#?}", summary.outcomes);

    // A text file named in the drop itself is always tried.
    let named = library::expand_paths(&[pack.join("README.md")]);
    assert_eq!(named.jobs.len(), 1);
}

#[tokio::test]
async fn a_drop_takes_at_most_the_file_limit_and_reports_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("Hoard");
    std::fs::create_dir_all(&folder).unwrap();
    let extra = 7;
    for i in 0..library::MAX_DROP_FILES + extra {
        std::fs::write(folder.join(format!("c{i:05}.json")), b"{}").unwrap();
    }
    let loose = dir.path().join("loose.json");
    std::fs::write(&loose, b"{}").unwrap();
    let expansion = library::expand_paths(&[folder.clone(), loose.clone()]);
    assert_eq!(expansion.jobs.len(), library::MAX_DROP_FILES);
    // The first files by name, and each counted with its size.
    assert!(expansion.jobs[0].path.ends_with("c00000.json"));
    assert!(expansion.jobs.iter().all(|j| j.size == 2));
    // The folder and the file after it are reported, not silently dropped.
    assert_eq!(expansion.refused.len(), 2, "{:#?}", expansion.refused);
    for outcome in &expansion.refused {
        assert_eq!(outcome.status, ImportStatus::Failed);
        assert_eq!(outcome.error.as_ref().unwrap().code, ErrorCode::TooLarge);
    }
    assert_eq!(expansion.refused[1].file, loose.display().to_string());
}
