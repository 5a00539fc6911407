//! `redis`: one Redis command. Observation: `reply` (the reply as JSON),
//! `latency_ms`, and for `INFO` every `field:value` line as a top-level key
//! (numbers as numbers: `used_memory`, `connected_clients`, ...).
//!
//! Read-only by default: a command not on a list of known read-only commands
//! needs `write: true` (an allow-list, so a command Redis adds later is not
//! run by accident). One multiplexed connection per URL serves every step of
//! a run; one whose command was cut off by the deadline or failed on the
//! network is dropped, so a blocked command never holds up later steps.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use redis::aio::MultiplexedConnection;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::target::{clean_message, lower_first, without_password};
use super::{Probe, ProbeContext, ProbeError};
use crate::template::{self, Bound, Context};

/// A Redis command.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Redis {
    /// The server, `redis://[:password@]host[:port][/db]` (`rediss://` for TLS).
    /// Put a password in a secret: `redis://:{{secrets.redis_password}}@127.0.0.1:6379`.
    #[schemars(example = &"redis://127.0.0.1:6379")]
    pub url: String,
    /// The command and its arguments, split on spaces; an argument with spaces goes
    /// in double quotes (`GET "my key"`). The split comes before template values go in,
    /// so a value is part of exactly one argument whatever it holds (`MGET {{vars.key}}`). Read-only commands only, unless `write: true`:
    /// PING, ECHO, INFO, DBSIZE, TIME, LASTSAVE, ROLE, GET, MGET, EXISTS, TTL, PTTL, TYPE,
    /// STRLEN, LLEN, LRANGE, LINDEX, SCARD, SMEMBERS, SISMEMBER, ZCARD, ZSCORE, ZRANK,
    /// ZCOUNT, ZRANGE, HGET, HMGET, HGETALL, HLEN, HKEYS, HEXISTS, XLEN, CONFIG GET,
    /// CLIENT LIST, MEMORY USAGE, SLOWLOG GET, SLOWLOG LEN.
    #[schemars(example = &"INFO memory")]
    pub command: String,
    /// Allow a command that is not on the read-only list (it may change data or block).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub write: bool,
    /// The words of a templated `command`, split before its values went in (set by rendering).
    #[serde(skip)]
    words: Option<Vec<String>>,
}

/// Commands that only read, by name.
const READ_ONLY: &[&str] = &[
    "PING",
    "ECHO",
    "INFO",
    "DBSIZE",
    "TIME",
    "LASTSAVE",
    "ROLE",
    "GET",
    "MGET",
    "EXISTS",
    "TTL",
    "PTTL",
    "TYPE",
    "STRLEN",
    "LLEN",
    "LRANGE",
    "LINDEX",
    "SCARD",
    "SMEMBERS",
    "SISMEMBER",
    "ZCARD",
    "ZSCORE",
    "ZRANK",
    "ZCOUNT",
    "ZRANGE",
    "HGET",
    "HMGET",
    "HGETALL",
    "HLEN",
    "HKEYS",
    "HEXISTS",
    "XLEN",
];

/// Commands whose sub-command decides, with the read-only sub-commands.
const READ_ONLY_SUB: &[(&str, &[&str])] =
    &[("CONFIG", &["GET"]), ("CLIENT", &["LIST"]), ("MEMORY", &["USAGE"]), ("SLOWLOG", &["GET", "LEN"])];

/// Splits a command line into words; double quotes keep spaces (`\"` inside is a quote).
fn split_command(line: &str) -> Result<Vec<String>, ProbeError> {
    template::words::split(line, &[]).map_err(|e| ProbeError::check("command", e.to_string()))
}

