//! The validator set of every epoch this node knows, as signing schemes.
//!
//! Epoch 0 runs with the genesis set. The last block of epoch `e` carries the set of `e + 1`
//! (see `block::Block::next_validators`; empty means unchanged), so a node learns each set
//! from a finalized block it verified with the previous set — a chain of trust from genesis.
//! Learned sets are persisted, so a restarted node resumes in its epoch without the blocks.
//! [`EpochSets`] is also the certificate provider marshal and the probe verify with: a
//! finalization from an epoch whose set is unknown here is ignored rather than trusted.

use caspur_app::validators::Validator;
use commonware_codec::{DecodeExt as _, RangeCfg};
use commonware_consensus::simplex::scheme::ed25519::Scheme;
use commonware_consensus::types::{Epoch, Epocher as _, FixedEpocher, Height};
use commonware_cryptography::certificate::{Provider, Scoped};
use commonware_cryptography::{ed25519, Signer as _};
use commonware_runtime::{Clock, Metrics, Storage};
use commonware_storage::metadata::{self, Metadata};
use commonware_utils::{ordered::Set, sequence::U64};
use std::collections::BTreeMap;
use std::num::NonZeroU64;
use std::sync::{Arc, RwLock};

#[derive(Clone)]
struct Known {
    validators: Vec<Validator>,
    scheme: Arc<Scheme>,
}

/// Every known epoch's validator set (shared: cloning shares it).
#[derive(Clone)]
pub struct EpochSets {
    namespace: Arc<[u8]>,
    /// Our key if this node votes whenever it is in a set; `None` for a full node.
    signer: Option<ed25519::PrivateKey>,
    known: Arc<RwLock<BTreeMap<u64, Known>>>,
}

/// The ed25519 key of a set member, or why it is not one.
pub fn public_key(v: &Validator) -> Result<ed25519::PublicKey, String> {
    ed25519::PublicKey::decode(v.pub_key.to_vec()).map_err(|e| {
        format!(
            "validator {} is not an ed25519 key: {e}",
            hex::encode(v.pub_key)
        )
    })
}

/// The members' keys as an ordered set.
pub fn key_set(validators: &[Validator]) -> Result<Set<ed25519::PublicKey>, String> {
    let keys = validators
        .iter()
        .map(public_key)
        .collect::<Result<Vec<_>, _>>()?;
    Set::try_from(keys).map_err(|_| "duplicate keys in a validator set".to_string())
}

/// The known sets looked up by block height (what RPC's `validators` reports).
#[derive(Clone)]
pub struct SetsByHeight {
    sets: EpochSets,
    epocher: FixedEpocher,
    initial_height: u64,
}

impl SetsByHeight {
    /// A view of `sets` for epochs of `epoch_length` blocks, on a chain whose first block is 1.
    pub fn new(sets: EpochSets, epoch_length: NonZeroU64) -> Self {
        SetsByHeight {
            sets,
            epocher: FixedEpocher::new(epoch_length),
            initial_height: 1,
        }
    }

    /// This view for a chain whose first block is `initial_height` (genesis `initial_height`).
    pub fn starting_at(mut self, initial_height: u64) -> Self {
        self.initial_height = initial_height;
        self
    }

    /// The set that finalizes block `height` (a chain height), if this node knows its epoch's
    /// set.
    pub fn at(&self, height: u64) -> Option<Vec<Validator>> {
        let engine = crate::application::engine_height(self.initial_height, height)?;
        let info = self.epocher.containing(Height::new(engine))?;
        self.sets.validators(info.epoch())
    }
}

impl EpochSets {
    /// Sets starting with `genesis` for epoch 0; `signer` votes in every epoch whose set
    /// contains its key (`None`: never votes).
    pub fn new(
        namespace: &[u8],
        signer: Option<ed25519::PrivateKey>,
        genesis: Vec<Validator>,
    ) -> Result<Self, String> {
        let sets = EpochSets {
            namespace: namespace.into(),
            signer,
            known: Arc::default(),
        };
        sets.insert(Epoch::zero(), genesis)?;
        Ok(sets)
    }

