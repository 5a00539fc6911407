//! Email through the local mail system: an RFC 5322 message (plain UTF-8
//! text, the subject RFC 2047-encoded when it is not ASCII) piped into
//! `sendmail -t -i`, which reads the recipients from the headers and does
//! not stop at a line holding a single dot. The caller bounds how long it may
//! take; the process is killed when it is given up.

use tokio::io::AsyncWriteExt as _;

use super::{NotifyError, Sendmail};

/// The subject when the target names none.
pub const DEFAULT_SUBJECT: &str = "runbook: {{playbook}} on {{host}}: {{event}}";

/// The whole message: headers, a blank line, the body.
pub fn compose(mail: &Sendmail, subject: &str, body: &str, event: &str, date: chrono::DateTime<chrono::Utc>) -> String {
    let mut headers = Vec::new();
    if let Some(from) = &mail.from {
        headers.push(format!("From: {}", one_line(from)));
    }
    headers.push(format!("To: {}", mail.to.iter().map(|a| one_line(a)).collect::<Vec<_>>().join(", ")));
    headers.push(format!("Subject: {}", encode_header(&one_line(subject))));
    headers.push(format!("Date: {}", date.to_rfc2822()));
    headers.push("MIME-Version: 1.0".to_owned());
    headers.push("Content-Type: text/plain; charset=utf-8".to_owned());
    headers.push("Content-Transfer-Encoding: 8bit".to_owned());
    headers.push(format!("X-Runbook-Event: {event}"));
    let mut message = headers.join("\n");
    message.push_str("\n\n");
    message.push_str(body);
    if !body.ends_with('\n') {
        message.push('\n');
    }
    message
}

/// Pipes `message` into `sendmail -t -i`.
pub async fn send(mail: &Sendmail, message: &str) -> Result<(), NotifyError> {
    let mut command = tokio::process::Command::new(&mail.path);
    command
        .args(["-t", "-i"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    crate::process::die_with_runbook(&mut command);
    let mut child = command.spawn().map_err(|source| NotifyError::SendmailStart { path: mail.path.clone(), source })?;
    let _group = child.id().map(crate::process::GroupGuard::new);
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(message.as_bytes()).await.map_err(NotifyError::SendmailWrite)?;
    }
    let status = child.wait().await.map_err(NotifyError::SendmailWait)?;
    if status.success() { Ok(()) } else { Err(NotifyError::SendmailExited(status)) }
}

/// A header value on one line: a value must not start a header of its own.
fn one_line(text: &str) -> String {
    text.split(['\r', '\n']).map(str::trim).filter(|p| !p.is_empty()).collect::<Vec<_>>().join(" ")
}

/// ASCII as it is; anything else as RFC 2047 `Q` encoded words of at most 75 characters,
/// folded onto continuation lines.
fn encode_header(text: &str) -> String {
    if text.is_ascii() {
        return text.to_owned();
    }
    const OPEN: &str = "=?utf-8?Q?";
    const CLOSE: &str = "?=";
    let mut words = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        let mut encoded = String::new();
        if c == ' ' {
            encoded.push('_');
        } else if c.is_ascii_alphanumeric() || matches!(c, '!' | '*' | '+' | '-' | '/') {
            encoded.push(c);
        } else {
            let mut buf = [0; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                encoded.push_str(&format!("={byte:02X}"));
            }
        }
        // A character's bytes stay in one word, as RFC 2047 requires.
        if OPEN.len() + word.len() + encoded.len() + CLOSE.len() > 75 {
            words.push(std::mem::take(&mut word));
        }
        word.push_str(&encoded);
    }
    words.push(word);
    words.iter().map(|w| format!("{OPEN}{w}{CLOSE}")).collect::<Vec<_>>().join("\n ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_subjects_stay_and_others_are_encoded_words_of_at_most_75_characters() {
        assert_eq!(encode_header("runbook: hourly failure"), "runbook: hourly failure");
        let encoded = encode_header(&"P&L → ".repeat(12));
        assert!(encoded.starts_with("=?utf-8?Q?P=26L_=E2=86=92_"), "{encoded}");
        assert!(encoded.lines().all(|l| l.trim_start().len() <= 75), "{encoded}");
        assert!(encoded.lines().skip(1).all(|l| l.starts_with(" =?utf-8?Q?")), "{encoded}");
    }

    #[test]
    fn a_value_cannot_add_a_header() {
        let mail = Sendmail {
            to: vec!["ops@example.com".into()],
            from: None,
            subject: None,
            path: "/usr/sbin/sendmail".into(),
        };
        let message = compose(&mail, "hi\nBcc: evil@example.com", "body", "failure", chrono::Utc::now());
        assert!(message.contains("Subject: hi Bcc: evil@example.com\n"), "{message}");
        assert!(!message.lines().any(|l| l.starts_with("Bcc:")), "{message}");
    }
}
