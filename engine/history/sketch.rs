//! A mergeable log-scale histogram (DDSketch-style) for percentiles from
//! rollups: a value `v > 0` falls in bin `ceil(log_γ v)` with
//! `γ = (1 + α) / (1 - α)`, and each bin answers with the one value within
//! `α` (0.5%) of everything in it. Negative values use the same bins of `|v|`,
//! zero has its own count. Two sketches merge by adding counts, so a month's
//! sketch is the sum of its days' and no value is ever kept.
//!
//! A bin whose values were all one number also keeps that number and answers
//! with it exactly (a size, a count, a status: values that repeat); merging
//! bins of different numbers drops it.
//!
//! Stored as text: `zero|bin,…|bin,…` (positive bins, then negative), a bin
//! being `key:count` or `key:count:number`.

use std::collections::BTreeMap;

/// The relative accuracy of every percentile a sketch answers.
pub const ALPHA: f64 = 0.005;

fn gamma() -> f64 {
    (1.0 + ALPHA) / (1.0 - ALPHA)
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sketch {
    positive: BTreeMap<i32, Bin>,
    negative: BTreeMap<i32, Bin>,
    zero: u64,
}

/// How many values fell in a bin, and their magnitude if they all had the same.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bin {
    count: u64,
    only: Option<f64>,
}

impl Eq for Bin {}

impl Bin {
    fn merge(&mut self, other: Bin) {
        self.only = if self.count == 0 || self.only == other.only { other.only } else { None };
        self.count += other.count;
    }

    /// The magnitude this bin answers with.
    fn value(&self, key: i32) -> f64 {
        self.only.unwrap_or_else(|| representative(key))
    }
}

fn add_to(bins: &mut BTreeMap<i32, Bin>, key: i32, bin: Bin) {
    bins.entry(key).or_insert(Bin { count: 0, only: None }).merge(bin);
}

/// The bin of a magnitude (`> 0`).
fn key(magnitude: f64) -> i32 {
    // Clamped: subnormals and huge values share the extreme bins rather than overflow.
    (magnitude.ln() / gamma().ln()).ceil().clamp(-200_000.0, 200_000.0) as i32
}

/// The bin of a stored magnitude, if it is one.
fn key_of(magnitude: f64) -> Option<i32> {
    (magnitude.is_finite() && magnitude >= f64::MIN_POSITIVE).then(|| key(magnitude))
}

/// The value a bin answers with: within ALPHA of every magnitude in (γ^(k-1), γ^k].
fn representative(key: i32) -> f64 {
    2.0 * gamma().powi(key) / (gamma() + 1.0)
}

impl Sketch {
    /// Counts `value` (non-finite values are not numbers a check captured, and are skipped).
    pub fn add(&mut self, value: f64) {
        if !value.is_finite() {
            return;
        }
        if value == 0.0 || value.abs() < f64::MIN_POSITIVE {
            self.zero += 1;
        } else if value > 0.0 {
            add_to(&mut self.positive, key(value), Bin { count: 1, only: Some(value) });
        } else {
            add_to(&mut self.negative, key(-value), Bin { count: 1, only: Some(-value) });
        }
    }

    pub fn merge(&mut self, other: &Self) {
        self.zero += other.zero;
        for (k, bin) in &other.positive {
            add_to(&mut self.positive, *k, *bin);
        }
        for (k, bin) in &other.negative {
            add_to(&mut self.negative, *k, *bin);
        }
    }

    pub fn count(&self) -> u64 {
        self.zero + self.positive.values().chain(self.negative.values()).map(|b| b.count).sum::<u64>()
    }

