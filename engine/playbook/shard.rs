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

#[cfg(test)]
mod tests {
    use crate::playbook::load::{Loaded, parse};
    use crate::record::Shard;

    /// `a` and `b` are tied (`b` needs `a`); `c` reads `a`'s capture; `d`, `e` stand alone.
    const PLAYBOOK: &str = r#"
name: shards
sections:
  - name: s
    steps:
      - { id: a, title: A, shell: { run: 'echo 1' }, capture: { n: $.stdout } }
      - { id: b, title: B, shell: { run: 'true' }, needs: [a] }
      - { id: c, title: C, shell: { run: 'true' }, expect: ['steps.a.n == "1"'] }
      - { id: d, title: D, shell: { run: 'true' } }
      - { id: e, title: E, shell: { run: 'true' } }
"#;

    fn ids_of(shard: Shard) -> Vec<String> {
        let loaded = Loaded {
            path: "p.yaml".into(),
            shown: "p.yaml".into(),
            source: PLAYBOOK.into(),
            playbook: parse("p.yaml", PLAYBOOK).unwrap(),
        };
        let mut plan = crate::playbook::validate::plan(&loaded, &[], &[]).unwrap();
        plan.keep_shard(shard);
        plan.steps.iter().map(|s| s.id.clone()).collect()
    }

    #[test]
    fn every_step_is_in_one_shard_and_travels_with_what_it_is_tied_to() {
        let parts: Vec<Vec<String>> = (0..3).map(|index| ids_of(Shard { index, count: 3 })).collect();
        assert_eq!(parts[0], ["a", "b", "c"], "tied steps stay together");
        assert_eq!(parts[1], ["d"]);
        assert_eq!(parts[2], ["e"]);
        assert_eq!(parts, (0..3).map(|index| ids_of(Shard { index, count: 3 })).collect::<Vec<_>>(), "deterministic");
        assert_eq!(ids_of(Shard { index: 0, count: 1 }).len(), 5);
        assert!(ids_of(Shard { index: 4, count: 5 }).is_empty(), "more shards than groups: some are empty");
    }

    #[test]
    fn shard_text_is_index_over_count() {
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 2, count: 4 }));
        assert!(Shard::parse("4/4").is_err());
        assert!(Shard::parse("0/0").is_err());
        assert!(Shard::parse("x").is_err());
    }
}
