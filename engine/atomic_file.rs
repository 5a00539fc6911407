//! Replacing an output file whole or not at all: the text goes to a temporary
//! file in the same folder, which is renamed over the target once written and
//! synced. A run that crashes or is killed mid-way leaves the previous file
//! as it was (and at worst a stray `.NAME.tmp-PID`), never a truncated one.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// A file being written; [`AtomicFile::commit`] puts it in place, dropping it
/// leaves the target untouched.
pub struct AtomicFile {
    target: PathBuf,
    /// `None` when the target is not a regular file (`/dev/stdout`, a pipe): written in place.
    temp: Option<PathBuf>,
    file: Option<std::fs::File>,
}

impl AtomicFile {
    /// Creates the temporary file now, so a folder that cannot be written is
    /// found before a long run rather than after it.
    pub fn create(target: &Path) -> std::io::Result<Self> {
        // A device or a pipe cannot be renamed over, and has no previous content to keep.
        if std::fs::metadata(target).is_ok_and(|m| !m.is_file()) {
            let file = std::fs::File::create(target)?;
            return Ok(Self { target: target.to_path_buf(), temp: None, file: Some(file) });
        }
        let name = target.file_name().ok_or_else(|| std::io::Error::other("the path names no file"))?;
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".tmp-{}", std::process::id()));
        let temp = target.with_file_name(temp_name);
        let file = std::fs::OpenOptions::new().write(true).create_new(true).open(&temp)?;
        Ok(Self { target: target.to_path_buf(), temp: Some(temp), file: Some(file) })
    }

    /// Writes `bytes` as the whole file and renames it over the target.
    pub fn commit(mut self, bytes: &[u8]) -> std::io::Result<()> {
        let mut file = self.file.take().ok_or_else(|| std::io::Error::other("already committed"))?;
        file.write_all(bytes)?;
        let Some(temp) = &self.temp else { return file.flush() };
        // Synced before the rename: after a power cut the name holds old or new bytes, not none.
        file.sync_all()?;
        drop(file);
        std::fs::rename(temp, &self.target)
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        // Not committed (or the rename failed): the temporary file is not left behind.
        if let Some(temp) = &self.temp {
            let _ = std::fs::remove_file(temp);
        }
    }
}

/// Writes `bytes` to `path` whole or not at all.
pub fn write(path: &Path, bytes: impl AsRef<[u8]>) -> std::io::Result<()> {
    AtomicFile::create(path)?.commit(bytes.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_previous_file_stays_until_the_new_one_is_committed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("out.json");
        std::fs::write(&path, "old").expect("seed");
        let pending = AtomicFile::create(&path).expect("create");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "old");
        pending.commit(b"new").expect("commit");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "new");
        drop(AtomicFile::create(&path).expect("create"));
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "new");
        let names: Vec<_> = std::fs::read_dir(dir.path()).expect("list").flatten().map(|e| e.file_name()).collect();
        assert_eq!(names, ["out.json"], "no temporary file is left");
    }

    #[test]
    fn a_device_is_written_in_place() {
        write(Path::new("/dev/null"), b"gone").expect("write to /dev/null");
    }
}
