//! The schema, as numbered migrations: migration `i` (0-based) is schema
//! version `i + 1`. Opening a store applies the ones it lacks, in one
//! transaction, and records each in `schema_version`. Never edit a released
//! migration; append a new one instead. One text serves both databases:
//! `{id}`, `{int}` and `{real}` stand for the types they spell differently,
//! `{backfill_…}` for the statements that read JSON (each its own dialect).

use super::HistoryError;

/// The migrations, oldest first.
const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE runs (
    id          {id},
    playbook    TEXT NOT NULL,
    file        TEXT NOT NULL,
    host        TEXT NOT NULL,
    operator    TEXT,
    status      TEXT NOT NULL,
    verdict     TEXT,
    started_at  {int} NOT NULL,
    finished_at {int},
    counts      TEXT,
    record      TEXT
);
CREATE INDEX runs_by_playbook ON runs (playbook, started_at);
CREATE TABLE run_values (
    run_id   {int} NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    playbook TEXT NOT NULL,
    step_id  TEXT NOT NULL,
    name     TEXT NOT NULL,
    value    TEXT NOT NULL,
    at       {int} NOT NULL,
    PRIMARY KEY (run_id, step_id, name)
);
CREATE INDEX run_values_by_step ON run_values (playbook, step_id, at);
",
    "
ALTER TABLE runs ADD COLUMN run_group TEXT;
ALTER TABLE runs ADD COLUMN signature TEXT;
CREATE INDEX runs_by_host ON runs (playbook, host, started_at);
",
    "
-- Bounded look-ups: prev(x) and avg(x, 30) read one name's newest values
-- straight off this index, whatever the size of the store.
CREATE INDEX run_values_by_name ON run_values (playbook, step_id, name, at, run_id);
DROP INDEX run_values_by_step;
-- Numeric captures, for percentiles in SQL.
ALTER TABLE run_values ADD COLUMN num {real};
{backfill_num}
-- --stats over a window reads this index alone (it covers the query).
CREATE INDEX run_values_by_time ON run_values (playbook, at, step_id, name, num);
-- Each step's verdict per run, for pass rates without reading records.
CREATE TABLE run_steps (
    run_id  {int} NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    playbook TEXT NOT NULL,
    step_id TEXT NOT NULL,
    verdict TEXT NOT NULL,
    at      {int} NOT NULL
);
CREATE INDEX run_steps_by_time ON run_steps (playbook, at, step_id, verdict);
CREATE INDEX run_steps_by_run ON run_steps (run_id);
{backfill_steps}
-- How far back the playbook's checks looked when it ran: what pruning keeps
-- (-1 runs: a look-up of computed reach, so nothing is pruned).
ALTER TABLE runs ADD COLUMN lookback_runs {int};
ALTER TABLE runs ADD COLUMN lookback_ms {int};
",
    "
-- The tamper-evident chain (history/chain.rs): runs stored before this have no hashes.
ALTER TABLE runs ADD COLUMN record_hash TEXT;
ALTER TABLE runs ADD COLUMN prev_hash TEXT;
ALTER TABLE runs ADD COLUMN chain_hash TEXT;
ALTER TABLE runs ADD COLUMN chain_seq {int};
CREATE INDEX runs_by_chain ON runs (playbook, host, chain_seq);
-- Each chain's head (what the next run links to), written only by its own runs.
CREATE TABLE run_chains (
    playbook  TEXT NOT NULL,
    host      TEXT NOT NULL,
    head_seq  {int} NOT NULL,
    head_hash TEXT NOT NULL,
    head_run  {int} NOT NULL,
    PRIMARY KEY (playbook, host)
);
-- Where a pruned chain starts: the newest run pruning removed from it. Apart from the
-- heads, so a run pruning another host's runs never waits on that host's head.
CREATE TABLE run_chain_anchors (
    playbook TEXT NOT NULL,
    host     TEXT NOT NULL,
    seq      {int} NOT NULL,
    hash     TEXT NOT NULL,
    pruned   {int} NOT NULL,
    PRIMARY KEY (playbook, host)
);
",
    "
-- Four eyes: the sign-offs after a run's own (runbook countersign), kept beside
-- runs.record, which never changes. Sign-off 1 is the run's operator and
-- runs.signature; over_hash is SHA-256 of the record as stored and the
-- signature before (so each vouches for the record and every earlier one).
-- One person signs a run once: operator_key is the name trimmed, lower case.
CREATE TABLE signoffs (
    run_id       {int} NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq          {int} NOT NULL,
    operator     TEXT NOT NULL,
    operator_key TEXT NOT NULL,
    at           {int} NOT NULL,
    over_hash    TEXT NOT NULL,
    key_id       TEXT,
    signature    TEXT,
    PRIMARY KEY (run_id, seq),
    UNIQUE (run_id, operator_key)
);
",
    "
-- Each time an action step ran (was confirmed or approved, and sent), for `max_runs`.
-- Not tied to `runs`: pruning old runs must not reopen a rate limit.
CREATE TABLE action_runs (
    playbook TEXT NOT NULL,
    host     TEXT NOT NULL,
    step_id  TEXT NOT NULL,
    run_id   {int},
    at       {int} NOT NULL
);
CREATE INDEX action_runs_by_step ON action_runs (playbook, host, step_id, at);
",
    "
