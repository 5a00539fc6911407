//! The record of a run, [`RunRecord`]: what every stage after the runner
//! reads. One documented structure behind `--format json`, every report
//! template, the JUnit file, notifications, the monitor and the history
//! store; its JSON Schema is committed as `schemas/report.schema.json`.
//! Everything in it is redacted: secrets never reach any output.

pub mod approval;
pub mod attest;
pub mod diff;
pub mod follow_up;
mod no_history;
mod severity;
pub mod signoff;
pub mod snooze;
pub mod summary;
pub mod waiver;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::secrets::Redactor;
pub use follow_up::FollowUp;
pub use no_history::{NoHistoryRule, NotJudged};
pub use severity::{Severity, UnknownSeverity};

/// How one step came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every `expect` and `warn` expression held.
    Pass,
    /// Every `expect` held, a `warn` did not.
    Warn,
    /// An `expect` did not hold.
    Fail,
    /// The probe could not observe (connection refused, timeout, bad JSON).
    Error,
    /// Not run: `when` was false or a needed step did not pass.
    Skipped,
    /// A manual step nobody has answered yet.
    Pending,
    /// It failed, but a waiver in force (a known exception with a reason, an owner and an
    /// expiry date) covers it. Never given to an `error`.
    Waived,
    /// Not run: the time is outside the step's `active:` window (a weekend, a holiday, before
    /// the market opens). Never a pass, and never a failure.
    #[serde(rename = "not_due")]
    NotDue,
}

impl Verdict {
    pub const ALL: [Verdict; 8] =
        [Self::Pass, Self::Warn, Self::Fail, Self::Error, Self::Skipped, Self::Pending, Self::Waived, Self::NotDue];

    pub fn name(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::Fail => "fail",
            Self::Error => "error",
            Self::Skipped => "skipped",
            Self::Pending => "pending",
            Self::Waived => "waived",
            Self::NotDue => "not_due",
        }
    }

    /// Whether steps that need this one may run.
    pub fn is_ok(self) -> bool {
        matches!(self, Self::Pass | Self::Warn)
    }

    /// Whether this verdict makes the run's exit code 1.
    pub fn is_bad(self) -> bool {
        matches!(self, Self::Fail | Self::Error)
    }
}

/// Whether the run finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Complete,
    /// Stopped by a signal or the run deadline; unfinished steps are `error`.
    Interrupted,
}

/// One finished step.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StepResult {
    pub id: String,
    pub section: String,
    pub title: String,
    /// The probe kind, e.g. `http`.
    pub kind: String,
    pub verdict: Verdict,
    /// How much a failure of this step matters (the playbook's `severity`; runs stored before it
    /// existed read as `critical`).
    #[serde(default)]
    pub severity: Severity,
    /// Why: the failed expressions with observed values, the probe's error,
    /// the skip reason, or a note.
    pub message: String,
    /// Captured values by name.
    pub captured: BTreeMap<String, Value>,
    pub duration_ms: u64,
    pub attempts: u32,
    /// For an action step: whether it was confirmed, by whom, how and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<Confirmation>,
    /// For an action step with `approvals: N`: how many approvers it needs and the approvals
    /// that counted (each approver once, each for the exact action that was to run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvals: Option<approval::Approvals>,
    /// The operator's answer, for a `manual` step that was answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<ManualAnswer>,
    /// True when the probe ran with TLS certificate verification off (the step's
    /// `insecure: true`); absent otherwise. Every report format shows it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
    /// The `expect` and `warn` expressions as judged, `expect` first, each in playbook order;
    /// the same facts as `message`, as data. Absent when nothing was judged (the probe
    /// errored, the step was skipped or is pending) and in records stored before it existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckResult>,
    /// For an `error` verdict, what sort of error: from the probe `refused` (nothing listens),
    /// `connect` (no connection otherwise: a name that does not resolve, unreachable),
    /// `timeout`, `tls`, `protocol` (the peer said no or broke its protocol), `decode` (an
    /// answer that cannot be read), `io` (local files and processes), `check` (a parameter
    /// that is not usable), `limit` (too large) or `other`; from the runner `timeout` (the
    /// step's deadline), `expression` (an expression that could not be judged), `stopped`,
    /// `template` (the parameters could not be filled in), `capture`, `internal` or
    /// `unfinished` (the run stopped first). Absent for other verdicts and in older records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
    /// The ids of the steps this one attests (the playbook's `attests`): if one of them failed
    /// or errored, this step fails and no answer can pass it. Absent when it attests nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attests: Vec<String>,
    /// The waiver that covers this step's failure: in force for a `waived` step, expired for a
    /// `fail` that names it. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiver: Option<Waiver>,
    /// Every attempt (or `until` poll) when there was more than one, in order, the last
    /// included: what each read or why it could not. Absent after a single attempt and in
    /// older records. Polls past [`Try::KEPT`] are counted in `attempts`, not listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tries: Vec<Try>,
    /// For a step with `until`: how the wait came out. Absent otherwise and in older records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Waited>,
    /// Present when a check could not be judged for want of an earlier value (a first run, a
    /// new history store): which checks, and the playbook's `on_no_history` rule that gave the
    /// verdict. Such a step is never a plain pass. Absent otherwise and in older records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_judged: Option<NotJudged>,
    /// The snooze in force on this step when the run ended (`runbook snooze`): the step ran
    /// and keeps its real verdict, but a `fail` or `error` does not fail the run or notify
    /// until the snooze ends. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snoozed: Option<snooze::Snooze>,
}

