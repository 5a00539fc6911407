//! `runbook history verify`: walks each (playbook, host) chain in the order
//! its runs finished, recomputes every record hash and chain hash, and names
//! by run id each run that was edited, deleted, moved or stripped of its
//! links. Every break is listed, not only the first. Runs are read a page at
//! a time, so a long history is never held in memory whole.

use serde::Serialize;
use sqlx::Row as _;

use super::chain::{self, Linked};
use super::fleet::on_pool;
use super::{HistoryError, Store};

/// Rows read per query while walking a chain.
const PAGE: i64 = 500;

/// One place the history does not add up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Break {
    /// The run's record or columns no longer hash to what was linked.
    Edited { run: i64, what: String },
    /// Runs are missing between `after` and `before` (`None`: the start or the end of the chain).
    Deleted { after: Option<i64>, before: Option<i64>, missing: i64 },
    /// The run links to another stored run than the one before it.
    Reordered { run: i64, links_to: i64 },
    /// The run links to a run that is not stored: the one before it was replaced.
    Relinked { run: i64, after: Option<i64> },
    /// A run finished after the chain began but carries no link.
    Unlinked { run: i64 },
    /// The chain's head (what the next run links to) does not match its newest run.
    Head { what: String },
}

impl Break {
    /// One line for the text report.
    pub fn describe(&self) -> String {
        let run = |id: &Option<i64>| id.map_or_else(|| "the start of the chain".to_owned(), |id| format!("run {id}"));
        match self {
            Self::Edited { run, what } => format!("run {run}: edited ({what})"),
            Self::Deleted { after, before: Some(before), missing } => {
                format!("run {before}: deleted: {missing} run(s) missing between {} and run {before}", run(after))
            }
            Self::Deleted { after, before: None, missing } => {
                format!("deleted: the newest {missing} run(s) after {} are missing", run(after))
            }
            Self::Reordered { run, links_to } => {
                format!("run {run}: reordered (it links to run {links_to}, not to the run before it)")
            }
            Self::Relinked { run: id, after } => {
                format!("run {id}: the link to {} is broken (that run was replaced, or runs inserted)", run(after))
            }
            Self::Unlinked { run } => format!("run {run}: its chain columns were removed"),
            Self::Head { what } => format!("chain head: {what}"),
        }
    }
}

/// A chain's head: its newest run, what the next run links to.
#[derive(Debug, Clone, Serialize)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: String,
    pub run: i64,
}

/// Where a pruned chain starts: the newest run pruning removed.
#[derive(Debug, Clone, Serialize)]
pub struct ChainAnchor {
    pub seq: i64,
    pub hash: String,
    /// How many runs of the chain pruning removed, in all.
    pub pruned: i64,
}

/// One (playbook, host) chain, checked.
#[derive(Debug, Clone, Serialize)]
pub struct ChainReport {
    pub playbook: String,
    pub host: String,
    /// Runs walked.
    pub runs: u64,
    pub head: Option<ChainHead>,
    /// Where the chain starts after pruning.
    pub anchor: Option<ChainAnchor>,
    /// Kept runs older than the anchor (pruning goes by start time, the chain by finish):
    /// each is checked on its own, not linked.
    pub before_anchor: u64,
    pub breaks: Vec<Break>,
}

/// Every chain checked, and what was not chained.
#[derive(Debug, Clone, Serialize)]
pub struct Verified {
    pub intact: bool,
    pub chains: Vec<ChainReport>,
    /// Finished runs stored before the chain began: not checked, not a break.
    pub before_chain: u64,
    /// Runs that never finished (still running, or killed): never chained.
    pub unfinished: u64,
}

/// A chained `runs` row.
struct Row {
    id: i64,
    status: String,
    verdict: Option<String>,
    started_at: i64,
    finished_at: Option<i64>,
    record: Option<String>,
    signature: Option<String>,
    record_hash: Option<String>,
    prev_hash: Option<String>,
    chain_hash: Option<String>,
    seq: i64,
}

const FILTER: &str = "($1 IS NULL OR playbook = $1) AND ($2 IS NULL OR host = $2)";

const CHAIN_ROWS: &str = "SELECT id, status, verdict, started_at, finished_at, record, signature, record_hash, \
     prev_hash, chain_hash, chain_seq FROM runs WHERE playbook = $1 AND host = $2 AND chain_seq IS NOT NULL \
     AND (chain_seq > $3 OR (chain_seq = $3 AND id > $4)) ORDER BY chain_seq, id LIMIT $5";

