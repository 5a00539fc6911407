//! `runbook serve FILE... --listen 127.0.0.1:9808 --every 60s`: runs each
//! playbook on the schedule (each in its own loop, one run at a time) and
//! serves the latest results over HTTP:
//! - `GET /metrics`: Prometheus text format (see `monitor::metrics`);
//! - `GET /healthz`: `ok` while the server is up;
//! - `GET /`: the latest report of the playbook, rendered as `runbook run
//!   --report x.html` renders it; with several playbooks the status page;
//! - `GET /status`: per playbook its verdict, the age of its last run (stale
//!   ones marked), 24-hour and 7-day strips of past verdicts from the
//!   history, its failing steps with what they saw, and links to
//!   `GET /playbooks/N` (1-based, in command-line order) and the rest;
//! - `GET /playbooks/N/stats`: the playbook's history over the last 7 days
//!   (`runbook history NAME --stats`), read from the stats rollups.
//! - `GET /fleet/N`: the fleet view of playbook N from the history `serve`
//!   keeps (every host that writes to the same history, missing ones failed;
//!   see `fleet`), over the last 24 hours.
//!
//! Read-only: action steps never run (see `commands::monitor`). HTTP is
//! axum over hyper, already compiled for the tests, held to the limits in
//! `commands::listen`. Exit codes: see `commands::monitor`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;

use super::error::{CliError, Outcome, invalid};
use super::listen;
use super::monitor;
use crate::cli::ServeArgs;
use crate::monitor::metrics;
use crate::monitor::schedule::Schedule;
use crate::record::RunRecord;
use crate::report::ReportError;
use crate::report::format;
use crate::report::page;
use crate::session::{Session, Signals};

/// One playbook's latest run.
struct Slot {
    name: String,
    latest: Option<RunRecord>,
    runs: u64,
    /// The playbook's own report template (`report.template`), read at start.
    template: Option<String>,
    /// What its fleet view needs: the history and the playbook's steps and `fleet:` rules.
    fleet: FleetSource,
}

#[derive(Clone)]
struct FleetSource {
    store: Option<String>,
    steps: Vec<(String, String, String)>,
    rules: crate::playbook::fleet_rules::FleetRules,
}

impl FleetSource {
    fn of(session: &Session, store: Option<String>) -> Self {
        let plan = &session.plan;
        let steps =
            plan.steps.iter().map(|s| (s.id.clone(), s.title.clone(), plan.sections[s.section].clone())).collect();
        Self { store, steps, rules: plan.fleet.clone() }
    }
}

/// The window `GET /fleet/N` looks back over.
const FLEET_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// How often a browser showing a page asks for it again.
pub(super) const REFRESH_SECONDS: &str = "30";

type Board = Arc<Mutex<Vec<Slot>>>;

