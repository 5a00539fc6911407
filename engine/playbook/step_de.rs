//! Reading a step by hand: its probe is whichever registered probe kind names
//! a key, so the registry alone decides which keys are probes. Doing it here,
//! rather than with `#[serde(flatten)]`, keeps source locations and
//! `deny_unknown_fields` inside every probe's own parameters.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

use super::diagnostic::Pos;
use super::error::Problem;
use super::model::{Spanned, Step};
use crate::probe::{self, ProbeSpec};
use crate::record::{NoHistoryRule, Severity};
use crate::suggest::did_you_mean;

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(StepVisitor)
    }
}

struct StepVisitor;

#[derive(Default)]
struct Fields {
    id: Option<Spanned<String>>,
    title: Option<String>,
    probe: Option<(String, ProbeSpec, Pos)>,
    capture: Option<std::collections::BTreeMap<String, Spanned<String>>>,
    expect: Option<Vec<Spanned<String>>>,
    warn: Option<Vec<Spanned<String>>>,
    when: Option<Spanned<String>>,
    needs: Option<Vec<Spanned<String>>>,
    attests: Option<Vec<Spanned<String>>>,
    timeout: Option<Spanned<String>>,
    retries: Option<u32>,
    retries_at: Option<Pos>,
    until: Option<super::model::Until>,
    action: Option<bool>,
    approvals: Option<u32>,
    approvals_at: Option<Pos>,
    max_runs: Option<Spanned<String>>,
    severity: Option<Severity>,
    on_no_history: Option<NoHistoryRule>,
    active: Option<super::model::ActiveEntry>,
}

fn put<T, E: de::Error>(slot: &mut Option<T>, value: T, key: &Spanned<String>) -> Result<(), E> {
    if slot.replace(value).is_some() {
        return Err(placed(key.referenced, format!("duplicate key `{}`", key.value)));
    }
    Ok(())
}

impl<'de> Visitor<'de> for StepVisitor {
    type Value = Step;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a step: a map with `id`, `title` and one probe")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Step, A::Error> {
        let mut f = Fields::default();
        let mut start = None;
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let name = key.value.as_str();
            start.get_or_insert(Pos::from(key.referenced));
            match name {
                "id" => put(&mut f.id, map.next_value()?, &key)?,
                "title" => put(&mut f.title, map.next_value()?, &key)?,
                "capture" => put(&mut f.capture, map.next_value()?, &key)?,
                "expect" => put(&mut f.expect, map.next_value()?, &key)?,
                "warn" => put(&mut f.warn, map.next_value()?, &key)?,
                "when" => put(&mut f.when, map.next_value()?, &key)?,
                "needs" => put(&mut f.needs, map.next_value()?, &key)?,
                "attests" => put(&mut f.attests, map.next_value()?, &key)?,
                "timeout" => put(&mut f.timeout, map.next_value()?, &key)?,
                "retries" => {
                    put(&mut f.retries, map.next_value()?, &key)?;
                    f.retries_at = Some(key.referenced.into());
                }
                "until" => put(&mut f.until, map.next_value()?, &key)?,
                "action" => put(&mut f.action, map.next_value()?, &key)?,
                "approvals" => {
                    put(&mut f.approvals, map.next_value()?, &key)?;
                    f.approvals_at = Some(key.referenced.into());
                }
                "max_runs" => put(&mut f.max_runs, map.next_value()?, &key)?,
                "severity" => put(&mut f.severity, severity(&map.next_value()?)?, &key)?,
                "on_no_history" => put(&mut f.on_no_history, no_history_rule(&map.next_value()?)?, &key)?,
                "active" => put(&mut f.active, map.next_value()?, &key)?,
                _ => {
                    let at = Pos::from(key.referenced);
                    let Some(kind) = probe::kind_named(name) else {
                        return Err(placed(at, unknown_key(name)));
                    };
                    if let Some((first, ..)) = &f.probe {
                        let message = format!("a step takes exactly one probe, found `{first}` and `{name}`");
                        return Err(placed(at, message));
                    }
                    let spec = map.next_value_seed(probe::SpecSeed(kind))?;
                    f.probe = Some((name.to_owned(), spec, key.referenced.into()));
                }
            }
        }
        // A step that lacks something is reported where it starts.
        let start = start.unwrap_or_default();
        let missing = |what: String| placed(start, what);
        let id = f.id.ok_or_else(|| missing("missing field `id`: every step needs a unique `id`".to_owned()))?;
        let title = f.title.ok_or_else(|| {
            missing(format!("missing field `title` in step `{}`: the checklist line the report shows", id.value))
        })?;
        let Some((_, probe, probe_at)) = f.probe else {
            let kinds = probe::KINDS.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
            return Err(missing(format!("step `{}` has no probe; add one of {kinds}", id.value)));
        };
        Ok(Step {
            id,
            title,
            probe,
            probe_at,
            capture: f.capture.unwrap_or_default(),
            expect: f.expect.unwrap_or_default(),
            warn: f.warn.unwrap_or_default(),
            when: f.when,
            needs: f.needs.unwrap_or_default(),
            attests: f.attests.unwrap_or_default(),
            timeout: f.timeout,
            retries: f.retries,
            retries_at: f.retries_at,
            until: f.until,
            action: f.action.unwrap_or(false),
            approvals: f.approvals,
            approvals_at: f.approvals_at,
            max_runs: f.max_runs,
            severity: f.severity.unwrap_or_default(),
            on_no_history: f.on_no_history,
            active: f.active,
        })
    }
}

thread_local! {
    /// The problem a step reported last on this thread, with its place: serde
    /// passes a custom error up as text only, and the reader would place it
    /// on the enclosing map. [`collecting`] hands it to the loader.
    static PLACED: RefCell<Option<Problem>> = const { RefCell::new(None) };
}

/// Runs `read` (one playbook's deserialization) and returns, beside its
/// result, the placed problem a step reported during it, if any.
pub(super) fn collecting<T>(read: impl FnOnce() -> T) -> (T, Option<Problem>) {
    PLACED.with_borrow_mut(|placed| *placed = None);
    let result = read();
    (result, PLACED.with_borrow_mut(Option::take))
}

/// A serde error for `message`, with the problem and its place kept aside
/// for the loader (which uses it when this error is the one that ends the read).
fn placed<E: de::Error>(at: impl Into<Pos>, message: String) -> E {
    let error = E::custom(&message);
    PLACED.with_borrow_mut(|placed| *placed = Some(Problem::new(at, message)));
    error
}

/// An `on_no_history` rule by name, placed where it stands.
fn no_history_rule<E: de::Error>(name: &Spanned<String>) -> Result<NoHistoryRule, E> {
    NoHistoryRule::named(&name.value).map_err(|message| placed(name.referenced, message))
}

/// A severity by name, with a suggestion for a near miss.
fn severity<E: de::Error>(name: &Spanned<String>) -> Result<Severity, E> {
    // `Severity::from_str` (in `record/`) says what is wrong in words only.
    name.value.parse().map_err(|e: crate::record::UnknownSeverity| placed(name.referenced, e.to_string()))
}

fn unknown_key(name: &str) -> String {
    let known = Step::FIELDS.iter().chain(probe::KINDS.iter()).copied();
    let hint = super::load_error::belongs_in(name)
        .map(|place| format!("; {place}"))
        .or_else(|| did_you_mean(name, known).map(|s| format!("; did you mean `{s}`?")))
        .unwrap_or_default();
    format!(
        "unknown field `{name}`{hint} (a step takes {} and one probe: {})",
        Step::FIELDS.join(", "),
        probe::KINDS.join(", ")
    )
}
