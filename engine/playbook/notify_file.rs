//! A `--notify FILE`: notification targets shared by several playbooks,
//! read and checked like a playbook's own `notify:` section.

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::notify::Target;

/// A `--notify` file: the same list a playbook's `notify:` holds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyFile {
    pub notify: Vec<Spanned<Target>>,
}

/// Reads and checks a `--notify` file; a problem names the file, line and column.
pub fn load(path: &std::path::Path) -> Result<Vec<Target>, String> {
    let shown = path.display();
    let source = super::load::read_companion(path)?;
    let file: NotifyFile =
        serde_saphyr::from_str(&source).map_err(|e| format!("`{shown}`: {}", super::budget::plain(&e.to_string())))?;
    for (i, target) in file.notify.iter().enumerate() {
        if let Err(problem) = target.value.check() {
            let at = target.referenced;
            return Err(format!("{shown}:{}:{}: target {}: {problem}", at.line(), at.column(), i + 1));
        }
    }
    Ok(file.notify.into_iter().map(|t| t.value).collect())
}

/// Where a run's results go: the playbook's targets, then those of the
/// `--notify` file (if one is given) that are not already among them.
pub fn targets(playbook: &[Target], file: Option<&std::path::Path>) -> Result<Vec<Target>, String> {
    let mut all = playbook.to_vec();
    let from_file = file.map(load).transpose().map_err(|e| format!("--notify: {e}"))?;
    for target in from_file.unwrap_or_default() {
        if !all.contains(&target) {
            all.push(target);
        }
    }
    Ok(all)
}
