//! The authenticated, persistent store: a Commonware QMDB (`current::ordered::variable`) with
//! byte-string keys and values, managed by `commonware-glue`'s `stateful` actor.
//!
//! This module is the only place outside the consensus crate that names Commonware storage
//! types. It gives the state machine [`StateRead`] views of a speculative batch
//! ([`BatchState`]) and of committed state ([`CommittedState`]).

use crate::{Proven, StateProve, StateRead, StateScan, StoreError, WriteSet};
use commonware_cryptography::Sha256;
use commonware_glue::stateful::db::{DatabaseSet, Shared};
use commonware_parallel::Sequential;
use commonware_runtime::{buffer::paged::CacheRef, Spawner};
use commonware_storage::{
    journal::contiguous::variable::Config as VariableJournalConfig,
    merkle::{full::Config as MerkleConfig, mmr},
    qmdb::current::{ordered::variable, VariableConfig},
    translator::EightCap,
    Context as StorageContext,
};
use commonware_utils::{NZUsize, NZU64};
use futures::StreamExt;

/// Upper bound on a stored key's length; keys are built by [`crate::keys`].
pub const MAX_KEY_LEN: usize = 1024;
/// Upper bound on a stored value's length.
pub const MAX_VALUE_LEN: usize = 4 * 1024 * 1024;

/// The concrete database: ordered (so queries can scan prefixes and prove absence), with
/// variable-size values. Keys start with a module byte and a kind byte followed by
/// length-delimited parts; capping at eight bytes keeps several bytes of address entropy.
pub type StateDb<E> =
    variable::Db<mmr::Family, E, Vec<u8>, Vec<u8>, Sha256, EightCap, 32, Sequential>;

/// The database as glue manages it.
pub type StateSet<E> = Shared<StateDb<E>>;
/// A speculative batch forked from a parent block's state.
pub type StateBatch<E> = <StateSet<E> as DatabaseSet<E>>::Unmerkleized;
/// A sealed batch with its root.
pub type StateMerkleized<E> = <StateSet<E> as DatabaseSet<E>>::Merkleized;
/// The sync target committed by each block.
pub type StateSyncTarget<E> = <StateSet<E> as DatabaseSet<E>>::SyncTargets;

/// Storage configuration for the state database, with partitions named after `prefix`.
pub fn config(
    prefix: &str,
    page_cache: CacheRef,
) -> VariableConfig<EightCap, <StateOp as commonware_codec::Read>::Cfg, Sequential> {
    VariableConfig {
        merkle_config: MerkleConfig {
            journal_partition: format!("{prefix}-state-mmr-journal"),
            metadata_partition: format!("{prefix}-state-mmr-metadata"),
            items_per_blob: NZU64!(4096),
            write_buffer: NZUsize!(1 << 20),
            replay_buffer: NZUsize!(1 << 20),
            strategy: Sequential,
            page_cache: page_cache.clone(),
        },
        journal_config: VariableJournalConfig {
            partition: format!("{prefix}-state-log"),
            items_per_section: NZU64!(4096),
            compression: None,
            codec_config: op_codec_config(),
            page_cache,
            write_buffer: NZUsize!(1 << 20),
            replay_buffer: NZUsize!(1 << 20),
        },
        grafted_metadata_partition: format!("{prefix}-state-grafted"),
        translator: EightCap,
        init_cache: Some(NZUsize!(1 << 16)),
        init_buffer: NZUsize!(1 << 21),
        init_concurrency: (),
    }
}

/// The bounds a decoded state operation must respect (key and value lengths).
pub fn op_codec_config() -> <StateOp as commonware_codec::Read>::Cfg {
    (
        ((0..=MAX_KEY_LEN).into(), ()),
        ((0..=MAX_VALUE_LEN).into(), ()),
    )
}

/// The operation type stored in the state log.
pub type StateOp =
    commonware_storage::qmdb::any::ordered::variable::Operation<mmr::Family, Vec<u8>, Vec<u8>>;

/// Applies a block's sorted writes to a batch.
pub fn apply_writes<E>(mut batch: StateBatch<E>, writes: WriteSet) -> StateBatch<E>
where
    E: StorageContext + Spawner,
{
    for (key, value) in writes {
        batch = batch.write(key, value);
    }
    batch
}

/// A read view of a speculative batch.
pub struct BatchState<'a, E: StorageContext + Spawner>(pub &'a StateBatch<E>);

