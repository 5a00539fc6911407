//! Probes: the things a step can look at.
//!
//! A probe takes its parameters from the playbook (already rendered: every
//! `{{…}}` template replaced) and returns an **observation**, one JSON object
//! whose keys it documents. It knows nothing of thresholds, captures or
//! reports: expressions read the observation, nothing else.
//!
//! Adding a probe kind is one new file here, implementing [`Probe`], and one
//! line in the [`registry!`] call below. The registry is the only list of
//! kinds: the playbook loader, the JSON Schema, `runbook probes` and "did you
//! mean" suggestions all come from it.

pub mod context;
mod file;
mod http;
mod manual;
mod nagios;
pub mod number;
mod perfdata;
mod redis;
mod shell;
mod sql;
mod sysinfo;
pub mod target;
mod tcp;
mod tls;
mod websocket;

use std::future::Future;

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::{DeserializeOwned, DeserializeSeed, Deserializer};
use serde_json::Value;

pub use context::ProbeContext;

use crate::template::{Bound, Context, Filled};

/// Why a probe could not observe anything (connection refused, bad JSON, ...).
/// This becomes the step's `error` verdict; a threshold miss is never an error.
///
/// Every kind carries the whole message a user sees (its `Display`, unchanged from
/// when this was one string); the kind says what sort of failure it was, for the
/// record's `error_kind` and for callers that treat them differently.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProbeError {
    /// The peer refused the connection (nothing listens on the port).
    #[error("{0}")]
    Refused(String),
    /// No connection for another reason: a host that does not resolve, unreachable, reset.
    #[error("{0}")]
    Connect(String),
    /// The probe's own clock ran out (a client timeout, a silent peer).
    #[error("{0}")]
    Timeout(String),
    /// TLS could not be set up, the handshake failed, or the certificate did not verify.
    #[error("{0}")]
    Tls(String),
    /// The peer answered, but said no or broke the protocol (a database error, a Redis
    /// error reply, a failed WebSocket upgrade).
    #[error("{0}")]
    Protocol(String),
    /// The answer arrived but cannot be read: JSON that is not, a value of a type runbook
    /// cannot show.
    #[error("{0}")]
    Decode(String),
    /// Local input or output: a file that cannot be read, a command that cannot start.
    #[error("{0}")]
    Io(String),
    /// A parameter's value is not usable; `param` names the parameter (the later one
    /// when two clash), `problem` is the message.
    #[error("{problem}")]
    Check { param: &'static str, item: Option<String>, problem: String },
    /// More than a limit allows: a body, an output, rows.
    #[error("{0}")]
    Limit(String),
    /// Anything else (a task that died, the system refusing information).
    #[error("{0}")]
    Other(String),
}

impl ProbeError {
    /// A parameter check failure naming `param`.
    pub fn check(param: &'static str, problem: impl Into<String>) -> Self {
        Self::Check { param, item: None, problem: problem.into() }
    }

    /// A parameter check failure about one key or item (`item`) of the map or list `param`.
    pub fn check_item(param: &'static str, item: &str, problem: impl Into<String>) -> Self {
        Self::Check { param, item: Some(item.to_owned()), problem: problem.into() }
    }

    /// The kind's name, as the record's `error_kind` says it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Refused(_) => "refused",
            Self::Connect(_) => "connect",
            Self::Timeout(_) => "timeout",
            Self::Tls(_) => "tls",
            Self::Protocol(_) => "protocol",
            Self::Decode(_) => "decode",
            Self::Io(_) => "io",
            Self::Check { .. } => "check",
            Self::Limit(_) => "limit",
            Self::Other(_) => "other",
        }
    }

    /// The parameter a check failure names, if this is one.
    pub fn param(&self) -> Option<&'static str> {
        match self {
            Self::Check { param, .. } => Some(param),
            _ => None,
        }
    }

    /// The key or item of the parameter a check failure is about, when it is one of several.
    pub fn item(&self) -> Option<&str> {
        match self {
            Self::Check { item, .. } => item.as_deref(),
            _ => None,
        }
    }

    /// A failure to connect: [`ProbeError::Refused`] when the operating system's reason
    /// (anywhere in `error`'s chain) is a refused connection, else [`ProbeError::Connect`].
    pub fn connect(message: String, error: &(dyn std::error::Error + 'static)) -> Self {
        if io_kind(error) == Some(std::io::ErrorKind::ConnectionRefused) {
            Self::Refused(message)
        } else if io_kind(error) == Some(std::io::ErrorKind::TimedOut) {
            Self::Timeout(message)
        } else {
            Self::Connect(message)
        }
    }
}