/// Refuses a command that may write unless the step allows it.
fn allowed(words: &[String], write: bool) -> Result<(), ProbeError> {
    let name = words[0].to_ascii_uppercase();
    let sub = words.get(1).map(|s| s.to_ascii_uppercase()).unwrap_or_default();
    let read_only = READ_ONLY.contains(&name.as_str())
        || READ_ONLY_SUB.iter().any(|(cmd, subs)| *cmd == name && subs.contains(&sub.as_str()));
    if read_only || write {
        return Ok(());
    }
    let shown = if READ_ONLY_SUB.iter().any(|(cmd, _)| *cmd == name) { format!("{name} {sub}") } else { name };
    Err(ProbeError::check("command", format!("`{shown}` is not a read-only command; add `write: true` to run it")))
}

/// The run's connections, by URL.
#[derive(Default)]
struct Connections {
    by_url: Mutex<HashMap<String, MultiplexedConnection>>,
}

impl Connections {
    fn cached(&self, url: &str) -> Option<MultiplexedConnection> {
        self.by_url.lock().unwrap_or_else(PoisonError::into_inner).get(url).cloned()
    }

    fn forget(&self, url: &str) {
        self.by_url.lock().unwrap_or_else(PoisonError::into_inner).remove(url);
    }
}

/// Forgets the URL's connection unless defused: a command cut off by the
/// deadline (the future dropped) leaves its connection waiting for a reply.
struct ForgetUnlessDone<'a> {
    connections: &'a Connections,
    url: &'a str,
    done: bool,
}

impl Drop for ForgetUnlessDone<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.connections.forget(self.url);
        }
    }
}

impl Probe for Redis {
    const OBSERVES: Option<&'static [&'static str]> = None;
    const TEMPLATES: &'static [(&'static str, Context)] = &[("url", Context::Url), ("command", Context::Words)];

    fn bind(&mut self, field: &str, bound: Bound) {
        if let ("command", Bound::Words(words)) = (field, bound) {
            self.words = Some(words);
        }
    }

    fn check(&self) -> Result<(), ProbeError> {
        let words = split_command(&self.command)?;
        if words[0].contains("{{") { Ok(()) } else { allowed(&words, self.write) }
    }

    async fn observe(&self, ctx: &ProbeContext) -> Result<Value, ProbeError> {
        let words = match &self.words {
            Some(words) => words.clone(),
            None => split_command(&self.command)?,
        };
        allowed(&words, self.write)?;
        let target = without_password(&self.url);
        let say = |what: &str, e: &redis::RedisError| {
            clean_message(&format!("{what} `{target}`: {}", describe_error(e)), &self.url)
        };
        let started = Instant::now();
        let connections = ctx.shared.get::<Connections>();
        let mut conn = match connections.cached(&self.url) {
            Some(conn) => conn,
            None => {
                let client = redis::Client::open(self.url.as_str())
                    .map_err(|e| ProbeError::check("url", say("bad Redis URL", &e)))?;
                let config = redis::AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(ctx.timeout))
                    .set_response_timeout(None);
                let conn = client
                    .get_multiplexed_async_connection_with_config(&config)
                    .await
                    .map_err(|e| kind_of(&e, true)(say("cannot connect to", &e)))?;
                connections
                    .by_url
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(self.url.clone(), conn.clone());
                conn
            }
        };
        let mut guard = ForgetUnlessDone { connections: &connections, url: &self.url, done: false };
        let mut command = redis::cmd(&words[0]);
        for word in &words[1..] {
            command.arg(word);
        }
        let reply = command.query_async::<redis::Value>(&mut conn).await;
        guard.done = reply.as_ref().err().is_none_or(|e| !(e.is_io_error() || e.is_connection_dropped()));
        let reply = reply
            .map_err(|e| kind_of(&e, false)(say(&format!("`{}` failed on", words[0].to_ascii_uppercase()), &e)))?;
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        let reply = to_json(reply);
        let mut out = Map::new();
        if words[0].eq_ignore_ascii_case("INFO")
            && let Value::String(text) = &reply
        {
            out.extend(parse_info(text));
        }
        out.insert("latency_ms".to_owned(), serde_json::json!((latency_ms * 1000.0).round() / 1000.0));
        out.insert("reply".to_owned(), reply);
        Ok(Value::Object(out))
    }

    fn describe(&self) -> String {
        let write = if self.write { " (may write)" } else { "" };
        format!("{} on {}{write}", self.command, without_password(&self.url))
    }
}

