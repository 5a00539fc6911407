//! Sending one run to every target that wants it: webhooks by POST, commands
//! with the message on stdin, email through sendmail; each target judges the
//! event at its own `min_severity`; bounded retries, warnings on stderr.

use std::time::Duration;

use tokio::io::AsyncWriteExt as _;

use super::{Body, Event, NotifyError, Target, event_of, message, sendmail, summary};
use crate::record::RunRecord;

/// Tries per target before giving up.
pub const ATTEMPTS: u32 = 3;
/// The pause before the second try; doubled each time after.
const BACKOFF: Duration = Duration::from_millis(500);
/// How long one try may take.
const TRY_LIMIT: Duration = Duration::from_secs(10);

/// Sends `record` to every target that wants the event it is, given the run before (`None`:
/// unknown). Never fails: a target that cannot be reached is reported on stderr and given up.
pub async fn deliver(targets: &[Target], record: &RunRecord, previous: Option<&RunRecord>) {
    for target in targets {
        let event = event_of(record, previous, target.min_severity);
        if !target.wants(event) {
            continue;
        }
        let mut pause = BACKOFF;
        for attempt in 1..=ATTEMPTS {
            let outcome = match tokio::time::timeout(TRY_LIMIT, send(target, record, event)).await {
                Ok(outcome) => outcome,
                Err(_) => Err(NotifyError::TimedOut { limit: TRY_LIMIT }),
            };
            match outcome {
                Ok(()) => break,
                Err(why) if attempt < ATTEMPTS => {
                    eprintln!("warning: notify {}: {why}; trying again ({attempt} of {ATTEMPTS})", target.name());
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
                Err(why) => eprintln!("warning: notify {}: {why}; gave up after {ATTEMPTS} tries", target.name()),
            }
        }
    }
}

async fn send(target: &Target, record: &RunRecord, event: Event) -> Result<(), NotifyError> {
    let min = target.min_severity;
    let text = message(record, event, min, target.message.as_deref())?;
    match (&target.webhook, &target.command, &target.sendmail) {
        (Some(url), ..) => {
            let body = match target.body {
                Body::Json => summary(record, event, min, &text),
                Body::Text => serde_json::json!({ "text": text }),
            };
            post(url, &body).await
        }
        (None, Some(argv), _) => run(argv, &text).await,
        (None, None, Some(mail)) => {
            let subject = mail.subject.as_deref().unwrap_or(sendmail::DEFAULT_SUBJECT);
            let subject = super::render(subject, &summary(record, event, min, &text))?;
            let email = sendmail::compose(mail, &subject, &text, event.name(), chrono::Utc::now());
            sendmail::send(mail, &email).await
        }
        (None, None, None) => Ok(()),
    }
}

async fn post(url: &str, body: &serde_json::Value) -> Result<(), NotifyError> {
    crate::tls::install_crypto_provider();
    let client = reqwest::Client::builder()
        .user_agent(concat!("runbook/", env!("CARGO_PKG_VERSION")))
        .timeout(TRY_LIMIT)
        .build()
        .map_err(NotifyError::Client)?;
    // reqwest's message names the URL, which may hold a token: say what happened without it.
    let response = client.post(url).json(body).send().await.map_err(|e| NotifyError::Deliver(e.without_url()))?;
    let status = response.status();
    if status.is_success() { Ok(()) } else { Err(NotifyError::Refused(status)) }
}

async fn run(argv: &[String], message: &str) -> Result<(), NotifyError> {
    let (program, args) = argv.split_first().ok_or(NotifyError::NoProgram)?;
    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    crate::process::die_with_runbook(&mut command);
    let mut child = command.spawn().map_err(NotifyError::Start)?;
    let _group = child.id().map(crate::process::GroupGuard::new);
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(message.as_bytes()).await;
    }
    let status = child.wait().await.map_err(NotifyError::Wait)?;
    if status.success() { Ok(()) } else { Err(NotifyError::Exited(status)) }
}
