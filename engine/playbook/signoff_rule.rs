//! The playbook's `signoff:` setting: how many different people must sign a
//! run off before it counts as signed off (four eyes: `required: 2`). The
//! operator signs with `runbook run --operator`; the others with
//! `runbook countersign`.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};

use crate::record::signoff::MAX_REQUIRED;

/// How many sign-offs a run needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignoffRule {
    /// Different people who must sign the run off, 1 to 5 (default 1). Until they have, the
    /// report and `runbook history` say "awaiting countersign (1 of 2)"; the verdict is unchanged.
    #[serde(deserialize_with = "required_count")]
    #[schemars(range(min = 1, max = 5), example = 2)]
    pub required: u32,
}

fn required_count<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    let n = u32::deserialize(deserializer)?;
    if (1..=MAX_REQUIRED).contains(&n) {
        Ok(n)
    } else {
        Err(serde::de::Error::custom(format!("`required` must be 1 to {MAX_REQUIRED} sign-offs, not {n}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_to_five_sign_offs_are_taken() {
        let rule: SignoffRule = serde_saphyr::from_str("{ required: 2 }").unwrap();
        assert_eq!(rule.required, 2);
        for bad in ["{ required: 0 }", "{ required: 6 }", "{ required: two }", "{ needed: 2 }"] {
            assert!(serde_saphyr::from_str::<SignoffRule>(bad).is_err(), "{bad}");
        }
    }
}
