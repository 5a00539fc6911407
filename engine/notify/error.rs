//! Why a notification was not sent, or why a target is refused: one error for
//! the notify layer. Delivery only ever shows these on stderr (a warning);
//! `check` problems stop a playbook or `--notify` file before anything runs.

use std::process::ExitStatus;
use std::time::Duration;

use crate::bounded_template::placed;

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// A try took longer than it may.
    #[error("no answer within {}s", .limit.as_secs())]
    TimedOut { limit: Duration },
    /// A message or subject template does not compile or passes a limit.
    #[error("bad template{}", placed(.0))]
    BadTemplate(#[source] handlebars::TemplateError),
    /// A message or subject template failed on this run.
    #[error("the template failed: {0}")]
    TemplateFailed(#[source] handlebars::RenderError),
    #[error("cannot set up the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    /// The POST did not get through; the error holds no URL (a chat webhook's carries a token).
    #[error("cannot deliver: {0}")]
    Deliver(#[source] reqwest::Error),
    #[error("the receiver answered {0}")]
    Refused(reqwest::StatusCode),
    /// A `command` target whose argv is empty (`check` refuses it first).
    #[error("no program")]
    NoProgram,
    #[error("cannot start it: {0}")]
    Start(#[source] std::io::Error),
    #[error("cannot wait for it: {0}")]
    Wait(#[source] std::io::Error),
    #[error("it exited with {0}")]
    Exited(ExitStatus),
    #[error("cannot start `{path}`: {source}")]
    SendmailStart {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write to sendmail: {0}")]
    SendmailWrite(#[source] std::io::Error),
    #[error("cannot wait for sendmail: {0}")]
    SendmailWait(#[source] std::io::Error),
    #[error("sendmail exited with {0}")]
    SendmailExited(ExitStatus),
    // What `Target::check` finds wrong with a target as written.
    #[error("give `webhook` (a URL), `command` (a program and its arguments) or `sendmail`")]
    NoKind,
    #[error("give one of `webhook`, `command` or `sendmail`, not both")]
    SeveralKinds,
    #[error("`webhook` needs an http:// or https:// URL")]
    NotHttp,
    #[error("`command` names no program")]
    EmptyCommand,
    #[error("`on` is empty, so it would never be sent")]
    NeverSent,
    #[error("`sendmail.to` names no recipient")]
    NoRecipient,
    #[error("`{address}` is not an email address")]
    NotAnAddress { address: String },
    #[error("`sendmail.path` is empty")]
    NoSendmailPath,
    /// The template of `field` (`message`, `sendmail.subject`) does not compile.
    #[error("`{field}`: {source}")]
    FieldTemplate {
        field: &'static str,
        #[source]
        source: Box<NotifyError>,
    },
}
