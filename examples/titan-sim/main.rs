//! titan-sim: the Titan trading system as the playbooks see it
//! (/work/shared/titan-api.md), on 127.0.0.1, with switchable faults.
//!
//! `cargo run --example titan-sim -- [--scenario NAME]... [--port-base N]`
//! seeds PostgreSQL and Redis, writes a fake `pm2`, logs, backups and script
//! stubs into the state dir, starts the five services, prints ONE line of JSON
//! with every playbook var (and the `console_auth` secret) and serves until
//! SIGTERM or SIGINT. See README.md beside this file for the scenarios.

mod actions;
mod backups;
mod brain;
mod control;
mod exchange;
mod execution;
mod files;
mod outage;
mod pm2;
mod portfolio;
mod scenario;
mod seed;
mod services;
mod sim;

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;

use crate::scenario::{Scenario, Scenarios};
use crate::sim::Sim;

/// How long open connections (WebSockets, a slow `/dashboard`) may delay shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The Titan simulator for runbook's playbooks.
#[derive(Parser)]
#[command(name = "titan-sim")]
struct Args {
    /// Brain port (0 = any free port).
    #[arg(long, default_value_t = 3100)]
    brain_port: u16,
    /// Execution and console port.
    #[arg(long, default_value_t = 3002)]
    execution_port: u16,
    /// Scavenger port.
    #[arg(long, default_value_t = 3003)]
    scavenger_port: u16,
    /// AI Quant port.
    #[arg(long, default_value_t = 3004)]
    ai_quant_port: u16,
    /// Exchange (Bybit v5 market data) port.
    #[arg(long, default_value_t = 3005)]
    exchange_port: u16,
    /// Put brain, execution, scavenger, AI Quant, exchange on N..N+4 (0 = all on free ports).
    #[arg(long)]
    port_base: Option<u16>,
    /// A fault to switch on (repeatable, or comma-separated); `healthy` is the default.
    #[arg(long = "scenario", value_name = "NAME")]
    scenarios: Vec<String>,
    /// A YAML or JSON list of scenario names.
    #[arg(long, value_name = "FILE")]
    scenario_file: Option<PathBuf>,
    /// Where the fake pm2, logs, backups and scripts go (default: a fresh temp dir, removed on exit).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// PostgreSQL superuser URL used to create `titan_user` and `titan_brain`.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pg_admin_url: String,
    /// Redis to seed with `titan:*` keys.
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
    /// Skip seeding PostgreSQL and Redis (their steps will then fail).
    #[arg(long)]
    no_seed: bool,
    /// The `user:password` the POST endpoints accept (default: admin and a random password).
    #[arg(long, env = "TITAN_CONSOLE_AUTH", hide_env_values = true)]
    console_auth: Option<String>,
}