-- --stats reads pre-aggregated rollups: per playbook, UTC day ('d') or month
-- ('m'), step and capture name ('' for the step's verdict counts), the counts
-- and a mergeable histogram of the numbers (history/sketch.rs).
CREATE TABLE stat_rollups (
    playbook TEXT NOT NULL,
    grain    TEXT NOT NULL,
    period   {int} NOT NULL,
    step_id  TEXT NOT NULL,
    name     TEXT NOT NULL,
    judged   {int} NOT NULL,
    ok       {int} NOT NULL,
    fail     {int} NOT NULL,
    error    {int} NOT NULL,
    count    {int} NOT NULL,
    hist     TEXT,
    PRIMARY KEY (playbook, grain, period, step_id, name)
);
-- Which finished runs the rollups count: a mark per run, not a watermark, as
-- runs finish out of id order. The partial index holds only the runs not yet counted.
ALTER TABLE runs ADD COLUMN rolled_up {int};
CREATE INDEX runs_to_roll_up ON runs (playbook, id) WHERE rolled_up IS NULL;
",
    "
-- Snoozes (`runbook snooze`): a step's failures do not fail runs until expires_at.
CREATE TABLE snoozes (
    id          {id},
    playbook    TEXT NOT NULL,
    step_id     TEXT NOT NULL,
    host        TEXT,
    owner       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    created_at  {int} NOT NULL,
    expires_at  {int} NOT NULL,
    lifted_at   {int}
);
CREATE INDEX snoozes_in_force ON snoozes (playbook, expires_at);
",
    "
-- A follow-up run (`run --rerun-failed ID`) names the run it followed up;
-- `show ID` lists a run's follow-ups off this index.
ALTER TABLE runs ADD COLUMN follow_up_of {int};
CREATE INDEX runs_by_follow_up ON runs (follow_up_of);
",
    "
-- --stats reads the rollups: nothing reads values or verdicts by time any more,
-- and every run paid for two more index entries per value and per step.
DROP INDEX run_values_by_time;
DROP INDEX run_steps_by_time;
",
    "
-- Look-ups walk the newest runs (runs_by_playbook) and find their values by the primary
-- key, which runs fill in order. This index put each captured value on a page of its
-- name's own: a run of 500 values wrote ~500 scattered pages on a large store.
DROP INDEX run_values_by_name;
",
];

const SQLITE_BACKFILL_NUM: &str = "UPDATE run_values SET num = CAST(value AS REAL) \
     WHERE json_valid(value) AND json_type(value) IN ('integer', 'real');";
const PG_BACKFILL_NUM: &str = "UPDATE run_values SET num = value::double precision \
     WHERE value ~ '^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$';";
const SQLITE_BACKFILL_STEPS: &str = "INSERT INTO run_steps (run_id, playbook, step_id, verdict, at) \
     SELECT r.id, r.playbook, json_extract(s.value, '$.id'), COALESCE(json_extract(s.value, '$.verdict'), 'unknown'), \
     r.started_at FROM runs r, json_each(r.record, '$.steps') s \
     WHERE r.record IS NOT NULL AND json_valid(r.record) AND json_extract(s.value, '$.id') IS NOT NULL;";
const PG_BACKFILL_STEPS: &str = "INSERT INTO run_steps (run_id, playbook, step_id, verdict, at) \
     SELECT r.id, r.playbook, s->>'id', COALESCE(s->>'verdict', 'unknown'), r.started_at FROM runs r \
     CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(r.record::jsonb->'steps') = 'array' \
     THEN r.record::jsonb->'steps' ELSE '[]'::jsonb END) s WHERE r.record IS NOT NULL AND s->>'id' IS NOT NULL;";

/// The database a migration is written out for.
#[derive(Debug, Clone, Copy)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// `sql` with the placeholders spelled for this database.
    fn spell(self, sql: &str) -> String {
        let words: &[(&str, &str)] = match self {
            Self::Sqlite => &[
                ("{id}", "INTEGER PRIMARY KEY AUTOINCREMENT"),
                ("{int}", "INTEGER"),
                ("{real}", "REAL"),
                ("{backfill_num}", SQLITE_BACKFILL_NUM),
                ("{backfill_steps}", SQLITE_BACKFILL_STEPS),
            ],
            Self::Postgres => &[
                ("{id}", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
                ("{int}", "BIGINT"),
                ("{real}", "DOUBLE PRECISION"),
                ("{backfill_num}", PG_BACKFILL_NUM),
                ("{backfill_steps}", PG_BACKFILL_STEPS),
            ],
        };
        words.iter().fold(sql.to_owned(), |sql, (word, spelled)| sql.replace(word, spelled))
    }
}

/// The versions to apply to a store at `current`, or why it cannot be used.
pub fn pending(dialect: Dialect, current: i64) -> Result<Vec<(i64, String)>, HistoryError> {
    select(MIGRATIONS, current).map(|list| list.map(|(version, sql)| (version, dialect.spell(sql))).collect())
}

fn select(
    all: &'static [&'static str],
    current: i64,
) -> Result<impl Iterator<Item = (i64, &'static str)>, HistoryError> {
    let known = i64::try_from(all.len()).unwrap_or(i64::MAX);
    if current > known {
        return Err(HistoryError::NewerSchema { found: current, known });
    }
    Ok(all.iter().zip(1..).skip(usize::try_from(current).unwrap_or(0)).map(|(sql, version)| (version, *sql)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_missing_versions_are_pending() {
        let all: &'static [&'static str] = &["a", "b", "c"];
        assert_eq!(select(all, 0).unwrap().collect::<Vec<_>>(), vec![(1, "a"), (2, "b"), (3, "c")]);
        assert_eq!(select(all, 2).unwrap().collect::<Vec<_>>(), vec![(3, "c")]);
        assert_eq!(select(all, 3).unwrap().count(), 0);
        assert!(select(all, 4).is_err());
    }

    #[test]
    fn every_placeholder_is_spelled_for_both_databases() {
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            for (_, sql) in pending(dialect, 0).unwrap() {
                assert!(!sql.contains('{'), "{dialect:?}: {sql}");
            }
        }
    }
}
