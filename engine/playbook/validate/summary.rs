//! The `summary:` entries: CEL expressions over `vars.*` and
//! `steps.<id>.<capture>` only (the figures are computed after the run, when
//! no observation is in scope), each path checked like a step's.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Validator;
use super::step::Scope;
use crate::expr::{Expression, SCOPE_NAMES};
use crate::playbook::plan::PlannedStep;

impl Validator<'_> {
    pub(super) fn summary(
        &mut self,
        ids: &BTreeMap<String, usize>,
        vars: &BTreeMap<String, Value>,
        planned: &[PlannedStep],
    ) -> Vec<(String, Expression)> {
        let scope = Scope { ids, vars };
        let mut out = Vec::new();
        for entry in &self.loaded.playbook.summary {
            let Some(expression) = self.expression(&entry.value) else { continue };
            for name in expression.variables.iter().filter(|n| !SCOPE_NAMES.contains(&n.as_str())) {
                self.report(
                    entry.value.referenced,
                    format!("`{name}` in summary `{}`: a summary reads only `vars.*` and `steps.<id>.*`", entry.label),
                );
            }
            for path in expression.paths() {
                self.scoped_path(path, planned, entry.value.referenced.into(), false, &scope);
            }
            out.push((entry.label.clone(), expression));
        }
        out
    }
}
