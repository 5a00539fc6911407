//! From model to plan: every check a schema cannot make. All problems are
//! collected, each with its place, so one `validate` run shows them all.
//! The checks of one step live in `validate/step.rs`; finding the exact place
//! of a problem inside a value in `validate/place.rs`.

mod place;
mod shapes;
mod step;
mod summary;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::diagnostic::{Diagnostic, Pos};
use super::error::Problem;
use super::load::Loaded;
use super::model::{Spanned, Step};
use super::plan::{Plan, PlannedStep};
use crate::suggest::did_you_mean;
use crate::units::parse_duration;

const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Checks a loaded playbook and builds its plan. `overrides` are `--var`
/// values (unknown names are errors); `env_overrides` come from
/// `RUNBOOK_VAR_*` (unknown names are ignored: the environment is shared).
pub fn plan(
    loaded: &Loaded,
    overrides: &[(String, String)],
    env_overrides: &[(String, String)],
) -> Result<Plan, Vec<Diagnostic>> {
    let lines = super::diagnostic::Lines::new(&loaded.source);
    let mut v = Validator { loaded, lines, problems: Vec::new(), tree: std::cell::OnceCell::new() };
    let plan = v.build(overrides, env_overrides);
    if v.problems.is_empty() {
        return Ok(plan);
    }
    v.problems.sort_by_key(|p| (p.pos.line, p.pos.column));
    Err(v.problems.into_iter().map(|p| Diagnostic::at(&loaded.shown, p.pos, p.message)).collect())
}

struct Validator<'a> {
    loaded: &'a Loaded,
    lines: super::diagnostic::Lines<'a>,
    /// Each with its place; `Pos::default()` (line 0) for one that has none (a `--var`).
    problems: Vec<Problem>,
    /// The document as a spanned tree, parsed only when a problem needs it.
    tree: std::cell::OnceCell<Option<super::tree::Node>>,
}