    /// The nearest-rank `p`-th percentile (the `ceil(p * n / 100)`-th smallest), within ALPHA; None when empty.
    pub fn percentile(&self, p: u32) -> Option<f64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        let rank = (u64::from(p) * n).div_ceil(100).max(1);
        let mut seen = 0;
        // Smallest first: the most negative (largest magnitude) bins, zero, then the positive bins.
        for (k, bin) in self.negative.iter().rev() {
            seen += bin.count;
            if seen >= rank {
                return Some(-bin.value(*k));
            }
        }
        seen += self.zero;
        if seen >= rank {
            return Some(0.0);
        }
        for (k, bin) in &self.positive {
            seen += bin.count;
            if seen >= rank {
                return Some(bin.value(*k));
            }
        }
        None
    }

    /// The stored text.
    pub fn encode(&self) -> String {
        let bins = |m: &BTreeMap<i32, Bin>| {
            let text = m.iter().map(|(k, bin)| match bin.only {
                Some(v) => format!("{k}:{}:{v}", bin.count),
                None => format!("{k}:{}", bin.count),
            });
            text.collect::<Vec<_>>().join(",")
        };
        format!("{}|{}|{}", self.zero, bins(&self.positive), bins(&self.negative))
    }

    /// Reads the stored text; what cannot be read counts as nothing (never as a value).
    pub fn decode(text: &str) -> Self {
        let mut parts = text.split('|');
        let zero = parts.next().and_then(|z| z.parse().ok()).unwrap_or(0);
        let mut bins = || -> BTreeMap<i32, Bin> {
            parts
                .next()
                .unwrap_or("")
                .split(',')
                .filter_map(|bin| {
                    let mut fields = bin.split(':');
                    let key = fields.next()?.parse().ok()?;
                    let count = fields.next()?.parse().ok()?;
                    // A number that is not of its bin is not trusted: the bin answers as any other.
                    let only = fields.next().and_then(|v| v.parse().ok()).filter(|v: &f64| key_of(*v) == Some(key));
                    Some((key, Bin { count, only }))
                })
                .collect()
        };
        let positive = bins();
        let negative = bins();
        Self { positive, negative, zero }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn exact(values: &[f64], p: u32) -> f64 {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let rank = (u64::from(p) * sorted.len() as u64).div_ceil(100).max(1);
        sorted[usize::try_from(rank).unwrap() - 1]
    }

    fn sketch_of(values: &[f64]) -> Sketch {
        let mut s = Sketch::default();
        values.iter().for_each(|v| s.add(*v));
        s
    }

    #[test]
    fn percentiles_are_within_alpha_of_the_nearest_rank() {
        // 1004.0 and 1008.0 share a bin: it answers within ALPHA, not exactly.
        let s = sketch_of(&[1008.0, 1004.0, 1004.0, 3.0]);
        assert_eq!(s.count(), 4);
        let p75 = s.percentile(75).unwrap(); // the 3rd of 3, 1004, 1004, 1008
        assert!((p75 - 1004.0).abs() <= 1004.0 * ALPHA && p75 != 1004.0, "{p75}");
        assert_eq!(Sketch::default().percentile(50), None);
    }

    #[test]
    fn a_bin_of_one_repeated_number_answers_it_exactly() {
        let mut s = sketch_of(&[10.0, 20.0, 40.0, 40.0]);
        s.merge(&Sketch::decode(&sketch_of(&[100.0, 40.0]).encode()));
        assert_eq!((s.percentile(50), s.percentile(95)), (Some(40.0), Some(100.0)));
        assert_eq!(s.percentile(1), Some(10.0));
        // A number that does not belong to its bin is ignored, not believed.
        assert_eq!(Sketch::decode("0|461:1:5||").percentile(50), Some(representative(461)));
    }

    #[test]
    fn zero_and_negative_values_keep_their_order() {
        let s = sketch_of(&[-5.0, 0.0, 0.0, 3.0]);
        assert!((s.percentile(25).unwrap() + 5.0).abs() <= 5.0 * ALPHA);
        assert_eq!(s.percentile(50), Some(0.0));
        assert!((s.percentile(100).unwrap() - 3.0).abs() <= 3.0 * ALPHA);
    }

    #[test]
    fn text_round_trips_and_garbage_reads_as_nothing() {
        let s = sketch_of(&[-2.5, 0.0, 1.0, 1.0, 1e9]);
        assert_eq!(Sketch::decode(&s.encode()), s);
        assert_eq!(Sketch::decode("x|y:z|"), Sketch::default());
    }

    proptest! {
        #[test]
        fn merged_sketches_answer_within_alpha(
            a in proptest::collection::vec(-1e6f64..1e6, 1..200),
            b in proptest::collection::vec(-1e6f64..1e6, 0..200),
            p in 1u32..=100,
        ) {
            let mut merged = sketch_of(&a);
            merged.merge(&Sketch::decode(&sketch_of(&b).encode()));
            let all: Vec<f64> = a.iter().chain(&b).copied().collect();
            let want = exact(&all, p);
            let got = merged.percentile(p).unwrap();
            prop_assert!((got - want).abs() <= want.abs() * ALPHA * (1.0 + 1e-9), "p{p}: {got} vs {want}");
        }
    }
}
