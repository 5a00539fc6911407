//! Notifications: where a run's result goes (`--notify FILE` for `watch` and
//! `serve`). A file lists targets:
//!
//! ```yaml
//! notify:
//!   - webhook: http://127.0.0.1:9000/hook   # POSTed JSON: the run summary
//!     body: json                            # or `text`: {"text": "..."} for chat
//!     on: [failure, recovery]               # the default; `always` = every run
//!   - command: ["/usr/local/bin/page-ops", "--team", "trading"]   # the message on stdin
//! ```
//!
//! Rules: `failure` when the run is not clean (a step failed or errored) and
//! the previous run was clean or unknown, `recovery` when it is clean and the
//! previous run was not, `always` for every run. So a target on `[failure,
//! recovery]` hears once when a fault starts and once when it ends, not once
//! per run. The previous run is the one before in this process, or for the
//! first run the newest in the history.
//!
//! The message says what failed with the observed values, taken from the run
//! record, which the runner has already redacted: no secret can reach it.
//! Delivery never fails the run: each target is tried [`ATTEMPTS`] times with
//! a growing pause, then given up with a warning on stderr.

mod deliver;
mod message;

use serde::Deserialize;

pub use deliver::{ATTEMPTS, deliver};
pub use message::{Event, event_of, summary, text};

/// A `--notify` file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyFile {
    pub notify: Vec<Target>,
}

/// One place results go.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// An `http://` or `https://` URL to POST to.
    #[serde(default)]
    pub webhook: Option<String>,
    /// The body of a webhook: the JSON summary, or `{"text": ...}` for chat.
    #[serde(default)]
    pub body: Body,
    /// A program and its arguments; the message arrives on its stdin.
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// When to send (default `[failure, recovery]`).
    #[serde(default = "default_on")]
    pub on: Vec<Rule>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Body {
    #[default]
    Json,
    Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rule {
    Failure,
    Recovery,
    Always,
}

fn default_on() -> Vec<Rule> {
    vec![Rule::Failure, Rule::Recovery]
}

impl Target {
    /// Whether this target hears about `event`.
    pub fn wants(&self, event: Event) -> bool {
        self.on.iter().any(|rule| match rule {
            Rule::Always => true,
            Rule::Failure => event == Event::Failure,
            Rule::Recovery => event == Event::Recovery,
        })
    }

    /// What to call the target in a warning: a webhook by scheme and host only, since chat
    /// webhooks carry their token in the path or query.
    pub fn name(&self) -> String {
        match (&self.webhook, &self.command) {
            (Some(url), _) => {
                let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
                let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
                format!("webhook {scheme}://{}", authority.rsplit_once('@').map_or(authority, |(_, host)| host))
            }
            (None, Some(argv)) => format!("command `{}`", argv.first().map_or("", String::as_str)),
            (None, None) => "an empty target".to_owned(),
        }
    }
}

/// Reads and checks a `--notify` file.
pub fn load(path: &std::path::Path) -> Result<NotifyFile, String> {
    let shown = path.display();
    let source = std::fs::read_to_string(path).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
    let file: NotifyFile = serde_saphyr::from_str(&source).map_err(|e| format!("`{shown}`: {e}"))?;
    for (i, target) in file.notify.iter().enumerate() {
        let at = format!("`{shown}`: target {}", i + 1);
        match (&target.webhook, &target.command) {
            (Some(_), Some(_)) => return Err(format!("{at}: give `webhook` or `command`, not both")),
            (None, None) => {
                return Err(format!("{at}: give `webhook` (a URL) or `command` (a program and its arguments)"));
            }
            (Some(url), None) if !(url.starts_with("http://") || url.starts_with("https://")) => {
                return Err(format!("{at}: `webhook` needs an http:// or https:// URL"));
            }
            (None, Some(argv)) if argv.is_empty() => return Err(format!("{at}: `command` names no program")),
            _ => {}
        }
        if target.on.is_empty() {
            return Err(format!("{at}: `on` is empty, so it would never be sent"));
        }
    }
    Ok(file)
}
