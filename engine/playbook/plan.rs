//! The validated, runnable form of a playbook: ids resolved to indices,
//! expressions compiled, durations parsed, dependencies known. The runner
//! sees only this, never the YAML model.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::expr::{Expression, HistoryRead, LookBack};
use crate::probe::ProbeSpec;
use crate::record::{NoHistoryRule, Severity};
use crate::secrets::SecretSource;

/// A playbook ready to run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub name: String,
    pub description: Option<String>,
    /// The file as the user named it.
    pub file: String,
    /// The playbook's folder: relative paths in probes start here.
    pub base_dir: PathBuf,
    /// Playbook vars after `--var` and `RUNBOOK_VAR_*` overrides.
    pub vars: BTreeMap<String, Value>,
    pub secrets: BTreeMap<String, SecretSource>,
    pub sections: Vec<String>,
    /// Every step, in file order.
    pub steps: Vec<PlannedStep>,
    /// The end-of-day figures: label and compiled expression.
    pub summary: Vec<(String, Expression)>,
    /// The playbook's own report template, resolved against its folder.
    pub report_template: Option<PathBuf>,
    /// Where `watch` and `serve` send results (the playbook's own `notify:`).
    pub notify: Vec<crate::notify::Target>,
    /// Known exceptions (the playbook's `waivers:`, then `--waivers FILE`).
    pub waivers: Vec<crate::record::Waiver>,
    /// How long its runs stay in the history (the playbook's `history:`).
    pub retention: super::Retention,
    /// How many different people must sign a run off (the playbook's `signoff:`; 1 without it).
    pub signoff_required: u32,
    /// How many hosts a step may fail on in the fleet view (`fleet:`).
    pub fleet: super::fleet_rules::FleetRules,
}

/// One step ready to run.
#[derive(Debug, Clone)]
pub struct PlannedStep {
    pub id: String,
    pub title: String,
    /// Index into [`Plan::sections`].
    pub section: usize,
    pub probe: ProbeSpec,
    /// Capture name → JSONPath.
    pub captures: BTreeMap<String, String>,
    pub expect: Vec<Expression>,
    pub warn: Vec<Expression>,
    pub when: Option<Expression>,
    /// Steps that must pass first (indices), from `needs`.
    pub needs: Vec<usize>,
    /// Steps this one vouches for (indices), from `attests`: it waits for them, and fails
    /// if one failed or errored.
    pub attests: Vec<usize>,
    /// Steps whose captured values this one reads (indices): they run first.
    pub after: Vec<usize>,
    pub timeout: Duration,
    /// Always 0 for an action.
    pub retries: u32,
    /// The step's `until`: observe again until its condition holds.
    pub until: Option<Wait>,
    /// Changes something: runs only once confirmed, and only once.
    pub action: bool,
    /// For an action: how many distinct approvers it needs (0: none, the confirmation alone).
    pub approvals: u32,
    /// For an action: how often it may run (`max_runs`), counted from the history.
    pub max_runs: Option<super::rate_limit::RateLimit>,
    pub severity: Severity,
    /// The verdict when a check has no earlier value yet (the step's or the defaults' rule).
    pub on_no_history: NoHistoryRule,
    /// When it is due (the step's `active:`, else the playbook's); `None`: always.
    pub active: Option<std::sync::Arc<super::active::Window>>,
}

/// A compiled `until`.
#[derive(Debug, Clone)]
pub struct Wait {
    pub condition: Expression,
    /// The pause between observations.
    pub every: Duration,
    /// How long the wait may last, from the first observation.
    pub within: Duration,
}

impl Plan {
    /// Keeps only the steps `keep` accepts, and the steps they need, attest or read.
    pub fn retain(&mut self, keep: impl Fn(&PlannedStep, &str) -> bool) {
        let mut wanted: Vec<bool> = self.steps.iter().map(|s| keep(s, &self.sections[s.section])).collect();
        // Pull in prerequisites until nothing changes.
        let mut changed = true;
        while changed {
            changed = false;
            for i in 0..self.steps.len() {
                if !wanted[i] {
                    continue;
                }
                for &j in self.steps[i].needs.iter().chain(&self.steps[i].attests).chain(&self.steps[i].after) {
                    if !wanted[j] {
                        wanted[j] = true;
                        changed = true;
                    }
                }
            }
        }
        let mut new_index = vec![usize::MAX; self.steps.len()];
        let mut next = 0;
        for (i, w) in wanted.iter().enumerate() {
            if *w {
                new_index[i] = next;
                next += 1;
            }
        }
        let old = std::mem::take(&mut self.steps);
        self.steps = old
            .into_iter()
            .zip(wanted)
            .filter_map(|(mut step, w)| {
                w.then(|| {
                    step.needs = step.needs.iter().map(|&j| new_index[j]).collect();
                    step.attests = step.attests.iter().map(|&j| new_index[j]).collect();
                    step.after = step.after.iter().map(|&j| new_index[j]).collect();
                    step
                })
            })
            .collect();
    }
}

impl PlannedStep {
    /// What its checks (`expect`, `warn`, `when`, `until`) read from earlier runs.
    pub fn history_reads(&self) -> Vec<HistoryRead> {
        let mut reads: Vec<HistoryRead> = Vec::new();
        let checks =
            self.expect.iter().chain(&self.warn).chain(&self.when).chain(self.until.as_ref().map(|u| &u.condition));
        for read in checks.flat_map(|e| e.reads.iter()) {
            if !reads.contains(read) {
                reads.push(read.clone());
            }
        }
        reads
    }
}

impl Plan {
    /// How far back its checks look: what retention must keep.
    pub fn look_back(&self) -> LookBack {
        LookBack::of(self.steps.iter().flat_map(PlannedStep::history_reads))
    }
}
