//! The checks of one step: its probe's parameters, captures, expressions and
//! templates, each problem placed on the token at fault.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Validator, list};
use crate::expr::{self, Expression, SCOPE_NAMES};
use crate::playbook::diagnostic::Pos;
use crate::playbook::model::{Spanned, Step, Until};
use crate::playbook::plan::{PlannedStep, Wait};
use crate::suggest::did_you_mean;
use crate::{capture, probe, template};

/// How often `until` observes when it does not say (`every`).
const DEFAULT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// What a step's checks need to know about the rest of the playbook.
pub(super) struct Scope<'s> {
    pub ids: &'s BTreeMap<String, usize>,
    pub vars: &'s BTreeMap<String, Value>,
}

impl Validator<'_> {
    pub(super) fn expressions(&mut self, list: &[Spanned<String>]) -> Vec<Expression> {
        list.iter().filter_map(|e| self.expression(e)).collect()
    }

    pub(super) fn expression(&mut self, text: &Spanned<String>) -> Option<Expression> {
        let at = Pos::from(text.referenced);
        if let Some(start) = text.value.find("{{") {
            let inner = text.value[start + 2..].split("}}").next().unwrap_or("").trim();
            let message = format!(
                "templates are not rendered in expressions; write `{inner}` instead of `{{{{{inner}}}}}` in `{}`",
                one_line(&text.value)
            );
            self.report(self.locate(at, &text.value, start), message);
            return None;
        }
        match expr::compile(&text.value) {
            Ok(e) => Some(e),
            Err(e) => {
                self.report(
                    self.locate(at, &text.value, e.offset),
                    format!("bad expression `{}`: {}", one_line(&text.value), e.message),
                );
                None
            }
        }
    }

    /// A step's `until`: its condition compiled, `every` and `within` read and more than zero.
    pub(super) fn until(&mut self, until: &Until) -> Option<Wait> {
        let condition = self.expression(&until.expr);
        let every = until.every.as_ref().map_or(DEFAULT_EVERY, |e| self.duration(e));
        let within = self.duration(&until.within);
        // Zero would poll without pause, or never look at all.
        for (name, value, text) in [("every", every, until.every.as_ref()), ("within", within, Some(&until.within))] {
            if let Some(text) = text.filter(|_| value.is_zero()) {
                self.report(text.referenced, format!("`until.{name}` must be more than 0, e.g. `2s`"));
            }
        }
        Some(Wait { condition: condition?, every, within })
    }

    pub(super) fn check_step(
        &mut self,
        step: &Spanned<Step>,
        planned: &mut [PlannedStep],
        index: usize,
        scope: &Scope,
    ) {
        let step_at = Pos::from(step.referenced);
        let step = &step.value;
        if let Err(problem) = step.probe.check_params() {
            let kind = step.probe.kind();
            let param = problem.param();
            let at = self.param_place(step.probe_at, param, problem.item());
            let subject = param.map_or_else(|| format!("`{kind}`"), |p| format!("`{kind}.{p}`"));
            self.report(at, format!("{subject}: {problem}"));
        }
        if step.action && step.retries.is_some_and(|r| r > 0) {
            let message = format!("step `{}` is an action, which runs at most once; remove `retries`", step.id.value);
            self.report(step.retries_at.unwrap_or(step_at), message);
        }
        if let Some(until) = step.until.as_ref().filter(|_| step.action) {
            let message = format!("step `{}` is an action, which runs at most once; remove `until`", step.id.value);
            self.report(until.expr.referenced, message);
        }
        self.action_guards(step);
        for path in step.capture.values() {
            if let Err((offset, message)) = capture::check(&path.value) {
                self.report(self.locate(path.referenced.into(), &path.value, offset), message);
            }
        }
        self.title_templates(step, step_at);
        self.list_comparisons(step);
        self.expression_names(step, planned, index, scope);
        self.parameter_templates(step, planned, index, scope);
        planned[index].after.sort_unstable();
        planned[index].after.dedup();
        planned[index].after.retain(|&a| a != index);
    }

    /// `approvals` and `max_runs`: on actions only, within range, `max_runs` readable.
    fn action_guards(&mut self, step: &Step) {
        let id = &step.id.value;
        if let (Some(n), Some(at)) = (step.approvals, step.approvals_at) {
            if !step.action {
                self.report(at, format!("step `{id}` is not an action; `approvals` applies only with `action: true`"));
            } else if !(1..=9).contains(&n) {
                self.report(at, format!("step `{id}`: `approvals` must be 1 to 9, not {n}"));
            }
        }
        if let Some(max_runs) = &step.max_runs {
            if !step.action {
                let message = format!("step `{id}` is not an action; `max_runs` applies only with `action: true`");
                self.report(max_runs.referenced, message);
            } else if let Err(message) = crate::playbook::rate_limit::RateLimit::parse(&max_runs.value) {
                self.report(max_runs.referenced, message);
            }
        }
    }

    /// Every name an expression reads must be observed, captured or in scope.
    fn expression_names(&mut self, step: &Step, planned: &mut [PlannedStep], index: usize, scope: &Scope) {
        let observes = step.probe.observes();
        let captured: Vec<&str> = step.capture.keys().map(String::as_str).collect();
        // The plan holds every expression that compiled; what they read, by source text.
        let step_plan = &planned[index];
        let reads: Vec<(String, Vec<String>, Vec<String>)> = step_plan
            .expect
            .iter()
            .chain(&step_plan.warn)
            .chain(step_plan.when.iter())
            .chain(step_plan.until.iter().map(|u| &u.condition))
            .map(|e| (e.source.clone(), e.variables.clone(), e.paths().to_vec()))
            .collect();
        let until = step.until.iter().map(|u| &u.expr);
        for text in step.expect.iter().chain(&step.warn).chain(step.when.iter()).chain(until) {
            let Some((_, variables, paths)) = reads.iter().find(|(source, ..)| *source == text.value) else { continue };
            let at = Pos::from(text.referenced);
            for name in variables {
                let known = SCOPE_NAMES.contains(&name.as_str())
                    || captured.contains(&name.as_str())
                    || observes.is_none_or(|o| o.contains(&name.as_str()));
                if known {
                    continue;
                }
                let candidates = observes
                    .unwrap_or(&[])
                    .iter()
                    .copied()
                    .chain(captured.iter().copied())
                    .chain(SCOPE_NAMES.iter().copied());
                let hint = did_you_mean(name, candidates).map(|s| format!("; did you mean `{s}`?")).unwrap_or_default();
                let vars_hint = if scope.vars.contains_key(name) {
                    format!("; playbook vars read as `vars.{name}`")
                } else {
                    String::new()
                };
                let message = format!(
                    "`{name}` in `{}` is not defined: a `{}` step observes {} and captures {}{hint}{vars_hint}",
                    one_line(&text.value),
                    step.probe.kind(),
                    list(observes.unwrap_or(&[])),
                    list(&captured)
                );
                self.report(self.locate(at, &text.value, ident_offset(&text.value, name)), message);
            }
            for path in paths {
                let place = self.locate(at, &text.value, ident_offset(&text.value, path));
                if let Some(after) = self.scoped_path(path, planned, place, false, scope) {
                    planned[index].after.push(after);
                }
            }
        }
    }

    fn parameter_templates(&mut self, step: &Step, planned: &mut [PlannedStep], index: usize, scope: &Scope) {
        for (field, text) in probe::template_strings(&step.probe) {
            match template::check(&text, step.probe.context_of(&field)) {
                Err((offset, message)) => self.report(self.locate(step.probe_at, &text, offset), message),
                Ok(refs) => {
                    for r in refs {
                        let at = self.locate(step.probe_at, &text, r.offset);
                        if r.path.starts_with("secrets.") && step.probe.exposed_fields().contains(&field.as_str()) {
                            self.report(at, format!("`{{{{{}}}}}` in `{field}` would expose the secret (a command line shows in the process list); pass it through `env:` instead", r.path));
                        }
                        if let Some(after) = self.scoped_path(&r.path, planned, at, true, scope) {
                            planned[index].after.push(after);
                        }
                    }
                }
            }
        }
    }

    /// Titles are printed as written: a template there is a mistake, and a
    /// secret's name there means someone expected its value to show.
    fn title_templates(&mut self, step: &Step, step_at: Pos) {
        let Some(start) = step.title.find("{{") else { return };
        let inner = step.title[start + 2..].split("}}").next().unwrap_or("").trim();
        let secret = if inner.starts_with("secrets.") {
            " (and a title is printed, so it must never hold a secret)"
        } else {
            ""
        };
        let message =
            format!("`{{{{{inner}}}}}` in `title` is not rendered: templates work only in probe parameters{secret}");
        self.report(self.locate(step_at, &step.title, start), message);
    }

    /// Checks a `vars.*`, `secrets.*` or `steps.*` path; returns the step it reads, if any.
    pub(super) fn scoped_path(
        &mut self,
        path: &str,
        planned: &[PlannedStep],
        at: Pos,
        in_template: bool,
        scope: &Scope,
    ) -> Option<usize> {
        let mut parts = path.split('.');
        let root = parts.next()?;
        let (first, second) = (parts.next(), parts.next());
        let hint = |name: &str, known: &mut dyn Iterator<Item = &str>| {
            did_you_mean(name, known).map(|s| format!("; did you mean `{s}`?")).unwrap_or_default()
        };
        match (root, first) {
            ("vars", Some(name)) if !scope.vars.contains_key(name) => {
                let hint = hint(name, &mut scope.vars.keys().map(String::as_str));
                self.report(at, format!("`vars.{name}` is not defined in `vars`{hint}"));
            }
            ("secrets", Some(name)) if !self.loaded.playbook.secrets.contains_key(name) => {
                let hint = hint(name, &mut self.loaded.playbook.secrets.keys().map(String::as_str));
                self.report(at, format!("`secrets.{name}` is not defined in `secrets`{hint}"));
            }
            ("steps", Some(id)) => match scope.ids.get(id) {
                None => {
                    let hint = hint(id, &mut scope.ids.keys().map(String::as_str));
                    self.report(at, format!("`steps.{id}` names unknown step `{id}`{hint}"));
                }
                Some(&target) => {
                    if let Some(name) = second
                        && !planned[target].captures.contains_key(name)
                    {
                        let captures: Vec<&str> = planned[target].captures.keys().map(String::as_str).collect();
                        let hint = hint(name, &mut captures.iter().copied());
                        let message =
                            format!("step `{id}` captures no `{name}`{hint}; it captures {}", list(&captures));
                        self.report(at, message);
                    }
                    return Some(target);
                }
            },
            ("vars" | "secrets" | "steps", None) if in_template => {
                self.report(at, format!("`{{{{{root}}}}}` needs a name, e.g. `{{{{{root}.name}}}}`"));
            }
            (other, _) if in_template && !matches!(other, "vars" | "secrets" | "steps") => {
                self.report(at, format!("`{{{{{path}}}}}`: templates read `vars.*`, `secrets.*` or `steps.<id>.*`"));
            }
            _ => {}
        }
        None
    }
}

/// An expression as one line, for messages (block scalars span several).
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The byte offset of `name` as a whole identifier (or dotted path) in an expression; 0 if absent.
fn ident_offset(text: &str, name: &str) -> usize {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(found) = text[from..].find(name).map(|i| from + i) {
        let before = text[..found].chars().next_back();
        let after = text[found + name.len()..].chars().next();
        if !before.is_some_and(|c| is_ident(c) || c == '.' || c == '"' || c == '\'') && !after.is_some_and(is_ident) {
            return found;
        }
        from = found + name.len();
    }
    0
}

#[cfg(test)]
mod tests {
    use super::ident_offset;

    #[test]
    fn identifiers_are_found_whole() {
        assert_eq!(ident_offset("status2 == 1 && status == 200", "status"), 16);
        assert_eq!(ident_offset("body.status == 'status'", "status"), 0);
        assert_eq!(ident_offset("x < vars.limit", "vars.limit"), 4);
    }
}
