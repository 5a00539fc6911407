//! Countersigns (`runbook countersign`): kept in `signoffs`, beside the stored
//! record, which never changes once a run finished. Sign-off 1 is the run's
//! own operator and `runs.signature`; each later one stores what it vouches
//! for (`over_hash`) and, when signed with a key, its signature and key id.

use std::collections::BTreeMap;

use sqlx::Row as _;

use super::fleet::on_pool;
use super::{HistoryError, Store, StoredRun};
use crate::record::Countersign;

/// One countersign as stored: what the record shows, and its signature.
#[derive(Debug, Clone)]
pub struct StoredCountersign {
    pub countersign: Countersign,
    /// The minisign signature (text form) over [`statement`], when signed with a key.
    pub signature: Option<String>,
}

const OF_RUNS: &str = "SELECT run_id, seq, operator, at, over_hash, key_id, signature FROM signoffs WHERE run_id IN";

const INSERT: &str = "INSERT INTO signoffs (run_id, seq, operator, operator_key, at, over_hash, key_id, signature) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// What a countersign's key signs: the run, which sign-off, who, when and what it vouches for.
pub fn statement(run_id: i64, c: &Countersign) -> String {
    format!(
        "runbook countersign\nrun:{run_id}\nsignoff:{}\noperator:{}\nat:{}\nover:{}\n",
        c.seq, c.operator, c.signed_utc, c.over_hash
    )
}

/// RFC 3339 UTC to the second, as the operator's own sign-off time is shown.
fn seconds(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Store {
    /// The countersigns of each of `ids` that has any, in order; one query per thousand ids.
    pub async fn countersigns(&self, ids: &[i64]) -> Result<BTreeMap<i64, Vec<StoredCountersign>>, HistoryError> {
        let mut out: BTreeMap<i64, Vec<StoredCountersign>> = BTreeMap::new();
        for chunk in ids.chunks(1000) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!("{OF_RUNS} ({}) ORDER BY run_id, seq", marks.join(", "));
            on_pool!(self, pool => {
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone())); // placeholders only, no input
                for id in chunk {
                    query = query.bind(*id);
                }
                for r in query.fetch_all(pool).await? {
                    let seq: i64 = r.try_get(1)?;
                    let countersign = Countersign {
                        seq: u32::try_from(seq).unwrap_or(u32::MAX),
                        operator: r.try_get(2)?,
                        signed_utc: seconds(r.try_get(3)?),
                        over_hash: r.try_get(4)?,
                        key_id: r.try_get(5)?,
                    };
                    let stored = StoredCountersign { countersign, signature: r.try_get(6)? };
                    out.entry(r.try_get(0)?).or_default().push(stored);
                }
            });
        }
        Ok(out)
    }

    /// `runs` with each one's sign-off progress (its record's requirement and its countersigns).
    pub async fn with_signoffs(&self, mut runs: Vec<StoredRun>) -> Result<Vec<StoredRun>, HistoryError> {
        let ids: Vec<i64> = runs.iter().map(|r| r.id).collect();
        let mut countersigns = self.countersigns(&ids).await?;
        for run in &mut runs {
            let Some(mut record) = run.record() else { continue };
            let mine = countersigns.remove(&run.id).unwrap_or_default();
            crate::record::signoff::countersigned(&mut record, mine.iter().map(|c| c.countersign.clone()).collect());
            run.countersigned_by = mine.iter().map(|c| c.countersign.operator.clone()).collect();
            run.signoff = record.signoff.progress;
        }
        Ok(runs)
    }

    /// Keeps a countersign of run `run_id`. The database refuses a second one with the same
    /// number or by the same person (name trimmed, case ignored), so two at once cannot both land.
    pub async fn add_countersign(&self, run_id: i64, stored: &StoredCountersign) -> Result<(), HistoryError> {
        let c = &stored.countersign;
        let at = super::millis(&c.signed_utc);
        on_pool!(self, pool => {
            sqlx::query(INSERT)
                .bind(run_id)
                .bind(i64::from(c.seq))
                .bind(&c.operator)
                .bind(crate::record::signoff::person_key(&c.operator))
                .bind(at)
                .bind(&c.over_hash)
                .bind(&c.key_id)
                .bind(&stored.signature)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
