//! One place results go, as a `--notify` file and a playbook's `notify:`
//! section both write it: the same type for both, so they cannot drift.

use schemars::JsonSchema;
use serde::Deserialize;

use super::{Event, NotifyError};
use crate::record::Severity;

/// Where a run's result goes: exactly one of `webhook`, `command` or `sendmail`, and when.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = exactly_one_kind)]
pub struct Target {
    /// An `http://` or `https://` URL to POST to. Chat webhooks carry their token in the URL:
    /// keep such a URL in a `--notify` file outside the repository rather than in a playbook.
    #[serde(default)]
    #[schemars(example = &"https://chat.example/hooks/ops")]
    pub webhook: Option<String>,
    /// The body of a webhook: `json` (the run summary) or `text` (`{"text": ...}`, for chat).
    #[serde(default)]
    #[schemars(example = &"text")]
    pub body: Body,
    /// A program and its arguments; the message arrives on its stdin.
    #[serde(default)]
    #[schemars(example = serde_json::json!(["/opt/titan/scripts/page-ops.sh", "--team", "trading"]))]
    pub command: Option<Vec<String>>,
    /// An email through the local `sendmail -t`.
    #[serde(default)]
    #[schemars(example = serde_json::json!({"to": ["ops@titan.example"], "from": "runbook@titan.example"}))]
    pub sendmail: Option<Sendmail>,
    /// When to send: `failure` (a new fault), `recovery` (it ended), `always` (every run).
    #[serde(default = "default_on")]
    #[schemars(example = serde_json::json!(["failure", "recovery"]))]
    pub on: Vec<Rule>,
    /// The least severity that counts for this target: with `critical`, a run whose only failures
    /// are `severity: warning` steps is clean as far as this target goes, and its messages list only
    /// the critical steps (default `warning`: every failure counts).
    #[serde(default = "every_severity", deserialize_with = "Severity::by_name")]
    #[schemars(example = &"critical")]
    pub min_severity: Severity,
    /// The message text as a handlebars template over the run summary (`event`, `playbook`, `host`,
    /// `counts`, `failed` with each step's `id`, `title`, `severity`, `message`, `captured`, ...);
    /// default: a headline and one line per failed step with its observed values. It is the chat
    /// `text`, the command's stdin and the email's body.
    #[serde(default)]
    #[schemars(example = &"{{playbook}}: {{event}}{{#each failed}}; {{severity}} {{id}}: {{message}}{{/each}}")]
    pub message: Option<String>,
}

/// An email handed to the local mail system.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sendmail {
    /// The recipients.
    #[schemars(example = serde_json::json!(["ops@titan.example"]))]
    pub to: Vec<String>,
    /// The sender (default: what sendmail makes of the local user).
    #[serde(default)]
    #[schemars(example = &"runbook <runbook@titan.example>")]
    pub from: Option<String>,
    /// The subject, a handlebars template over the run summary (default
    /// `runbook: {{playbook}} on {{host}}: {{event}}`).
    #[serde(default)]
    #[schemars(example = &"[{{upper event}}] {{playbook}}")]
    pub subject: Option<String>,
    /// The sendmail program, called as `PATH -t -i` with the message on stdin.
    #[serde(default = "default_sendmail")]
    #[schemars(example = &"/usr/sbin/sendmail")]
    pub path: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Body {
    /// The run summary as JSON.
    #[default]
    Json,
    /// `{"text": "..."}`, what chat webhooks take.
    Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Rule {
    /// The run is not clean and the one before was clean or unknown.
    Failure,
    /// The run is clean and the one before was not.
    Recovery,
    /// Every run.
    Always,
}

fn default_on() -> Vec<Rule> {
    vec![Rule::Failure, Rule::Recovery]
}

fn every_severity() -> Severity {
    Severity::Warning
}

fn default_sendmail() -> String {
    "/usr/sbin/sendmail".to_owned()
}

/// The schema says what `check` says first: one kind per target.
fn exactly_one_kind(schema: &mut schemars::Schema) {
    let one_of: Vec<serde_json::Value> =
        ["webhook", "command", "sendmail"].iter().map(|k| serde_json::json!({ "required": [k] })).collect();
    schema.insert("oneOf".to_owned(), one_of.into());
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
        match (&self.webhook, &self.command, &self.sendmail) {
            (Some(url), ..) => {
                let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
                let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
                format!("webhook {scheme}://{}", authority.rsplit_once('@').map_or(authority, |(_, host)| host))
            }
            (None, Some(argv), _) => format!("command `{}`", argv.first().map_or("", String::as_str)),
            (None, None, Some(mail)) => format!("sendmail to {}", mail.to.join(", ")),
            (None, None, None) => "an empty target".to_owned(),
        }
    }

    /// What is wrong with the target, if anything: the checks a type cannot make.
    pub fn check(&self) -> Result<(), NotifyError> {
        let kinds = [self.webhook.is_some(), self.command.is_some(), self.sendmail.is_some()];
        match kinds.iter().filter(|k| **k).count() {
            0 => return Err(NotifyError::NoKind),
            1 => {}
            _ => return Err(NotifyError::SeveralKinds),
        }
        if let Some(url) = &self.webhook
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(NotifyError::NotHttp);
        }
        if self.command.as_ref().is_some_and(Vec::is_empty) {
            return Err(NotifyError::EmptyCommand);
        }
        if let Some(mail) = &self.sendmail {
            mail.check()?;
        }
        if self.on.is_empty() {
            return Err(NotifyError::NeverSent);
        }
        if let Some(template) = &self.message {
            check_template("message", template)?;
        }
        Ok(())
    }
}

impl Sendmail {
    fn check(&self) -> Result<(), NotifyError> {
        if self.to.is_empty() {
            return Err(NotifyError::NoRecipient);
        }
        for address in self.to.iter().chain(&self.from) {
            if !address.contains('@') || address.contains(['\r', '\n']) {
                return Err(NotifyError::NotAnAddress { address: address.clone() });
            }
        }
        if self.path.is_empty() {
            return Err(NotifyError::NoSendmailPath);
        }
        if let Some(template) = &self.subject {
            check_template("sendmail.subject", template)?;
        }
        Ok(())
    }
}

/// Compiles the template of `field`, so a broken one is refused before anything runs.
fn check_template(field: &'static str, template: &str) -> Result<(), NotifyError> {
    super::message::check_template(template)
        .map_err(|source| NotifyError::FieldTemplate { field, source: Box::new(source) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(yaml: &str) -> Target {
        serde_saphyr::from_str(yaml).expect("a target")
    }

    #[test]
    fn a_problem_names_the_field_and_what_is_wrong() {
        let both = target("webhook: http://h/\ncommand: [x]\n");
        assert_eq!(both.check().unwrap_err().to_string(), "give one of `webhook`, `command` or `sendmail`, not both");
        let address = target("sendmail: {to: [ops]}\n");
        assert_eq!(address.check().unwrap_err().to_string(), "`ops` is not an email address");
        let subject = target("sendmail: {to: [ops@h], subject: '{{#each x}'}\n");
        let error = subject.check().unwrap_err().to_string();
        assert!(error.starts_with("`sendmail.subject`: bad template at 1:"), "{error}");
    }
}