impl Validator<'_> {
    fn report(&mut self, at: impl Into<Pos>, message: impl Into<String>) {
        self.problems.push(Problem::new(at, message));
    }

    /// A problem with no place in the file (a `--var` given on the command line).
    fn report_unplaced(&mut self, message: impl Into<String>) {
        self.problems.push(Problem::new(Pos::default(), message));
    }

    fn build(&mut self, overrides: &[(String, String)], env_overrides: &[(String, String)]) -> Plan {
        let book = &self.loaded.playbook;
        let vars = self.vars(overrides, env_overrides);
        let default_timeout = book.defaults.timeout.as_ref().map_or(DEFAULT_TIMEOUT, |t| self.duration(t));
        let default_retries = book.defaults.retries.unwrap_or(0);
        let steps: Vec<(usize, &Spanned<Step>)> =
            book.sections.iter().enumerate().flat_map(|(i, s)| s.steps.iter().map(move |st| (i, st))).collect();
        let ids = self.ids(&steps);
        let base_dir = match self.loaded.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        let book_active = book.active.as_ref().and_then(|a| self.active(a, &base_dir));
        let mut planned = Vec::with_capacity(steps.len());
        for (section, step) in &steps {
            let step = &step.value;
            planned.push(PlannedStep {
                id: step.id.value.clone(),
                title: step.title.clone(),
                section: *section,
                probe: step.probe.clone(),
                captures: step.capture.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect(),
                expect: self.expressions(&step.expect),
                warn: self.expressions(&step.warn),
                when: step.when.as_ref().and_then(|w| self.expression(w)),
                needs: step.needs.iter().filter_map(|n| self.step_ref(&ids, "needs", n)).collect(),
                attests: step.attests.iter().filter_map(|n| self.step_ref(&ids, "attests", n)).collect(),
                after: Vec::new(),
                timeout: step.timeout.as_ref().map_or(default_timeout, |t| self.duration(t)),
                // An action is attempted once: a retry could repeat what it changed.
                retries: if step.action { 0 } else { step.retries.unwrap_or(default_retries) },
                until: step.until.as_ref().and_then(|u| self.until(u)),
                action: step.action,
                approvals: step.approvals.unwrap_or(0),
                max_runs: step.max_runs.as_ref().and_then(|m| super::rate_limit::RateLimit::parse(&m.value).ok()),
                severity: step.severity,
                on_no_history: step.on_no_history.or(book.defaults.on_no_history).unwrap_or_default(),
                active: match &step.active {
                    Some(own) => self.active(own, &base_dir),
                    None => book_active.clone(),
                },
            });
        }
        let scope = step::Scope { ids: &ids, vars: &vars };
        for (index, (_, step)) in steps.iter().enumerate() {
            self.check_step(step, &mut planned, index, &scope);
        }
        self.cycles(&planned, &steps);
        let summary = self.summary(&ids, &vars, &planned);
        let report_template = book.report.as_ref().and_then(|r| r.template.as_ref()).map(|t| base_dir.join(&t.value));
        self.report_template_limits(report_template.as_deref());
        Plan {
            name: book.name.clone(),
            description: book.description.clone(),
            file: self.loaded.shown.clone(),
            base_dir,
            vars,
            secrets: book.secrets.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect(),
            sections: book.sections.iter().map(|s| s.name.clone()).collect(),
            steps: planned,
            summary,
            report_template,
            notify: self.notify(),
            waivers: self.waivers(&ids, &self.loaded.playbook.waivers),
            retention: book.history.unwrap_or_default(),
            signoff_required: book.signoff.map_or(1, |rule| rule.required),
            fleet: self.fleet_rules(&ids),
        }
    }

    /// The `fleet:` rules, each step they name known.
    fn fleet_rules(&mut self, ids: &BTreeMap<String, usize>) -> super::fleet_rules::FleetRules {
        let Some(rules) = &self.loaded.playbook.fleet else { return Default::default() };
        for id in rules.value.steps.keys() {
            if !ids.contains_key(id) {
                let hint = did_you_mean(id, ids.keys().map(String::as_str))
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                self.report(rules.referenced, format!("`fleet.steps` names unknown step `{id}`{hint}"));
            }
        }
        rules.value.clone()
    }

    /// The playbook's `report.template` file against the template limits
    /// (`report::nesting`), so `validate` finds one that would overflow a
    /// render. A file that cannot be read is left to the commands that use it.
    fn report_template_limits(&mut self, path: Option<&std::path::Path>) {
        let Some(named) = self.loaded.playbook.report.as_ref().and_then(|r| r.template.as_ref()) else { return };
        let Some(source) = path.and_then(|p| std::fs::read_to_string(p).ok()) else { return };
        if let Err(e) = crate::bounded_template::nesting::check(&source) {
            let (line, column) = e.pos().unwrap_or((1, 1));
            let message =
                format!("the playbook's report.template `{}` at {line}:{column}: {}", named.value, e.reason());
            self.report(named.referenced, message);
        }
    }

    /// An `active:` window, checked (its holidays file read) where it stands.
    fn active(
        &mut self,
        entry: &super::model::ActiveEntry,
        base_dir: &std::path::Path,
    ) -> Option<std::sync::Arc<super::active::Window>> {
        match super::active::Window::build(entry, base_dir) {
            Ok(window) => Some(std::sync::Arc::new(window)),
            Err((at, message)) => {
                self.report(at, format!("active: {message}"));
                None
            }
        }
    }

    /// Waivers, each naming a step of the playbook and a real date.
    pub(super) fn waivers(
        &mut self,
        ids: &BTreeMap<String, usize>,
        entries: &[super::model::WaiverEntry],
    ) -> Vec<crate::record::Waiver> {
        let mut out = Vec::new();
        for entry in entries {
            let known = self.step_ref(ids, "waivers", &entry.step).is_some();
            let date = chrono::NaiveDate::parse_from_str(&entry.expires.value, "%Y-%m-%d");
            if date.is_err() {
                let message = format!("waiver `expires: {}` is not a date of the form YYYY-MM-DD", entry.expires.value);
                self.report(entry.expires.referenced, message);
            }
            if known && date.is_ok() {
                out.push(crate::record::Waiver {
                    step: entry.step.value.clone(),
                    reason: entry.reason.clone(),
                    owner: entry.owner.clone(),
                    expires: entry.expires.value.clone(),
                    expired: false,
                });
            }
        }
        out
    }

    /// The `notify:` targets, each checked where it stands.
    fn notify(&mut self) -> Vec<crate::notify::Target> {
        let targets = &self.loaded.playbook.notify;
        for target in targets {
            if let Err(problem) = target.value.check() {
                self.report(target.referenced, format!("notify: {problem}"));
            }
        }
        targets.iter().map(|t| t.value.clone()).collect()
    }

    fn vars(&mut self, overrides: &[(String, String)], env_overrides: &[(String, String)]) -> BTreeMap<String, Value> {
        let declared = &self.loaded.playbook.vars;
        let mut vars: BTreeMap<String, Value> = declared.iter().map(|(k, v)| (k.clone(), v.to_json())).collect();
        for (strict, list) in [(false, env_overrides), (true, overrides)] {
            for (name, text) in list {
                match declared.get(name) {
                    Some(value) => match value.parse_like(text) {
                        Ok(parsed) => {
                            vars.insert(name.clone(), parsed.to_json());
                        }
                        Err(e) => self.report_unplaced(format!("--var {name}: {e}")),
                    },
                    None if strict => {
                        let hint = did_you_mean(name, declared.keys().map(String::as_str))
                            .map(|s| format!("; did you mean `{s}`?"))
                            .unwrap_or_default();
                        self.report_unplaced(format!("--var {name}: the playbook has no var `{name}`{hint}"));
                    }
                    None => {}
                }
            }
        }
        vars
    }

    fn duration(&mut self, text: &Spanned<String>) -> std::time::Duration {
        parse_duration(&text.value).unwrap_or_else(|e| {
            self.report(text.referenced, e.to_string());
            DEFAULT_TIMEOUT
        })
    }

    fn ids(&mut self, steps: &[(usize, &Spanned<Step>)]) -> BTreeMap<String, usize> {
        let mut ids = BTreeMap::new();
        for (index, (_, step)) in steps.iter().enumerate() {
            let id = &step.value.id;
            let valid = id.value.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && id.value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !valid {
                self.report(
                    id.referenced,
                    format!(
                        "step id `{}` must start with a letter and hold only letters, digits, `_` and `-`",
                        id.value
                    ),
                );
            }
            if ids.contains_key(&id.value) {
                self.report(id.referenced, format!("duplicate step id `{}`", id.value));
            } else {
                // The first step keeps the id, so references resolve as a reader would.
                ids.insert(id.value.clone(), index);
            }
        }
        ids
    }

    /// The index of the step `name` that a `field` (`needs`, `attests`) list names.
    fn step_ref(&mut self, ids: &BTreeMap<String, usize>, field: &str, name: &Spanned<String>) -> Option<usize> {
        let found = ids.get(&name.value).copied();
        if found.is_none() {
            let hint = did_you_mean(&name.value, ids.keys().map(String::as_str))
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            self.report(name.referenced, format!("`{field}` names unknown step `{}`{hint}", name.value));
        }
        found
    }

    fn cycles(&mut self, planned: &[PlannedStep], steps: &[(usize, &Spanned<Step>)]) {
        // Depth-first search over needs, attests and reads; report each cycle once, at its first step.
        let mut state = vec![0u8; planned.len()];
        let mut reported = BTreeSet::new();
        for start in 0..planned.len() {
            let mut stack = vec![(start, 0usize)];
            let mut path = vec![start];
            if state[start] != 0 {
                continue;
            }
            state[start] = 1;
            while let Some((node, edge)) = stack.pop() {
                let step = &planned[node];
                let edges: Vec<usize> = step.needs.iter().chain(&step.attests).chain(&step.after).copied().collect();
                if edge < edges.len() {
                    stack.push((node, edge + 1));
                    let next = edges[edge];
                    if state[next] == 1 {
                        let cycle_start = path.iter().position(|&p| p == next).unwrap_or(0);
                        let cycle: Vec<&str> = path[cycle_start..].iter().map(|&i| planned[i].id.as_str()).collect();
                        if reported.insert(next) {
                            self.report(
                                steps[next].1.value.id.referenced,
                                format!("dependency cycle: {} → {}", cycle.join(" → "), planned[next].id),
                            );
                        }
                    } else if state[next] == 0 {
                        state[next] = 1;
                        stack.push((next, 0));
                        path.push(next);
                    }
                } else {
                    state[node] = 2;
                    path.pop();
                }
            }
        }
    }
}

fn list(names: &[&str]) -> String {
    if names.is_empty() {
        "nothing".to_owned()
    } else {
        names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
    }
}
