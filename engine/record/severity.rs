//! How much a step's failure matters, as a playbook sets it and a record keeps it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How much a step's failure matters.
// Declared least first, so `>=` reads "at least as severe".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Monitor closely: high latency, memory usage, repeated reconnections.
    Warning,
    /// Immediate action required: breaker, failed health checks, disconnections.
    #[default]
    Critical,
}

impl Severity {
    /// Most severe first, the order reports list them in.
    pub const ALL: [Severity; 2] = [Self::Critical, Self::Warning];

    pub fn name(self) -> &'static str {
        match self {
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }

    /// For `#[serde(deserialize_with)]`: a severity by name, a near miss told as in a step.
    pub fn by_name<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?.parse().map_err(serde::de::Error::custom)
    }
}

/// A name that is not a severity, with the near miss it may be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{name}` is not a severity; {}write `critical` or `warning`", near.map(|s| format!("did you mean `{s}`? ")).unwrap_or_default())]
pub struct UnknownSeverity {
    pub name: String,
    pub near: Option<&'static str>,
}

impl std::str::FromStr for Severity {
    type Err = UnknownSeverity;

    fn from_str(name: &str) -> Result<Self, UnknownSeverity> {
        Self::ALL.into_iter().find(|s| s.name() == name).ok_or_else(|| UnknownSeverity {
            name: name.to_owned(),
            near: crate::suggest::did_you_mean(name, Self::ALL.map(Self::name)),
        })
    }
}
