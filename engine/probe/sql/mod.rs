//! `sql`: one query against PostgreSQL, MySQL/MariaDB or SQLite.
//!
//! Observation: `rows` (every row as an object, column name → JSON value),
//! `row_count`, `latency_ms` (connecting included), and the first row's
//! columns as top-level keys (`select count(*) as n …` → `n > 0`); a column
//! named like one of those three keys is only in `rows`.
//!
//! Safe by default: the query runs in a read-only transaction unless the step
//! says `write: true`, values come in through bound `params` (never spliced
//! into the text), and a result larger than `max_rows` is an error rather
//! than a memory hog. Connections are pooled per URL for the run
//! ([`pool`]); errors name the target with its password taken out.

mod json;
mod mysql;
mod pool;
mod postgres;
mod run;
mod sqlite;

use std::path::Path;
use std::str::FromStr;
use std::time::Instant;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

use super::number::NumberParam;
use super::target::{clean_message, lower_first, without_password};
use super::{Probe, ProbeContext, ProbeError};
use crate::template::Context;
use pool::Pools;
use run::QueryError;

/// A SQL query.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sql {
    /// The database. The scheme picks the driver: `postgres://` or `postgresql://`,
    /// `mysql://` or `mariadb://`, `sqlite:` (a path relative to the playbook's folder).
    /// Put passwords in secrets: `postgres://app:{{secrets.pg_password}}@127.0.0.1/app`.
    /// PostgreSQL on 127.0.0.1, `localhost` or a socket is reached without TLS unless the
    /// URL (`sslmode=require`) or `PGSSLMODE` asks for it; elsewhere `sslmode` defaults to `prefer`.
    #[schemars(example = &"postgres://postgres@127.0.0.1:5432/postgres")]
    pub url: String,
    /// The query. Use placeholders for values (`$1` on PostgreSQL, `?` on MySQL and
    /// SQLite) and give the values in `params`.
    #[schemars(example = &"select count(*) as active from pg_stat_activity where state = $1")]
    pub query: String,
    /// Values bound to the query's placeholders, in order: strings, numbers, booleans,
    /// null. They are sent apart from the query text, so no value can change the query.
    /// PostgreSQL sees a string as `text`: cast where the type matters (`$1::int`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(example = vec!["active"])]
    pub params: Vec<Param>,
    /// Allow the query to change data. Without it the query runs in a read-only
    /// transaction (SQLite: `PRAGMA query_only`) and the database refuses writes.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub write: bool,
    /// The most rows read (default 1000); a query that returns more is an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = 100)]
    pub max_rows: Option<NumberParam<usize>>,
}

/// A value bound to a placeholder.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Param {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    Null(()),
}

const DEFAULT_MAX_ROWS: usize = 1000;

/// Which driver a URL asks for, and the URL as sqlx reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Driver {
    Postgres,
    MySql,
    Sqlite,
}

fn driver_of(url: &str) -> Result<(Driver, String), ProbeError> {
    let scheme = url.split(':').next().unwrap_or("").to_ascii_lowercase();
    match scheme.as_str() {
        "postgres" | "postgresql" => Ok((Driver::Postgres, url.to_owned())),
        "mysql" => Ok((Driver::MySql, url.to_owned())),
        // sqlx knows MariaDB by MySQL's scheme; the protocol is the same.
        "mariadb" => Ok((Driver::MySql, format!("mysql{}", &url["mariadb".len()..]))),
        "sqlite" => Ok((Driver::Sqlite, url.to_owned())),
        _ => Err(ProbeError::check(
            "url",
            format!(
                "`{}` is not a database URL this probe knows; it takes `postgres://`, `mysql://`, `mariadb://` or `sqlite:`",
                without_password(url)
            ),
        )),
    }
}

impl Probe for Sql {
    const TEMPLATES: &'static [(&'static str, Context)] = &[("url", Context::Url)];
    const OBSERVES: Option<&'static [&'static str]> = None;

    fn check(&self) -> Result<(), ProbeError> {
        if !self.url.starts_with("{{") {
            driver_of(&self.url)?;
        }
        if self.query.trim().is_empty() {
            return Err(ProbeError::check("query", "`query` is empty"));
        }
        // A value spliced into SQL text could become SQL; bound parameters never do.
        if self.query.contains("{{") {
            return Err(ProbeError::check(
                "query",
                "`query` holds a `{{…}}` template; pass the value in `params` and write `$1` \
                 (PostgreSQL) or `?` (MySQL, SQLite), so it is bound, never spliced into the SQL",
            ));
        }
        match &self.max_rows {
            Some(NumberParam::Number(0)) => Err(ProbeError::check("max_rows", "`max_rows` must be at least 1")),
            Some(rows) => rows.check("max_rows"),
            None => Ok(()),
        }
    }

    async fn observe(&self, ctx: &ProbeContext) -> Result<Value, ProbeError> {
        let (driver, url) = driver_of(&self.url)?;
        let target = without_password(&self.url);
        let max_rows = match &self.max_rows {
            Some(rows) => rows.get("max_rows")?.max(1),
            None => DEFAULT_MAX_ROWS,
        };
        let started = Instant::now();
        let query = run::Query { sql: &self.query, params: &self.params, write: self.write, max_rows };
        let rows = match driver {
            Driver::Postgres => {
                let pools = ctx.shared.get::<Pools<PgConnection>>();
                let pool = pools.for_url(&url, &ctx.shared, || {
                    options::<PgConnectOptions>(&url).map(|o| crate::tls::postgres_options(o, &url))
                })?;
                run::on_pool(&pool, &postgres::dialect(ctx.timeout), &query).await
            }
            Driver::MySql => {
                let pools = ctx.shared.get::<Pools<MySqlConnection>>();
                let pool = pools.for_url(&url, &ctx.shared, || options::<MySqlConnectOptions>(&url))?;
                run::on_pool(&pool, &mysql::dialect(ctx.timeout), &query).await
            }
            Driver::Sqlite => {
                let pools = ctx.shared.get::<Pools<SqliteConnection>>();
                let pool = pools.for_url(&url, &ctx.shared, || sqlite_options(&url, &ctx.base_dir))?;
                run::on_pool(&pool, &sqlite::dialect(self.write), &query).await
            }
        }
        .map_err(|e| kind_of(&e)(clean_message(&describe(&e, &target), &self.url)))?;
        Ok(observation(rows, started.elapsed().as_secs_f64() * 1000.0))
    }

    fn describe(&self) -> String {
        let write = if self.write { " (may write)" } else { "" };
        format!(
            "{} on {}{write}",
            self.query.split_whitespace().collect::<Vec<_>>().join(" "),
            without_password(&self.url)
        )
    }
}

