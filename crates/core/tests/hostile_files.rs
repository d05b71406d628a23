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