const CHAIN_HEAD: &str = "SELECT head_seq, head_hash, head_run FROM run_chains WHERE playbook = $1 AND host = $2";

const CHAIN_ANCHOR: &str = "SELECT seq, hash, pruned FROM run_chain_anchors WHERE playbook = $1 AND host = $2";

/// The stored run whose chain hash is `$3`, if any: where a misplaced link points.
const LINKED_TO: &str = "SELECT id FROM runs WHERE playbook = $1 AND host = $2 AND chain_hash = $3 ORDER BY id LIMIT 1";

const FIRST_LINKED: &str = "SELECT MIN(id) FROM runs WHERE playbook = $1 AND host = $2 AND chain_seq IS NOT NULL";

const UNLINKED: &str = "SELECT id FROM runs WHERE playbook = $1 AND host = $2 AND status <> 'incomplete' \
     AND chain_seq IS NULL AND id > $3 ORDER BY id";

fn chains_sql() -> String {
    format!(
        "SELECT playbook, host FROM run_chains WHERE {FILTER} UNION \
         SELECT playbook, host FROM run_chain_anchors WHERE {FILTER} UNION \
         SELECT DISTINCT playbook, host FROM runs WHERE chain_seq IS NOT NULL AND {FILTER} ORDER BY 1, 2"
    )
}

fn unchained_sql() -> String {
    format!("SELECT COUNT(*) FROM runs WHERE {FILTER} AND status <> 'incomplete' AND chain_seq IS NULL")
}

fn unfinished_sql() -> String {
    format!("SELECT COUNT(*) FROM runs WHERE {FILTER} AND status = 'incomplete'")
}

/// What is wrong with one row on its own: its record or columns changed since it was linked.
fn edits(playbook: &str, host: &str, row: &Row) -> Option<String> {
    let record = row.record.as_deref().unwrap_or_default();
    if row.record_hash.as_deref() != Some(chain::sha256_hex(record.as_bytes()).as_str()) {
        return Some("its record does not match its record hash".to_owned());
    }
    let linked = Linked {
        prev_hash: row.prev_hash.as_deref().unwrap_or_default(),
        seq: row.seq,
        id: row.id,
        playbook,
        host,
        status: &row.status,
        verdict: row.verdict.as_deref().unwrap_or_default(),
        started_at: row.started_at,
        finished_at: row.finished_at.unwrap_or_default(),
        record_hash: row.record_hash.as_deref().unwrap_or_default(),
        signature: row.signature.as_deref(),
    };
    if row.chain_hash.as_deref() != Some(linked.chain_hash().as_str()) {
        return Some("its columns do not match its chain hash".to_owned());
    }
    let inner: serde_json::Value = serde_json::from_str(record).unwrap_or_default();
    let (seq, prev) = (inner["chain"]["seq"].as_i64(), inner["chain"]["prev"].as_str());
    if seq != Some(row.seq) || prev != row.prev_hash.as_deref() {
        return Some("the link in its record differs from its columns".to_owned());
    }
    None
}

/// Walks one chain in order: the state between rows.
struct Walk {
    /// The seq and hash the next run must link to, and the run they belong to.
    want_seq: i64,
    want_prev: String,
    last_run: Option<i64>,
    anchor_seq: i64,
}

/// How a run that does not link to the one before it broke: a gap in the seqs is a
/// deletion; a link to another stored run, a move; otherwise the run before was replaced.
fn classify(walk: &Walk, row: &Row, links_to: Option<i64>) -> Break {
    match links_to {
        Some(other) => Break::Reordered { run: row.id, links_to: other },
        None if row.seq > walk.want_seq => {
            Break::Deleted { after: walk.last_run, before: Some(row.id), missing: row.seq - walk.want_seq }
        }
        None => Break::Relinked { run: row.id, after: walk.last_run },
    }
}

