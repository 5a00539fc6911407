//! The run store: every run of every playbook, for `prev` and friends,
//! `runbook history` and `runbook show`.
//!
//! What is kept: each run's [`RunRecord`] as JSON (already redacted by the
//! runner, so no secret reaches the store) and an index of the values each
//! step captured (run, playbook, step, name, value, time), built from that
//! same redacted record. A playbook is identified by its `name`: rename it
//! and its history starts afresh; two files with one name share a history.
//!
//! Crash safety: a run is inserted as `incomplete` when it starts (one small
//! transaction) and completed at the end in ONE transaction that writes its
//! values and its record together. A run killed at any moment (SIGKILL
//! included) is therefore absent or `incomplete`, never half-written, and
//! look-ups only read `complete` runs. Interrupted runs (Ctrl-C, SIGTERM, the
//! run deadline) are stored as `interrupted` for the record, and are not used
//! by look-ups either: their values may be partial.
//!
//! Tamper evidence: that final transaction also links the run into the hash
//! chain of its playbook and host (see `chain`); `runbook history verify`
//! walks the chains (see `verify`).
//!
//! Two backends with the same tables and queries: SQLite (the default, one
//! file in WAL mode with a busy timeout, so concurrent runs on one machine
//! both land) and PostgreSQL (`--history postgres://…`, shared by a team).

mod backend;
mod chain;
mod fleet;
mod location;
mod lookup;
mod migrations;
mod postgres;
mod prune;
mod rollup;
mod signoffs;
mod sketch;
pub mod snoozes;
mod sqlite;
mod stats;
mod verify;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

pub use backend::ActionAt;
use backend::Backend as _;
pub use fleet::{RunHead, SignedRecord};
pub use location::Location;
pub use lookup::{PlaybookHistory, StepHistory};
pub use prune::Pruned;
pub use rollup::window_start;
pub use signoffs::{StoredCountersign, statement};
pub use stats::{CaptureStats, StepStats, shown};
pub use verify::{Break, ChainReport, Verified};

use crate::expr::{HistoryRead, LookBack};
use crate::playbook::Retention;
use crate::record::{ChainLink, Counts, RunRecord, RunStatus};

/// A failure to find, open, read or write the store; the message names the store, never a password.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("no place for the history: set `--history PATH`, `RUNBOOK_HISTORY` or `HOME`")]
    NoPlace,
    #[error("cannot create {}: {source}", dir.display())]
    CreateDir { dir: std::path::PathBuf, source: std::io::Error },
    #[error("its schema is version {found}, newer than this runbook knows ({known}); upgrade runbook")]
    NewerSchema { found: i64, known: i64 },
    /// Shown as `location` (its password masked) says.
    #[error("cannot open the history at {location}: {source}")]
    Open { location: String, source: Box<HistoryError> },
    #[error("{0}")]
    Database(#[from] sqlx::Error),
}

/// How far a stored run got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StoredStatus {
    /// Started and never completed: still running, or killed.
    Incomplete,
    Complete,
    /// Stopped by a signal or the run deadline.
    Interrupted,
}

impl StoredStatus {
    pub fn name(self) -> &'static str {
        match self {
            Self::Incomplete => "incomplete",
            Self::Complete => "complete",
            Self::Interrupted => "interrupted",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "complete" => Self::Complete,
            "interrupted" => Self::Interrupted,
            _ => Self::Incomplete,
        }
    }

    fn of(record: &RunRecord) -> Self {
        match record.status {
            RunStatus::Complete => Self::Complete,
            RunStatus::Interrupted => Self::Interrupted,
        }
    }
}

/// One stored run, as `runbook history` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct StoredRun {
    pub id: i64,
    pub playbook: String,
    pub file: String,
    pub host: String,
    pub operator: Option<String>,
    pub status: StoredStatus,
    /// RFC 3339, UTC.
    pub started: String,
    pub finished: Option<String>,
    pub verdict: Option<String>,
    pub counts: Option<Counts>,
    /// How far the sign-off got (`awaiting countersign (1 of 2)`), when the playbook requires
    /// more than one or someone countersigned; filled in by [`Store::with_signoffs`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signoff: Option<String>,
    /// Who countersigned, in order (`runbook countersign`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub countersigned_by: Vec<String>,
    /// For a follow-up run (`run --rerun-failed`): the run it followed up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_up_of: Option<i64>,
    /// The whole record; absent while incomplete.
    #[serde(skip)]
    pub record: Option<String>,
}

