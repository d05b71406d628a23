//! One library, several processes: crash recovery runs only in a process that
//! holds the library alone, never beside a process that may be streaming.
//!
//! Real SQLite files in temp dirs and real advisory locks: `flock`-style locks
//! conflict between two opens of the lock file even within one process, so
//! each `LibraryLock` here stands for another process.

mod chat_support;
mod http_support;

use std::path::Path;
use std::time::Duration;

use chat_support::add_character;
use confab_core::chat::{open_library, Presence};
use confab_core::session::{MessageStatus, Role};
use confab_core::store::{Hold, LibraryLock, NewMessage, Store, DATABASE_FILE};

/// A library whose last reply was cut while it streamed; returns the reply's id.
async fn library_with_a_cut_reply(dir: &Path) -> String {
    let store = Store::open(dir).await.unwrap();
    let character = add_character(&store).await;
    let session = store
        .create_session(&character, None, "Traveller")
        .await
        .unwrap();
    let reply = store
        .add_message(
            &session,
            NewMessage {
                role: Role::Assistant,
                name: "Seraphina",
                content: "The forest is",
                status: MessageStatus::Partial,
                image_ids: &[],
                speaker: None,
            },
        )
        .await
        .unwrap();
    store.close().await;
    reply.id
}

async fn status(store: &Store, id: &str) -> MessageStatus {
    store.message(id).await.unwrap().status
}

/// Another process's lock on the library in `dir`.
fn other_process(dir: &Path) -> LibraryLock {
    LibraryLock::open(&dir.join(DATABASE_FILE)).unwrap()
}

#[test]
fn holds_conflict_as_between_processes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(DATABASE_FILE);
    let mut app = LibraryLock::open(&db).unwrap();
    let mut chat = LibraryLock::open(&db).unwrap();
    let mut cli = LibraryLock::open(&db).unwrap();
    assert_eq!(
        LibraryLock::path_for(&db),
        dir.path().join("confab.db.lock")
    );

    // Streamers share the library; nobody has it alone beside them.
    app.share().unwrap();
    chat.share().unwrap();
    assert_eq!((app.hold(), chat.hold()), (Hold::Shared, Hold::Shared));
    assert!(!cli.try_sole());
    app.release();
    assert!(!cli.try_sole(), "one streamer is enough");
    // A process that ends lets go, however it ends.
    drop(chat);
    assert!(cli.try_sole());
    assert_eq!(cli.hold(), Hold::Sole);
    assert!(!app.try_sole(), "one at a time");
    cli.release();
    assert!(app.try_sole());
}

#[tokio::test]
async fn a_library_nobody_holds_is_recovered_by_whoever_opens_it() {
    let dir = tempfile::tempdir().unwrap();
    let reply = library_with_a_cut_reply(dir.path()).await;

    // A `confab` command that streams nothing recovers, then holds nothing.
    let library = open_library(dir.path(), Presence::Visiting).await.unwrap();
    assert_eq!(library.recovered, 1);
    assert!(library.lock.is_none());
    assert_eq!(
        status(&library.store, &reply).await,
        MessageStatus::Interrupted
    );
    let mut other = other_process(dir.path());
    assert!(other.try_sole(), "a visitor leaves nothing held");
    other.release();

    // Once is enough; the app (or `confab chat`) then holds the library shared.
    let app = open_library(dir.path(), Presence::Streaming).await.unwrap();
    assert_eq!(app.recovered, 0);
    assert_eq!(app.lock.as_ref().map(LibraryLock::hold), Some(Hold::Shared));
    assert!(!other.try_sole(), "the app is seen alive");
    drop(app);
    assert!(other.try_sole(), "and gone once it let go");
}

#[tokio::test]
async fn a_reply_is_left_alone_while_another_process_may_stream_it() {
    let dir = tempfile::tempdir().unwrap();
    let reply = library_with_a_cut_reply(dir.path()).await;
    // Another process (the app, or a `confab chat`) is streaming.
    let mut streamer = other_process(dir.path());
    streamer.share().unwrap();

    // Neither a second app nor a CLI command marks its reply.
    let second = open_library(dir.path(), Presence::Streaming).await.unwrap();
    assert_eq!(second.recovered, 0);
    let cli = open_library(dir.path(), Presence::Visiting).await.unwrap();
    assert_eq!(cli.recovered, 0);
    assert_eq!(status(&cli.store, &reply).await, MessageStatus::Partial);

    // The CLI still reads and writes beside them.
    let session = cli.store.message_session(&reply).await.unwrap();
    cli.store
        .add_message(
            &session,
            NewMessage {
                role: Role::System,
                name: "Narrator",
                content: "Written beside the app.",
                status: MessageStatus::Complete,
                image_ids: &[],
                speaker: None,
            },
        )
        .await
        .unwrap();

    // The first streamer ends; the second still may stream: still left alone.
    streamer.release();
    let cli = open_library(dir.path(), Presence::Visiting).await.unwrap();
    assert_eq!(cli.recovered, 0);
    assert_eq!(status(&cli.store, &reply).await, MessageStatus::Partial);

    // Nobody streams any more: the next command recovers it.
    drop(second);
    let cli = open_library(dir.path(), Presence::Visiting).await.unwrap();
    assert_eq!(cli.recovered, 1);
    assert_eq!(status(&cli.store, &reply).await, MessageStatus::Interrupted);
}

#[tokio::test]
async fn a_stream_starts_only_after_another_processes_recovery() {
    let dir = tempfile::tempdir().unwrap();
    library_with_a_cut_reply(dir.path()).await;
    // Another process is recovering: it holds the library alone.
    let mut recovering = other_process(dir.path());
    assert!(recovering.try_sole());

    let dir_path = dir.path().to_owned();
    let mut opening =
        tokio::spawn(async move { open_library(&dir_path, Presence::Streaming).await });
    // Still waiting while the other holds the library alone...
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut opening)
            .await
            .is_err(),
        "a streamer must not start beside a recovery"
    );
    // ...and in once it is done, without recovering again.
    recovering.release();
    let library = opening.await.unwrap().unwrap();
    assert_eq!(library.recovered, 0);
    assert_eq!(
        library.lock.as_ref().map(LibraryLock::hold),
        Some(Hold::Shared)
    );
}
