//! The playbook as written: serde types that mirror the YAML file one to one.
//! Unknown fields are errors everywhere. Values that later checks must point
//! at keep their source location (`Spanned`). The JSON Schema in `schemas/`
//! is generated from these types, so their doc comments are the reference.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
pub use serde_saphyr::{Location, Spanned};

use super::diagnostic::Pos;
use super::error::VarTypeError;
use crate::probe::ProbeSpec;
use crate::record::{NoHistoryRule, Severity};
use crate::secrets::SecretSource;

/// A playbook: one procedure of a runbook, as sections of checklist steps.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "runbook playbook", example = example_playbook())]
pub struct Playbook {
    /// The procedure's name, shown at the top of the checklist and the report.
    #[schemars(example = &"Pre-market checklist")]
    pub name: String,
    /// What the procedure is for and when to run it.
    #[serde(default)]
    #[schemars(example = &"30 minutes before market open")]
    pub description: Option<String>,
    /// Values the steps use as `{{vars.name}}` in probe parameters and `vars.name` in
    /// expressions. Override with `--var name=value` or `RUNBOOK_VAR_name`.
    #[serde(default)]
    #[schemars(example = example_vars())]
    pub vars: BTreeMap<String, VarValue>,
    /// Credentials, read from the environment or a file when the run starts and never
    /// printed. Use as `{{secrets.name}}` in probe parameters.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, SecretSource>", example = example_secrets())]
    pub secrets: BTreeMap<String, Spanned<SecretSource>>,
    /// Settings every step inherits unless it sets its own.
    #[serde(default)]
    pub defaults: Defaults,
    /// The checklist, in sections that follow the runbook's headings.
    pub sections: Vec<Section>,
    /// Figures the report shows at its end (the runbook's end-of-day block), each a
    /// label and a CEL expression over `vars` and captured values `steps.<id>.<name>`,
    /// evaluated once after the run.
    #[serde(default)]
    #[schemars(example = example_summary())]
    pub summary: Vec<SummaryEntry>,
    /// How the file report (`runbook run --report PATH`) looks.
    #[serde(default)]
    #[schemars(example = serde_json::json!({"template": "templates/daily.md.hbs"}))]
    pub report: Option<ReportSettings>,
    /// Where `runbook run`, `watch` and `serve` send the result: webhooks, commands, email
    /// through sendmail, on failure, on recovery or always, from a given severity up. The same
    /// list a `--notify` file holds; with both, both apply.
    #[serde(default)]
    #[schemars(with = "Vec<crate::notify::Target>", example = example_notify())]
    pub notify: Vec<Spanned<crate::notify::Target>>,
    /// Known exceptions: while a waiver is in force, its step's `fail` is shown as `waived` (never
    /// an `error`), counted apart and listed in the sign-off; after its expiry date the step fails
    /// and names the waiver. `runbook run --waivers FILE` adds more of the same shape.
    #[serde(default)]
    #[schemars(example = example_waivers())]
    pub waivers: Vec<WaiverEntry>,
    /// How long this playbook's runs stay in the history, pruned after every kept run:
    /// `keep_runs` (the newest N) and/or `keep_for` (e.g. `90d`). Runs the playbook's own
    /// trend checks still read (`avg(x, 30)`: the last 30) are always kept.
    #[serde(default)]
    #[schemars(example = serde_json::json!({"keep_runs": 2000, "keep_for": "90d"}))]
    pub history: Option<super::Retention>,
    /// Four eyes: how many different people must sign a run off (`required`, 1 to 5, default 1).
    /// The operator signs with `runbook run --operator`, the others with `runbook countersign`;
    /// until enough have, the run is "awaiting countersign".
    #[serde(default)]
    #[schemars(example = serde_json::json!({"required": 2}))]
    pub signoff: Option<super::SignoffRule>,
    /// For `runbook fleet`: how many hosts a step may fail on before the fleet verdict fails
    /// (default 0: one failing host fails the fleet); a missing host always fails it.
    #[serde(default)]
    #[schemars(with = "Option<super::fleet_rules::FleetRules>", example = serde_json::json!({"max_failing": 0, "steps": {"cpu_load": "10%"}}))]
    pub fleet: Option<Spanned<super::fleet_rules::FleetRules>>,
    /// When the playbook's steps are due: days, a daily window and a time zone, and a holidays
    /// file. Outside it a step is not run and is shown as `not_due` (never a pass, never a
    /// failure). A step's own `active:` replaces this one.
    #[serde(default)]
    #[schemars(example = example_active())]
    pub active: Option<ActiveEntry>,
}

