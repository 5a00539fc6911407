//! `--shard I/N`: one of N deterministic parts of a playbook, so N workers
//! (a Kubernetes Indexed Job) share one large playbook. A step travels with
//! every step it is tied to (`needs`, `attests`, the captures it reads), so a
//! part never waits on a step another worker runs. The parts depend only on
//! the playbook: every worker computes the same split.

use super::Plan;
use crate::record::Shard;

impl Plan {
    /// Keeps only the steps of `shard`.
    pub fn keep_shard(&mut self, shard: Shard) {
        let part = parts(self, shard.count);
        let ids: std::collections::BTreeSet<String> =
            self.steps.iter().zip(&part).filter(|&(_, &p)| p == shard.index).map(|(s, _)| s.id.clone()).collect();
        self.retain(|step, _| ids.contains(&step.id));
    }
}

/// The part (0..count) of each step: the groups of tied steps, in file order, each to the
/// part with the fewest steps so far (the lowest-numbered on a tie).
fn parts(plan: &Plan, count: u32) -> Vec<u32> {
    let n = plan.steps.len();
    let mut leader: Vec<usize> = (0..n).collect();
    for (i, step) in plan.steps.iter().enumerate() {
        for &j in step.needs.iter().chain(&step.attests).chain(&step.after) {
            join(&mut leader, i, j);
        }
    }
    let roots: Vec<usize> = (0..n).map(|i| find(&mut leader, i)).collect();
    let mut group_size = vec![0usize; n];
    roots.iter().for_each(|&r| group_size[r] += 1);
    let mut part_of_group = vec![None; n];
    let mut sizes = vec![0usize; count as usize];
    let mut out = Vec::with_capacity(n);
    for &root in &roots {
        let part = *part_of_group[root].get_or_insert_with(|| {
            let (smallest, _) = sizes.iter().enumerate().min_by_key(|&(p, size)| (*size, p)).unwrap_or((0, &0));
            sizes[smallest] += group_size[root];
            smallest
        });
        out.push(u32::try_from(part).unwrap_or(0));
    }
    out
}

fn find(leader: &mut [usize], i: usize) -> usize {
    let mut root = i;
    while leader[root] != root {
        root = leader[root];
    }
    let mut k = i;
    while leader[k] != root {
        let next = leader[k];
        leader[k] = root;
        k = next;
    }
    root
}

fn join(leader: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (find(leader, a), find(leader, b));
    if ra != rb {
        leader[ra.max(rb)] = ra.min(rb);
    }
}