pub fn serve(args: &ServeArgs) -> Outcome {
    let schedule = monitor::schedule(&args.every, &args.schedule)?;
    let playbooks = sessions(args)?;
    let mut templates = Vec::new();
    for session in &playbooks {
        templates.push(template(session)?);
    }
    // Before the runtime starts: the file limit it raises is the process's.
    let connections = listen::connection_limit();
    let runtime = crate::session::runtime()?;
    let code = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .map_err(|e| invalid(format!("--listen `{}`: cannot listen there: {e}", args.listen)))?;
        let address = listener.local_addr().map_or_else(|_| args.listen.clone(), |a| a.to_string());
        eprintln!("serving on http://{address}/metrics");
        let board: Board = Arc::new(Mutex::new(
            playbooks
                .iter()
                .zip(templates)
                .map(|(p, template)| Slot {
                    name: p.plan.name.clone(),
                    latest: None,
                    runs: 0,
                    template,
                    fleet: FleetSource::of(p, args.runs.store.history.clone()),
                })
                .collect(),
        ));
        let signals = monitor::signals();
        // The loops run on this task (a run is not `Send`: its event callback is borrowed); the server is spawned.
        let loops: Vec<_> = playbooks
            .into_iter()
            .enumerate()
            .map(|(index, prepared)| keep_running(index, prepared, schedule.clone(), board.clone(), &signals))
            .collect();
        let names: Vec<String> =
            board.lock().map(|slots| slots.iter().map(|s| s.name.clone()).collect()).unwrap_or_default();
        let history = (!args.runs.no_history).then(|| args.runs.store.history.clone());
        let stats = get(move |Path(number): Path<usize>| get_stats(history.clone(), names.clone(), number));
        let source = Arc::new(super::serve_status::StatusSource {
            history: (!args.runs.no_history).then(|| args.runs.store.history.clone()),
            every: schedule.every,
        });
        let home_source = Arc::clone(&source);
        let status = get(move |State(board): State<Board>| {
            super::serve_status::page(super::serve_status::latest(&board, each), Arc::clone(&source))
        });
        let home = get(move |State(board): State<Board>| get_home(board, Arc::clone(&home_source)));
        let app = axum::Router::new()
            .route("/status", status)
            .route("/playbooks/{number}/stats", stats)
            .route("/metrics", get(get_metrics))
            .route("/healthz", get(|| async { "ok\n" }))
            .route("/", home)
            .route("/playbooks/{number}", get(get_report))
            .route("/fleet/{number}", get(get_fleet))
            .with_state(board.clone());
        let first = signals.after(1);
        let stop = async move {
            first.await;
        };
        let serving = tokio::spawn(listen::serve(listener, app, connections, stop));
        futures_util::future::join_all(loops).await;
        // Scrapers may be mid-request: give them a moment, not forever.
        let _ = tokio::time::timeout(Duration::from_secs(5), serving).await;
        Ok(signals.exit_code())
    });
    runtime.shutdown_timeout(Duration::from_millis(200));
    code
}

/// A session for each playbook; two of one name would share their metrics.
fn sessions(args: &ServeArgs) -> Result<Vec<Session>, CliError> {
    let mut playbooks: Vec<Session> = Vec::new();
    for file in &args.files {
        let session = monitor::prepare(file, &args.runs)?;
        if let Some(other) = playbooks.iter().find(|p| p.plan.name == session.plan.name) {
            return Err(invalid(format!(
                "`{}` and `{}` are both named `{}`; metrics tell playbooks apart by name",
                other.plan.file, session.plan.file, session.plan.name
            )));
        }
        playbooks.push(session);
    }
    Ok(playbooks)
}

/// The playbook's own report template (`report.template`), read and checked.
fn template(session: &Session) -> Result<Option<String>, CliError> {
    let Some(path) = &session.plan.report_template else { return Ok(None) };
    let html = format::by_name("html").map_err(invalid)?;
    super::reports::read_template(path, "the playbook's report.template", html)
        .map(Some)
        .map_err(|e| invalid(format!("{}: {e}", session.plan.file)))
}

/// Runs one playbook on the schedule until a signal, publishing each run.
async fn keep_running(index: usize, mut session: Session, schedule: Schedule, board: Board, signals: &Signals) {
    let mut slot = schedule.first(Utc::now());
    while signals.sleep_until(slot).await {
        let record = monitor::run_once(&mut session, signals).await;
        eprintln!(
            "serve: `{}` {} in {} ms ({} pass, {} fail, {} error)",
            record.playbook,
            record.verdict.name(),
            record.duration_ms,
            record.counts.pass,
            record.counts.fail,
            record.counts.error
        );
        let next = schedule.after(slot, Utc::now());
        if next.skipped > 0 {
            eprintln!(
                "warning: `{}` took {}, longer than the interval; {} scheduled run(s) skipped",
                record.playbook,
                monitor::show(Duration::from_millis(record.duration_ms)),
                next.skipped
            );
        }
        if let Ok(mut slots) = board.lock() {
            slots[index].latest = Some(record);
            slots[index].runs += 1;
        }
        slot = next.at;
    }
}

async fn get_metrics(State(board): State<Board>) -> impl IntoResponse {
    let body = board.lock().map_or_else(
        |_| String::new(),
        |slots| {
            let latest: Vec<metrics::Latest> = slots
                .iter()
                .filter_map(|s| s.latest.as_ref().map(|record| metrics::Latest { record, runs: s.runs }))
                .collect();
            metrics::render(&latest)
        },
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body)
}