/// An active window: a step is due only on these days, from `from` to `to` (end excluded)
/// in time zone `tz`, and not on the dates of the holidays file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActiveEntry {
    /// Weekdays (`mon` ... `sun`, or ranges such as `mon-fri`); every day when absent.
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>", example = vec!["mon-fri"])]
    pub days: Option<Spanned<Vec<String>>>,
    /// The local time it opens, `HH:MM` (or `HH:MM:SS`). A time the clock skips (a spring
    /// change) opens it when the clock jumps; a time that happens twice means the first.
    #[schemars(with = "String", example = &"09:30")]
    pub from: Spanned<String>,
    /// The local time it closes (excluded), after `from`: a window may not cross midnight.
    #[schemars(with = "String", example = &"16:00")]
    pub to: Spanned<String>,
    /// The time zone: an IANA name such as `America/New_York`, or `UTC`, `local`.
    #[schemars(with = "String", example = &"America/New_York")]
    pub tz: Spanned<String>,
    /// A file of dates the window stays shut, relative to the playbook: one `YYYY-MM-DD` a
    /// line, `#` starts a comment.
    #[serde(default)]
    #[schemars(with = "Option<String>", example = &"holidays.txt")]
    pub holidays: Option<Spanned<String>>,
}

fn example_active() -> serde_json::Value {
    serde_json::json!({"days": ["mon-fri"], "from": "09:30", "to": "16:00", "tz": "America/New_York", "holidays": "holidays.txt"})
}

/// One known exception.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WaiverEntry {
    /// The id of the step whose failure is accepted.
    #[schemars(with = "String", example = &"disk_space")]
    pub step: Spanned<String>,
    /// Why it is accepted.
    #[schemars(example = &"The new volume arrives on Friday")]
    pub reason: String,
    /// Who accepted it.
    #[schemars(example = &"ops-lead")]
    pub owner: String,
    /// The last day it is in force, `YYYY-MM-DD`.
    #[schemars(with = "String", regex(pattern = r"^\d{4}-\d{2}-\d{2}$"), example = &"2026-12-31")]
    pub expires: Spanned<String>,
}

fn example_waivers() -> serde_json::Value {
    serde_json::json!([{"step": "disk_space", "reason": "The new volume arrives on Friday", "owner": "ops-lead", "expires": "2026-12-31"}])
}

/// One figure of the end-of-day summary.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SummaryEntry {
    /// What the report calls it.
    #[schemars(example = &"Daily P&L")]
    pub label: String,
    /// A CEL expression, usually a captured value.
    #[schemars(with = "String", example = &"steps.pnl.daily_pnl")]
    pub value: Spanned<String>,
}

/// Report settings of a playbook.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportSettings {
    /// A handlebars template file for the file report, relative to the playbook's
    /// folder; `--template FILE` overrides it.
    #[serde(default)]
    #[schemars(with = "Option<String>", example = &"templates/daily.md.hbs")]
    pub template: Option<Spanned<String>>,
}

/// A playbook variable: a string, number or boolean.
// Read by hand (below), so a value of no such kind is the reader's typed
// "invalid type" error rather than the derive's wording; the schema stays untagged.
#[derive(Debug, Clone, JsonSchema, PartialEq)]
#[serde(untagged)]
pub enum VarValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

impl VarValue {
    /// What a var may be, as the reader's "invalid type" error names it.
    pub const EXPECTED: &'static str = "a string, a number or true/false";

    /// The value as JSON, the form templates and expressions read.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Bool(b) => (*b).into(),
            Self::Int(i) => (*i).into(),
            Self::Float(f) => (*f).into(),
            Self::Text(s) => s.clone().into(),
        }
    }

    /// Parses a command-line override with the type of the playbook's own value.
    pub fn parse_like(&self, text: &str) -> Result<Self, VarTypeError> {
        let bad = |expected: &'static str| VarTypeError { text: text.to_owned(), expected };
        Ok(match self {
            Self::Bool(_) => Self::Bool(text.parse().map_err(|_| bad("true or false"))?),
            Self::Int(_) => Self::Int(text.parse().map_err(|_| bad("an integer"))?),
            Self::Float(_) => Self::Float(text.parse().map_err(|_| bad("a number"))?),
            Self::Text(_) => Self::Text(text.to_owned()),
        })
    }
}

impl<'de> Deserialize<'de> for VarValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(VarVisitor)
    }
}

struct VarVisitor;

