//! The playbook's `summary:` block (the runbook's end-of-day figures: Daily
//! P&L, Max Drawdown, ...): each entry's expression is evaluated once after
//! the run over `vars` and the captured values `steps.<id>.<name>`. A figure
//! that cannot be computed (its step failed before capturing) is shown with
//! the reason instead of stopping the report.

use std::collections::BTreeMap;

use serde_json::Value;

use super::SummaryValue;
use crate::expr::{Expression, Scope, Stop};

/// Evaluates every entry, in order.
pub fn evaluate(entries: &[(String, Expression)], vars: &Value, captured: &Value) -> Vec<SummaryValue> {
    evaluate_within(entries, vars, captured, &Stop::default())
}

/// Evaluates every entry, in order, each stopping early as `stop` says.
pub fn evaluate_within(
    entries: &[(String, Expression)],
    vars: &Value,
    captured: &Value,
    stop: &Stop,
) -> Vec<SummaryValue> {
    let mut variables = BTreeMap::new();
    variables.insert("vars".to_owned(), vars.clone());
    variables.insert("steps".to_owned(), captured.clone());
    let scope = Scope { variables, history: None };
    entries
        .iter()
        .map(|(label, expression)| {
            let (value, error) = match expression.evaluate_within(&scope, stop) {
                Ok(value) => (value, None),
                Err(e) => (Value::Null, Some(format!("cannot evaluate `{}`: {e}", expression.source))),
            };
            SummaryValue { label: label.clone(), expression: expression.source.clone(), value, error }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::expr::compile;

    #[test]
    fn figures_read_captured_values_and_vars() {
        let entries = vec![
            ("P&L".to_owned(), compile("steps.pnl.daily").unwrap()),
            ("Limit".to_owned(), compile("vars.limit * 2").unwrap()),
        ];
        let out = evaluate(&entries, &json!({"limit": 5}), &json!({"pnl": {"daily": 12.5}}));
        assert_eq!(out[0].value, json!(12.5));
        assert_eq!(out[1].value, json!(10));
        assert!(out.iter().all(|s| s.error.is_none()));
    }

    #[test]
    fn a_missing_step_gives_a_reason_not_a_value() {
        let entries = vec![("P&L".to_owned(), compile("steps.pnl.daily").unwrap())];
        let out = evaluate(&entries, &json!({}), &json!({}));
        assert_eq!(out[0].value, Value::Null);
        assert!(out[0].error.as_deref().unwrap_or("").contains("steps.pnl.daily"), "{:?}", out[0].error);
    }
}