/// The kind of the first `std::io::Error` in `error`'s chain.
pub fn io_kind(error: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        next = e.source();
    }
    None
}

/// What an observation says of itself, before `expect` and `warn` judge it: a monitoring
/// plugin that already judged its own thresholds (WARNING, CRITICAL). The runner takes it as
/// the verdict's floor; the message says why.
#[derive(Debug, Clone, PartialEq)]
pub enum Implied {
    Warn(String),
    Fail(String),
}

/// One kind of probe.
///
/// Implementors are the parameter types the playbook spells under the kind's
/// key (`http: { url: … }`): serde reads them with unknown fields denied and
/// schemars documents them, so their doc comments are the reference.
///
/// `observe` runs one attempt. The runner owns deadlines, retries and
/// cancellation: it drops the future at the deadline, so a probe must release
/// what it holds on drop (kill its processes, close its sockets).
pub trait Probe: Serialize + DeserializeOwned + JsonSchema + Clone + Send + Sync + 'static {
    /// The observation's top-level keys, for checking expressions before a run;
    /// `None` when they depend on the target (the columns of a query).
    const OBSERVES: Option<&'static [&'static str]>;

    /// What each templated parameter is (a script, a URL, ...), which decides how a
    /// value is put in so it can never change the parameter's structure. A parameter
    /// not listed is [`Context::Text`]: its values are data handed over as they are.
    const TEMPLATES: &'static [(&'static str, Context)] = &[];

    /// Parameters where a secret would be exposed (a command line shows in
    /// the process list); validation refuses `{{secrets.…}}` in them.
    const EXPOSED: &'static [&'static str] = &[];

    /// Observes once.
    fn observe(&self, ctx: &ProbeContext) -> impl Future<Output = Result<Value, ProbeError>> + Send;

    /// One line saying what the probe does, for `list` and `--dry-run`.
    fn describe(&self) -> String;

    /// Checks the parameters beyond their types (e.g. "give `run` or `argv`, not both"),
    /// sizes and durations included. Quote the offending value or parameter in backticks:
    /// `runbook validate` points at the quoted value if the playbook holds it, else at the
    /// parameter named (the later one when two clash), else at the probe's key.
    /// A failure is [`ProbeError::Check`], naming the parameter it is about.
    fn check(&self) -> Result<(), ProbeError> {
        Ok(())
    }

    /// For steps a person decides: the instruction to show them.
    fn manual_instruction(&self) -> Option<&str> {
        None
    }

    /// Takes what rendering parameter `field` passed beside its text (a script's
    /// environment variables, a command's words); only for the contexts that pass any.
    fn bind(&mut self, _field: &str, _bound: Bound) {}

    /// The verdict floor `observation` carries, for kinds whose target judges itself
    /// (a Nagios plugin's state); `None` for the rest.
    fn implied(&self, _observation: &Value) -> Option<Implied> {
        None
    }

    /// Whether this probe skips TLS certificate verification (`insecure: true`).
    /// The step's result says so, and every report shows it.
    fn skips_tls_verification(&self) -> bool {
        false
    }
}