/// A known exception: a step whose failure is accepted, by whom, why and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Waiver {
    /// The step id.
    pub step: String,
    /// Why the failure is accepted.
    pub reason: String,
    /// Who accepted it.
    pub owner: String,
    /// The last day it is in force, `YYYY-MM-DD`.
    pub expires: String,
    /// True when the run came after that day: the step fails and names the waiver.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub expired: bool,
}

impl Waiver {
    /// `reason (owner, until YYYY-MM-DD)`, as reports and the sign-off name it.
    pub fn describe(&self) -> String {
        format!("{} ({}, until {})", self.reason, self.owner, self.expires)
    }
}

/// One attempt of a step, or one poll of its `until` condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Try {
    /// `error` when the probe could not observe; `fail` for an `until` poll whose condition
    /// did not hold; otherwise the verdict that observation was judged.
    pub verdict: Verdict,
    /// The error, or what a poll whose condition did not hold read (redacted).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// For an `error`, what sort (see [`StepResult::error_kind`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
    pub duration_ms: u64,
}

impl Try {
    /// How many tries a step keeps: the first ones, so a long wait cannot grow the record.
    pub const KEPT: usize = 50;
}

impl StepResult {
    /// One line on how the verdict came after more than one observation, for reports:
    /// `condition held after 4.2s (3 polls)` or `after 2 attempts; attempt 1: error: refused`.
    pub fn tries_note(&self) -> Option<String> {
        if let Some(wait) = &self.until {
            let waited = crate::units::show_duration(std::time::Duration::from_millis(wait.waited_ms));
            return (wait.held && wait.polls > 1)
                .then(|| format!("condition held after {waited} ({} polls)", wait.polls));
        }
        let (_, earlier) = self.tries.split_last()?;
        let earlier: Vec<String> = earlier
            .iter()
            .enumerate()
            .map(|(i, t)| format!("attempt {}: {}: {}", i + 1, t.verdict.name(), t.message))
            .collect();
        Some(format!("after {} attempts; {}", self.attempts, earlier.join("; ")))
    }
}

/// How a step's `until` wait came out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Waited {
    /// The condition, as the playbook wrote it.
    pub condition: String,
    /// Whether it held before `within` passed.
    pub held: bool,
    /// How many times the probe observed.
    pub polls: u32,
    /// From the first observation's start to the last one's end.
    pub waited_ms: u64,
}

/// One `expect` or `warn` expression of a step, as judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CheckResult {
    /// The expression, as the playbook wrote it.
    pub expression: String,
    /// Whether it is an `expect` or a `warn` expression.
    pub kind: CheckKind,
    /// Whether it held. A check that reads history with no earlier value yet is not judged:
    /// `held` is true and `no_history` says so; the step's `not_judged` gives the rule applied.
    pub held: bool,
    /// For a check that did not hold: the values it read, by the path or history look-up it
    /// read them with (`cpu_pct`, `body.status`, `prev("size")`), in full and redacted.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub observed: BTreeMap<String, Value>,
    /// True when a history function had no earlier value, so nothing was judged yet.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_history: bool,
}

/// Which list of a step an expression is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CheckKind {
    /// Must hold, or the step fails.
    Expect,
    /// Should hold, or the step warns.
    Warn,
}

/// A person's answer to a `manual` step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ManualAnswer {
    /// `pass`, `fail` or `skipped`.
    pub verdict: Verdict,
    /// What the operator noted, if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Where the answer came from.
    pub source: AnswerSource,
}

