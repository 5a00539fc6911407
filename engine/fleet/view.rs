//! The fleet view's data and its judgement: which hosts reported, what each
//! step did on each, and whether the fleet as a whole passes.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::playbook::fleet_rules::FleetRules;
use crate::record::Verdict;

/// Pass only when every expected host reported, every record that must be
/// verified is, and no step fails on more hosts than it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FleetVerdict {
    Pass,
    Fail,
}

/// Whether a host reported within the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HostState {
    Reported,
    /// Expected, and no finished run within the window.
    Missing,
}

/// What the trusted keys say of a host's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Signature {
    /// No trusted keys were given.
    NotChecked,
    Verified {
        key: String,
    },
    /// Not signed, or no trusted key verifies it (edited, or signed by a key not trusted).
    Unverified {
        why: String,
    },
}

/// One step on one host.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub verdict: Verdict,
    pub message: String,
    pub captured: BTreeMap<String, Value>,
}

/// One expected (or reporting) host.
#[derive(Debug, Clone, Serialize)]
pub struct HostRow {
    pub host: String,
    pub state: HostState,
    /// The run's verdict, when it reported.
    pub verdict: Option<Verdict>,
    /// The stored run ids shown (several when shards were joined).
    pub runs: Vec<i64>,
    /// RFC 3339: when the (first shard of the) run started.
    pub started: Option<String>,
    /// The newest run of this host at any time, for a missing host.
    pub last_seen: Option<String>,
    pub group: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// Shards that should have reported and did not (`1/4`).
    pub missing_shards: Vec<String>,
    pub signature: Signature,
    /// Per step id; a step absent from the host's run is absent here.
    pub cells: BTreeMap<String, Cell>,
    /// Not in the expected hosts, but reported.
    pub unexpected: bool,
    /// The steps of its run as (id, title, section), in run order.
    #[serde(skip)]
    pub order: Vec<(String, String, String)>,
}

/// One step across the fleet.
#[derive(Debug, Clone, Serialize)]
pub struct StepRow {
    pub id: String,
    pub title: String,
    pub section: String,
    /// Hosts on which it failed, errored or did not run at all.
    pub failing_hosts: Vec<String>,
    /// Hosts that reported.
    pub reported: usize,
    /// Expected hosts.
    pub hosts: usize,
    /// As written in `fleet:` (`0`, `2`, `10%`).
    pub allowed: String,
    pub verdict: FleetVerdict,
}

/// The whole view.
#[derive(Debug, Clone, Serialize)]
pub struct FleetView {
    pub playbook: String,
    /// RFC 3339: when the view was made.
    pub generated: String,
    /// The window, as given (`24h`).
    pub within: String,
    pub verdict: FleetVerdict,
    /// Every reason the fleet fails, one sentence each.
    pub problems: Vec<String>,
    pub hosts: Vec<HostRow>,
    pub steps: Vec<StepRow>,
}

impl FleetView {
    /// Judges `hosts` over `steps` ((id, title, section) in playbook order) under `rules`.
    pub fn judge(
        playbook: String,
        within: String,
        hosts: Vec<HostRow>,
        steps: Vec<(String, String, String)>,
        rules: &FleetRules,
    ) -> Self {
        let expected = hosts.iter().filter(|h| !h.unexpected).count().max(1);
        let reported: Vec<&HostRow> = hosts.iter().filter(|h| h.state == HostState::Reported).collect();
        let mut problems = host_problems(&hosts);
        let steps: Vec<StepRow> = steps
            .into_iter()
            .map(|(id, title, section)| {
                let failing_hosts: Vec<String> = reported
                    .iter()
                    .filter(|h| h.cells.get(&id).is_none_or(|c| matches!(c.verdict, Verdict::Fail | Verdict::Error)))
                    .map(|h| h.host.clone())
                    .collect();
                let allowance = rules.allowance(&id);
                let ok = allowance.allows(failing_hosts.len(), expected);
                if !ok {
                    problems.push(format!(
                        "step `{id}` fails on {} of {expected} hosts ({}); allowed: {}",
                        failing_hosts.len(),
                        failing_hosts.join(", "),
                        allowance.describe()
                    ));
                }
                StepRow {
                    id,
                    title,
                    section,
                    failing_hosts,
                    reported: reported.len(),
                    hosts: expected,
                    allowed: allowance.describe(),
                    verdict: if ok { FleetVerdict::Pass } else { FleetVerdict::Fail },
                }
            })
            .collect();
        let verdict = if problems.is_empty() { FleetVerdict::Pass } else { FleetVerdict::Fail };
        let generated = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        Self { playbook, generated, within, verdict, problems, hosts, steps }
    }

    pub fn count(&self, state: HostState) -> usize {
        self.hosts.iter().filter(|h| h.state == state).count()
    }
}

/// Missing hosts, missing shards and records the trusted keys do not verify.
fn host_problems(hosts: &[HostRow]) -> Vec<String> {
    let mut problems = Vec::new();
    for host in hosts {
        if host.state == HostState::Missing {
            let seen = host.last_seen.as_deref().map_or("never reported".to_owned(), |s| format!("last seen {s}"));
            problems.push(format!("host `{}` is missing: no finished run in the window ({seen})", host.host));
            continue;
        }
        if !host.missing_shards.is_empty() {
            problems.push(format!("host `{}` is missing shards {}", host.host, host.missing_shards.join(", ")));
        }
        if let Signature::Unverified { why } = &host.signature {
            problems.push(format!("host `{}`: its record is not verified: {why}", host.host));
        }
    }
    problems
}
