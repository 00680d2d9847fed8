//! Reading the files callers name (images, keys, profiles, settings) without trusting them: a
//! FIFO, a device such as `/dev/zero` or a directory is refused before anything is read, and
//! no more than the limit plus one byte is ever read, so an endless source cannot grow memory
//! or block the process.

use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;

/// Why a read stopped: the file is over `limit` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge {
    /// What is known of the size: the file's length, or `limit + 1` when it was read.
    pub bytes: u64,
    /// The limit it is over.
    pub limit: u64,
}

/// Reads a regular file of at most `limit` bytes. `what` names it in errors ("key file").
pub fn read_limited(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>> {
    read_bounded(path, limit, what)?.map_err(|t| {
        Error::InvalidArgument(format!(
            "{what} {} is over the limit of {} bytes",
            path.display(),
            t.limit
        ))
    })
}

/// Like [`read_limited`], as UTF-8 text.
pub fn read_text_limited(path: &Path, limit: u64, what: &str) -> Result<String> {
    String::from_utf8(read_limited(path, limit, what)?)
        .map_err(|_| Error::InvalidArgument(format!("{what} {} is not UTF-8 text", path.display())))
}

/// The bytes of a regular file, or how it is over `limit`; other errors (missing file, not a
/// regular file) are errors.
pub(crate) fn read_bounded(
    path: &Path,
    limit: u64,
    what: &str,
) -> Result<std::result::Result<Vec<u8>, TooLarge>> {
    let file = open_regular(path, what)?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    if len > limit {
        return Ok(Err(TooLarge { bytes: len, limit }));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    // The length may change under us: never read past limit + 1.
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > limit {
        return Ok(Err(TooLarge {
            bytes: limit + 1,
            limit,
        }));
    }
    Ok(Ok(bytes))
}

/// Opens `path` for reading only if it is a regular file. The open itself does not block on a
/// FIFO without a writer (O_NONBLOCK), and the type is checked on the opened file, so a swap
/// between the check and the read cannot slip a FIFO in.
fn open_regular(path: &Path, what: &str) -> Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(path).map_err(|e| Error::io(path, e))?;
    let kind = file.metadata().map_err(|e| Error::io(path, e))?.file_type();
    if !kind.is_file() {
        return Err(Error::InvalidArgument(format!(
            "{what} {} is not a regular file ({})",
            path.display(),
            describe(kind)
        )));
    }
    #[cfg(unix)]
    {
        // Back to blocking reads for the regular file.
        use std::os::fd::AsRawFd;
        let fd = file.as_raw_fd();
        // SAFETY: fcntl on a file descriptor we own; flags read then written back.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFL);
            if flags >= 0 {
                libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
            }
        }
    }
    Ok(file)
}

fn describe(kind: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn devices_fifos_and_directories_are_refused_without_reading() {
        for p in ["/dev/zero", "/dev/urandom", "/tmp"] {
            let e = read_limited(Path::new(p), 1 << 20, "test file").unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidArgument, "{p}: {e}");
            assert!(e.to_string().contains("not a regular file"), "{e}");
        }
        let dir = std::env::temp_dir().join(format!("faceprint-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo");
        let _ = std::fs::remove_file(&fifo);
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo on a path we own.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // No writer: a plain open would block forever.
        let e = read_limited(&fifo, 10, "key file").unwrap_err();
        assert!(e.to_string().contains("a FIFO"), "{e}");
        let big = dir.join("big");
        std::fs::write(&big, vec![7u8; 101]).unwrap();
        assert!(read_limited(&big, 100, "key file").is_err());
        assert_eq!(read_limited(&big, 101, "key file").unwrap().len(), 101);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