impl StoredRun {
    /// The stored record, parsed.
    pub fn record(&self) -> Option<RunRecord> {
        self.record.as_deref().and_then(|text| serde_json::from_str(text).ok())
    }
}

/// One captured value of one step, as the values index keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredValue {
    pub name: String,
    /// Milliseconds since the Unix epoch: when its run started.
    pub at: i64,
    pub value: Value,
}

/// Signs a record's stored text; returns the signature in minisign's text form.
pub type SignRecord = dyn Fn(&[u8]) -> Option<String> + Send + Sync;

/// An open store (a clone shares its connections).
#[derive(Clone)]
pub enum Store {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PgStore),
}

macro_rules! dispatch {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            Store::Sqlite($store) => $call.await,
            Store::Postgres($store) => $call.await,
        }
    };
}

impl Store {
    /// Opens (creating if needed) the store at `location` and brings its schema up to date.
    pub async fn open(location: &Location) -> Result<Self, HistoryError> {
        let opened = match location {
            Location::Sqlite(path) => sqlite::SqliteStore::open(path).await.map(Self::Sqlite),
            Location::Postgres(url) => postgres::PgStore::open(url).await.map(Self::Postgres),
        };
        opened.map_err(|e| HistoryError::Open { location: location.to_string(), source: Box::new(e) })
    }

    /// Starts copying the store's write-ahead log into it while a run goes on (SQLite);
    /// PostgreSQL's own checkpointer does that.
    pub fn checkpoint_in_background(&self) {
        if let Store::Sqlite(store) = self {
            store.checkpoint_in_background();
        }
    }

    /// Records that a run of `playbook` started; returns its id.
    pub async fn begin_run(&self, start: &RunStart<'_>) -> Result<i64, HistoryError> {
        dispatch!(self, s => s.begin_run(start))
    }

    /// Completes run `id` with its record, captured values and verdicts, links it to the
    /// head of its (playbook, host) chain, and prunes the playbook's runs as `retention` says
    /// (when set), all in one transaction; `sign` signs the record's stored text (the fleet
    /// view verifies it), which carries the link. Returns the link, for the record shown.
    pub async fn finish_run(
        &self,
        id: i64,
        record: &RunRecord,
        retention: &Retention,
        sign: Option<&SignRecord>,
    ) -> Result<Finished, HistoryError> {
        let finish = RunFinish::of(record, retention);
        dispatch!(self, s => s.finish_run(id, &finish, sign))
    }

    /// Prunes `playbook` (or every playbook) as `rule` says, keeping what its trend
    /// checks read; with `dry_run`, only counts what would go.
    pub async fn prune(
        &self,
        playbook: Option<&str>,
        rule: &Retention,
        dry_run: bool,
    ) -> Result<Vec<Pruned>, HistoryError> {
        let playbooks = match playbook {
            Some(name) => vec![name.to_owned()],
            None => dispatch!(self, s => s.playbooks())?,
        };
        let mut pruned = Vec::with_capacity(playbooks.len());
        for name in &playbooks {
            pruned.push(dispatch!(self, s => s.prune(name, rule, now_ms(), dry_run))?);
        }
        Ok(pruned)
    }

    /// How many times action step `at.step_id` ran since `since_ms`, and when it last did.
    pub async fn action_runs(
        &self,
        at: &ActionAt<'_>,
        since_ms: i64,
    ) -> Result<crate::runner::ActionRuns, HistoryError> {
        let (count, last_ms) = dispatch!(self, s => s.action_runs(at, since_ms))?;
        Ok(crate::runner::ActionRuns { count: u64::try_from(count).unwrap_or(0), last_ms })
    }

    /// Keeps a new snooze; returns its id.
    pub async fn add_snooze(&self, new: &snoozes::NewSnooze<'_>) -> Result<i64, HistoryError> {
        dispatch!(self, s => s.add_snooze(new))
    }

    /// The snoozes in force at `now_ms` (of `playbook`, or all), oldest first.
    pub async fn snoozes_in_force(
        &self,
        playbook: Option<&str>,
        now_ms: i64,
    ) -> Result<Vec<snoozes::ListedSnooze>, HistoryError> {
        dispatch!(self, s => s.snoozes_in_force(playbook, now_ms))
    }

