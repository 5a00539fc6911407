//! Seeds the real PostgreSQL and Redis the SQL and Redis steps read.
//!
//! PostgreSQL: role `titan_user` (LOGIN) and database `titan_brain` owned by
//! it, tables `trades`, `signals`, `positions` with rows, and one update per
//! start so `pg_stat_user_tables` shows writes. Redis: a few `titan:*` keys.
//! Idempotent, and safe when parallel tests start simulators at once: the
//! work runs under a PostgreSQL advisory lock, and "already exists" from a
//! racing creator outside the lock is accepted.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Executor};

/// Everything seeding does must finish within this.
const SEED_TIMEOUT: Duration = Duration::from_secs(30);
/// Arbitrary, fixed: the advisory lock every simulator takes while seeding.
const LOCK_KEY: i64 = 0x7417_a45e;

const TABLES: &str = "
CREATE TABLE IF NOT EXISTS trades (id text PRIMARY KEY, symbol text NOT NULL, status text NOT NULL,
    pnl numeric NOT NULL, executed_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS signals (id text PRIMARY KEY, symbol text NOT NULL, status text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS positions (symbol text NOT NULL, side text NOT NULL, size numeric NOT NULL,
    notional numeric NOT NULL, exchange text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (symbol, side));
ALTER TABLE trades OWNER TO titan_user;
ALTER TABLE signals OWNER TO titan_user;
ALTER TABLE positions OWNER TO titan_user;
INSERT INTO trades SELECT 'T-' || lpad((50000 - g)::text, 6, '0'), CASE WHEN g % 2 = 0 THEN 'BTCUSDT' ELSE 'ETHUSDT' END,
    CASE WHEN g % 33 = 32 THEN 'FAILED' ELSE 'FILLED' END, round(((g * 37) % 50) * 1.5 - 22.5, 2),
    now() - g * interval '5 minutes' FROM generate_series(0, 99) g ON CONFLICT DO NOTHING;
INSERT INTO signals SELECT 'SIG-' || lpad((90000 - g)::text, 5, '0'), CASE WHEN g % 2 = 0 THEN 'BTCUSDT' ELSE 'ETHUSDT' END,
    CASE WHEN g = 0 THEN 'PENDING' WHEN g % 5 = 3 THEN 'REJECTED' ELSE 'FILLED' END,
    now() - (8 + 25 * g) * interval '1 second' FROM generate_series(0, 59) g ON CONFLICT DO NOTHING;
INSERT INTO positions VALUES ('BTCUSDT', 'long', 0.5, 30000, 'bybit', now()), ('ETHUSDT', 'long', 4, 12000, 'bybit', now()),
    ('BTCUSDT', 'short', 0.1, 6000, 'bybit', now()) ON CONFLICT DO NOTHING;
UPDATE positions SET updated_at = now();
";

/// `postgres://titan_user@<host>:<port>/titan_brain` for the server `admin_url` points at.
pub fn pg_url(admin_url: &str) -> Result<String, String> {
    let options = PgConnectOptions::from_str(admin_url).map_err(|e| format!("bad `--pg-admin-url`: {e}"))?;
    Ok(format!("postgres://titan_user@{}:{}/titan_brain", options.get_host(), options.get_port()))
}

pub async fn postgres(admin_url: &str) -> Result<(), String> {
    tokio::time::timeout(SEED_TIMEOUT, seed_postgres(admin_url))
        .await
        .map_err(|_| format!("seeding PostgreSQL took longer than {SEED_TIMEOUT:?}"))?
        .map_err(|e| format!("cannot seed PostgreSQL at `--pg-admin-url`: {e}"))
}

async fn seed_postgres(admin_url: &str) -> Result<(), sqlx::Error> {
    let options = PgConnectOptions::from_str(admin_url)?;
    let mut admin = PgConnection::connect_with(&options).await?;
    sqlx::query("SELECT pg_advisory_lock($1)").bind(LOCK_KEY).execute(&mut admin).await?;
    let result = async {
        let role: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_roles WHERE rolname = 'titan_user'")
            .fetch_optional(&mut admin)
            .await?;
        if role.is_none() {
            tolerate_exists(admin.execute("CREATE ROLE titan_user LOGIN").await)?;
        }
        let db: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = 'titan_brain'")
            .fetch_optional(&mut admin)
            .await?;
        if db.is_none() {
            tolerate_exists(admin.execute("CREATE DATABASE titan_brain OWNER titan_user").await)?;
        }
        let mut brain = PgConnection::connect_with(&options.clone().database("titan_brain")).await?;
        brain.execute(sqlx::raw_sql(TABLES)).await?;
        brain.close().await
    }
    .await;
    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)").bind(LOCK_KEY).execute(&mut admin).await;
    let _ = admin.close().await;
    result.and(unlocked.map(|_| ()))
}

/// Accepts "already exists" (42710 role, 42P04 database): someone else won the race.
fn tolerate_exists<T>(result: Result<T, sqlx::Error>) -> Result<(), sqlx::Error> {
    match result {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) if matches!(e.code().as_deref(), Some("42710" | "42P04")) => Ok(()),
        Err(e) => Err(e),
    }
}

pub async fn redis(url: &str) -> Result<(), String> {
    tokio::time::timeout(SEED_TIMEOUT, seed_redis(url))
        .await
        .map_err(|_| format!("seeding Redis took longer than {SEED_TIMEOUT:?}"))?
        .map_err(|e| format!("cannot seed Redis at `--redis-url`: {e}"))
}

async fn seed_redis(url: &str) -> redis::RedisResult<()> {
    let client = redis::Client::open(url)?;
    let mut con = client.get_multiplexed_async_connection().await?;
    let now = chrono::Utc::now().timestamp().to_string();
    let keys = [
        ("titan:status", "ok"),
        ("titan:master_arm", "enabled"),
        ("titan:nav", "100000"),
        ("titan:positions:count", "3"),
        ("titan:heartbeat:brain", now.as_str()),
        ("titan:heartbeat:execution", now.as_str()),
    ];
    for (key, value) in keys {
        redis::cmd("SET").arg(key).arg(value).query_async::<()>(&mut con).await?;
    }
    redis::cmd("HSET")
        .arg("titan:config")
        .arg(&[("phase1_allocation", "0.6"), ("phase2_allocation", "0.4")])
        .query_async::<()>(&mut con)
        .await
}