macro_rules! registry {
    ($($kind:literal => $variant:ident($ty:ty),)*) => {
        /// A step's probe and its parameters.
        #[derive(Debug, Clone)]
        pub enum ProbeSpec {
            $($variant($ty),)*
        }

        /// Every probe kind, by the key a playbook uses.
        pub const KINDS: &[&str] = &[$($kind,)*];

        fn deserialize_kind<'de, D: Deserializer<'de>>(kind: &str, d: D) -> Result<ProbeSpec, D::Error> {
            match kind {
                $($kind => <$ty as serde::Deserialize>::deserialize(d).map(ProbeSpec::$variant),)*
                other => Err(serde::de::Error::custom(format!("unknown probe kind `{other}`"))),
            }
        }

        fn kind_schemas() -> Vec<(&'static str, serde_json::Value)> {
            vec![$(($kind, schema_of::<$ty>()),)*]
        }

        /// The observation keys a kind documents (`None` inside: they depend on the target),
        /// for the playbook reference; `None` for a name that is not a kind.
        pub fn observes_of(kind: &str) -> Option<Option<&'static [&'static str]>> {
            match kind {
                $($kind => Some(<$ty>::OBSERVES),)*
                _ => None,
            }
        }

        impl ProbeSpec {
            /// The kind's key, e.g. `http`.
            pub fn kind(&self) -> &'static str {
                match self { $(Self::$variant(_) => $kind,)* }
            }

            /// Runs one attempt.
            pub async fn observe(&self, ctx: &ProbeContext) -> Result<Value, ProbeError> {
                match self { $(Self::$variant(p) => p.observe(ctx).await,)* }
            }

            /// One line saying what the probe does.
            pub fn describe(&self) -> String {
                match self { $(Self::$variant(p) => p.describe(),)* }
            }

            /// The observation's documented top-level keys, if fixed.
            pub fn observes(&self) -> Option<&'static [&'static str]> {
                match self { $(Self::$variant(_) => <$ty>::OBSERVES,)* }
            }

            /// Parameters where a secret would be exposed.
            pub fn exposed_fields(&self) -> &'static [&'static str] {
                match self { $(Self::$variant(_) => <$ty>::EXPOSED,)* }
            }

            /// Checks the parameters beyond their types; a failure names its parameter.
            pub fn check_params(&self) -> Result<(), ProbeError> {
                match self { $(Self::$variant(p) => p.check(),)* }
            }

            /// The instruction of a manual step.
            pub fn manual_instruction(&self) -> Option<&str> {
                match self { $(Self::$variant(p) => p.manual_instruction(),)* }
            }

            /// The verdict floor an observation carries, if the kind has one.
            pub fn implied(&self, observation: &Value) -> Option<Implied> {
                match self { $(Self::$variant(p) => p.implied(observation),)* }
            }

            /// Whether the probe skips TLS certificate verification.
            pub fn skips_tls_verification(&self) -> bool {
                match self { $(Self::$variant(p) => p.skips_tls_verification(),)* }
            }

            /// The parameters as JSON, as the playbook wrote them.
            pub fn params(&self) -> Value {
                match self { $(Self::$variant(p) => serde_json::to_value(p).unwrap_or(Value::Null),)* }
            }

            /// What templated parameter `field` is.
            pub fn context_of(&self, field: &str) -> Context {
                let templates = match self { $(Self::$variant(_) => <$ty>::TEMPLATES,)* };
                templates.iter().find(|(name, _)| *name == field).map_or(Context::Text, |(_, c)| *c)
            }

            /// A copy with every string parameter passed through `render` with its context.
            pub fn render<E>(&self, render: &mut dyn FnMut(&str, Context) -> Result<Filled, E>) -> Result<Self, RenderError<E>> {
                match self { $(Self::$variant(p) => render_params(p, render).map(Self::$variant),)* }
            }
        }
    };
}

registry! {
    "http" => Http(http::Http),
    "shell" => Shell(shell::Shell),
    "sysinfo" => Sysinfo(sysinfo::Sysinfo),
    "sql" => Sql(sql::Sql),
    "redis" => Redis(redis::Redis),
    "manual" => Manual(manual::Manual),
    "tcp" => Tcp(tcp::Tcp),
    "file" => File(file::FileProbe),
    "tls" => Tls(tls::Tls),
    "websocket" => Websocket(websocket::Websocket),
    "nagios" => Nagios(nagios::Nagios),
}

