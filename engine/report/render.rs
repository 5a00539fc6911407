//! Renders a [`RunRecord`] in a report format. Template formats use
//! handlebars over the record's JSON plus a few views that templates need
//! and should not have to compute:
//!
//! - `by_section`: `[{name, verdict, steps}]`, sections in playbook order;
//! - `attention`: critical failures and errors first, then warning-level ones, then warnings;
//! - `pending_steps`: manual steps nobody answered;
//! - in those, each step's `tries_note`: how a verdict that took several observations came
//!   (`after 2 attempts; attempt 1: error: …`, `condition held after 4.2s (3 polls)`);
//! - in those, each action step's `approvals_note` when it needs approvals (who approved, how,
//!   when, and the exact action);
//! - in a follow-up run (`run --rerun-failed`), `follow_up_note`: the run it followed up and how
//!   many of its steps now pass; each step run again because of it has `was_note` (`was fail in run 12`);
//! - `generator`: `runbook <version>`.
//!
//! HTML escapes every value (handlebars' default, kept); markdown and text
//! escape a `<` that could open a tag (`<b`, `</`, `<!`), so a value cannot
//! smuggle markup into a markdown viewer, while `x < 70` stays readable.

use handlebars::Handlebars;
use serde_json::{Value, json};

use super::format::{ReportFormat, Shape, UnknownFormat};
use super::{junit, nagios, tap};
use crate::bounded_template as limits;
use crate::record::{RunRecord, Severity, Verdict};

/// Why a report was not rendered.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The template does not compile or passes a limit; one line, placed when the place is known.
    #[error("bad report template{}", limits::placed(.0))]
    BadTemplate(#[source] handlebars::TemplateError),
    /// The template compiled but failed on this record (a helper, the loop or output limit).
    #[error("the report template failed: {0}")]
    TemplateFailed(#[source] handlebars::RenderError),
    /// A template was given for a format that is not made from one.
    #[error("a template applies to markdown, html and text reports, not `{format}`")]
    NotATemplateFormat { format: &'static str },
    #[error("cannot write JSON: {0}")]
    Json(#[source] serde_json::Error),
    #[error("cannot write JUnit XML: {0}")]
    Junit(#[source] quick_junit::SerializeError),
    #[error(transparent)]
    UnknownFormat(#[from] UnknownFormat),
}

/// The record in `format`; `custom` replaces a template format's built-in template.
pub fn render(record: &RunRecord, format: &ReportFormat, custom: Option<&str>) -> Result<String, ReportError> {
    match (format.shape, custom) {
        (Shape::Template { builtin, html }, custom) => {
            let registry = registry(custom.unwrap_or(builtin), html)?;
            limits::render(&registry, "report", &context(record)).map_err(ReportError::TemplateFailed)
        }
        (_, Some(_)) => Err(ReportError::NotATemplateFormat { format: format.name }),
        (Shape::Json, None) => serde_json::to_string_pretty(record).map(|s| s + "\n").map_err(ReportError::Json),
        (Shape::Junit, None) => junit::render(record).map_err(ReportError::Junit),
        (Shape::Nagios, None) => Ok(nagios::render(record)),
        (Shape::Tap, None) => Ok(tap::render(record)),
    }
}

/// Compiles a template early, so a broken one stops the run before it starts.
pub fn check_template(source: &str, format: &ReportFormat) -> Result<(), ReportError> {
    match format.shape {
        Shape::Template { html, .. } => registry(source, html).map(|_| ()),
        _ => Err(ReportError::NotATemplateFormat { format: format.name }),
    }
}

fn registry(source: &str, html: bool) -> Result<Handlebars<'static>, ReportError> {
    let mut registry = limits::registry();
    if !html {
        registry.register_escape_fn(escape_tags);
    }
    limits::add_template(&mut registry, "report", source).map_err(ReportError::BadTemplate)?;
    Ok(registry)
}

/// `<` before a letter, `/`, `!` or `?` becomes `&lt;`.
fn escape_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let opens_tag =
            c == '<' && chars.peek().is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?'));
        if opens_tag { out.push_str("&lt;") } else { out.push(c) }
    }
    out
}

/// A step as the views show it: its record, plus `tries_note` when it took several observations
/// and `was_note` when a follow-up ran it again.
fn step_view(record: &RunRecord, step: &crate::record::StepResult) -> Value {
    let mut value = serde_json::to_value(step).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        if let Some(note) = step.tries_note() {
            map.insert("tries_note".into(), note.into());
        }
        if let Some(note) = record.follow_up_of.as_ref().and_then(|f| f.was_note(&step.id)) {
            map.insert("was_note".into(), note.into());
        }
        if let Some(approvals) = &step.approvals {
            map.insert("approvals_note".into(), approvals.describe().into());
        }
    }
    value
}

/// The data a template sees.
pub fn context(record: &RunRecord) -> Value {
    let mut value = serde_json::to_value(record).unwrap_or(Value::Null);
    let by_section: Vec<Value> = record
        .sections
        .iter()
        .filter_map(|name| {
            let steps: Vec<_> = record.steps.iter().filter(|s| &s.section == name).cloned().collect();
            let views: Vec<Value> = steps.iter().map(|s| step_view(record, s)).collect();
            (!steps.is_empty()).then(|| json!({"name": name, "verdict": RunRecord::overall(&steps), "steps": views}))
        })
        .collect();
    let with = |wanted: &[(Verdict, Option<Severity>)]| -> Vec<Value> {
        wanted
            .iter()
            .flat_map(|(v, severity)| {
                record.steps.iter().filter(move |s| s.verdict == *v && severity.is_none_or(|want| s.severity == want))
            })
            .map(|s| step_view(record, s))
            .collect()
    };
    let mut attention: Vec<(Verdict, Option<Severity>)> = Severity::ALL
        .iter()
        .flat_map(|severity| [(Verdict::Fail, Some(*severity)), (Verdict::Error, Some(*severity))])
        .collect();
    attention.push((Verdict::Warn, None));
    if let Value::Object(map) = &mut value {
        map.insert("by_section".into(), by_section.into());
        map.insert("attention".into(), with(&attention).into());
        map.insert("pending_steps".into(), with(&[(Verdict::Pending, None)]).into());
        if let Some(note) = record.follow_up_note() {
            map.insert("follow_up_note".into(), note.into());
        }
        map.insert("generator".into(), format!("runbook {}", env!("CARGO_PKG_VERSION")).into());
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::format::by_name;

    #[test]
    fn a_custom_report_template_is_held_to_the_template_limits() {
        let record: RunRecord = serde_json::from_str(include_str!("../../tests/report-record.json")).expect("record");
        let template = r#"{{#*inline "again"}}{{> again}}{{/inline}}{{> again}}"#;
        let error = render(&record, by_name("markdown").unwrap(), Some(template)).unwrap_err().to_string();
        assert!(error.starts_with("bad report template at 1:1: "), "{error}");
        assert!(error.contains("templates cannot define partials"), "{error}");
    }

    #[test]
    fn only_a_less_than_that_could_open_a_tag_is_escaped() {
        assert_eq!(escape_tags("x < 70 and <b>bold</b> <!-- c -->"), "x < 70 and &lt;b>bold&lt;/b> &lt;!-- c -->");
    }
}
