//! Signatures this node verified when it admitted a tx to its mempool, so executing the block
//! that carries the tx does not verify them again: every validator used to verify each tx's
//! signatures twice, in CheckTx and in execution.
//!
//! Node-local and outside consensus, yet it cannot change an outcome: a signature's validity
//! is a pure function of (key, sign doc, signature), and a signer's sign doc is fixed by the
//! tx bytes (their hash), the chain id and the account number. An entry records a *valid*
//! signature for (tx hash, signer index) with the account number and key it was verified
//! against; execution skips the verification only when the account number and key it would
//! use are exactly those ([`crate::prepare::Ticket::valid_for`]). Invalid signatures are never
//! recorded, so a tx can only be spared work it would pass.

use crate::prepare::Ticket;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

/// Most signatures remembered (the oldest go first): a mempool's worth of txs with room for
/// the blocks in flight.
pub const SIG_CACHE_CAPACITY: usize = 20_000;

type Key = ([u8; 32], usize);

#[derive(Default)]
struct Inner {
    /// (tx hash, signer index) → (account number, key) it verified against.
    verified: BTreeMap<Key, (u64, [u8; 33])>,
    /// Insertion order, for eviction.
    order: VecDeque<Key>,
}

/// Valid signatures this node verified, by tx hash and signer index.
#[derive(Default)]
pub struct VerifiedSigs(Mutex<Inner>);

impl std::fmt::Debug for VerifiedSigs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedSigs")
            .field("len", &self.lock().verified.len())
            .finish()
    }
}

impl VerifiedSigs {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records the signatures of tx `tx_hash` that the ante handler verified (`tickets`: one
    /// per signer, in order; a ticket still pending on a verifier is left out).
    pub fn record(&self, tx_hash: [u8; 32], tickets: &[Ticket]) {
        let mut inner = self.lock();
        for (signer, t) in tickets.iter().enumerate() {
            if t.verifier.is_some() {
                continue;
            }
            let key = (tx_hash, signer);
            if inner
                .verified
                .insert(key, (t.account_number, t.pubkey))
                .is_none()
            {
                inner.order.push_back(key);
            }
        }
        while inner.order.len() > SIG_CACHE_CAPACITY {
            if let Some(old) = inner.order.pop_front() {
                inner.verified.remove(&old);
            }
        }
    }

    /// Whether signer `signer` of tx `tx_hash` was verified valid against exactly
    /// `account_number` and `pubkey`.
    pub fn contains(
        &self,
        tx_hash: &[u8; 32],
        signer: usize,
        account_number: u64,
        pubkey: &[u8; 33],
    ) -> bool {
        self.lock()
            .verified
            .get(&(*tx_hash, signer))
            .is_some_and(|(n, k)| *n == account_number && k == pubkey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_what_was_verified_against_which_account_and_key() {
        let sigs = VerifiedSigs::default();
        sigs.record([1; 32], &[Ticket::verified(7, [2; 33])]);
        assert!(sigs.contains(&[1; 32], 0, 7, &[2; 33]));
        assert!(
            !sigs.contains(&[1; 32], 0, 8, &[2; 33]),
            "another account number"
        );
        assert!(!sigs.contains(&[1; 32], 0, 7, &[3; 33]), "another key");
        assert!(!sigs.contains(&[1; 32], 1, 7, &[2; 33]), "another signer");
        assert!(!sigs.contains(&[9; 32], 0, 7, &[2; 33]), "another tx");
    }

    #[test]
    fn forgets_the_oldest_beyond_its_capacity() {
        let sigs = VerifiedSigs::default();
        for i in 0..=SIG_CACHE_CAPACITY as u32 {
            let mut hash = [0; 32];
            hash[..4].copy_from_slice(&i.to_be_bytes());
            sigs.record(hash, &[Ticket::verified(1, [2; 33])]);
        }
        assert_eq!(sigs.lock().verified.len(), SIG_CACHE_CAPACITY);
        assert!(
            !sigs.contains(&[0; 32], 0, 1, &[2; 33]),
            "the first is gone"
        );
        let mut last = [0; 32];
        last[..4].copy_from_slice(&(SIG_CACHE_CAPACITY as u32).to_be_bytes());
        assert!(sigs.contains(&last, 0, 1, &[2; 33]));
    }
}
