//! `fleet:` in a playbook: how many hosts a step may fail on before the
//! fleet verdict (`runbook fleet`) fails. The default is none: one failing
//! host fails the fleet, as one failing step fails a run.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

/// How many hosts may fail a step: a count (`2`) or a share of the expected hosts (`"10%"`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Allowance {
    Hosts(u32),
    Share(
        #[serde(deserialize_with = "share")]
        #[schemars(with = "String", regex(pattern = r"^\d+(\.\d+)?%$"))]
        f64,
    ),
}

impl Default for Allowance {
    fn default() -> Self {
        Self::Hosts(0)
    }
}

impl Allowance {
    /// Whether `failing` of `hosts` expected hosts is still within the allowance.
    pub fn allows(self, failing: usize, hosts: usize) -> bool {
        match self {
            Self::Hosts(n) => failing <= n as usize,
            // 10% of 25 hosts allows 2 (2.5 rounded down): the share is a ceiling, never exceeded.
            #[allow(clippy::cast_precision_loss)]
            Self::Share(percent) => (failing as f64) <= (hosts as f64) * percent / 100.0,
        }
    }

    /// As written: `2` or `10%`.
    pub fn describe(self) -> String {
        match self {
            Self::Hosts(n) => n.to_string(),
            Self::Share(p) => format!("{p}%"),
        }
    }
}

fn share<'de, D: serde::Deserializer<'de>>(de: D) -> Result<f64, D::Error> {
    let text = String::deserialize(de)?;
    let bad = || serde::de::Error::custom(format!("`{text}` is not a host count or a share such as `10%`"));
    let number: f64 = text.trim().strip_suffix('%').ok_or_else(bad)?.trim().parse().map_err(|_| bad())?;
    if !(0.0..=100.0).contains(&number) {
        return Err(bad());
    }
    Ok(number)
}

/// The playbook's `fleet:` rules.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FleetRules {
    /// Hosts any step may fail on before the fleet fails (default 0).
    #[serde(default)]
    #[schemars(example = 1)]
    pub max_failing: Allowance,
    /// Per step id, its own allowance.
    #[serde(default)]
    #[schemars(example = serde_json::json!({"cpu_load": "10%", "disk_space": 0}))]
    pub steps: BTreeMap<String, Allowance>,
}

impl FleetRules {
    /// The allowance of step `id`.
    pub fn allowance(&self, id: &str) -> Allowance {
        self.steps.get(id).copied().unwrap_or(self.max_failing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_shares_allow_as_written() {
        assert!(Allowance::Hosts(0).allows(0, 5));
        assert!(!Allowance::Hosts(0).allows(1, 5));
        assert!(Allowance::Hosts(2).allows(2, 5));
        assert!(Allowance::Share(10.0).allows(2, 25));
        assert!(!Allowance::Share(10.0).allows(3, 25));
        assert!(!Allowance::Share(10.0).allows(1, 5), "10% of 5 hosts is less than one");
    }

    #[test]
    fn rules_read_from_yaml() {
        let rules: FleetRules = serde_saphyr::from_str("max_failing: 1\nsteps: { disk: '20%' }\n").unwrap();
        assert_eq!(rules.allowance("disk"), Allowance::Share(20.0));
        assert_eq!(rules.allowance("other"), Allowance::Hosts(1));
        assert!(serde_saphyr::from_str::<FleetRules>("max_failing: '120%'\n").is_err());
        assert!(serde_saphyr::from_str::<FleetRules>("max_failing: lots\n").is_err());
    }
}
