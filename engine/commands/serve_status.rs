//! The data behind `runbook serve`'s status page: each playbook's latest run
//! from the board, its past week of verdicts from the history (none when the
//! history is off), rendered by `report::status_page`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};

use crate::record::{RunRecord, Verdict};
use crate::report::status_page::{self, Status};

/// The most runs of one playbook read for its strips: a week at one run a minute.
const PAST_RUNS: u32 = 10_080;

/// What the page needs besides the board.
pub struct StatusSource {
    /// `None`: the history is off; `Some(None)`: the default store.
    pub history: Option<Option<String>>,
    /// The schedule's interval: a last run older than two of them (and a minute) is stale.
    pub every: Duration,
}

/// The status page of the playbooks `(name, latest run)`.
pub async fn page(playbooks: Vec<(String, Option<RunRecord>)>, source: Arc<StatusSource>) -> Response {
    let mut past = Vec::with_capacity(playbooks.len());
    for (name, _) in &playbooks {
        past.push(past_verdicts(source.history.as_ref(), name).await);
    }
    let entries: Vec<Status> = playbooks
        .iter()
        .zip(past)
        .map(|((name, latest), past)| Status { name, latest: latest.as_ref(), past })
        .collect();
    let stale_after =
        chrono::Duration::from_std(source.every * 2 + Duration::from_secs(60)).unwrap_or(chrono::Duration::MAX);
    let body = status_page::render(&entries, Utc::now(), stale_after);
    ([(header::REFRESH, super::serve::REFRESH_SECONDS)], Html(body)).into_response()
}

/// The board's playbooks and their latest runs, copied out of the lock.
pub fn latest<T>(
    board: &Mutex<Vec<T>>,
    each: impl Fn(&T) -> (String, Option<RunRecord>),
) -> Vec<(String, Option<RunRecord>)> {
    board.lock().map(|slots| slots.iter().map(each).collect()).unwrap_or_default()
}

/// The last week's runs of `name` as (start, verdict); nothing when the history is off or unreadable.
async fn past_verdicts(history: Option<&Option<String>>, name: &str) -> Vec<(DateTime<Utc>, Verdict)> {
    let Some(store) = history else { return Vec::new() };
    let Ok(Some(store)) = crate::session::open_to_read(store.as_deref()).await else { return Vec::new() };
    let Ok(runs) = store.runs(Some(name), PAST_RUNS).await else { return Vec::new() };
    let week_ago = Utc::now() - chrono::Duration::days(7);
    runs.iter()
        .filter_map(|run| {
            let at = DateTime::parse_from_rfc3339(&run.started).ok()?.with_timezone(&Utc);
            let verdict: Verdict = serde_json::from_value(serde_json::Value::String(run.verdict.clone()?)).ok()?;
            (at >= week_ago).then_some((at, verdict))
        })
        .collect()
}