/// Where a manual answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnswerSource {
    /// Asked on the terminal after the automated steps ran.
    Prompt,
    /// Read from `--answers FILE`.
    AnswersFile,
}

/// One figure of the playbook's `summary:` block, evaluated after the run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SummaryValue {
    /// The label, e.g. `Daily P&L`.
    pub label: String,
    /// The expression it came from, e.g. `steps.pnl.daily_pnl`.
    pub expression: String,
    /// The value, or null when it could not be evaluated.
    pub value: Value,
    /// Why there is no value (a step that did not run, a bad expression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The sign-off block: who signed, when, and what they signed for.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct SignOff {
    /// Who signed the run off; absent when nobody did (the report shows a blank line).
    #[serde(default)]
    pub operator: Option<String>,
    /// When they signed, RFC 3339 UTC.
    #[serde(default)]
    pub signed_utc: Option<String>,
    /// The same moment in the signer's local time zone, RFC 3339 with offset.
    #[serde(default)]
    pub signed_local: Option<String>,
    /// True when the run completed, nothing failed or errored, nothing is pending
    /// and every action step was confirmed.
    pub clean: bool,
    /// One plain sentence: everything passed, or what failed and what is pending.
    pub statement: String,
    /// Ids of the steps that failed or errored.
    pub failed: Vec<String>,
    /// Ids of the manual steps nobody answered.
    pub pending: Vec<String>,
    /// Ids of the action steps that did not run for want of confirmation (unconfirmed,
    /// unapproved or rate-limited).
    #[serde(default)]
    pub unconfirmed: Vec<String>,
    /// Ids of the steps with a check not judged for want of history (a first run).
    #[serde(default)]
    pub not_judged: Vec<String>,
    /// The waivers in force that turned failures into `waived`, as `step: reason (owner, until date)`.
    #[serde(default)]
    pub waived: Vec<String>,
    /// Failures and errors under a snooze in force, as `step (fail): snoozed by OWNER until T: REASON`.
    #[serde(default)]
    pub snoozed: Vec<String>,
    /// Ids of the steps not run because they were outside their `active:` window.
    #[serde(default)]
    pub not_due: Vec<String>,
    /// The minisign key id the operator signed the report and record with (`run --sign`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// How many different people must sign the run off (the playbook's `signoff: { required: N }`).
    #[serde(default = "signoff::one", skip_serializing_if = "signoff::is_one")]
    pub required: u32,
    /// The sign-offs after the operator's (`runbook countersign`), in order. Kept beside the
    /// stored record, never in it: each vouches for the record and the signatures before it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub countersigns: Vec<Countersign>,
    /// `signed off (2 of 2)` or `awaiting countersign (1 of 2)`: present when the playbook
    /// requires more than one sign-off or someone countersigned. The verdict does not change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
}

/// A second (or later) person's sign-off over the record and the sign-offs before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Countersign {
    /// Which sign-off this is: 2 for the first countersign.
    pub seq: u32,
    /// Who countersigned.
    pub operator: String,
    /// When, RFC 3339 UTC.
    pub signed_utc: String,
    /// The minisign key id (16 hex digits, as `minisign` prints it) when they signed with a key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// SHA-256 (hex) of the stored record and the signature before this one: what it vouches for.
    pub over_hash: String,
}

/// The decision on an action step (`action: true`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Confirmation {
    /// Whether the action was allowed to run.
    pub confirmed: bool,
    /// The operator (`--operator`, `RUNBOOK_OPERATOR` or `$USER`).
    pub by: String,
    /// How it was confirmed (`--yes`, `terminal`), or why it was not.
    pub how: String,
    /// When the decision was made, RFC 3339 UTC.
    pub at: String,
}

impl StepResult {
    /// An action that was meant to run but was not confirmed.
    pub fn is_unconfirmed_action(&self) -> bool {
        self.confirmation.as_ref().is_some_and(|c| !c.confirmed)
    }

    /// Whether this step keeps a run from being clean for a reader that counts severity `min`
    /// and above: it failed, errored or was an action left unconfirmed.
    pub fn counts_against(&self, min: Severity) -> bool {
        self.severity >= min && (self.counts_as_bad() || self.is_unconfirmed_action())
    }

    /// Whether it failed or errored and no snooze covers it: what fails a run.
    pub fn counts_as_bad(&self) -> bool {
        self.verdict.is_bad() && self.snoozed.is_none()
    }

