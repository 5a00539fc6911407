//! What a check with no earlier value yet (a first run, a new history store) means: the
//! playbook's `on_no_history` rule, and what a step's record keeps of it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The verdict a step gets when a check could not be judged for want of history.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NoHistoryRule {
    /// The step passes, but is still shown and counted as not judged.
    Pass,
    /// The step warns (the default): a first run is never a plain pass.
    #[default]
    Warn,
    /// The step fails: nothing is trusted until it has been judged.
    Fail,
}

impl NoHistoryRule {
    pub const ALL: [NoHistoryRule; 3] = [Self::Pass, Self::Warn, Self::Fail];

    /// A rule by name; the error says what to write instead.
    pub fn named(name: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|r| r.name() == name)
            .ok_or_else(|| format!("`{name}` is not an on_no_history rule; write `pass`, `warn` or `fail`"))
    }

    /// For `#[serde(deserialize_with)]` on an optional rule: told as in a step.
    pub fn some_by_name<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Self>, D::Error> {
        Self::named(&String::deserialize(deserializer)?).map(Some).map_err(serde::de::Error::custom)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::Fail => "fail",
        }
    }
}

/// The checks of a step not judged for want of history, and the rule that gave its verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NotJudged {
    /// The expressions not judged, as the playbook wrote them.
    pub checks: Vec<String>,
    /// The `on_no_history` rule applied (`pass`, `warn` or `fail`).
    pub rule: NoHistoryRule,
}

impl NotJudged {
    /// `not judged: no earlier value (on_no_history: warn)`: what every report says of it.
    pub fn describe(&self) -> String {
        format!("not judged: no earlier value (on_no_history: {})", self.rule.name())
    }
}
