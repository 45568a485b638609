//! The validator set the app hands to consensus.
//!
//! Consensus runs each epoch with a fixed set of ed25519 keys. The app decides the set of the
//! next epoch: whatever [`VALIDATORS_KEY`] holds after the last block of an epoch is executed
//! becomes the set from the following epoch on, and that block carries it so that every node
//! (and a node that syncs later) learns it with the block. While the key has never been
//! written, the genesis set stays. The staking module is the writer on a live chain; chains
//! and tests without staking may install a [`ValidatorSchedule`].

use caspur_store::{Overlay, StateRead, StoreError};
use std::sync::Arc;

/// State key of the validator set for the next epoch (absent: the genesis set stays).
pub const VALIDATORS_KEY: [u8; 2] = [0x00, 0x03];

/// Largest validator set consensus accepts (bounds the block codec and vote traffic).
pub const MAX_VALIDATORS: usize = 1_000;

const ENTRY_BYTES: usize = 32 + 8;

/// One member of a validator set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Validator {
    /// Consensus ed25519 public key (also the p2p identity).
    pub pub_key: [u8; 32],
    /// Voting power (> 0). Simplex counts one vote per member; power decides membership and is
    /// reported by RPC.
    pub power: u64,
}

/// Why a validator set is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetError {
    /// No member has power.
    #[error("a validator set needs at least one member")]
    Empty,
    /// More members than consensus supports.
    #[error("a validator set has at most {MAX_VALIDATORS} members, got {0}")]
    TooLarge(usize),
    /// A member without power.
    #[error("validator {0} has zero power")]
    ZeroPower(String),
    /// The same key twice.
    #[error("validator {0} appears twice")]
    Duplicate(String),
    /// Stored bytes that do not decode.
    #[error("corrupt validator set record")]
    Corrupt,
}

/// Checks a set and returns it sorted by key (the canonical order every node uses).
pub fn canonical(mut set: Vec<Validator>) -> Result<Vec<Validator>, SetError> {
    if set.is_empty() {
        return Err(SetError::Empty);
    }
    if set.len() > MAX_VALIDATORS {
        return Err(SetError::TooLarge(set.len()));
    }
    set.sort();
    for (i, v) in set.iter().enumerate() {
        if v.power == 0 {
            return Err(SetError::ZeroPower(hex::encode(v.pub_key)));
        }
        if i > 0 && set[i - 1].pub_key == v.pub_key {
            return Err(SetError::Duplicate(hex::encode(v.pub_key)));
        }
    }
    Ok(set)
}

/// Encodes a canonical set: per member, key then big-endian power.
pub fn encode(set: &[Validator]) -> Vec<u8> {
    let mut out = Vec::with_capacity(set.len() * ENTRY_BYTES);
    for v in set {
        out.extend_from_slice(&v.pub_key);
        out.extend_from_slice(&v.power.to_be_bytes());
    }
    out
}

/// Decodes what [`encode`] wrote and checks it is canonical.
pub fn decode(bytes: &[u8]) -> Result<Vec<Validator>, SetError> {
    if !bytes.len().is_multiple_of(ENTRY_BYTES) {
        return Err(SetError::Corrupt);
    }
    let set: Vec<Validator> = bytes
        .chunks_exact(ENTRY_BYTES)
        .map(|c| {
            let (key, power) = c.split_at(32);
            Validator {
                pub_key: key.try_into().unwrap_or([0; 32]),
                power: u64::from_be_bytes(power.try_into().unwrap_or([0; 8])),
            }
        })
        .collect();
    let sorted = canonical(set.clone())?;
    if sorted != set {
        return Err(SetError::Corrupt);
    }
    Ok(set)
}

/// The set for the next epoch, if one was ever written (else the genesis set stays).
pub async fn next_set<S: StateRead>(state: &S) -> Result<Option<Vec<Validator>>, StoreError> {
    match state.get(&VALIDATORS_KEY).await? {
        None => Ok(None),
        Some(bytes) => decode(&bytes)
            .map(Some)
            .map_err(|e| StoreError(format!("validator set in state: {e}"))),
    }
}

/// Makes `set` the validator set from the next epoch boundary on.
pub fn set_next<B: StateRead>(state: &mut Overlay<B>, set: Vec<Validator>) -> Result<(), SetError> {
    let set = canonical(set)?;
    state.put(VALIDATORS_KEY.to_vec(), encode(&set));
    Ok(())
}

/// A deterministic set-by-height rule for chains (and tests) without a staking module: after
/// block `h` executes, `Some(set)` becomes the next epoch's set.
pub type ValidatorSchedule = Arc<dyn Fn(u64) -> Option<Vec<Validator>> + Send + Sync>;

#[cfg(test)]
mod tests {
    use super::*;

    fn v(k: u8, power: u64) -> Validator {
        Validator {
            pub_key: [k; 32],
            power,
        }
    }

    #[test]
    fn canonical_sorts_and_rejects_bad_sets() {
        assert_eq!(
            canonical(vec![v(2, 1), v(1, 5)]),
            Ok(vec![v(1, 5), v(2, 1)])
        );
        assert_eq!(canonical(vec![]), Err(SetError::Empty));
        assert!(matches!(
            canonical(vec![v(1, 0)]),
            Err(SetError::ZeroPower(_))
        ));
        assert!(matches!(
            canonical(vec![v(1, 1), v(1, 2)]),
            Err(SetError::Duplicate(_))
        ));
        let big = (0..=MAX_VALIDATORS as u32)
            .map(|i| Validator {
                pub_key: {
                    let mut k = [0; 32];
                    k[..4].copy_from_slice(&i.to_be_bytes());
                    k
                },
                power: 1,
            })
            .collect();
        assert_eq!(canonical(big), Err(SetError::TooLarge(MAX_VALIDATORS + 1)));
    }

    #[test]
    fn encoding_round_trips_and_refuses_unsorted_or_truncated_bytes() {
        let set = vec![v(1, 5), v(2, u64::MAX)];
        assert_eq!(decode(&encode(&set)), Ok(set.clone()));
        let unsorted = encode(&[v(2, 1), v(1, 1)]);
        assert_eq!(decode(&unsorted), Err(SetError::Corrupt));
        assert_eq!(decode(&encode(&set)[..39]), Err(SetError::Corrupt));
        assert_eq!(decode(&[]), Err(SetError::Empty));
    }

    #[test]
    fn next_set_reads_what_set_next_wrote() {
        futures::executor::block_on(async {
            let mut state = Overlay::new(caspur_store::memory::MemState::default());
            assert_eq!(next_set(&state).await.unwrap(), None);
            set_next(&mut state, vec![v(3, 1), v(1, 2)]).unwrap();
            assert_eq!(
                next_set(&state).await.unwrap(),
                Some(vec![v(1, 2), v(3, 1)])
            );
            assert_eq!(set_next(&mut state, vec![]), Err(SetError::Empty));
        });
    }
}
