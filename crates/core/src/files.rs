//! Reading a file the user named, bounded whatever the path turns out to be.
//!
//! A size from `metadata` is only a hint: `/dev/zero` says 0 bytes and never
//! ends, a FIFO blocks its reader until someone writes, and a file may grow
//! between the check and the read. So the file is opened without blocking,
//! checked to be a regular file through the open handle, and read through a
//! reader that stops one byte past the limit.

use std::io::Read;
use std::path::Path;

use crate::card::size_words;
use crate::{Error, Result};

/// The bytes of the regular file at `path` (symlinks followed), at most `max`
/// of them: [`Error::TooLarge`] beyond, [`Error::InvalidInput`] for a folder,
/// device, pipe or socket. Blocking: call it off the async runtime.
pub fn read_regular_file(path: &Path, max: u64) -> Result<Vec<u8>> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let not_regular = || {
        Error::InvalidInput(format!(
            "{name} is not a regular file (it is a folder, a device or a pipe), so Confab did not read it"
        ))
    };
    // Checked before opening as well: opening a folder or a device can fail or
    // have effects of its own on some systems.
    let before = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !before.is_file() {
        return Err(not_regular());
    }
    let file = open_nonblocking(path).map_err(|e| Error::io(path, e))?;
    // The handle's own type: the path may have been swapped since the check.
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(not_regular());
    }
    let too_large = || Error::TooLarge {
        what: name.clone(),
        limit: size_words(max),
    };
    if meta.len() > max {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    // The file may grow while it is read: never past the limit.
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > max {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Opens the regular file at `path` for reading (a large one, read in a
/// stream by the caller): [`Error::InvalidInput`] for a folder, device, pipe
/// or socket, checked before opening and again through the open handle.
pub fn open_regular_file(path: &Path) -> Result<std::fs::File> {
    let not_regular = || {
        Error::InvalidInput(format!(
            "{} is not a regular file (it is a folder, a device or a pipe), so Confab did not read it",
            path.display()
        ))
    };
    let before = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !before.is_file() {
        return Err(not_regular());
    }
    let file = open_nonblocking(path).map_err(|e| Error::io(path, e))?;
    if !file.metadata().map_err(|e| Error::io(path, e))?.is_file() {
        return Err(not_regular());
    }
    Ok(file)
}

/// Opens for reading; on Unix with `O_NONBLOCK`, so a FIFO swapped in after
/// the check cannot hang the open (reads of a regular file ignore the flag).
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_read_and_big_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, b"hello").unwrap();
        assert_eq!(read_regular_file(&path, 5).unwrap(), b"hello");
        let err = read_regular_file(&path, 4).unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::TooLarge);
        let err = read_regular_file(dir.path(), 100).unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::InvalidInput);
    }
}