    /// Records the set of `epoch` (kept in canonical order).
    pub fn insert(&self, epoch: Epoch, validators: Vec<Validator>) -> Result<(), String> {
        let validators =
            caspur_app::validators::canonical(validators).map_err(|e| e.to_string())?;
        let keys = key_set(&validators)?;
        let scheme = self
            .signer
            .clone()
            .and_then(|s| Scheme::signer(&self.namespace, keys.clone(), s))
            .unwrap_or_else(|| Scheme::verifier(&self.namespace, keys));
        let known = Known {
            validators,
            scheme: Arc::new(scheme),
        };
        self.known
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(epoch.get(), known);
        Ok(())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<u64, Known>> {
        self.known.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The set of `epoch`, if known.
    pub fn validators(&self, epoch: Epoch) -> Option<Vec<Validator>> {
        self.read().get(&epoch.get()).map(|k| k.validators.clone())
    }

    /// The scheme of `epoch` (a signer if we vote in it), if its set is known.
    pub fn scheme(&self, epoch: Epoch) -> Option<Scheme> {
        self.read().get(&epoch.get()).map(|k| (*k.scheme).clone())
    }

    /// The latest epoch whose set is known, and that set.
    pub fn latest(&self) -> (Epoch, Vec<Validator>) {
        let known = self.read();
        // Epoch 0 is always known (inserted at construction).
        known
            .iter()
            .next_back()
            .map_or((Epoch::zero(), Vec::new()), |(epoch, k)| {
                (Epoch::new(*epoch), k.validators.clone())
            })
    }

    /// Whether this node votes in `epoch`.
    pub fn votes_in(&self, epoch: Epoch) -> bool {
        let Some(me) = self.signer.as_ref().map(|s| s.public_key()) else {
            return false;
        };
        self.validators(epoch)
            .is_some_and(|set| set.iter().any(|v| v.pub_key.as_slice() == me.as_ref()))
    }

    /// Learns `epoch + 1`'s set from the last block of `epoch`: the block's list, or the
    /// same set when the list is empty. Returns the new set.
    pub fn learn_next(
        &self,
        epoch: Epoch,
        carried: &[Validator],
    ) -> Result<Vec<Validator>, String> {
        let next = if carried.is_empty() {
            self.validators(epoch)
                .ok_or_else(|| format!("the set of epoch {} is unknown", epoch.get()))?
        } else {
            carried.to_vec()
        };
        self.insert(epoch.next(), next)?;
        self.validators(epoch.next())
            .ok_or_else(|| "a set vanished after insertion".to_string())
    }
}

impl Provider for EpochSets {
    type Scope = Epoch;
    type Scheme = Scheme;

    fn scoped(&self, epoch: Epoch) -> Option<Scoped<Scheme>> {
        self.read()
            .get(&epoch.get())
            .map(|k| Scoped::scheme(k.scheme.clone()))
    }
}

/// Where learned sets persist (one record per epoch after 0).
pub struct SetStore<E: Clock + Storage + Metrics> {
    store: Option<Metadata<E, U64, Vec<u8>>>,
}

impl<E: Clock + Storage + Metrics> SetStore<E> {
    /// Opens the store under `prefix` and loads every record into `sets`.
    pub async fn open(context: E, prefix: &str, sets: &EpochSets) -> Result<Self, String> {
        let store: Metadata<E, U64, Vec<u8>> = Metadata::init(
            context,
            metadata::Config {
                partition: format!("{prefix}-validator-sets"),
                codec_config: (
                    RangeCfg::from(0..=caspur_app::validators::MAX_VALIDATORS * 40),
                    (),
                ),
            },
        )
        .await
        .map_err(|e| format!("cannot open the validator set store: {e}"))?;
        for key in store.keys() {
            let Some(bytes) = store.get(key) else {
                continue;
            };
            let set = caspur_app::validators::decode(bytes)
                .map_err(|e| format!("validator set of epoch {}: {e}", u64::from(key)))?;
            sets.insert(Epoch::new(u64::from(key)), set)?;
        }
        Ok(SetStore { store: Some(store) })
    }

    /// Persists the set of `epoch` (a disk failure here is fatal, like any storage failure).
    #[allow(
        clippy::expect_used,
        clippy::panic,
        reason = "a disk fault persisting consensus data stops the node (the write did not complete, nothing committed is lost)"
    )]
    pub async fn record(&mut self, epoch: Epoch, validators: &[Validator]) {
        let store = self
            .store
            .take()
            .expect("store is put back after every write");
        let bytes = caspur_app::validators::encode(validators);
        match store.put_sync(U64::new(epoch.get()), bytes).await {
            Ok(store) => self.store = Some(store),
            Err(e) => panic!("persisting the validator set of epoch {}: {e}", epoch.get()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_cryptography::certificate::Scheme as _;

    fn member(seed: u64) -> (ed25519::PrivateKey, Validator) {
        let key = ed25519::PrivateKey::from_seed(seed);
        let mut pub_key = [0; 32];
        pub_key.copy_from_slice(key.public_key().as_ref());
        (key, Validator { pub_key, power: 1 })
    }

    #[test]
    fn learns_sets_and_votes_only_where_its_key_is_a_member() {
        let (k0, v0) = member(0);
        let (_, v1) = member(1);
        let sets = EpochSets::new(b"ns", Some(k0), vec![v0, v1]).unwrap();
        assert!(sets.votes_in(Epoch::zero()));
        let genesis = caspur_app::validators::canonical(vec![v0, v1]).unwrap();
        assert_eq!(sets.validators(Epoch::zero()), Some(genesis.clone()));
        // An empty list carries the set over.
        sets.learn_next(Epoch::zero(), &[]).unwrap();
        assert_eq!(sets.validators(Epoch::new(1)), Some(genesis));
        sets.learn_next(Epoch::new(1), &[v1]).unwrap();
        assert!(!sets.votes_in(Epoch::new(2)));
        assert_eq!(sets.latest(), (Epoch::new(2), vec![v1]));
        assert_eq!(sets.scheme(Epoch::new(2)).unwrap().participants().len(), 1);
        assert!(sets.scoped(Epoch::new(3)).is_none());
        assert!(sets.learn_next(Epoch::new(7), &[]).is_err());
    }

    #[test]
    fn sets_by_height_follow_the_epoch_boundaries_consensus_uses() {
        let (_, v0) = member(0);
        let (_, v1) = member(1);
        let sets = EpochSets::new(b"ns", None, vec![v0]).unwrap();
        let by_height = SetsByHeight::new(sets.clone(), NonZeroU64::new(10).unwrap());
        let epocher = FixedEpocher::new(NonZeroU64::new(10).unwrap());
        let last_of_first = (1..100)
            .find(|h| crate::epochs::ends_epoch(&epocher, *h))
            .unwrap();
        assert_eq!(by_height.at(1), Some(vec![v0]));
        assert_eq!(by_height.at(last_of_first), Some(vec![v0]));
        // The next epoch's set is unknown until its boundary block is learned.
        assert_eq!(by_height.at(last_of_first + 1), None);
        sets.learn_next(Epoch::zero(), &[v1]).unwrap();
        assert_eq!(by_height.at(last_of_first), Some(vec![v0]));
        assert_eq!(by_height.at(last_of_first + 1), Some(vec![v1]));
        assert_eq!(by_height.at(last_of_first + 10), Some(vec![v1]));
        assert_eq!(by_height.at(last_of_first + 11), None);
    }
}
