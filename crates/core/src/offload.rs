//! CPU-heavy work (world-info scans, prompt assembly, compiling books) runs on
//! tokio's blocking pool, never on the async workers that keep IPC, streams and
//! the database moving.
//!
//! [`run`] marks the thread it runs on, so code that must not stall a worker can
//! check where it is with [`is_off_workers`] (the world-info scan does, in debug builds).

use std::cell::Cell;

use crate::error::{Error, Result};

thread_local! {
    static OFF_WORKERS: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` on the blocking pool; `what` names the work in the error if it panics.
pub async fn run<T, F>(what: &'static str, f: F) -> Result<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(move || {
        // Blocking-pool threads are reused: the mark is reset even if `f` unwinds.
        struct Unmark;
        impl Drop for Unmark {
            fn drop(&mut self) {
                OFF_WORKERS.with(|m| m.set(false));
            }
        }
        OFF_WORKERS.with(|m| m.set(true));
        let _unmark = Unmark;
        f()
    })
    .await
    .map_err(|e| Error::Internal(format!("{what} stopped unexpectedly: {e}")))
}

/// Whether the calling thread may do long CPU work: inside [`run`], or on a
/// thread with no tokio runtime at all (a CLI's plain code, a benchmark).
pub fn is_off_workers() -> bool {
    OFF_WORKERS.with(Cell::get) || tokio::runtime::Handle::try_current().is_err()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_thread_is_off_the_workers() {
        assert!(is_off_workers());
    }

    #[tokio::test]
    async fn an_async_worker_is_not_and_run_is() {
        assert!(!is_off_workers());
        assert!(run("a check", is_off_workers).await.unwrap());
        // A plain spawn_blocking is not marked: only `run` promises the work is CPU work off the workers.
        assert!(!tokio::task::spawn_blocking(is_off_workers).await.unwrap());
        assert!(!is_off_workers());
    }

    #[tokio::test]
    async fn a_panic_inside_run_is_an_internal_error_and_unmarks_the_thread() {
        let err = run("the test", || panic!("boom")).await.unwrap_err();
        assert!(
            matches!(err, Error::Internal(ref m) if m.contains("the test")),
            "{err:?}"
        );
        // One blocking thread is kept alive and reused: it must not stay marked.
        for _ in 0..4 {
            assert!(!tokio::task::spawn_blocking(is_off_workers).await.unwrap());
        }
    }
}