impl serde::de::Visitor<'_> for VarVisitor {
    type Value = VarValue;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(VarValue::EXPECTED)
    }
    fn visit_bool<E>(self, v: bool) -> Result<VarValue, E> {
        Ok(VarValue::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<VarValue, E> {
        Ok(VarValue::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<VarValue, E> {
        // Past `i64`, a whole number is kept as a float, as the untagged enum did.
        Ok(i64::try_from(v).map_or(VarValue::Float(v as f64), VarValue::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<VarValue, E> {
        Ok(VarValue::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<VarValue, E> {
        Ok(VarValue::Text(v.to_owned()))
    }
}

/// Settings every step inherits.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// How long one attempt of a step may take, e.g. `5s`, `500ms`, `2m` (default `10s`).
    #[serde(default)]
    #[schemars(with = "Option<String>", example = &"5s", regex(pattern = crate::units::DURATION_PATTERN))]
    pub timeout: Option<Spanned<String>>,
    /// How many times a step whose probe errored (could not observe) is tried again
    /// (default 0). A failed `expect` is never retried.
    #[serde(default)]
    #[schemars(example = 1)]
    pub retries: Option<u32>,
    /// The verdict of a step whose trend check has no earlier value yet (`prev()`, `avg()` on a
    /// first run or a new history store): `pass`, `warn` (the default) or `fail`. Either way the
    /// check is shown and counted as not judged.
    #[serde(default, deserialize_with = "NoHistoryRule::some_by_name")]
    #[schemars(example = &"fail")]
    pub on_no_history: Option<NoHistoryRule>,
}

/// A group of steps under one heading of the runbook.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// The heading, as in the runbook.
    #[schemars(example = &"System health verification")]
    pub name: String,
    /// The checklist items of this section.
    #[schemars(with = "Vec<Step>")]
    pub steps: Vec<Spanned<Step>>,
}

/// One checklist item: a probe, what to capture from its observation, and the
/// expressions that judge it. Exactly one probe key (`http`, `shell`, ...) is required.
#[derive(Debug, JsonSchema)]
#[schemars(deny_unknown_fields, transform = crate::probe::add_probe_properties)]
pub struct Step {
    /// A stable identifier, unique in the playbook: history, `needs` and `attests` use it.
    #[schemars(with = "String", regex(pattern = r"^[A-Za-z_][A-Za-z0-9_-]*$"), example = &"brain_health")]
    pub id: Spanned<String>,
    /// The checklist line, as the runbook words it.
    #[schemars(example = &"Brain Service: Status = \"ok\", Uptime > 0")]
    pub title: String,
    /// The probe, which observes something and returns a JSON document.
    #[schemars(skip)]
    pub probe: ProbeSpec,
    /// Where the probe's key stands in the file.
    #[schemars(skip)]
    pub probe_at: Pos,
    /// Named values taken from the observation by JSONPath, e.g. `health: $.body.status`.
    /// Expressions use them by name; later steps as `steps.<id>.<name>`.
    #[schemars(default)]
    #[schemars(with = "BTreeMap<String, String>", example = example_capture())]
    pub capture: BTreeMap<String, Spanned<String>>,
    /// CEL expressions that must all be true, or the step fails.
    #[schemars(default)]
    #[schemars(with = "Vec<String>", example = example_expect())]
    pub expect: Vec<Spanned<String>>,
    /// CEL expressions that should be true, or the step warns.
    #[schemars(default)]
    #[schemars(with = "Vec<String>", example = vec!["latency_ms < 500"])]
    pub warn: Vec<Spanned<String>>,
    /// A CEL expression; when false the step is skipped.
    #[schemars(with = "Option<String>", example = &"vars.mexc_enabled")]
    pub when: Option<Spanned<String>>,
    /// Steps that must pass (or warn) first; if one does not, this step is skipped.
    #[schemars(default)]
    #[schemars(with = "Vec<String>", example = vec!["db_connect"])]
    pub needs: Vec<Spanned<String>>,
    /// Steps this one vouches for, as a sign-off item over earlier checks ("All health checks
    /// passed"). It waits for them like `needs`, but if one failed or errored this step fails
    /// (never skipped) and names them, and no answer can pass it over them.
    #[schemars(default)]
    #[schemars(with = "Vec<String>", example = vec!["brain_health", "db_connect"])]
    pub attests: Vec<Spanned<String>>,
    /// How long one attempt may take, e.g. `5s` (overrides `defaults.timeout`).
    #[schemars(with = "Option<String>", example = &"5s", regex(pattern = crate::units::DURATION_PATTERN))]
    pub timeout: Option<Spanned<String>>,
    /// How many more attempts after an error: the probe could not observe (refused, timed
    /// out). A failed `expect` is final and never retried; to wait for a condition, use
    /// `until` (overrides `defaults.retries`).
    #[schemars(example = 2)]
    pub retries: Option<u32>,
    /// Where the `retries` key stands in the file, when the step has one.
    #[schemars(skip)]
    pub retries_at: Option<Pos>,
    /// Wait for a condition before judging: the probe observes again every `every` until
    /// `expr` is true, then `expect` and `warn` judge the last observation. If it is still
    /// false after `within`, the step fails.
    #[schemars(example = serde_json::json!({"expr": "state == \"ready\"", "every": "2s", "within": "60s"}))]
    pub until: Option<Until>,
    /// The step changes something (a POST that flattens positions, a script that rotates keys).
    /// It never runs unconfirmed: on a terminal `runbook run` shows the fully rendered request and
    /// asks; otherwise it needs `--yes`, and `--dry-run` only shows it. It is attempted once, never
    /// retried, and the run's result records who confirmed it and when.
    #[schemars(default, example = true)]
    pub action: bool,
    /// For an action: how many distinct people must approve the exact action (rendered, secrets
    /// masked) before it runs, 1 to 9: typed in on a terminal, or from a signed `--approvals`
    /// file. `--yes` does not stand in for them; with fewer, the action does not run.
    #[schemars(range(min = 1, max = 9), example = 2)]
    pub approvals: Option<u32>,
    /// Where the `approvals` key stands in the file, when the step has one.
    #[schemars(skip)]
    pub approvals_at: Option<Pos>,
    /// For an action: at most this many runs of it in a period, e.g. `1 per 1h`, counted from
    /// the history (this playbook, this host). Past it the action does not run; without a
    /// history store it never runs, since the limit cannot be checked.
    #[schemars(with = "Option<String>", example = &"1 per 1h", regex(pattern = r"^\s*[0-9]+\s+per\s+\S+\s*$"))]
    pub max_runs: Option<Spanned<String>>,
    /// How much a failure of this step matters, as the runbook splits its alerts: `critical`
    /// (immediate action, the default) or `warning` (monitor closely). Reports, metrics and
    /// notifications show it; any failure still makes the run exit 1.
    #[schemars(default, example = &"warning")]
    pub severity: Severity,
    /// What a trend check with no earlier value yet makes of this step: `pass`, `warn` or `fail`
    /// (overrides `defaults.on_no_history`; default `warn`).
    #[schemars(example = &"fail")]
    pub on_no_history: Option<NoHistoryRule>,
    /// When this step is due (replaces the playbook's `active:`); outside it the step is not
    /// run and is `not_due`.
    #[schemars(example = example_active())]
    pub active: Option<ActiveEntry>,
}

impl Step {
    /// The keys a step takes besides its probe, in the order the reference lists them.
    pub const FIELDS: &'static [&'static str] = &[
        "id",
        "title",
        "capture",
        "expect",
        "warn",
        "when",
        "needs",
        "attests",
        "timeout",
        "retries",
        "until",
        "action",
        "approvals",
        "max_runs",
        "severity",
        "on_no_history",
        "active",
    ];
}

/// A step's `until`: the condition it waits for, how often it looks and for how long.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = serde_json::json!({"expr": "state == \"ready\"", "every": "2s", "within": "60s"}))]
pub struct Until {
    /// A CEL expression over the same names as `expect`; the wait ends when it is true.
    #[schemars(with = "String", example = &"state == \"ready\"")]
    pub expr: Spanned<String>,
    /// How long to pause between observations, e.g. `2s` (default `1s`).
    #[serde(default)]
    #[schemars(with = "Option<String>", example = &"2s", regex(pattern = crate::units::DURATION_PATTERN))]
    pub every: Option<Spanned<String>>,
    /// How long to wait at most, from the first observation, e.g. `60s`.
    #[schemars(with = "String", example = &"60s", regex(pattern = crate::units::DURATION_PATTERN))]
    pub within: Spanned<String>,
}

fn example_playbook() -> serde_json::Value {
    serde_json::json!({
        "name": "Pre-market checklist",
        "vars": {"brain_url": "http://localhost:3100"},
        "sections": [{"name": "System health", "steps": [{
            "id": "brain_health",
            "title": "Brain Service: Status = \"ok\", Uptime > 0",
            "http": {"url": "{{vars.brain_url}}/health"},
            "capture": {"health": "$.body.status"},
            "expect": ["status == 200", "health == \"ok\""]
        }]}]
    })
}

fn example_notify() -> serde_json::Value {
    serde_json::json!([
        {"command": ["/opt/titan/scripts/page-ops.sh"], "min_severity": "critical"},
        {"sendmail": {"to": ["ops@titan.example"]}, "on": ["failure", "recovery"]}
    ])
}

fn example_summary() -> serde_json::Value {
    serde_json::json!([{"label": "Daily P&L", "value": "steps.pnl.daily_pnl"}])
}

fn example_vars() -> serde_json::Value {
    serde_json::json!({"brain_url": "http://localhost:3100", "mexc_enabled": false})
}

fn example_secrets() -> serde_json::Value {
    serde_json::json!({"console_auth": {"env": "TITAN_CONSOLE_AUTH"}, "db_password": {"file": "/etc/titan/db-password"}})
}

fn example_capture() -> serde_json::Value {
    serde_json::json!({"health": "$.body.status", "uptime": "$.body.uptime"})
}

fn example_expect() -> serde_json::Value {
    serde_json::json!(["status == 200", "health == \"ok\"", "uptime > 0"])
}
