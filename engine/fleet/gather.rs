//! Reads the fleet view out of the history: each host's latest finished run
//! in the window, joined with the other shards of its group, then judged.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::TrustedKeys;
use super::view::{Cell, FleetView, HostRow, HostState, Signature};
use crate::history::{HistoryError, RunHead, SignedRecord, Store};
use crate::playbook::fleet_rules::FleetRules;
use crate::record::{RunRecord, StepResult};

/// What to show.
pub struct Request {
    /// The playbook's name, as runs are kept under.
    pub playbook: String,
    /// The playbook's steps as (id, title, section), when its file was given: a step no host
    /// ran is then failing everywhere. Without it, the steps the runs hold.
    pub steps: Option<Vec<(String, String, String)>>,
    pub rules: FleetRules,
    /// Hosts that must report; `None`: every host that ever ran the playbook.
    pub expected: Option<Vec<String>>,
    pub within: Duration,
    /// The window as the user wrote it.
    pub within_text: String,
    pub trusted: Option<TrustedKeys>,
}

/// The view of `request` from `store`.
pub async fn gather(store: &Store, request: &Request) -> Result<FleetView, HistoryError> {
    let now = crate::history::now_ms();
    let since = now.saturating_sub(i64::try_from(request.within.as_millis()).unwrap_or(i64::MAX));
    let heads = store.runs_since(&request.playbook, since).await?;
    let ever: Vec<String> = store.hosts(&request.playbook).await?;
    let expected: BTreeSet<String> = request.expected.clone().unwrap_or_else(|| ever.clone()).into_iter().collect();
    let reporting: BTreeSet<String> = heads.iter().map(|h| h.host.clone()).collect();
    let shown: Vec<(&String, Option<Vec<&RunHead>>)> =
        expected.union(&reporting).map(|name| (name, latest_of(&heads, name))).collect();
    let ids: Vec<i64> = shown.iter().flat_map(|(_, runs)| runs.iter().flatten().map(|h| h.id)).collect();
    let stored = store.signed_records(&ids).await?;
    let mut hosts = Vec::new();
    for (name, runs) in shown {
        let mut row = match runs {
            Some(runs) => reported(name, &runs, &stored, request),
            None => missing(store, name, &request.playbook).await?,
        };
        row.unexpected = !expected.contains(name);
        hosts.push(row);
    }
    let steps = request.steps.clone().unwrap_or_else(|| steps_of(&hosts));
    Ok(FleetView::judge(request.playbook.clone(), request.within_text.clone(), hosts, steps, &request.rules))
}

/// `host`'s newest run in the window and, if it belongs to a group, the other runs of that group.
fn latest_of<'a>(heads: &'a [RunHead], host: &str) -> Option<Vec<&'a RunHead>> {
    let newest = heads.iter().find(|h| h.host == host)?;
    let Some(group) = &newest.group else { return Some(vec![newest]) };
    Some(heads.iter().filter(|h| h.host == host && h.group.as_ref() == Some(group)).collect())
}

fn reported(host: &str, runs: &[&RunHead], stored: &BTreeMap<i64, SignedRecord>, request: &Request) -> HostRow {
    let mut records = Vec::new();
    let mut signatures = Vec::new();
    for head in runs {
        let Some(stored) = stored.get(&head.id) else { continue };
        signatures.push(match &request.trusted {
            Some(keys) => keys.check(&stored.record, stored.signature.as_deref()),
            None => Signature::NotChecked,
        });
        if let Ok(record) = serde_json::from_str::<RunRecord>(&stored.record) {
            records.push(record);
        }
    }
    // Oldest shard first, so the row's start is the group's.
    records.sort_by(|a, b| a.started.cmp(&b.started));
    let steps: Vec<&StepResult> = joined_steps(&records);
    let cells = steps
        .iter()
        .map(|s| (s.id.clone(), Cell { verdict: s.verdict, message: s.message.clone(), captured: s.captured.clone() }))
        .collect();
    let verdict = Some(RunRecord::overall(&steps.iter().map(|s| (*s).clone()).collect::<Vec<_>>()));
    let first = records.first();
    HostRow {
        host: host.to_owned(),
        state: HostState::Reported,
        verdict,
        runs: {
            let mut ids: Vec<i64> = runs.iter().map(|h| h.id).collect();
            ids.sort_unstable();
            ids
        },
        started: first.map(|r| r.started.clone()),
        last_seen: None,
        group: first.and_then(|r| r.group.clone()),
        labels: records.iter().flat_map(|r| r.labels.clone()).collect(),
        missing_shards: missing_shards(&records),
        signature: worst_signature(signatures),
        cells,
        unexpected: false,
        order: steps.iter().map(|s| (s.id.clone(), s.title.clone(), s.section.clone())).collect(),
    }
}

/// The steps of joined shards; a step two shards both ran counts once, from the later one.
fn joined_steps(records: &[RunRecord]) -> Vec<&StepResult> {
    let mut by_id: BTreeMap<&str, &StepResult> = BTreeMap::new();
    let mut order = Vec::new();
    for step in records.iter().flat_map(|r| &r.steps) {
        if by_id.insert(&step.id, step).is_none() {
            order.push(step.id.as_str());
        }
    }
    order.into_iter().filter_map(|id| by_id.get(id).copied()).collect()
}

/// Shards of the group that did not report: `2/4` when shards 0, 1 and 3 of 4 did.
fn missing_shards(records: &[RunRecord]) -> Vec<String> {
    let Some(count) = records.iter().find_map(|r| r.shard.map(|s| s.count)) else { return Vec::new() };
    let seen: BTreeSet<u32> = records.iter().filter_map(|r| r.shard.map(|s| s.index)).collect();
    (0..count).filter(|i| !seen.contains(i)).map(|i| format!("{i}/{count}")).collect()
}

/// One unverified shard makes the whole row unverified.
fn worst_signature(signatures: Vec<Signature>) -> Signature {
    let mut verified = None;
    for signature in signatures {
        match signature {
            Signature::Unverified { .. } => return signature,
            Signature::Verified { .. } => verified = Some(signature),
            Signature::NotChecked => {}
        }
    }
    verified.unwrap_or(Signature::NotChecked)
}

async fn missing(store: &Store, host: &str, playbook: &str) -> Result<HostRow, HistoryError> {
    let last_seen = store.last_seen(playbook, host).await?;
    Ok(HostRow {
        host: host.to_owned(),
        state: HostState::Missing,
        verdict: None,
        runs: Vec::new(),
        started: None,
        last_seen,
        group: None,
        labels: BTreeMap::new(),
        missing_shards: Vec::new(),
        signature: Signature::NotChecked,
        cells: BTreeMap::new(),
        unexpected: false,
        order: Vec::new(),
    })
}

/// Without the playbook file: every step some host ran, in the order first met.
fn steps_of(hosts: &[HostRow]) -> Vec<(String, String, String)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for step in hosts.iter().flat_map(|h| &h.order) {
        if seen.insert(step.0.clone()) {
            out.push(step.clone());
        }
    }
    out
}
