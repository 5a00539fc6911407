//! Where the history lives: `--history` / `RUNBOOK_HISTORY` (a SQLite file
//! path or a `postgres://` URL), else `$XDG_DATA_HOME/runbook/history.db`,
//! else `~/.local/share/runbook/history.db`.

use std::fmt;
use std::path::PathBuf;

use super::HistoryError;

/// A store's place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    /// A `postgres://` or `postgresql://` URL.
    Postgres(String),
}

impl Location {
    /// The given place, or the default one.
    pub fn resolve(given: Option<&str>) -> Result<Self, HistoryError> {
        match given.map(str::trim).filter(|g| !g.is_empty()) {
            Some(text) if text.starts_with("postgres://") || text.starts_with("postgresql://") => {
                Ok(Self::Postgres(text.to_owned()))
            }
            Some(text) => Ok(Self::Sqlite(PathBuf::from(text))),
            None => Self::default_path().map(Self::Sqlite).ok_or(HistoryError::NoPlace),
        }
    }

    /// `$XDG_DATA_HOME/runbook/history.db` (when absolute), else `$HOME/.local/share/runbook/history.db`.
    pub fn default_path() -> Option<PathBuf> {
        let absolute = |name: &str| std::env::var_os(name).map(PathBuf::from).filter(|p| p.is_absolute());
        let data = absolute("XDG_DATA_HOME").or_else(|| absolute("HOME").map(|home| home.join(".local/share")))?;
        Some(data.join("runbook").join("history.db"))
    }
}

impl fmt::Display for Location {
    /// The path, or the URL with any password masked.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "{}", path.display()),
            Self::Postgres(url) => f.write_str(&mask_password(url)),
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:••••••@host/db`.
fn mask_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:{}@{host}{tail}", crate::secrets::MASK)
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_and_paths_are_told_apart() {
        assert_eq!(Location::resolve(Some("/tmp/h.db")).unwrap(), Location::Sqlite("/tmp/h.db".into()));
        assert_eq!(
            Location::resolve(Some("postgres://postgres@127.0.0.1/db")).unwrap(),
            Location::Postgres("postgres://postgres@127.0.0.1/db".into())
        );
    }

    #[test]
    fn a_password_in_the_url_is_never_shown() {
        let shown = Location::Postgres("postgres://ops:hunter22@127.0.0.1:5432/runs?sslmode=disable".into());
        assert_eq!(shown.to_string(), "postgres://ops:••••••@127.0.0.1:5432/runs?sslmode=disable");
        let plain = Location::Postgres("postgres://ops@127.0.0.1/runs".into());
        assert_eq!(plain.to_string(), "postgres://ops@127.0.0.1/runs");
    }
}
