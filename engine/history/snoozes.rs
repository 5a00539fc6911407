//! Snoozes in the store (`runbook snooze`), so every host and run that shares
//! the history sees them. A run reads the ones in force for its playbook with
//! one query off `snoozes_in_force`; lifting one stamps it, never deletes it.

use serde::Serialize;

use crate::record::snooze::Snooze;

/// A new snooze, as `runbook snooze` asks for it.
pub struct NewSnooze<'a> {
    pub playbook: &'a str,
    pub step: &'a str,
    pub host: Option<&'a str>,
    pub owner: &'a str,
    pub reason: &'a str,
    pub created_ms: i64,
    pub expires_ms: i64,
}

/// A snooze as `runbook snooze --list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ListedSnooze {
    pub playbook: String,
    /// RFC 3339 UTC.
    pub created: String,
    #[serde(flatten)]
    pub snooze: Snooze,
}

pub(crate) const INSERT: &str = "INSERT INTO snoozes (playbook, step_id, host, owner, reason, created_at, \
     expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";

/// In force at `$2`, of playbook `$1` (or every playbook when `$1` is NULL).
pub(crate) const IN_FORCE: &str = "SELECT id, playbook, step_id, host, owner, reason, created_at, expires_at \
     FROM snoozes WHERE ($1 IS NULL OR playbook = $1) AND expires_at > $2 AND lifted_at IS NULL \
     ORDER BY playbook, id";

pub(crate) const LIFT: &str =
    "UPDATE snoozes SET lifted_at = $2 WHERE id = $1 AND lifted_at IS NULL AND expires_at > $2";

/// A row of [`IN_FORCE`].
pub(crate) type Row = (i64, String, String, Option<String>, String, String, i64, i64);

pub(crate) fn listed((id, playbook, step, host, owner, reason, created, expires): Row) -> ListedSnooze {
    ListedSnooze {
        playbook,
        created: super::rfc3339(created),
        snooze: Snooze { id, step, host, owner, reason, until: super::rfc3339(expires) },
    }
}

/// Implements the snooze statements for a store type with a `pool` field over database `$db`.
macro_rules! impl_snoozes {
    ($store:ty, $db:ty) => {
        impl $store {
            pub(crate) async fn add_snooze(
                &self,
                new: &$crate::history::snoozes::NewSnooze<'_>,
            ) -> Result<i64, $crate::history::HistoryError> {
                use $crate::history::snoozes as sql;
                Ok(sqlx::query_scalar(sql::INSERT)
                    .bind(new.playbook)
                    .bind(new.step)
                    .bind(new.host)
                    .bind(new.owner)
                    .bind(new.reason)
                    .bind(new.created_ms)
                    .bind(new.expires_ms)
                    .fetch_one(&self.pool)
                    .await?)
            }

            pub(crate) async fn snoozes_in_force(
                &self,
                playbook: Option<&str>,
                now_ms: i64,
            ) -> Result<Vec<$crate::history::snoozes::ListedSnooze>, $crate::history::HistoryError> {
                use $crate::history::snoozes as sql;
                let rows: Vec<sql::Row> =
                    sqlx::query_as(sql::IN_FORCE).bind(playbook).bind(now_ms).fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(sql::listed).collect())
            }

            pub(crate) async fn lift_snooze(
                &self,
                id: i64,
                now_ms: i64,
            ) -> Result<bool, $crate::history::HistoryError> {
                use $crate::history::snoozes as sql;
                let done = sqlx::query(sql::LIFT).bind(id).bind(now_ms).execute(&self.pool).await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}
pub(crate) use impl_snoozes;