    /// Whether it failed or errored under a snooze in force.
    pub fn is_snoozed_failure(&self) -> bool {
        self.verdict.is_bad() && self.snoozed.is_some()
    }
}

/// Counts of steps by verdict.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Counts {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub error: usize,
    pub skipped: usize,
    pub pending: usize,
    /// Steps with a check not judged for want of history (whatever their verdict; see
    /// `StepResult::not_judged`). 0 in records stored before it existed.
    #[serde(default)]
    pub not_judged: usize,
    /// Failures a waiver in force covers (records stored before waivers read 0).
    #[serde(default)]
    pub waived: usize,
    /// Steps outside their `active:` window, not run (records stored before windows read 0).
    #[serde(default)]
    pub not_due: usize,
    /// Failures and errors a snooze in force covers; they are counted in `fail` or `error`
    /// too (records stored before snoozes read 0).
    #[serde(default)]
    pub snoozed: usize,
    /// The steps that failed or errored, by severity.
    #[serde(default)]
    pub failed_by_severity: BySeverity,
}

/// A count for each severity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BySeverity {
    pub critical: usize,
    pub warning: usize,
}

impl std::fmt::Display for BySeverity {
    /// `1 critical, 2 warning`: the steps that failed or errored, by severity.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = Severity::ALL.iter().map(|s| format!("{} {}", self.get(*s), s.name())).collect();
        f.write_str(&parts.join(", "))
    }
}

impl BySeverity {
    pub fn get(&self, severity: Severity) -> usize {
        match severity {
            Severity::Critical => self.critical,
            Severity::Warning => self.warning,
        }
    }
}

impl Counts {
    pub fn of(steps: &[StepResult]) -> Self {
        let mut c = Self::default();
        for s in steps.iter().filter(|s| s.verdict.is_bad()) {
            *match s.severity {
                Severity::Critical => &mut c.failed_by_severity.critical,
                Severity::Warning => &mut c.failed_by_severity.warning,
            } += 1;
        }
        c.not_judged = steps.iter().filter(|s| s.not_judged.is_some()).count();
        c.snoozed = steps.iter().filter(|s| s.is_snoozed_failure()).count();
        for s in steps {
            *match s.verdict {
                Verdict::Pass => &mut c.pass,
                Verdict::Warn => &mut c.warn,
                Verdict::Fail => &mut c.fail,
                Verdict::Error => &mut c.error,
                Verdict::Skipped => &mut c.skipped,
                Verdict::Pending => &mut c.pending,
                Verdict::Waived => &mut c.waived,
                Verdict::NotDue => &mut c.not_due,
            } += 1;
        }
        c
    }
}

/// A finished run: what `runbook run --format json` prints and every report renders.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "runbook run record")]
pub struct RunRecord {
    /// The playbook's name.
    pub playbook: String,
    /// The playbook file as given on the command line.
    pub file: String,
    /// The playbook's description.
    #[serde(default)]
    pub description: Option<String>,
    /// The machine that ran it.
    pub host: String,
    /// RFC 3339, UTC.
    pub started: String,
    /// RFC 3339, UTC.
    pub finished: String,
    pub duration_ms: u64,
    pub status: RunStatus,
    /// Playbook vars as used (secrets are never among them).
    pub vars: BTreeMap<String, Value>,
    /// The sections, in playbook order.
    pub sections: Vec<String>,
    pub counts: Counts,
    /// The worst verdict among the steps that count: fail or error, else warn, else pass.
    pub verdict: Verdict,
    pub steps: Vec<StepResult>,
    /// The playbook's `summary:` figures (the end-of-day block), in playbook order.
    #[serde(default)]
    pub summary: Vec<SummaryValue>,
    /// The sign-off: its state is always there, the operator only once someone signed.
    #[serde(default)]
    pub signoff: SignOff,
    /// Labels the run was started with (`--label region=eu`), for the fleet view.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Runs started together (`--group`, `RUNBOOK_GROUP`): the fleet view joins the shards of one group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The part of a sharded playbook this run ran (`--shard 1/4`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// For a follow-up run (`run --rerun-failed ID`): the earlier run it ran the failed, errored
    /// and pending steps of again. Its steps are only those; the others keep their verdicts there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up_of: Option<FollowUp>,
    /// The run's id in the history, when it was kept there (`runbook show ID`, `runbook countersign`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<i64>,
    /// Where the run sits in the history's tamper-evident chain of its playbook and host: a
    /// signature over this record also vouches for every run before it. Absent when the run
    /// was not kept (`--no-history`, `--dry-run`, a store that could not be written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<ChainLink>,
}