/// What sort of failure `e` is, while `connecting` or running the command.
fn kind_of(e: &redis::RedisError, connecting: bool) -> fn(String) -> ProbeError {
    if e.is_connection_refusal() {
        ProbeError::Refused
    } else if e.is_timeout() {
        ProbeError::Timeout
    } else if connecting && e.is_io_error() {
        ProbeError::Connect
    } else if e.is_io_error() || e.is_connection_dropped() {
        ProbeError::Io
    } else {
        ProbeError::Protocol
    }
}

fn describe_error(e: &redis::RedisError) -> String {
    if e.is_io_error() { lower_first(&e.to_string()) } else { e.to_string() }
}

/// A reply as JSON: bulk strings as text (hex if not UTF-8), maps as objects.
fn to_json(value: redis::Value) -> Value {
    use redis::Value as R;
    match value {
        R::Nil => Value::Null,
        R::Int(i) => Value::from(i),
        R::BulkString(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Value::String(text),
            Err(e) => Value::String(e.into_bytes().iter().map(|b| format!("{b:02x}")).collect()),
        },
        R::Array(items) | R::Set(items) => Value::Array(items.into_iter().map(to_json).collect()),
        R::SimpleString(text) => Value::String(text),
        R::Okay => Value::String("OK".to_owned()),
        R::Map(pairs) => Value::Object(
            pairs
                .into_iter()
                .map(|(k, v)| {
                    let key = match to_json(k) {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        R::Attribute { data, .. } => to_json(*data),
        R::Double(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        R::Boolean(b) => Value::Bool(b),
        R::VerbatimString { text, .. } => Value::String(text),
        other => Value::String(format!("{other:?}")),
    }
}

/// `INFO`'s `field:value` lines; numbers become numbers.
fn parse_info(text: &str) -> Map<String, Value> {
    let mut fields = Map::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some((key, value)) = line.split_once(':') {
            let parsed = if let Ok(i) = value.parse::<i64>() {
                Value::from(i)
            } else if let Some(f) = value.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
                Value::Number(f)
            } else {
                Value::String(value.to_owned())
            };
            fields.insert(key.to_owned(), parsed);
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_split_on_spaces_and_keep_quoted_words() {
        assert_eq!(split_command(r#"GET "my key"  x"#), Ok(vec!["GET".into(), "my key".into(), "x".into()]));
        assert_eq!(split_command(r#"ECHO "say \"hi\"""#), Ok(vec!["ECHO".into(), "say \"hi\"".into()]));
        assert!(split_command(r#"GET "open"#).is_err());
        assert!(split_command("  ").is_err());
    }

    #[test]
    fn only_read_only_commands_run_without_write() {
        let words = |s: &str| split_command(s).unwrap_or_default();
        assert!(allowed(&words("info memory"), false).is_ok());
        assert!(allowed(&words("CONFIG GET maxmemory"), false).is_ok());
        assert!(allowed(&words("CONFIG SET maxmemory 1"), false).unwrap_err().to_string().contains("`CONFIG SET`"));
        assert!(allowed(&words("SET k v"), false).unwrap_err().to_string().contains("write: true"));
        assert!(allowed(&words("FLUSHALL"), false).is_err());
        assert!(allowed(&words("SET k v"), true).is_ok());
    }

    #[test]
    fn info_fields_become_keys_with_numbers_as_numbers() {
        let fields =
            parse_info("# Memory\r\nused_memory:1024\r\nused_memory_human:1.00K\r\nmem_fragmentation_ratio:1.5\r\n");
        assert_eq!(fields["used_memory"], 1024);
        assert_eq!(fields["used_memory_human"], "1.00K");
        assert_eq!(fields["mem_fragmentation_ratio"], 1.5);
    }
}