    /// Ends snooze `id` at `now_ms`; false when there is no such snooze in force.
    pub async fn lift_snooze(&self, id: i64, now_ms: i64) -> Result<bool, HistoryError> {
        dispatch!(self, s => s.lift_snooze(id, now_ms))
    }

    /// Per step of `playbook`, its verdicts and numeric captures since `since_ms`.
    pub async fn stats(&self, playbook: &str, since_ms: i64) -> Result<Vec<StepStats>, HistoryError> {
        dispatch!(self, s => s.stats(playbook, since_ms))
    }

    /// The values step `step_id` of `playbook` captured in complete runs, newest first.
    pub async fn step_values(&self, playbook: &str, step_id: &str) -> Result<Vec<StoredValue>, HistoryError> {
        dispatch!(self, s => s.step_values(playbook, step_id))
    }

    /// The newest runs (of `playbook`, or all), at most `limit`.
    pub async fn runs(&self, playbook: Option<&str>, limit: u32) -> Result<Vec<StoredRun>, HistoryError> {
        dispatch!(self, s => s.runs(playbook, limit))
    }

    /// Run `id`, if stored.
    pub async fn run(&self, id: i64) -> Result<Option<StoredRun>, HistoryError> {
        dispatch!(self, s => s.run(id))
    }

    /// The ids of the runs that followed run `id` up (`run --rerun-failed`), oldest first.
    pub async fn follow_ups(&self, id: i64) -> Result<Vec<i64>, HistoryError> {
        dispatch!(self, s => s.follow_ups(id))
    }

    /// Loads, once, what each step's trend checks read (`reads`, per step id), so that
    /// look-ups during the run are in memory. Each read is bounded by its count or age;
    /// only a look-up of computed name or reach loads the step's past.
    pub async fn playbook_history(
        &self,
        playbook: &str,
        steps: impl IntoIterator<Item = (&str, Vec<HistoryRead>)>,
        now_ms: i64,
    ) -> Result<PlaybookHistory, HistoryError> {
        let mut by_step: BTreeMap<String, Vec<StoredValue>> = BTreeMap::new();
        let mut bounded = Vec::new();
        for (step_id, reads) in steps {
            let loaded = by_step.entry(step_id.to_owned()).or_default();
            if reads.contains(&HistoryRead::Unbounded) {
                *loaded = self.step_values(playbook, step_id).await?;
            } else {
                bounded.extend(lookup::merged(&reads).into_iter().map(|read| (step_id, read)));
            }
        }
        let reads: Vec<_> = bounded.iter().map(|(step_id, read)| lookup::value_read(step_id, read, now_ms)).collect();
        for (step_id, value) in self.read_values(playbook, &reads).await? {
            by_step.entry(step_id).or_default().push(value);
        }
        let steps =
            by_step.into_iter().map(|(id, values)| (id, StepHistory::new(lookup::newest_first(values), now_ms)));
        Ok(PlaybookHistory::new(steps.collect(), now_ms))
    }
}

impl Store {
    /// The values `reads` ask for. Normally from a few runs: the newest ones (as many as
    /// the largest count) and the newest at each age, a statement each, then their values
    /// of the names read, in one; a cost that does not grow with the store. A read those
    /// runs do not fill walks back run by run on its own.
    async fn read_values(
        &self,
        playbook: &str,
        reads: &[backend::ValueRead<'_>],
    ) -> Result<Vec<backend::StepValue>, HistoryError> {
        let mut runs = BTreeMap::new();
        for (cutoff_ms, limit) in lookup::runs_wanted(reads) {
            runs.insert(cutoff_ms, dispatch!(self, s => s.newest_runs(playbook, cutoff_ms, limit))?);
        }
        let mut ids: Vec<i64> = runs.values().flatten().copied().collect();
        ids.sort_unstable();
        ids.dedup();
        let mut names: Vec<&str> = reads.iter().map(|r| r.name).collect();
        names.sort_unstable();
        names.dedup();
        let mut values = Vec::new();
        for ids in ids.chunks(backend::BINDS_PER_LIST) {
            for names in names.chunks(backend::BINDS_PER_LIST) {
                values.extend(dispatch!(self, s => s.values_of_runs(ids, names))?);
            }
        }
        let (mut found, walks) = lookup::answer(reads, &runs, &values);
        for read in walks {
            found.extend(dispatch!(self, s => s.walk_values(playbook, read))?);
        }
        Ok(found)
    }
}

/// What is known of a run when it starts.
pub struct RunStart<'a> {
    pub playbook: &'a str,
    pub file: &'a str,
    pub host: &'a str,
    pub started_ms: i64,
    /// How far back the playbook's checks look (-1 runs: computed reach), kept so
    /// that pruning, even from the command line, keeps what they read.
    pub lookback_runs: i64,
    pub lookback_ms: i64,
}

