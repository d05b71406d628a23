//! Which Confab processes have a library open: an advisory lock on a file
//! beside the database (`confab.db.lock`).
//!
//! Every process that may stream replies (the app, for as long as it runs; a
//! `confab chat` while it streams) holds the lock *shared*. A process may mark
//! replies left `partial` as `interrupted` only while it holds the lock
//! *exclusively*, which it gets only when no such process is alive. The
//! operating system drops a killed process's lock, so a crash never leaves the
//! library claimed. Nothing waits on the app's hold: the CLI reads and writes
//! beside a running app, it only skips recovery.
//!
//! The locks are `flock`-style (std's `File::lock*`: `flock(2)` on Unix,
//! `LockFileEx` on Windows): two opens of the file conflict even within one
//! process, so the tests can play two processes.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::{Error, Result};

/// How long a process that is about to stream waits for another one's
/// recovery (one short transaction) before it gives up with `busy`.
const RECOVERY_WAIT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(20);

/// What a process holds on its library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// Nothing: other processes may recover the library.
    Nothing,
    /// Shared with every other process that may stream replies.
    Shared,
    /// This process's alone: no other process that streams replies is alive.
    Sole,
}

/// A process's advisory lock on a library; dropping it releases the lock.
#[derive(Debug)]
pub struct LibraryLock {
    file: File,
    path: PathBuf,
    hold: Hold,
}

impl LibraryLock {
    /// The lock file beside the database file `database`.
    pub fn path_for(database: &Path) -> PathBuf {
        let mut name = database.as_os_str().to_owned();
        name.push(".lock");
        name.into()
    }

    /// Opens (creating) the lock file beside the database file `database`;
    /// holds nothing yet.
    pub fn open(database: &Path) -> Result<LibraryLock> {
        let path = Self::path_for(database);
        // The file's content is never used: only the lock on it.
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        Ok(LibraryLock {
            file,
            path,
            hold: Hold::Nothing,
        })
    }

    /// What this process holds now.
    pub fn hold(&self) -> Hold {
        self.hold
    }

    /// Takes the library for this process alone if no other process holds it;
    /// true if it did. Never waits. Where the file system has no locks, false:
    /// without knowing who is alive, nobody recovers.
    pub fn try_sole(&mut self) -> bool {
        if self.hold == Hold::Sole {
            return true;
        }
        self.release();
        match self.file.try_lock() {
            Ok(()) => {
                self.hold = Hold::Sole;
                true
            }
            Err(TryLockError::WouldBlock | TryLockError::Error(_)) => false,
        }
    }

    /// Holds the library shared: this process may stream replies, and others
    /// seeing it alive skip recovery. Waits (boundedly) only while another
    /// process holds it alone to recover it. Coming from [`Hold::Sole`] the
    /// lock is let go for a moment, so another process may recover then: that
    /// is harmless, as this one streams only once it holds the lock shared.
    pub fn share(&mut self) -> Result<()> {
        if self.hold == Hold::Shared {
            return Ok(());
        }
        // std leaves changing the kind of a held lock unspecified: let go first.
        self.release();
        let deadline = Instant::now() + RECOVERY_WAIT;
        loop {
            match self.file.try_lock_shared() {
                Ok(()) => {
                    self.hold = Hold::Shared;
                    return Ok(());
                }
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(POLL)
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(Error::Busy(format!(
                        "another Confab process has held {} for over {}s",
                        self.path.display(),
                        RECOVERY_WAIT.as_secs()
                    )))
                }
                // No locks on this file system: streaming still works, unannounced
                // (and nobody can recover, as `try_sole` fails the same way).
                Err(TryLockError::Error(_)) => return Ok(()),
            }
        }
    }

    /// Lets go of whatever this process holds.
    pub fn release(&mut self) {
        if self.hold != Hold::Nothing {
            // Unlocking a lock we hold cannot fail in a way we could act on;
            // closing the file would release it anyway.
            let _ = self.file.unlock();
            self.hold = Hold::Nothing;
        }
    }
}
