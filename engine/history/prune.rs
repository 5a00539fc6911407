//! Retention: which runs of a playbook go, and the SQL that removes them with
//! their values and verdicts. A run goes when the rule says so (beyond the
//! newest `keep_runs`, or older than `keep_for`) AND no trend check of the
//! playbook still reads it: the look-back stored with its newest run keeps the
//! newest `lookback_runs` complete runs, every run younger than `lookback_ms`
//! and the newest complete run older than that (what `prev(x, "24h")` reads).
//! Runs are ordered by (started_at, id); everything older than one bound goes.

use serde::Serialize;

/// A run's place in its playbook's order: (started_at, id).
pub(crate) type Key = (i64, i64);

/// What pruning removed (or, on a dry run, would remove) from one playbook.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Pruned {
    pub playbook: String,
    pub runs: u64,
    pub values: u64,
    pub dry_run: bool,
    /// Runs the rule would remove were kept because the playbook's trend checks read them.
    pub kept_for_look_back: bool,
}

/// The look-back stored with the playbook's newest run.
pub(crate) const LOOK_BACK: &str = "SELECT lookback_runs, lookback_ms FROM runs \
     WHERE playbook = $1 AND lookback_runs IS NOT NULL ORDER BY started_at DESC, id DESC LIMIT 1";

/// The key of the playbook's `$2`-th newest run (0: the newest).
pub(crate) const NTH_RUN: &str =
    "SELECT started_at, id FROM runs WHERE playbook = $1 ORDER BY started_at DESC, id DESC LIMIT 1 OFFSET $2";

/// The key of the playbook's `$2`-th newest complete run.
pub(crate) const NTH_COMPLETE: &str = "SELECT started_at, id FROM runs WHERE playbook = $1 AND status = 'complete' \
     ORDER BY started_at DESC, id DESC LIMIT 1 OFFSET $2";

/// The key of the playbook's newest complete run started at or before `$2`.
pub(crate) const COMPLETE_BEFORE: &str = "SELECT started_at, id FROM runs WHERE playbook = $1 \
     AND status = 'complete' AND started_at <= $2 ORDER BY started_at DESC, id DESC LIMIT 1";

/// The playbook's runs older than the bound (`$2`, `$3`).
const DOOMED: &str = "SELECT id FROM runs WHERE playbook = $1 AND (started_at < $2 OR (started_at = $2 AND id < $3))";

pub(crate) fn count_values() -> String {
    format!("SELECT COUNT(*) FROM run_values WHERE run_id IN ({DOOMED})")
}

/// The statements that remove the doomed runs, children first; the last one's row count is the runs'.
pub(crate) fn deletes() -> [String; 3] {
    [
        format!("DELETE FROM run_values WHERE run_id IN ({DOOMED})"),
        format!("DELETE FROM run_steps WHERE run_id IN ({DOOMED})"),
        "DELETE FROM runs WHERE playbook = $1 AND (started_at < $2 OR (started_at = $2 AND id < $3))".to_owned(),
    ]
}

/// What the look-back protects, as read from the store.
pub(crate) enum Protect {
    /// Keep runs from this key on.
    From(Key),
    /// The look-back needs every run there is.
    All,
}

/// The bound below which runs go (`None`: none go), from the rule's bounds
/// (beyond the newest N: the N-th newest run's key; too old: `(cutoff, i64::MIN)`)
/// and the look-back's protections; and whether a protection held a run back.
pub(crate) fn bound(rule: [Option<Key>; 2], protect: &[Protect]) -> (Option<Key>, bool) {
    let Some(wanted) = rule.into_iter().flatten().max() else { return (None, false) };
    let mut bound = Some(wanted);
    for p in protect {
        bound = match p {
            Protect::From(key) => bound.map(|b| b.min(*key)),
            Protect::All => None,
        };
    }
    (bound, bound != Some(wanted))
}

