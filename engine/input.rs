//! Reading a file the user named (a playbook, answers, notify file, report
//! template, secret, key): the bytes actually read are counted, so a pipe,
//! `<(…)`, `/dev/zero` or a file that grows cannot take unbounded memory
//! whatever its metadata says, and a FIFO or terminal that never sends cannot
//! hang the command.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a file that is not a regular file (a pipe, FIFO, terminal,
/// device) may take to send all of its bytes.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The cap for a file that holds one value: a secret, a key, a signature.
pub const SMALL_FILE_BYTES: u64 = 1024 * 1024;

/// Why [`read`] gave no bytes.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// `size` is known for a regular file; a stream is cut off one byte past the limit.
    #[error("it is {}; the limit is {limit} bytes", size_text(*.size, *.limit))]
    TooLarge { size: Option<u64>, limit: u64 },
    #[error("it did not end within {}s (a pipe or FIFO nobody writes to?)", .0.as_secs())]
    TimedOut(Duration),
}

/// "N bytes" when the size is known, else "more than LIMIT bytes".
pub fn size_text(size: Option<u64>, limit: u64) -> String {
    match size {
        Some(size) => format!("{size} bytes"),
        None => format!("more than {limit} bytes"),
    }
}

/// The bytes of `path`, at most `limit` of them.
pub fn read(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    // O_NONBLOCK: opening a FIFO that has no writer would otherwise block in open(2) itself.
    let mut file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return read_stream(&file, limit);
    }
    // The fast path: a regular file tells its size; `take` still holds if it grows meanwhile.
    if meta.len() > limit {
        return Err(ReadError::TooLarge { size: Some(meta.len()), limit });
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
    (&mut file).take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { size: None, limit });
    }
    Ok(bytes)
}

/// `path` opened for a reader that streams it (a report to verify): a regular file
/// only, since anything else could hang the open or never end.
pub fn open_regular(path: &Path) -> Result<File, ReadError> {
    let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)?;
    if file.metadata()?.is_file() {
        Ok(file)
    } else {
        Err(ReadError::Io(std::io::Error::new(ErrorKind::InvalidInput, "it is not a regular file")))
    }
}

/// [`read`] as text; bytes that are not UTF-8 are an `InvalidData` error.
pub fn read_to_string(path: &Path, limit: u64) -> Result<String, ReadError> {
    String::from_utf8(read(path, limit)?)
        .map_err(|_| ReadError::Io(std::io::Error::new(ErrorKind::InvalidData, "it is not UTF-8 text")))
}

/// Reads what is not a regular file, waiting for each chunk until [`READ_TIMEOUT`]
/// from the start. A directory fails at the first read (`EISDIR`).
fn read_stream(mut file: &File, limit: u64) -> Result<Vec<u8>, ReadError> {
    let deadline = Instant::now() + READ_TIMEOUT;
    let mut bytes = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || !readable_within(file, left)? {
            return Err(ReadError::TimedOut(READ_TIMEOUT));
        }
        match file.read(&mut chunk) {
            Ok(0) => return Ok(bytes),
            Ok(n) if (bytes.len() + n) as u64 > limit => return Err(ReadError::TooLarge { size: None, limit }),
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Waits until `file` has bytes or an end to read. A FIFO opened before any writer
/// does not report an end, so this waits for the writer too (a plain read would say EOF).
#[allow(unsafe_code)]
fn readable_within(file: &File, within: Duration) -> std::io::Result<bool> {
    let mut fd = libc::pollfd { fd: file.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    let ms = i32::try_from(within.as_millis() + 1).unwrap_or(i32::MAX);
    // SAFETY: one pollfd that lives across the call; poll(2) writes only its `revents`.
    let ready = unsafe { libc::poll(&mut fd, 1, ms) };
    match ready {
        -1 => {
            let e = std::io::Error::last_os_error();
            if e.kind() == ErrorKind::Interrupted { Ok(true) } else { Err(e) }
        }
        n => Ok(n > 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_without_end_is_cut_off_one_chunk_past_the_limit() {
        let error = read(Path::new("/dev/zero"), 1000).unwrap_err();
        assert!(matches!(error, ReadError::TooLarge { size: None, limit: 1000 }), "{error:?}");
        assert_eq!(error.to_string(), "it is more than 1000 bytes; the limit is 1000 bytes");
    }

    #[test]
    fn a_directory_is_an_error_not_an_empty_file() {
        let error = read(Path::new("/"), 1000).unwrap_err();
        assert!(matches!(&error, ReadError::Io(e) if e.kind() == ErrorKind::IsADirectory), "{error:?}");
    }

    #[test]
    fn a_stream_opened_for_streaming_is_refused_at_once_even_a_fifo_nobody_writes_to() {
        let fifo = std::env::temp_dir().join(format!("runbook-input-fifo-{}", std::process::id()));
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let error = open_regular(&fifo).unwrap_err();
        std::fs::remove_file(&fifo).unwrap();
        assert_eq!(error.to_string(), "it is not a regular file");
        assert!(open_regular(Path::new("/dev/zero")).is_err());
        assert!(open_regular(&std::env::current_exe().unwrap()).is_ok());
    }

    #[test]
    fn a_regular_file_over_the_limit_is_refused_with_its_size() {
        let path = std::env::temp_dir().join(format!("runbook-input-{}", std::process::id()));
        std::fs::write(&path, "0123456789").unwrap();
        let error = read(&path, 4).unwrap_err();
        assert_eq!(read(&path, 10).unwrap(), b"0123456789");
        std::fs::remove_file(&path).unwrap();
        assert_eq!(error.to_string(), "it is 10 bytes; the limit is 4 bytes");
    }
}