impl RunStart<'_> {
    /// The stored form of a look-back.
    pub fn look_back(back: LookBack) -> (i64, i64) {
        let runs = if back.unbounded { -1 } else { i64::try_from(back.runs).unwrap_or(i64::MAX) };
        (runs, prune::millis_of(back.age))
    }
}

/// What finishing a run did: its place in the chain, and any pruning.
#[derive(Debug, Clone)]
pub struct Finished {
    pub link: ChainLink,
    pub pruned: Option<Pruned>,
}

/// What a finished run writes: the record and the values index built from it.
pub(crate) struct RunFinish {
    pub status: &'static str,
    pub verdict: &'static str,
    pub operator: Option<String>,
    pub started_ms: i64,
    pub finished_ms: i64,
    pub counts: String,
    /// The record's JSON text, without its chain link until [`RunFinish::seal`] adds it.
    pub record: String,
    pub playbook: String,
    pub values: Vec<FinishValue>,
    /// (step id, verdict) of every step.
    pub steps: Vec<(String, &'static str)>,
    /// The host the run is kept under.
    pub host: String,
    /// (step id, when) of every action that ran: confirmed or approved, and sent.
    pub actions: Vec<(String, i64)>,
    /// Pruning to do in the same transaction.
    pub retention: Option<Retention>,
    pub group: Option<String>,
    /// The run a follow-up run followed up.
    pub follow_up_of: Option<i64>,
}

/// A finished run's record as stored, linked into its chain.
pub(crate) struct Sealed {
    pub record: String,
    /// The record text's minisign signature, when the run was signed.
    pub signature: Option<String>,
    pub link: ChainLink,
    pub record_hash: String,
    pub chain_hash: String,
}

/// One captured value as stored: JSON text, and the number when it is one.
pub(crate) struct FinishValue {
    pub step_id: String,
    pub name: String,
    pub value: String,
    pub num: Option<f64>,
}

impl RunFinish {
    fn of(record: &RunRecord, retention: &Retention) -> Self {
        // Serialised once, as text: a 500-step record as a `Value` tree, cloned to seal it,
        // was a tenth of a run's CPU time. `chain` is its last field, added by `seal`.
        let json = if record.chain.is_some() {
            serde_json::to_string(&RunRecord { chain: None, ..record.clone() })
        } else {
            serde_json::to_string(record)
        };
        let values = record
            .steps
            .iter()
            .flat_map(|step| {
                step.captured.iter().map(|(name, value)| FinishValue {
                    step_id: step.id.clone(),
                    name: name.clone(),
                    value: value.to_string(),
                    num: value.as_f64().filter(|n| n.is_finite()),
                })
            })
            .collect();
        let steps = record.steps.iter().map(|step| (step.id.clone(), step.verdict.name())).collect();
        let actions = record
            .steps
            .iter()
            .filter_map(|step| {
                step.confirmation.as_ref().filter(|c| c.confirmed).map(|c| (step.id.clone(), millis(&c.at)))
            })
            .collect();
        Self {
            status: StoredStatus::of(record).name(),
            verdict: record.verdict.name(),
            operator: record.signoff.operator.clone().filter(|o| !o.is_empty()),
            started_ms: millis(&record.started),
            finished_ms: millis(&record.finished),
            counts: serde_json::to_string(&record.counts).unwrap_or_default(),
            record: json.unwrap_or_default(),
            playbook: record.playbook.clone(),
            values,
            steps,
            host: record.host.clone(),
            actions,
            retention: retention.is_set().then_some(*retention),
            group: record.group.clone(),
            follow_up_of: record.follow_up_of.as_ref().map(|f| f.run),
        }
    }

