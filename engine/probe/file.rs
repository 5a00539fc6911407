//! `file`: one file, or the newest of a glob's matches. Enough for backup
//! freshness (`age_s`), integrity (`sha256_ok`), retention (`count`,
//! `count_older`) and log checks (`line_count`, `tail`).
//!
//! Observation: `exists`, `path`, `size`, `age_s`, `modified` (RFC 3339),
//! `count` (matching files), `count_older` (matches older than `older_than`,
//! null without it), `matches` (newest first, at most 100: `path`, `size`,
//! `age_s`), `sha256` (hex; null without `sha256_file`), `sha256_ok` (null
//! without `sha256_file`, false when no file matches), `line_count` and
//! `tail` (with `lines: true`).
//!
//! A missing file is `exists: false`, never an error; an unreadable checksum
//! file, or one with no line for the file, is an error (nothing was
//! verified). Only regular files match. Reading is bounded: the digest and
//! the line count stream the file, `tail` reads at most 1 MiB from its end,
//! and an attempt past its deadline stops reading.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::number::NumberParam;
use super::{Probe, ProbeContext, ProbeError};
use crate::template::Context;
use crate::units::parse_duration;

/// A file (`path`) or the newest regular file matching a pattern (`glob`); relative paths start at the
/// playbook's folder. Observes `exists` (a missing file is `false`, not an error), `path`, `size`,
/// `age_s`, `modified` (RFC 3339), `count` (matches), `count_older` (matches older than `older_than`),
/// `matches` (newest first, at most 100: `path`, `size`, `age_s`), `sha256` and `sha256_ok` (with
/// `sha256_file`; `false` when nothing matches), and `line_count` and `tail` (with `lines: true`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileProbe {
    /// The file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"/var/log/titan/brain.log")]
    pub path: Option<String>,
    /// A pattern (`*`, `?`, `[abc]`, `**`); the newest match by modification time is observed.
    /// A template value in it matches only itself (its `*`, `?`, `[` are not wildcards).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"/backups/titan_brain_*.sql.gz")]
    pub glob: Option<String>,
    /// A checksum file in `sha256sum` format (`<hex>  <name>` lines); the observed file's line
    /// (by file name) must match its SHA-256 for `sha256_ok`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"/backups/SHA256SUMS")]
    pub sha256_file: Option<String>,
    /// Count the lines (`line_count`) and keep the last ones (`tail`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lines: bool,
    /// How many lines `tail` keeps with `lines: true` (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = 20)]
    pub tail_lines: Option<NumberParam<u32>>,
    /// An age, e.g. `30d`: `count_older` counts the matches older than it (retention checks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"30d", regex(pattern = crate::units::TEMPLATED_DURATION_PATTERN))]
    pub older_than: Option<String>,
}

const DEFAULT_TAIL_LINES: u32 = 10;
const MAX_TAIL_BYTES: u64 = 1024 * 1024;
const MAX_LISTED: usize = 100;

/// One matching file.
struct Found {
    path: PathBuf,
    size: u64,
    modified: SystemTime,
}

impl Probe for FileProbe {
    const TEMPLATES: &'static [(&'static str, Context)] = &[("glob", Context::Glob)];
    const OBSERVES: Option<&'static [&'static str]> = Some(&[
        "exists",
        "path",
        "size",
        "age_s",
        "modified",
        "count",
        "count_older",
        "matches",
        "sha256",
        "sha256_ok",
        "line_count",
        "tail",
    ]);

    fn check(&self) -> Result<(), ProbeError> {
        match (&self.path, &self.glob) {
            (Some(_), None) | (None, Some(_)) => {}
            (Some(_), Some(_)) => return Err(ProbeError::check("glob", "give `path` or `glob`, not both")),
            (None, None) => return Err(ProbeError::check("path", "give `path` (a file) or `glob` (a pattern)")),
        }
        if let Some(glob) = self.glob.as_deref().filter(|g| !g.contains("{{")) {
            glob::Pattern::new(glob)
                .map_err(|e| ProbeError::check("glob", format!("`glob` is not a valid pattern: {e}")))?;
        }
        if let Some(age) = self.older_than.as_deref().filter(|a| !a.contains("{{")) {
            parse_duration(age).map_err(|e| ProbeError::check("older_than", e.to_string()))?;
        }
        self.tail_lines.as_ref().map_or(Ok(()), |n| n.check("tail_lines"))
    }

    async fn observe(&self, ctx: &ProbeContext) -> Result<Value, ProbeError> {
        self.check()?;
        let probe = self.clone();
        let base_dir = ctx.base_dir.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let _stop_on_drop = StopOnDrop(Arc::clone(&stop));
        tokio::task::spawn_blocking(move || probe.observe_blocking(&base_dir, &stop))
            .await
            .map_err(|e| ProbeError::Other(format!("file probe failed: {e}")))?
    }

    fn describe(&self) -> String {
        let target = match (&self.path, &self.glob) {
            (Some(path), _) => format!("file {path}"),
            (None, Some(glob)) => format!("newest file matching {glob}"),
            (None, None) => "file".to_owned(),
        };
        let verify = self.sha256_file.as_ref().map(|f| format!(", verified against {f}")).unwrap_or_default();
        format!("{target}{verify}")
    }
}