/// `GET /`: the only playbook's report, or the status page of several.
async fn get_home(board: Board, source: Arc<super::serve_status::StatusSource>) -> Response {
    if board.lock().map_or(0, |slots| slots.len()) == 1 {
        return html(&board, |entries| page::report(&entries[0]));
    }
    super::serve_status::page(super::serve_status::latest(&board, each), source).await
}

/// A slot's name and latest run, for the status page.
fn each(slot: &Slot) -> (String, Option<RunRecord>) {
    (slot.name.clone(), slot.latest.clone())
}

async fn get_report(State(board): State<Board>, Path(number): Path<usize>) -> Response {
    let count = board.lock().map_or(0, |slots| slots.len());
    if !(1..=count).contains(&number) {
        return (StatusCode::NOT_FOUND, format!("no playbook number {number}; they are 1 to {count}\n"))
            .into_response();
    }
    html(&board, |entries| page::report(&entries[number - 1]))
}

/// How far back the stats page looks.
const STATS_WINDOW: Duration = Duration::from_secs(7 * 86_400);

/// `GET /playbooks/N/stats`: per step, the ok rate and capture percentiles of the last 7 days.
async fn get_stats(history: Option<Option<String>>, names: Vec<String>, number: usize) -> Response {
    let Some(name) = number.checked_sub(1).and_then(|i| names.get(i)) else {
        return (StatusCode::NOT_FOUND, format!("no playbook number {number}\n")).into_response();
    };
    let Some(store) = history else {
        return (StatusCode::NOT_FOUND, "the history is off (--no-history)\n").into_response();
    };
    let since_ms = crate::history::window_start(
        crate::history::now_ms().saturating_sub(i64::try_from(STATS_WINDOW.as_millis()).unwrap_or(0)),
    );
    let steps = match crate::session::open_to_read(store.as_deref()).await {
        Ok(Some(store)) => store.stats(name, since_ms).await,
        Ok(None) => Ok(Vec::new()),
        Err(e) => Err(e),
    };
    match steps {
        Ok(steps) => {
            let since = super::history_stats::day(since_ms);
            ([(header::REFRESH, REFRESH_SECONDS)], Html(page::stats(name, &since, &steps))).into_response()
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("cannot read the history: {e}\n")).into_response(),
    }
}

async fn get_fleet(State(board): State<Board>, Path(number): Path<usize>) -> Response {
    let found = board.lock().ok().and_then(|slots| {
        let slot = slots.get(number.checked_sub(1)?)?;
        Some((slot.name.clone(), slot.fleet.clone()))
    });
    let Some((playbook, source)) = found else {
        return (StatusCode::NOT_FOUND, format!("no playbook number {number}\n")).into_response();
    };
    let request = crate::fleet::Request {
        playbook,
        steps: Some(source.steps),
        rules: source.rules,
        expected: None,
        within: FLEET_WINDOW,
        within_text: "24h".to_owned(),
        trusted: None,
    };
    let view = match crate::session::open_to_read(source.store.as_deref()).await {
        Ok(Some(store)) => crate::fleet::gather(&store, &request).await,
        Ok(None) => return (StatusCode::NOT_FOUND, "no history yet\n").into_response(),
        Err(e) => Err(e),
    };
    match view {
        Ok(view) => ([(header::REFRESH, REFRESH_SECONDS)], Html(crate::fleet::html(&view))).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
    }
}

/// A page from the latest runs; a failed render (a custom template that breaks on this run) is a 500.
fn html(board: &Board, page: impl Fn(&[page::Entry]) -> Result<String, ReportError>) -> Response {
    let Ok(slots) = board.lock() else { return StatusCode::INTERNAL_SERVER_ERROR.into_response() };
    let entries: Vec<page::Entry> = slots
        .iter()
        .map(|s| page::Entry { name: &s.name, latest: s.latest.as_ref(), template: s.template.as_deref() })
        .collect();
    match page(&entries) {
        Ok(body) => ([(header::REFRESH, REFRESH_SECONDS)], Html(body)).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}