impl Store {
    /// Checks every chain of `playbook` (or all), on `host` (or all).
    pub async fn verify_chains(&self, playbook: Option<&str>, host: Option<&str>) -> Result<Verified, HistoryError> {
        let (chains, unchained, unfinished) = on_pool!(self, pool => {
            let chains: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(chains_sql()))
                .bind(playbook).bind(host).fetch_all(pool).await?;
            let unchained: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(unchained_sql()))
                .bind(playbook).bind(host).fetch_one(pool).await?;
            let unfinished: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(unfinished_sql()))
                .bind(playbook).bind(host).fetch_one(pool).await?;
            (chains, unchained, unfinished)
        });
        let mut reports = Vec::with_capacity(chains.len());
        let mut unlinked = 0;
        for (playbook, host) in chains {
            let report = self.verify_chain(&playbook, &host).await?;
            unlinked += report.breaks.iter().filter(|b| matches!(b, Break::Unlinked { .. })).count();
            reports.push(report);
        }
        let before_chain = u64::try_from(unchained).unwrap_or(0).saturating_sub(unlinked as u64);
        Ok(Verified {
            intact: reports.iter().all(|r| r.breaks.is_empty()),
            chains: reports,
            before_chain,
            unfinished: u64::try_from(unfinished).unwrap_or(0),
        })
    }

    async fn verify_chain(&self, playbook: &str, host: &str) -> Result<ChainReport, HistoryError> {
        type Found = (Option<(i64, String, i64)>, Option<(i64, String, i64)>);
        let (head, anchor): Found = on_pool!(self, pool => {
            let head = sqlx::query_as(CHAIN_HEAD).bind(playbook).bind(host).fetch_optional(pool).await?;
            (head, sqlx::query_as(CHAIN_ANCHOR).bind(playbook).bind(host).fetch_optional(pool).await?)
        });
        let head = head.map(|(seq, hash, run)| ChainHead { seq, hash, run });
        let anchor = anchor.map(|(seq, hash, pruned)| ChainAnchor { seq, hash, pruned });
        let mut report = ChainReport {
            playbook: playbook.to_owned(),
            host: host.to_owned(),
            runs: 0,
            head,
            anchor: anchor.clone(),
            before_anchor: 0,
            breaks: Vec::new(),
        };
        let mut walk = Walk {
            want_seq: anchor.as_ref().map_or(1, |a| a.seq + 1),
            want_prev: anchor.as_ref().map_or_else(|| chain::GENESIS.to_owned(), |a| a.hash.clone()),
            last_run: None,
            anchor_seq: anchor.as_ref().map_or(0, |a| a.seq),
        };
        let (mut after_seq, mut after_id) = (i64::MIN, i64::MIN);
        loop {
            let rows = self.chain_page(playbook, host, after_seq, after_id).await?;
            for row in &rows {
                self.walk_row(&mut report, &mut walk, row).await?;
            }
            match rows.last() {
                Some(last) if rows.len() as i64 == PAGE => (after_seq, after_id) = (last.seq, last.id),
                _ => break,
            }
        }
        self.check_head(&mut report, &walk);
        self.find_unlinked(&mut report).await?;
        Ok(report)
    }

    async fn walk_row(&self, report: &mut ChainReport, walk: &mut Walk, row: &Row) -> Result<(), HistoryError> {
        let edited = edits(&report.playbook, &report.host, row);
        let was_edited = edited.is_some();
        report.breaks.extend(edited.map(|what| Break::Edited { run: row.id, what }));
        if row.seq <= walk.anchor_seq {
            report.before_anchor += 1;
            return Ok(());
        }
        report.runs += 1;
        let prev = row.prev_hash.as_deref().unwrap_or_default();
        if prev != walk.want_prev {
            let links_to: Option<i64> = on_pool!(self, pool => {
                sqlx::query_scalar(LINKED_TO).bind(&report.playbook).bind(&report.host).bind(prev)
                    .fetch_optional(pool).await?
            });
            report.breaks.push(classify(walk, row, links_to));
        } else if row.seq != walk.want_seq && !was_edited {
            let what = format!("it is #{} but follows #{}", row.seq, walk.want_seq - 1);
            report.breaks.push(Break::Edited { run: row.id, what });
        }
        walk.want_seq = row.seq + 1;
        walk.want_prev = row.chain_hash.clone().unwrap_or_default();
        walk.last_run = Some(row.id);
        Ok(())
    }

    async fn chain_page(&self, playbook: &str, host: &str, seq: i64, id: i64) -> Result<Vec<Row>, HistoryError> {
        on_pool!(self, pool => {
            let rows = sqlx::query(CHAIN_ROWS).bind(playbook).bind(host).bind(seq).bind(id).bind(PAGE)
                .fetch_all(pool).await?;
            rows.iter()
                .map(|r| {
                    Ok(Row {
                        id: r.try_get(0)?,
                        status: r.try_get(1)?,
                        verdict: r.try_get(2)?,
                        started_at: r.try_get(3)?,
                        finished_at: r.try_get(4)?,
                        record: r.try_get(5)?,
                        signature: r.try_get(6)?,
                        record_hash: r.try_get(7)?,
                        prev_hash: r.try_get(8)?,
                        chain_hash: r.try_get(9)?,
                        seq: r.try_get(10)?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()
                .map_err(HistoryError::from)
        })
    }

    /// The head must be the newest run walked: if it is further on, the newest runs were deleted.
    fn check_head(&self, report: &mut ChainReport, walk: &Walk) {
        let newest_seq = walk.want_seq - 1;
        match &report.head {
            None => report.breaks.push(Break::Head { what: "missing: the chain has runs but no head".to_owned() }),
            Some(head) if head.seq > newest_seq => report.breaks.push(Break::Deleted {
                after: walk.last_run,
                before: None,
                missing: head.seq - newest_seq,
            }),
            Some(head) if head.seq < newest_seq || head.hash != walk.want_prev => report.breaks.push(Break::Head {
                what: format!("it names #{} (run {}), but the newest run is #{newest_seq}", head.seq, head.run),
            }),
            Some(_) => {}
        }
    }

    /// Runs that finished after the chain began yet carry no link: their links were stripped.
    async fn find_unlinked(&self, report: &mut ChainReport) -> Result<(), HistoryError> {
        let (playbook, host) = (&report.playbook, &report.host);
        let ids: Vec<i64> = on_pool!(self, pool => {
            let first: Option<i64> = sqlx::query_scalar(FIRST_LINKED).bind(playbook).bind(host).fetch_one(pool).await?;
            match first {
                Some(first) => sqlx::query_scalar(UNLINKED).bind(playbook).bind(host).bind(first).fetch_all(pool).await?,
                None => Vec::new(),
            }
        });
        report.breaks.extend(ids.into_iter().map(|run| Break::Unlinked { run }));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, seq: i64, prev: &str) -> Row {
        let record = format!(r#"{{"chain":{{"seq":{seq},"prev":"{prev}"}}}}"#);
        let record_hash = chain::sha256_hex(record.as_bytes());
        let mut row = Row {
            id,
            status: "complete".to_owned(),
            verdict: Some("pass".to_owned()),
            started_at: 1,
            finished_at: Some(2),
            record: Some(record),
            signature: None,
            record_hash: Some(record_hash),
            prev_hash: Some(prev.to_owned()),
            chain_hash: None,
            seq,
        };
        let linked = Linked {
            prev_hash: prev,
            seq,
            id,
            playbook: "p",
            host: "h",
            status: "complete",
            verdict: "pass",
            started_at: 1,
            finished_at: 2,
            record_hash: row.record_hash.as_deref().unwrap(),
            signature: None,
        };
        row.chain_hash = Some(linked.chain_hash());
        row
    }

    #[test]
    fn a_sealed_row_passes_and_any_change_is_an_edit() {
        let good = row(3, 1, chain::GENESIS);
        assert_eq!(edits("p", "h", &good), None);
        let mut record = row(3, 1, chain::GENESIS);
        record.record = Some(record.record.unwrap().replace("chain", "chaim"));
        assert!(edits("p", "h", &record).unwrap().contains("record hash"));
        let mut verdict = row(3, 1, chain::GENESIS);
        verdict.verdict = Some("fail".to_owned());
        assert!(edits("p", "h", &verdict).unwrap().contains("chain hash"));
        assert!(edits("p", "other-host", &good).is_some());
    }

    #[test]
    fn breaks_are_told_apart_by_seq_and_where_the_link_points() {
        let walk = Walk { want_seq: 3, want_prev: "h2".to_owned(), last_run: Some(2), anchor_seq: 0 };
        // Seq 5 linking to nothing stored: runs 3 and 4 were deleted.
        let gap = classify(&walk, &row(9, 5, "gone"), None);
        assert_eq!(gap, Break::Deleted { after: Some(2), before: Some(9), missing: 2 });
        // Linking to a stored run that is not the one before: moved.
        assert_eq!(classify(&walk, &row(9, 3, "h7"), Some(7)), Break::Reordered { run: 9, links_to: 7 });
        // The right place, but the run before was replaced.
        assert_eq!(classify(&walk, &row(9, 3, "x"), None), Break::Relinked { run: 9, after: Some(2) });
    }
}