/// A run's link in the history chain of its (playbook, host): `runbook history verify` checks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ChainLink {
    /// Its place in the chain, from 1, in the order the runs finished.
    pub seq: i64,
    /// The chain hash of the run before it (SHA-256, hex; 64 zeros for the first).
    pub prev: String,
}

impl ChainLink {
    /// `history chain #12 after 3f2a…` (the whole hash), as reports show it.
    pub fn describe(&self) -> String {
        format!("history chain #{} after {}", self.seq, self.prev)
    }
}

/// One of `count` deterministic parts of a playbook (`--shard index/count`, `index` from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// `I/N`, `I` from 0: `0/4` is the first of four.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("`{text}` is not I/N with 0 <= I < N (e.g. `0/4`)");
        let (index, count) = text.split_once('/').ok_or_else(bad)?;
        let (index, count): (u32, u32) =
            (index.trim().parse().map_err(|_| bad())?, count.trim().parse().map_err(|_| bad())?);
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Who ran a run and with which labels: what `--host`, `--label`, `--group` and `--shard` set.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    /// `None`: the machine's host name.
    pub host: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub group: Option<String>,
    pub shard: Option<Shard>,
}

impl Identity {
    /// The host name runs are kept under.
    pub fn host(&self) -> String {
        self.host.clone().unwrap_or_else(crate::host_name::this_machine)
    }

    /// Stamps `record` with this identity.
    pub fn stamp(&self, record: &mut RunRecord) {
        record.host = self.host();
        record.labels.clone_from(&self.labels);
        record.group.clone_from(&self.group);
        record.shard = self.shard;
    }
}

impl RunRecord {
    /// The overall verdict of a list of steps.
    /// A snoozed failure counts as a warning: it does not fail the run, and the run is never a
    /// plain pass while one is hidden.
    pub fn overall(steps: &[StepResult]) -> Verdict {
        let worst = |v: Verdict| steps.iter().any(|s| s.verdict == v && !s.is_snoozed_failure());
        let snoozed = steps.iter().any(StepResult::is_snoozed_failure);
        if worst(Verdict::Error) {
            Verdict::Error
        } else if worst(Verdict::Fail) {
            Verdict::Fail
        } else if snoozed || worst(Verdict::Warn) {
            Verdict::Warn
        } else if worst(Verdict::Pending) {
            Verdict::Pending
        } else {
            Verdict::Pass
        }
    }

    /// Whether every step that counts passed (warnings allowed).
    /// An action that did not run for want of confirmation counts against it: the procedure was not
    /// carried out.
    pub fn is_clean(&self) -> bool {
        self.is_clean_at(Severity::Warning)
    }

    /// Whether the run completed with no step of severity `min` or above failed, errored or left
    /// unconfirmed: what a notification target on `min_severity: min` calls clean.
    pub fn is_clean_at(&self, min: Severity) -> bool {
        self.status == RunStatus::Complete && !self.steps.iter().any(|s| s.counts_against(min))
    }

    /// Recomputes counts, verdict and the sign-off state after steps changed
    /// (manual answers).
    pub fn recount(&mut self) {
        self.counts = Counts::of(&self.steps);
        self.verdict = Self::overall(&self.steps);
        signoff::assess(self);
    }

    /// Masks every secret in every string of the record.
    pub fn redact(&mut self, redactor: &Redactor) {
        // No secrets, nothing to mask: spare a 500-step run two copies of its record.
        if redactor.is_empty() {
            return;
        }
        let mut value = serde_json::to_value(&*self).unwrap_or(Value::Null);
        redactor.redact_json(&mut value);
        if let Ok(clean) = serde_json::from_value(value) {
            *self = clean;
        }
    }
}

/// A complete run of playbook `P` in section `S` with these steps (JSON step results), counted:
/// for the tests of what reads records.
#[cfg(test)]
pub(crate) fn complete_run_of(steps: Vec<serde_json::Value>) -> RunRecord {
    let mut record: RunRecord = serde_json::from_value(serde_json::json!({
        "playbook": "P", "file": "p.yaml", "host": "h", "started": "2026-01-01T00:00:00Z",
        "finished": "2026-01-01T00:00:01Z", "duration_ms": 1000, "status": "complete", "vars": {},
        "sections": ["S"], "counts": {"pass": 0, "warn": 0, "fail": 0, "error": 0, "skipped": 0, "pending": 0},
        "verdict": "pass", "steps": steps,
    }))
    .expect("a record");
    record.recount();
    record
}
