//! `manual`: a checklist item a person decides. It observes nothing; the run
//! asks the operator or reads an answers file, and until then it is `pending`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Probe, ProbeContext, ProbeError};

/// A step a person decides: the instruction saying what the operator should look at and
/// decide. It probes nothing; until the operator answers, the step is `pending`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
#[schemars(example = &"Look at the news feeds and confirm nothing major is scheduled.")]
pub struct Manual(pub String);

impl Probe for Manual {
    const OBSERVES: Option<&'static [&'static str]> = Some(&["answer", "comment"]);

    async fn observe(&self, _ctx: &ProbeContext) -> Result<Value, ProbeError> {
        Err(ProbeError::Other("a manual step is answered by the operator, not observed".to_owned()))
    }

    fn describe(&self) -> String {
        format!("ask the operator: {}", self.0)
    }

    fn manual_instruction(&self) -> Option<&str> {
        Some(&self.0)
    }
}
