//! The tamper-evident chain: each finished run of a (playbook, host) stores
//! the SHA-256 of its record text (`record_hash`), the chain hash of the run
//! that finished before it (`prev_hash`), its place (`chain_seq`, in commit
//! order) and its own `chain_hash` over all of those and the columns a
//! reader trusts. The head of each chain, and the anchor pruning leaves, live
//! in `run_chains` and `run_chain_anchors`; a run links to the head inside its final transaction,
//! under a per-chain lock, so concurrent runs form one chain.

use sha2::{Digest, Sha256};

/// The `prev` of the first run of a chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// SHA-256, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The columns a chain hash covers. The signature is included, so stripping
/// one from a signed run is an edit too.
pub struct Linked<'a> {
    pub prev_hash: &'a str,
    pub seq: i64,
    pub id: i64,
    pub playbook: &'a str,
    pub host: &'a str,
    pub status: &'a str,
    pub verdict: &'a str,
    pub started_at: i64,
    pub finished_at: i64,
    pub record_hash: &'a str,
    pub signature: Option<&'a str>,
}

impl Linked<'_> {
    /// SHA-256 over every field, each length-prefixed (8 bytes, big-endian) so
    /// no two different rows encode alike.
    pub fn chain_hash(&self) -> String {
        let numbers = [self.seq, self.id, self.started_at, self.finished_at].map(|n| n.to_string());
        let signature = self.signature.map_or_else(|| "-".to_owned(), |s| format!("+{s}"));
        let fields: [&str; 11] = [
            "runbook-chain-v1",
            self.prev_hash,
            &numbers[0],
            &numbers[1],
            self.playbook,
            self.host,
            self.status,
            self.verdict,
            &numbers[2],
            &numbers[3],
            self.record_hash,
        ];
        let mut hasher = Sha256::new();
        for field in fields.iter().copied().chain([signature.as_str()]) {
            hasher.update((field.len() as u64).to_be_bytes());
            hasher.update(field.as_bytes());
        }
        hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The advisory lock key of one chain (PostgreSQL): the first 8 bytes of a hash of its names.
pub fn lock_key(playbook: &str, host: &str) -> i64 {
    let digest = Sha256::digest(format!("runbook-chain\0{playbook}\0{host}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// Serialises finishing runs of one chain on PostgreSQL (SQLite's `BEGIN IMMEDIATE` already does).
pub(crate) const PG_LOCK: &str = "SELECT pg_advisory_xact_lock($1)";

/// The run's playbook and host, as `begin_run` stored them: the chain it joins.
pub(crate) const RUN_NAMES: &str = "SELECT playbook, host FROM runs WHERE id = $1";

/// The chain's head: (seq, chain hash).
pub(crate) const HEAD: &str = "SELECT head_seq, head_hash FROM run_chains WHERE playbook = $1 AND host = $2";

pub(crate) const SET_HEAD: &str = "INSERT INTO run_chains (playbook, host, head_seq, head_hash, head_run) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (playbook, host) \
     DO UPDATE SET head_seq = excluded.head_seq, head_hash = excluded.head_hash, head_run = excluded.head_run";

/// Per host, the newest chained run among those a prune is about to remove
/// (`$2`, `$3`: the prune bound), and how many chained runs go; in host order, so
/// concurrent prunes lock anchors in one order.
pub(crate) const DOOMED_LINKS: &str = "SELECT r.host, r.chain_seq, r.chain_hash, c.n FROM runs r \
     JOIN (SELECT host, MAX(chain_seq) AS top, COUNT(*) AS n FROM runs WHERE playbook = $1 \
     AND (started_at < $2 OR (started_at = $2 AND id < $3)) AND chain_seq IS NOT NULL GROUP BY host) c \
     ON r.host = c.host AND r.chain_seq = c.top WHERE r.playbook = $1 ORDER BY r.host";

/// Moves a chain's anchor forward to the newest pruned run (never back), counting what went.
pub(crate) const SET_ANCHOR: &str = "INSERT INTO run_chain_anchors (playbook, host, seq, hash, pruned) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (playbook, host) DO UPDATE SET \
     hash = CASE WHEN run_chain_anchors.seq < excluded.seq THEN excluded.hash ELSE run_chain_anchors.hash END, \
     seq = CASE WHEN run_chain_anchors.seq < excluded.seq THEN excluded.seq ELSE run_chain_anchors.seq END, \
     pruned = run_chain_anchors.pruned + excluded.pruned";

#[cfg(test)]
mod tests {
    use super::*;

    fn link<'a>(playbook: &'a str, host: &'a str) -> Linked<'a> {
        Linked {
            prev_hash: GENESIS,
            seq: 1,
            id: 7,
            playbook,
            host,
            status: "complete",
            verdict: "pass",
            started_at: 1,
            finished_at: 2,
            record_hash: "ab",
            signature: None,
        }
    }

    #[test]
    fn every_field_changes_the_hash_and_fields_cannot_run_together() {
        let base = link("nightly", "db1").chain_hash();
        assert_eq!(base.len(), 64);
        assert_eq!(base, link("nightly", "db1").chain_hash());
        // "nightly"+"db1" and "nightlyd"+"b1" would collide without length prefixes.
        assert_ne!(base, link("nightlyd", "b1").chain_hash());
        let mut signed = link("nightly", "db1");
        signed.signature = Some("sig");
        assert_ne!(base, signed.chain_hash());
        let mut later = link("nightly", "db1");
        later.seq = 2;
        assert_ne!(base, later.chain_hash());
        assert_ne!(lock_key("a", "bc"), lock_key("ab", "c"));
    }

    #[test]
    fn record_hash_is_sha256_hex() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