fn options<O: FromStr<Err = sqlx::Error>>(url: &str) -> Result<O, ProbeError> {
    O::from_str(url)
        .map_err(|e| ProbeError::check("url", format!("`{}` is not a usable database URL: {e}", without_password(url))))
}

/// SQLite's options, a relative file taken from the playbook's folder.
fn sqlite_options(url: &str, base_dir: &Path) -> Result<SqliteConnectOptions, ProbeError> {
    let options: SqliteConnectOptions = options(url)?;
    let file = options.get_filename().to_path_buf();
    if file.is_relative() && file.as_os_str() != ":memory:" && !url.contains("mode=memory") {
        return Ok(options.filename(base_dir.join(file)));
    }
    Ok(options)
}

/// The one-line cause of a failed query, naming the target.
fn describe(error: &QueryError, target: &str) -> String {
    match error {
        QueryError::Connect(e) => format!("cannot connect to `{target}`: {}", cause(e)),
        QueryError::Database(e) => format!("query on `{target}` failed: {}", cause(e)),
        QueryError::TooManyRows(max_rows) => {
            format!("the query on `{target}` returned more than {max_rows} rows; narrow it or raise `max_rows`")
        }
        QueryError::Decode(e) => format!("cannot read the result from `{target}`: {e}"),
    }
}

/// What sort of failure a failed query is.
fn kind_of(error: &QueryError) -> fn(String) -> ProbeError {
    match error {
        QueryError::Connect(e) => match e {
            sqlx::Error::Tls(_) => ProbeError::Tls,
            sqlx::Error::PoolTimedOut => ProbeError::Timeout,
            sqlx::Error::Configuration(_) => |message| ProbeError::check("url", message),
            other => match super::io_kind(other) {
                Some(std::io::ErrorKind::ConnectionRefused) => ProbeError::Refused,
                Some(std::io::ErrorKind::TimedOut) => ProbeError::Timeout,
                _ => ProbeError::Connect,
            },
        },
        QueryError::Database(sqlx::Error::Database(db)) if is_timeout(db.code().as_deref()) => ProbeError::Timeout,
        QueryError::Database(sqlx::Error::Io(_)) => ProbeError::Io,
        QueryError::Database(sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_)) => ProbeError::Decode,
        QueryError::Database(_) => ProbeError::Protocol,
        QueryError::TooManyRows(_) => ProbeError::Limit,
        QueryError::Decode(_) => ProbeError::Decode,
    }
}

/// Whether a database error code says the statement ran out of time: PostgreSQL's
/// `query_canceled` (its `statement_timeout`), MariaDB's `max_statement_time`.
fn is_timeout(code: Option<&str>) -> bool {
    matches!(code, Some("57014" | "70100"))
}

/// The driver's reason without its boilerplate ("error returned from database: …").
fn cause(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::Io(io) => lower_first(&io.to_string()),
        sqlx::Error::Tls(e) => format!("TLS: {e}"),
        sqlx::Error::Configuration(e) => format!("bad connection settings: {e}"),
        other => other.to_string(),
    }
}

/// `rows`, `row_count`, `latency_ms` and the first row's columns.
fn observation(rows: Vec<Map<String, Value>>, latency_ms: f64) -> Value {
    let mut out = Map::new();
    if let Some(first) = rows.first() {
        out.extend(first.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    out.insert("row_count".to_owned(), Value::from(rows.len()));
    out.insert("latency_ms".to_owned(), json::float((latency_ms * 1000.0).round() / 1000.0));
    out.insert("rows".to_owned(), Value::Array(rows.into_iter().map(Value::Object).collect()));
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheme_picks_the_driver() {
        assert_eq!(driver_of("postgresql://u@h/db").map(|d| d.0), Ok(Driver::Postgres));
        assert_eq!(
            driver_of("mariadb://root@127.0.0.1/test"),
            Ok((Driver::MySql, "mysql://root@127.0.0.1/test".into()))
        );
        assert_eq!(driver_of("sqlite:data.db").map(|d| d.0), Ok(Driver::Sqlite));
        let err = driver_of("oracle://u:hunter22@h/db").unwrap_err().to_string();
        assert!(err.contains("`oracle://u@h/db`") && !err.contains("hunter22"), "{err}");
    }

    #[test]
    fn the_first_row_is_also_at_the_top() {
        let row: Map<String, Value> = serde_json::from_str(r#"{"n": 3, "row_count": "x"}"#).unwrap_or_default();
        let out = observation(vec![row], 1.5);
        assert_eq!(out["n"], 3);
        assert_eq!(out["row_count"], 1);
        assert_eq!(out["rows"][0]["row_count"], "x");
    }
}