/// Tells the blocking reader to stop when the attempt is dropped (its deadline passed).
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl FileProbe {
    fn observe_blocking(&self, base_dir: &Path, stop: &AtomicBool) -> Result<Value, ProbeError> {
        let mut found = self.find(base_dir)?;
        found.sort_by(|a, b| b.modified.cmp(&a.modified).then_with(|| a.path.cmp(&b.path)));
        let now = SystemTime::now();
        let older_than = self
            .older_than
            .as_deref()
            .map(parse_duration)
            .transpose()
            .map_err(|e| ProbeError::check("older_than", e.to_string()))?;
        let count_older =
            older_than.map(|limit| found.iter().filter(|f| age(now, f.modified) > limit.as_secs_f64()).count());
        let matches: Vec<Value> = found
            .iter()
            .take(MAX_LISTED)
            .map(|f| json!({ "path": f.path.display().to_string(), "size": f.size, "age_s": age(now, f.modified) }))
            .collect();
        let mut out = json!({
            "exists": !found.is_empty(),
            "path": null,
            "size": null,
            "age_s": null,
            "modified": null,
            "count": found.len(),
            "count_older": count_older,
            "matches": matches,
            "sha256": null,
            "sha256_ok": self.sha256_file.as_ref().map(|_| false),
            "line_count": null,
            "tail": null,
        });
        let Some(newest) = found.first() else { return Ok(out) };
        out["path"] = json!(newest.path.display().to_string());
        out["size"] = json!(newest.size);
        out["age_s"] = json!(age(now, newest.modified));
        out["modified"] = json!(chrono::DateTime::<chrono::Utc>::from(newest.modified).to_rfc3339());
        if let Some(sums) = &self.sha256_file {
            let expected = expected_digest(&base_dir.join(sums), &newest.path)?;
            let actual = digest(&newest.path, stop)?;
            out["sha256_ok"] = json!(actual.eq_ignore_ascii_case(&expected));
            out["sha256"] = json!(actual);
        }
        if self.lines {
            let keep = match &self.tail_lines {
                Some(n) => n.get("tail_lines")?,
                None => DEFAULT_TAIL_LINES,
            };
            out["line_count"] = json!(count_lines(&newest.path, stop)?);
            out["tail"] = json!(tail(&newest.path, keep as usize)?);
        }
        Ok(out)
    }

    /// The regular files named by `path` or matching `glob` (none when missing).
    fn find(&self, base_dir: &Path) -> Result<Vec<Found>, ProbeError> {
        if let Some(path) = &self.path {
            return Ok(found(base_dir.join(path)).into_iter().collect());
        }
        let pattern = self.glob.as_deref().unwrap_or_default();
        let full = if Path::new(pattern).is_absolute() {
            pattern.to_owned()
        } else {
            format!("{}/{pattern}", glob::Pattern::escape(&base_dir.display().to_string()))
        };
        let paths =
            glob::glob(&full).map_err(|e| ProbeError::check("glob", format!("`glob` is not a valid pattern: {e}")))?;
        Ok(paths.filter_map(Result::ok).filter_map(found).collect())
    }
}

