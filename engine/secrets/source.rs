//! Where a playbook says a secret's value comes from.

use schemars::JsonSchema;
use serde::Deserialize;

/// Where a secret's value comes from.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum SecretSource {
    /// The name of an environment variable that holds the value.
    #[schemars(example = &"TITAN_CONSOLE_AUTH")]
    Env(String),
    /// A file whose first line is the value (relative paths are from the playbook's folder).
    #[schemars(example = &"/etc/titan/console-auth")]
    File(String),
}