/// Implements `prune_in` (retention inside an open write transaction) for a
/// store over database `$db`.
macro_rules! impl_prune {
    ($store:ty, $db:ty) => {
        impl $store {
            pub(crate) async fn prune_in(
                tx: &mut sqlx::Transaction<'static, $db>,
                playbook: &str,
                rule: &$crate::playbook::Retention,
                now_ms: i64,
            ) -> Result<$crate::history::Pruned, $crate::history::HistoryError> {
                use $crate::history::prune as p;
                let nothing = || $crate::history::Pruned { playbook: playbook.to_owned(), ..Default::default() };
                let by_count = match rule.keep_runs {
                    Some(n) => Self::key_at(tx, p::NTH_RUN, playbook, i64::from(n.get()) - 1).await?,
                    None => None,
                };
                let by_age = rule.keep_for.map(|age| (now_ms.saturating_sub(p::millis_of(age)), i64::MIN));
                let protect = Self::protections(tx, playbook, now_ms).await?;
                let (Some((at, id)), kept_for_look_back) = p::bound([by_count, by_age], &protect) else {
                    return Ok($crate::history::Pruned {
                        kept_for_look_back: by_count.or(by_age).is_some(),
                        ..nothing()
                    });
                };
                let values: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(p::count_values()))
                    .bind(playbook)
                    .bind(at)
                    .bind(id)
                    .fetch_one(&mut **tx)
                    .await?;
                // The chains start again after the newest run each loses: `history verify` reads the anchor.
                let links: Vec<(String, i64, String, i64)> = sqlx::query_as($crate::history::chain::DOOMED_LINKS)
                    .bind(playbook)
                    .bind(at)
                    .bind(id)
                    .fetch_all(&mut **tx)
                    .await?;
                for (host, seq, hash, count) in links {
                    let anchor = sqlx::query($crate::history::chain::SET_ANCHOR).bind(playbook).bind(host);
                    anchor.bind(seq).bind(hash).bind(count).execute(&mut **tx).await?;
                }
                let mut runs = 0;
                for delete in p::deletes() {
                    let done = sqlx::query(sqlx::AssertSqlSafe(delete)).bind(playbook).bind(at).bind(id);
                    runs = done.execute(&mut **tx).await?.rows_affected();
                }
                let values = u64::try_from(values).unwrap_or(0);
                Ok($crate::history::Pruned { runs, values, kept_for_look_back, ..nothing() })
            }

            /// What the look-back stored with the playbook's newest run keeps.
            async fn protections(
                tx: &mut sqlx::Transaction<'static, $db>,
                playbook: &str,
                now_ms: i64,
            ) -> Result<Vec<$crate::history::prune::Protect>, $crate::history::HistoryError> {
                use $crate::history::prune::{self as p, Protect};
                let back: Option<(Option<i64>, Option<i64>)> =
                    sqlx::query_as(p::LOOK_BACK).bind(playbook).fetch_optional(&mut **tx).await?;
                let (runs, age_ms) = back.map_or((0, 0), |(r, a)| (r.unwrap_or(0), a.unwrap_or(0)));
                if runs < 0 {
                    return Ok(vec![Protect::All]);
                }
                let mut protect = Vec::new();
                if runs > 0 {
                    let key = Self::key_at(tx, p::NTH_COMPLETE, playbook, runs - 1).await?;
                    protect.push(key.map_or(Protect::All, Protect::From));
                }
                if age_ms > 0 {
                    let key = Self::key_at(tx, p::COMPLETE_BEFORE, playbook, now_ms.saturating_sub(age_ms)).await?;
                    protect.push(key.map_or(Protect::All, Protect::From));
                }
                Ok(protect)
            }

            /// The (started_at, id) one of the key queries finds.
            async fn key_at(
                tx: &mut sqlx::Transaction<'static, $db>,
                sql: &'static str,
                playbook: &str,
                param: i64,
            ) -> Result<Option<$crate::history::prune::Key>, $crate::history::HistoryError> {
                Ok(sqlx::query_as(sql).bind(playbook).bind(param).fetch_optional(&mut **tx).await?)
            }
        }
    };
}
pub(crate) use impl_prune;

/// A duration in whole milliseconds, saturating.
pub(crate) fn millis_of(age: std::time::Duration) -> i64 {
    i64::try_from(age.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_older_of_the_rules_bounds_and_look_back_lowers_it() {
        // Keep 10 runs: bound at the 10th newest (100, 7); keep 1 day: bound (50, MIN).
        assert_eq!(bound([Some((100, 7)), Some((50, i64::MIN))], &[]), (Some((100, 7)), false));
        assert_eq!(bound([None, None], &[]), (None, false));
        // avg(x, 30) needs back to (80, 3): the bound drops there, and says so.
        assert_eq!(bound([Some((100, 7)), None], &[Protect::From((80, 3))]), (Some((80, 3)), true));
        assert_eq!(bound([Some((100, 7)), None], &[Protect::From((120, 9))]), (Some((100, 7)), false));
        // Fewer complete runs than the look-back needs: nothing goes.
        assert_eq!(bound([Some((100, 7)), None], &[Protect::All]), (None, true));
    }
}