impl Args {
    /// `(service, port)` in the order of `--port-base`.
    fn ports(&self) -> [(&'static str, u16); 5] {
        let at = |offset: u16, own: u16| match self.port_base {
            Some(0) => 0,
            Some(base) => base.saturating_add(offset),
            None => own,
        };
        [
            ("brain", at(0, self.brain_port)),
            ("execution", at(1, self.execution_port)),
            ("scavenger", at(2, self.scavenger_port)),
            ("ai quant", at(3, self.ai_quant_port)),
            ("exchange", at(4, self.exchange_port)),
        ]
    }
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    match runtime.block_on(run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

fn fail(message: &str) -> std::process::ExitCode {
    eprintln!("titan-sim: error: {message}");
    std::process::ExitCode::FAILURE
}

async fn run(args: Args) -> Result<(), String> {
    let scenarios = Scenarios::from_args(&args.scenarios, args.scenario_file.as_deref())?;
    let (_temp, state_dir) = match &args.state_dir {
        Some(dir) => (None, dir.clone()),
        None => {
            let temp = tempfile::Builder::new()
                .prefix("titan-sim-")
                .tempdir()
                .map_err(|e| format!("cannot create a temp dir: {e}"))?;
            let path = temp.path().to_owned();
            (Some(temp), path)
        }
    };
    let console_auth = args.console_auth.clone().unwrap_or_else(|| format!("admin:{}", random_password()));
    let pg_url = seed::pg_url(&args.pg_admin_url)?;
    if !args.no_seed {
        seed::postgres(&args.pg_admin_url).await?;
        seed::redis(&args.redis_url).await?;
    }

    let sim = Sim::new(scenarios, console_auth);
    let dirs = StateDirs::prepare(&state_dir)?;
    let scenarios = sim.scenarios();
    let pm2_bin = pm2::write(&state_dir, &dirs.logs, &scenarios, sim.started_at.timestamp_millis())
        .map_err(|e| format!("cannot write the fake pm2: {e}"))?;
    files::write_logs(&dirs.logs, &scenarios, sim.started_at).map_err(|e| format!("cannot write logs: {e}"))?;
    files::write_scripts(&dirs.scripts, &scenarios).map_err(|e| format!("cannot write scripts: {e}"))?;
    backups::write(&state_dir, &dirs.backups, &scenarios, sim.started_at.with_timezone(&chrono::Local))?;

    let routers = [
        brain::router(sim.clone()),
        execution::router(sim.clone()),
        services::scavenger(sim.clone()),
        services::ai_quant(sim.clone()),
        exchange::router(sim.clone()),
    ];
    let mut urls = Vec::new();
    let mut listeners = Vec::new();
    for (service, port) in args.ports() {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| format!("cannot listen on 127.0.0.1:{port} for the {service}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        urls.push(format!("http://{addr}"));
        listeners.push(listener);
    }
    // Watch the signals before telling anyone we are up, so an early SIGTERM stops us cleanly.
    let stop = Signals::watch()?;
    // The outages of whole servers: the vars point at a port nothing listens on.
    let down = |scenario: Scenario, url: String| if scenarios.has(scenario) { closed_url(&url) } else { Ok(url) };
    let line = json!({
        "brain_url": urls[0],
        "execution_url": urls[1],
        "console_url": urls[1],
        "scavenger_url": urls[2],
        "ai_quant_url": down(Scenario::AiQuantDown, urls[3].clone())?,
        "exchange_url": urls[4],
        "pm2_bin": pm2_bin,
        "log_dir": dirs.logs,
        "backup_dir": dirs.backups,
        "scripts_dir": dirs.scripts,
        "pg_url": down(Scenario::PostgresDown, pg_url)?,
        "redis_url": down(Scenario::RedisDown, args.redis_url.clone())?,
        "console_auth": sim.console_auth,
    });
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}").and_then(|()| stdout.flush()).map_err(|e| format!("cannot write stdout: {e}"))?;
    drop(stdout);
    eprintln!("titan-sim: serving scenarios [{}]; stop with Ctrl-C", scenarios.names().join(", "));

    serve(listeners, routers, stop).await
}

/// SIGTERM and SIGINT, watched from before the vars line is printed.
struct Signals {
    term: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

impl Signals {
    fn watch() -> Result<Self, String> {
        use tokio::signal::unix::{SignalKind, signal};
        let watch = |kind: SignalKind| signal(kind).map_err(|e| format!("cannot watch signals: {e}"));
        Ok(Self { term: watch(SignalKind::terminate())?, interrupt: watch(SignalKind::interrupt())? })
    }
}

/// Serves every listener until SIGTERM or SIGINT, then stops within the grace period.
async fn serve(listeners: Vec<TcpListener>, routers: [axum::Router; 5], mut signals: Signals) -> Result<(), String> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut servers = tokio::task::JoinSet::new();
    for (listener, router) in listeners.into_iter().zip(routers) {
        let mut stop = stop_rx.clone();
        servers.spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|stopped| *stopped).await;
                })
                .await
        });
    }
    tokio::select! {
        _ = signals.interrupt.recv() => {}
        _ = signals.term.recv() => {}
        Some(ended) = servers.join_next() => {
            return Err(format!("a service stopped by itself: {ended:?}"));
        }
    }
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async { while servers.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        servers.abort_all();
    }
    eprintln!("titan-sim: stopped");
    Ok(())
}

/// The state dir's sub-folders, emptied and recreated so a reused dir holds
/// only what this run's scenarios put there.
struct StateDirs {
    logs: PathBuf,
    backups: PathBuf,
    scripts: PathBuf,
}

impl StateDirs {
    fn prepare(state_dir: &std::path::Path) -> Result<Self, String> {
        for sub in ["bin", "logs", "backups", "scripts", "config"] {
            let path = state_dir.join(sub);
            if path.exists() {
                std::fs::remove_dir_all(&path).map_err(|e| format!("cannot clear `{}`: {e}", path.display()))?;
            }
        }
        Ok(Self {
            logs: state_dir.join("logs"),
            backups: state_dir.join("backups"),
            scripts: state_dir.join("scripts"),
        })
    }
}

/// `url` with its port replaced by one nothing listens on (bound, read, released).
fn closed_url(url: &str) -> Result<String, String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("cannot find a free port: {e}"))?
        .port();
    let (scheme, rest) = url.split_once("://").ok_or_else(|| format!("not a URL: {url}"))?;
    let (authority, path) = rest.split_once('/').map_or((rest, String::new()), |(a, p)| (a, format!("/{p}")));
    let (userinfo, _) = authority.rsplit_once('@').map_or(("", authority), |(u, h)| (u, h));
    let at = if userinfo.is_empty() { String::new() } else { format!("{userinfo}@") };
    Ok(format!("{scheme}://{at}127.0.0.1:{port}{path}"))
}

/// 20 hex digits, fresh per run (no RNG crate needed for a test secret).
fn random_password() -> String {
    let seed = format!("{}-{:?}-{:?}", std::process::id(), std::time::SystemTime::now(), std::thread::current().id());
    Sha256::digest(seed.as_bytes()).iter().take(10).map(|b| format!("{b:02x}")).collect()
}
