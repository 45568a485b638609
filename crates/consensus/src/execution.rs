//! Runs the state machine on a QMDB batch and seals the result.

use crate::block::{Digest, SyncTarget};
use crate::faults::StateFaults;
#[cfg(doc)]
use caspur_app::encode_results;
use caspur_app::validators::{self, Validator};
use caspur_app::{App, BlockInfo, ConsensusReport, TxResult};
use caspur_store::qmdb::{apply_writes, BatchState, StateBatch, StateMerkleized};
use caspur_store::{Overlay, StoreError};
use commonware_cryptography::{Hasher, Sha256};
use commonware_glue::stateful::db::Unmerkleized as _;
use commonware_runtime::Spawner;
use commonware_storage::Context as StorageContext;
use commonware_utils::non_empty_range;

/// A block's execution: sealed state and tx results.
pub struct Executed<E: StorageContext + Spawner> {
    /// The merkleized state batch.
    pub merkleized: StateMerkleized<E>,
    /// Tx results.
    pub results: Vec<TxResult>,
    /// Hash of the encoded results.
    pub results_hash: Digest,
    /// The next epoch's set, when the block ends an epoch and the app chose one.
    pub next_validators: Vec<Validator>,
}

impl<E: StorageContext + Spawner> Executed<E> {
    /// The canonical state root (app hash).
    pub fn state_root(&self) -> Digest {
        commonware_glue::stateful::db::Merkleized::root(&self.merkleized)
    }

    /// The sync target glue checks against the block.
    pub fn target(&self) -> SyncTarget {
        sync_target(&self.merkleized)
    }
}

/// The sync target of a merkleized batch (what glue's `matches_sync_target` compares).
pub fn sync_target<E: StorageContext + Spawner>(m: &StateMerkleized<E>) -> SyncTarget {
    SyncTarget::new(
        m.ops_root(),
        non_empty_range!(m.sync_boundary(), m.bounds().tip.size),
    )
}

/// Hash of a block's encoded results ([`encode_results`]).
pub fn results_hash(encoded_results: &[u8]) -> Digest {
    Sha256::hash(&[encoded_results])
}

/// What running the state machine on a block produced, before sealing: results, the hash of
/// their encoding, the next epoch's set and the writes.
type Run = (
    Vec<TxResult>,
    Digest,
    Vec<Validator>,
    caspur_store::WriteSet,
);

/// Runs the state machine on an overlay of `batch`: results, the next epoch's set (for an
/// epoch's last block) and the writes, with nothing sealed yet.
async fn run<E: StorageContext + Spawner>(
    app: &App,
    info: &BlockInfo,
    report: &ConsensusReport,
    txs: &[Vec<u8>],
    batch: &StateBatch<E>,
    ends_epoch: bool,
    faults: &StateFaults,
) -> Result<Run, StoreError> {
    let mut overlay = Overlay::new(faults.wrap(BatchState(batch), info.height));
    let (results, encoded) = app
        .execute_block_encoded(&mut overlay, info, report, txs)
        .await?;
    let next = if ends_epoch {
        validators::next_set(&overlay).await?.unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok((results, results_hash(&encoded), next, overlay.into_writes()))
}

async fn seal<E: StorageContext + Spawner>(
    batch: StateBatch<E>,
    (results, results_hash, next_validators, writes): Run,
) -> Result<Executed<E>, StoreError> {
    let merkleized = apply_writes(batch, writes)
        .merkleize()
        .await
        .map_err(|e| StoreError(e.to_string()))?;
    Ok(Executed {
        merkleized,
        results,
        results_hash,
        next_validators,
    })
}

/// Executes `txs` as block `info` (with what consensus reports about it) on `batch`; for the
/// last block of an epoch (`ends_epoch`) also reads the validator set the app chose for the
/// next one.
pub async fn execute<E: StorageContext + Spawner>(
    app: &App,
    info: &BlockInfo,
    report: &ConsensusReport,
    txs: &[Vec<u8>],
    batch: StateBatch<E>,
    ends_epoch: bool,
    faults: &StateFaults,
) -> Result<Executed<E>, StoreError> {
    let run = run(app, info, report, txs, &batch, ends_epoch, faults).await?;
    seal(batch, run).await
}

/// Whether a block's results include a barred tx (`TxResult::bars_block`: refused by the
/// circuit breaker, or over a structural bound): such a block is invalid — no such tx is ever
/// committed, not even as a failure.
pub fn carries_barred(results: &[TxResult]) -> bool {
    results.iter().any(TxResult::bars_block)
}

/// [`execute`] for a proposal: barred txs (including routes broken earlier in this very block)
/// are left out and the rest executed again; returns the txs kept.
pub async fn execute_proposal<E: StorageContext + Spawner>(
    app: &App,
    info: &BlockInfo,
    report: &ConsensusReport,
    mut txs: Vec<Vec<u8>>,
    batch: StateBatch<E>,
    ends_epoch: bool,
    faults: &StateFaults,
) -> Result<(Executed<E>, Vec<Vec<u8>>), StoreError> {
    loop {
        let run = run(app, info, report, &txs, &batch, ends_epoch, faults).await?;
        if !carries_barred(&run.0) {
            return Ok((seal(batch, run).await?, txs));
        }
        let mut barred = run.0.iter().map(TxResult::bars_block);
        txs.retain(|_| barred.next() != Some(true));
    }
}
