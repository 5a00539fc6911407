//! How long a playbook's runs stay in the history: the playbook's `history:`
//! setting, applied after every kept run, and what `runbook history prune`
//! takes as flags. Pruning never goes below what the playbook's own trend
//! checks read (see `history::prune`).

use std::num::NonZeroU32;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};

/// Which runs of a playbook to keep. Either limit prunes on its own; with both,
/// a run goes when either says so.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// Keep the newest this many runs of the playbook.
    #[serde(default)]
    #[schemars(with = "Option<u32>", example = 500)]
    pub keep_runs: Option<NonZeroU32>,
    /// Keep runs younger than this, e.g. `90d`, `12h`.
    #[serde(default, deserialize_with = "some_duration")]
    #[schemars(with = "Option<String>", example = &"90d")]
    pub keep_for: Option<Duration>,
}

impl Retention {
    /// Whether it prunes anything at all.
    pub fn is_set(&self) -> bool {
        self.keep_runs.is_some() || self.keep_for.is_some()
    }
}

fn some_duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Duration>, D::Error> {
    let text = String::deserialize(deserializer)?;
    crate::units::parse_duration(&text).map(Some).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_limits_read_as_a_playbook_writes_them() {
        let r: Retention = serde_saphyr::from_str("{ keep_runs: 30, keep_for: 90d }").unwrap();
        assert_eq!((r.keep_runs.map(NonZeroU32::get), r.keep_for), (Some(30), Some(Duration::from_secs(90 * 86_400))));
        assert!(serde_saphyr::from_str::<Retention>("{ keep_runs: 0 }").is_err());
        assert!(serde_saphyr::from_str::<Retention>("{ keep_for: soon }").is_err());
    }
}