    /// The stored text of run `id` (of `playbook` on `host`), linked after `head` (the
    /// chain's (seq, hash), `None` for a new chain), signed by `sign`, and its hashes.
    pub(crate) fn seal(
        &self,
        id: i64,
        (playbook, host): (&str, &str),
        head: Option<(i64, String)>,
        sign: Option<&SignRecord>,
    ) -> Sealed {
        let (seq, prev) = head.map_or((1, chain::GENESIS.to_owned()), |(seq, hash)| (seq + 1, hash));
        let link = ChainLink { seq, prev };
        let record = with_chain(&self.record, &link);
        let signature = sign.and_then(|sign| sign(record.as_bytes()));
        let record_hash = chain::sha256_hex(record.as_bytes());
        let chain_hash = chain::Linked {
            prev_hash: &link.prev,
            seq,
            id,
            playbook,
            host,
            status: self.status,
            verdict: self.verdict,
            started_at: self.started_ms,
            finished_at: self.finished_ms,
            record_hash: &record_hash,
            signature: signature.as_deref(),
        }
        .chain_hash();
        Sealed { record, signature, link, record_hash, chain_hash }
    }
}

/// `record` (a JSON object's text without `chain`) with `link` as its last field: the
/// text `serde_json` writes for the record with its chain set.
fn with_chain(record: &str, link: &ChainLink) -> String {
    let link = serde_json::to_string(link).unwrap_or_default();
    match record.strip_suffix('}') {
        Some(open) if open.len() > 1 => format!("{open},\"chain\":{link}}}"),
        _ => format!("{{\"chain\":{link}}}"),
    }
}

/// Now, in milliseconds since the epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Milliseconds since the epoch of an RFC 3339 time (0 if unreadable).
pub fn millis(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339).map_or(0, |t| t.timestamp_millis())
}

/// RFC 3339 (UTC, milliseconds) of milliseconds since the epoch.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A row of `runs` as both backends read it.
pub(crate) struct RunRow {
    pub id: i64,
    pub playbook: String,
    pub file: String,
    pub host: String,
    pub operator: Option<String>,
    pub status: String,
    pub verdict: Option<String>,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub counts: Option<String>,
    pub record: Option<String>,
    pub follow_up_of: Option<i64>,
}

impl From<RunRow> for StoredRun {
    fn from(row: RunRow) -> Self {
        Self {
            id: row.id,
            playbook: row.playbook,
            file: row.file,
            host: row.host,
            operator: row.operator,
            status: StoredStatus::parse(&row.status),
            started: rfc3339(row.started_at),
            finished: row.finished_at.map(rfc3339),
            verdict: row.verdict,
            counts: row.counts.and_then(|c| serde_json::from_str(&c).ok()),
            signoff: None,
            countersigned_by: Vec::new(),
            record: row.record,
            follow_up_of: row.follow_up_of,
        }
    }
}

/// What pruning removed, as one line: `pruned `nightly`: 120 runs, 60000 values`.
pub fn describe_pruned(p: &Pruned) -> String {
    let verb = if p.dry_run { "would prune" } else { "pruned" };
    let held = if p.kept_for_look_back { " (runs its trend checks still read are kept)" } else { "" };
    format!("{verb} `{}`: {} runs, {} values{held}", p.playbook, p.runs, p.values)
}

#[cfg(test)]
mod tests {
    use crate::record::{ChainLink, complete_run_of};

    /// The stored text is what `serde_json` writes for the record with its chain set, byte
    /// for byte: the record hash and a signature over it must not depend on how it was built.
    #[test]
    fn the_sealed_text_is_the_record_serialised_with_its_chain() {
        let step = serde_json::json!({"id": "a", "section": "S", "title": "A \"quoted\" }", "kind": "http",
            "verdict": "pass", "severity": "critical", "message": "}", "captured": {"up": 1.5}, "duration_ms": 1,
            "attempts": 1});
        let mut record = complete_run_of(vec![step]);
        record.run_id = Some(7);
        let link = ChainLink { seq: 3, prev: "ab".repeat(32) };
        let without = serde_json::to_string(&record).unwrap();
        record.chain = Some(link.clone());
        assert_eq!(super::with_chain(&without, &link), serde_json::to_string(&record).unwrap());
    }
}