fn found(path: PathBuf) -> Option<Found> {
    let meta = std::fs::metadata(&path).ok().filter(std::fs::Metadata::is_file)?;
    Some(Found { size: meta.len(), modified: meta.modified().ok()?, path })
}

/// Seconds since `modified`, to the millisecond (negative for a file from the future).
fn age(now: SystemTime, modified: SystemTime) -> f64 {
    let seconds = match now.duration_since(modified) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    };
    (seconds * 1000.0).round() / 1000.0
}

fn open(path: &Path) -> Result<File, ProbeError> {
    File::open(path).map_err(|e| ProbeError::Io(format!("cannot read `{}`: {e}", path.display())))
}

/// Reads `path` in chunks, giving each to `each`; stops early when the attempt is dropped.
fn stream(path: &Path, stop: &AtomicBool, mut each: impl FnMut(&[u8])) -> Result<(), ProbeError> {
    let mut file = open(path)?;
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        if stop.load(Ordering::Relaxed) {
            return Err(ProbeError::Timeout("stopped reading: the step's deadline passed".to_owned()));
        }
        let n = file.read(&mut buffer).map_err(|e| ProbeError::Io(format!("cannot read `{}`: {e}", path.display())))?;
        if n == 0 {
            return Ok(());
        }
        each(&buffer[..n]);
    }
}

fn digest(path: &Path, stop: &AtomicBool) -> Result<String, ProbeError> {
    let mut hasher = Sha256::new();
    stream(path, stop, |chunk| hasher.update(chunk))?;
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The digest `sums` (in `sha256sum` format) lists for `file`, matched by file name.
fn expected_digest(sums: &Path, file: &Path) -> Result<String, ProbeError> {
    let mut text = String::new();
    open(sums)?
        .take(MAX_TAIL_BYTES)
        .read_to_string(&mut text)
        .map_err(|e| ProbeError::Io(format!("cannot read `{}`: {e}", sums.display())))?;
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    text.lines()
        .filter_map(|line| line.split_once(char::is_whitespace))
        .find(|(_, listed)| {
            let listed = listed.trim_start().trim_start_matches('*');
            Path::new(listed).file_name().is_some_and(|n| n.to_string_lossy() == name)
        })
        .map(|(hex, _)| hex.to_owned())
        .ok_or_else(|| ProbeError::Decode(format!("`{}` has no line for `{name}`", sums.display())))
}

fn count_lines(path: &Path, stop: &AtomicBool) -> Result<u64, ProbeError> {
    let (mut newlines, mut last) = (0u64, b'\n');
    stream(path, stop, |chunk| {
        newlines += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
        last = chunk.last().copied().unwrap_or(last);
    })?;
    Ok(newlines + u64::from(last != b'\n'))
}

/// The last `keep` lines, read from the end (at most [`MAX_TAIL_BYTES`]).
fn tail(path: &Path, keep: usize) -> Result<String, ProbeError> {
    let mut file = open(path)?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = size.saturating_sub(MAX_TAIL_BYTES);
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(start))
        .and_then(|_| file.take(MAX_TAIL_BYTES).read_to_end(&mut bytes))
        .map_err(|e| ProbeError::Io(format!("cannot read `{}`: {e}", path.display())))?;
    // A window that starts mid-file starts mid-line: drop that partial line.
    let whole = if start > 0 {
        bytes.iter().position(|&b| b == b'\n').map_or(&bytes[..0], |i| &bytes[i + 1..])
    } else {
        &bytes[..]
    };
    let text = String::from_utf8_lossy(whole);
    let lines: Vec<&str> = text.lines().collect();
    Ok(lines[lines.len().saturating_sub(keep)..].join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_counted_with_or_without_a_final_newline() {
        let dir = tempfile::tempdir().unwrap();
        let stop = AtomicBool::new(false);
        for (text, lines) in [("", 0), ("a", 1), ("a\n", 1), ("a\nb", 2), ("a\nb\n", 2)] {
            let path = dir.path().join("f");
            std::fs::write(&path, text).unwrap();
            assert_eq!(count_lines(&path, &stop).unwrap(), lines, "{text:?}");
        }
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "1\n2\n3\n4\n").unwrap();
        assert_eq!(tail(&path, 2).unwrap(), "3\n4");
        assert_eq!(tail(&path, 10).unwrap(), "1\n2\n3\n4");
    }
}