impl<E: StorageContext + Spawner> StateRead for BatchState<'_, E> {
    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.0
            .get(&key.to_vec())
            .await
            .map_err(|e| StoreError(e.to_string()))
    }
}

/// A read view of an open state database (e.g. behind glue's read guard).
pub struct DbState<'a, E: StorageContext + Spawner>(pub &'a StateDb<E>);

impl<E: StorageContext + Spawner> StateRead for DbState<'_, E> {
    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.0
            .get(&key.to_vec())
            .await
            .map_err(|e| StoreError(e.to_string()))
    }
}

/// A read view of the latest committed (finalized and applied) state.
#[derive(Clone)]
pub struct CommittedState<E: StorageContext + Spawner>(pub StateSet<E>);

impl<E: StorageContext + Spawner> StateRead for CommittedState<E> {
    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let db = self.0.read().await;
        db.get(&key.to_vec())
            .await
            .map_err(|e| StoreError(e.to_string()))
    }
}

impl<E: StorageContext + Spawner> StateScan for CommittedState<E> {
    async fn scan_prefix(&self, prefix: &[u8], limit: usize) -> Result<crate::Rows, StoreError> {
        let db = self.0.read().await;
        scan(&db, prefix, limit).await
    }
}

/// A state database driven directly, one write set per block, without glue: used to replay a
/// chain's blocks into a fresh store and check that every app hash comes out the same.
pub struct DirectStore<E: StorageContext + Spawner> {
    db: Option<StateDb<E>>,
}

/// The digest type of state roots.
pub type Root = commonware_cryptography::sha256::Digest;

impl<E: StorageContext + Spawner> DirectStore<E> {
    /// Opens (or creates) the database under `prefix`.
    pub async fn open(context: E, prefix: &str) -> Result<Self, StoreError> {
        Self::open_at(context, prefix, None).await
    }

    /// Opens the database at the latest commit with at most `max_ops` operations (a block's
    /// state size), discarding later commits; `None` opens the latest state.
    pub async fn open_at(
        context: E,
        prefix: &str,
        max_ops: Option<u64>,
    ) -> Result<Self, StoreError> {
        let page_cache = CacheRef::new(commonware_utils::NZU16!(4096), NZUsize!(1024));
        let bound = max_ops.map(commonware_storage::merkle::Location::new);
        let db = StateDb::init(context, config(prefix, page_cache), bound)
            .await
            .map_err(|e| StoreError(e.to_string()))?;
        Ok(DirectStore { db: Some(db) })
    }

    /// The canonical root of the current state.
    pub fn root(&self) -> Result<Root, StoreError> {
        Ok(self.db()?.root())
    }

    /// Makes the current state durable.
    pub async fn persist(&mut self) -> Result<(), StoreError> {
        let db = self
            .db
            .take()
            .ok_or_else(|| StoreError("database lost by a failed apply".into()))?;
        self.db = Some(db.commit().await.map_err(|e| StoreError(e.to_string()))?);
        Ok(())
    }

    fn db(&self) -> Result<&StateDb<E>, StoreError> {
        self.db
            .as_ref()
            .ok_or_else(|| StoreError("database lost by a failed apply".into()))
    }

    /// Applies one block's writes, durably, and returns the new canonical root.
    pub async fn apply(&mut self, writes: WriteSet) -> Result<Root, StoreError> {
        let err = |e: commonware_storage::qmdb::Error<mmr::Family>| StoreError(e.to_string());
        let db = self
            .db
            .take()
            .ok_or_else(|| StoreError("database lost by a failed apply".into()))?;
        let mut batch = db.new_batch();
        for (key, value) in writes {
            batch = batch.write(key, value);
        }
        let merkleized = batch
            .merkleize(
                &db,
                None,
                &mut commonware_storage::qmdb::floor::Proportional,
            )
            .await
            .map_err(err)?;
        let root = merkleized.root();
        let db = db.apply_batch(merkleized).await.map_err(err)?;
        let db = db.commit().await.map_err(err)?;
        self.db = Some(db);
        Ok(root)
    }
}

impl<E: StorageContext + Spawner> StateRead for DirectStore<E> {
    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.db()?
            .get(&key.to_vec())
            .await
            .map_err(|e| StoreError(e.to_string()))
    }
}

impl<E: StorageContext + Spawner> StateScan for DirectStore<E> {
    async fn scan_prefix(&self, prefix: &[u8], limit: usize) -> Result<crate::Rows, StoreError> {
        scan(self.db()?, prefix, limit).await
    }
}