/// A probe kind, found by name.
#[derive(Debug, Clone, Copy)]
pub struct Kind(&'static str);

/// The kind a playbook key names, if any.
pub fn kind_named(name: &str) -> Option<Kind> {
    KINDS.iter().find(|k| **k == name).map(|k| Kind(k))
}

/// Reads the parameters of one kind straight from the YAML deserializer.
pub struct SpecSeed(pub Kind);

impl<'de> DeserializeSeed<'de> for SpecSeed {
    type Value = ProbeSpec;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<ProbeSpec, D::Error> {
        deserialize_kind(self.0.0, deserializer)
    }
}

/// Why rendering a probe's parameters failed.
#[derive(Debug)]
pub enum RenderError<E> {
    /// The template could not be rendered.
    Template(E),
    /// The rendered parameters no longer fit the probe (e.g. a number field).
    Shape(String),
}

fn render_params<P: Probe, E>(
    probe: &P,
    render: &mut dyn FnMut(&str, Context) -> Result<Filled, E>,
) -> Result<P, RenderError<E>> {
    let context = |name: &str| P::TEMPLATES.iter().find(|(n, _)| *n == name).map_or(Context::Text, |(_, c)| *c);
    let mut value = serde_json::to_value(probe).map_err(|e| RenderError::Shape(e.to_string()))?;
    let mut bound = Vec::new();
    if let Value::Object(fields) = &mut value {
        for (name, field) in fields.iter_mut() {
            let context = context(name);
            match field {
                Value::String(s) if s.contains("{{") => {
                    let filled = render(s, context).map_err(RenderError::Template)?;
                    *s = filled.text;
                    bound.push((name.clone(), filled.bound));
                }
                _ => render_value(field, context, render).map_err(RenderError::Template)?,
            }
        }
    }
    let mut probe: P = serde_json::from_value(value).map_err(|e| RenderError::Shape(e.to_string()))?;
    for (name, bound) in bound {
        if bound != Bound::Nothing {
            probe.bind(&name, bound);
        }
    }
    Ok(probe)
}

/// Renders the strings inside a list or map parameter (header values, `argv` items, ...).
fn render_value<E>(
    value: &mut Value,
    context: Context,
    render: &mut dyn FnMut(&str, Context) -> Result<Filled, E>,
) -> Result<(), E> {
    match value {
        Value::String(s) if s.contains("{{") => *s = render(s, context)?.text,
        Value::Array(items) => {
            for item in items {
                render_value(item, context, render)?;
            }
        }
        Value::Object(fields) => {
            for field in fields.values_mut() {
                render_value(field, context, render)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Every templated string parameter of a probe with its top-level field name,
/// for checking templates before a run.
pub fn template_strings(spec: &ProbeSpec) -> Vec<(String, String)> {
    fn walk(field: &str, value: &Value, out: &mut Vec<(String, String)>) {
        match value {
            Value::String(s) if s.contains("{{") => out.push((field.to_owned(), s.clone())),
            Value::Array(items) => items.iter().for_each(|v| walk(field, v, out)),
            Value::Object(fields) => fields.values().for_each(|v| walk(field, v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    match spec.params() {
        Value::Object(fields) => fields.iter().for_each(|(name, v)| walk(name, v, &mut out)),
        other => walk("", &other, &mut out),
    }
    out
}

fn schema_of<T: JsonSchema>() -> serde_json::Value {
    let generator =
        schemars::generate::SchemaSettings::draft2020_12().with(|s| s.inline_subschemas = true).into_generator();
    let mut schema = generator.into_root_schema_for::<T>().to_value();
    if let Some(fields) = schema.as_object_mut() {
        fields.remove("$schema");
    }
    schema
}

/// Adds every probe kind to the step schema: one property per kind, and
/// exactly one of them required.
pub fn add_probe_properties(schema: &mut schemars::Schema) {
    let kinds = kind_schemas();
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        for (kind, kind_schema) in &kinds {
            properties.insert((*kind).to_owned(), kind_schema.clone());
        }
    }
    let one_of: Vec<Value> = kinds.iter().map(|(k, _)| serde_json::json!({ "required": [k] })).collect();
    schema.insert("oneOf".to_owned(), Value::Array(one_of));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: &str, params: Value) -> ProbeSpec {
        let kind = kind_named(kind).expect("a kind");
        SpecSeed(kind).deserialize(params).expect("parameters of the kind")
    }

    #[test]
    fn a_check_failure_names_its_parameter_and_says_what_it_said_before() {
        let both = spec("shell", serde_json::json!({"run": "true", "argv": ["true"]}));
        let error = both.check_params().unwrap_err();
        assert_eq!(error.param(), Some("argv"));
        assert_eq!(error.kind(), "check");
        assert_eq!(error.to_string(), "give `run` or `argv`, not both");
        assert_eq!(both.check_params().unwrap_err().to_string(), "give `run` or `argv`, not both");
        let port = spec("tcp", serde_json::json!({"host": "localhost", "port": "http"}));
        assert_eq!(port.check_params().unwrap_err().param(), Some("port"));
        let size = spec("http", serde_json::json!({"url": "http://x", "max_body": "lots"}));
        assert_eq!(size.check_params().unwrap_err().param(), Some("max_body"));
        let url = spec("sql", serde_json::json!({"url": "oracle://h/db", "query": "select 1"}));
        assert_eq!(url.check_params().unwrap_err().param(), Some("url"));
    }

    #[test]
    fn a_refused_connection_is_told_from_other_connection_failures() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(ProbeError::connect("no".into(), &refused), ProbeError::Refused("no".into()));
        let late = std::io::Error::from(std::io::ErrorKind::TimedOut);
        assert_eq!(ProbeError::connect("late".into(), &late).kind(), "timeout");
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert_eq!(ProbeError::connect("reset".into(), &reset).kind(), "connect");
        let wrapped = std::io::Error::other(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert_eq!(io_kind(&wrapped), Some(std::io::ErrorKind::Other));
    }
}