async fn scan<E: StorageContext + Spawner>(
    db: &StateDb<E>,
    prefix: &[u8],
    limit: usize,
) -> Result<crate::Rows, StoreError> {
    let stream = db.stream_range(prefix.to_vec()..);
    futures::pin_mut!(stream);
    let mut out = Vec::new();
    while let Some(item) = stream.next().await {
        let (k, v) = item.map_err(|e| StoreError(e.to_string()))?;
        if !k.starts_with(prefix) || out.len() >= limit {
            break;
        }
        out.push((k, v));
    }
    Ok(out)
}

/// Proof that a key holds a value in the state with a given root.
pub type InclusionProof =
    commonware_storage::qmdb::current::ordered::proof::constant::KeyValueProof<
        mmr::Family,
        Vec<u8>,
        Root,
        32,
    >;
/// Proof that a key is absent from the state with a given root.
pub type ExclusionProof =
    commonware_storage::qmdb::current::ordered::proof::constant::ExclusionProof<
        mmr::Family,
        Vec<u8>,
        commonware_storage::qmdb::any::value::VariableEncoding<Vec<u8>>,
        Root,
        32,
    >;

/// Most digests a decoded proof may carry (bounds decoding of untrusted proofs).
const MAX_PROOF_DIGESTS: usize = 4096;

const TAG_INCLUSION: u8 = 1;
const TAG_EXCLUSION: u8 = 2;

/// Proves `key` in `db`: a tag byte (1 = inclusion, 2 = exclusion) followed by the Commonware
/// encoding of the QMDB proof.
async fn prove_in<E: StorageContext + Spawner>(
    db: &StateDb<E>,
    key: &[u8],
) -> Result<Proven, StoreError> {
    use commonware_codec::Encode as _;
    let err = |e: commonware_storage::qmdb::Error<mmr::Family>| StoreError(e.to_string());
    let mut root = [0u8; 32];
    root.copy_from_slice(db.root().as_ref());
    let key = key.to_vec();
    match db.get(&key).await.map_err(err)? {
        Some(value) => {
            let p: InclusionProof = db.key_value_proof(key).await.map_err(err)?;
            let mut proof = vec![TAG_INCLUSION];
            proof.extend_from_slice(&p.encode());
            Ok(Proven {
                value: Some(value),
                proof,
                root,
            })
        }
        None => {
            let p: ExclusionProof = db.exclusion_proof(&key).await.map_err(err)?;
            let mut proof = vec![TAG_EXCLUSION];
            proof.extend_from_slice(&p.encode());
            Ok(Proven {
                value: None,
                proof,
                root,
            })
        }
    }
}

impl<E: StorageContext + Spawner> StateProve for CommittedState<E> {
    async fn prove(&self, key: &[u8]) -> Result<Proven, StoreError> {
        let db = self.0.read().await;
        prove_in(&db, key).await
    }
}

impl<E: StorageContext + Spawner> StateProve for DirectStore<E> {
    async fn prove(&self, key: &[u8]) -> Result<Proven, StoreError> {
        prove_in(self.db()?, key).await
    }
}

/// Checks an encoded proof that `key` holds `value` (or, with `None`, is absent) under `root`.
/// Untrusted input: malformed proofs are simply invalid.
pub fn verify_proof(key: &[u8], value: Option<&[u8]>, proof: &[u8], root: &[u8; 32]) -> bool {
    let root = Root::from(*root);
    let root = &root;
    use commonware_codec::Decode as _;
    let Some((tag, body)) = proof.split_first() else {
        return false;
    };
    let key_cfg = ((0..=MAX_KEY_LEN).into(), ());
    let value_cfg = ((0..=MAX_VALUE_LEN).into(), ());
    match (*tag, value) {
        (TAG_INCLUSION, Some(value)) => {
            match InclusionProof::decode_cfg(body.to_vec(), &(MAX_PROOF_DIGESTS, key_cfg)) {
                Ok(p) => p.verify::<Sha256, commonware_storage::qmdb::any::value::VariableEncoding<Vec<u8>>>(
                    key.to_vec(),
                    value.to_vec(),
                    root,
                ),
                _ => false,
            }
        }
        (TAG_EXCLUSION, None) => {
            match ExclusionProof::decode_cfg(
                body.to_vec(),
                &(MAX_PROOF_DIGESTS, (key_cfg, value_cfg), value_cfg),
            ) {
                Ok(p) => p.verify::<Sha256>(&key.to_vec(), root),
                _ => false,
            }
        }
        _ => false,
    }
}
