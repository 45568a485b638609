//! Caspur's glue `stateful` application: proposals pull txs from the mempool and execute them,
//! verification re-executes and compares every commitment, finalization hands the block and
//! its results to the node.

use crate::block::{Block, BlockContext, Digest};
use crate::evidence::{self, EvidencePool};
use crate::execution::{carries_barred, execute, execute_proposal};
use crate::faults::StateFaults;
use crate::pending_results::PendingResults;
use crate::seams::{BlockSink, ConsensusFacts, FinalizedBlock, TxSource};
use crate::upgrade_halt::UpgradeHalt;
use crate::validator_sets::EpochSets;
use caspur_app::{read_block_events, App, BlockInfo, ConsensusReport, TxResult};
use caspur_store::qmdb::{BatchState, DbState, StateSet, StateSyncTarget};
use commonware_codec::Encode as _;
use commonware_consensus::marshal::ancestry::Ancestry;
use commonware_consensus::simplex::scheme::ed25519::Scheme;
use commonware_consensus::types::{Epocher as _, FixedEpocher, Height};
use commonware_consensus::Heightable;
use commonware_cryptography::Digest as _;
use commonware_cryptography::Digestible;
use commonware_glue::stateful::{db::DatabaseSet, Application, Finality, Input, Proposed};
use commonware_runtime::{Clock, Spawner};
use commonware_storage::Context as StorageContext;
use futures::StreamExt;
use std::collections::BTreeSet;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tracing::{debug, error, warn};

/// How far ahead of the local clock a block's time may be before a verifier waits for its
/// clock to catch up (it never rejects for this: a clock rule may only delay a vote).
pub const MAX_CLOCK_DRIFT: Duration = Duration::from_millis(500);

/// The application handed to glue.
#[derive(Clone)]
pub struct ChainApp {
    app: Arc<App>,
    genesis: Block,
    block_time: Duration,
    max_block_bytes: usize,
    sink: Arc<dyn BlockSink>,
    /// Height of the last block handed to the sink (proposals skip txs of later ancestors).
    finalized_height: Arc<AtomicU64>,
    /// Epoch boundaries: an epoch's last block carries the next epoch's validator set.
    epocher: FixedEpocher,
    /// Every epoch's validator set, to check the evidence blocks carry.
    sets: EpochSets,
    /// Certificates and fault proofs simplex reported (filled by the engine's reporter).
    evidence: EvidencePool,
    /// Leave out txs the circuit breaker refuses (always, except to simulate a byzantine
    /// proposer in tests).
    pub filter_refused_txs: bool,
    /// Raised instead of executing a block an upgrade this binary lacks is due at.
    pub halt: UpgradeHalt,
    /// Holds the first proposal after a start until the other validators are up.
    pub presence: crate::presence::Presence,
    /// The results of executed blocks, until finalization hands them to the node.
    pub pending_results: PendingResults,
    /// Storage-fault injection under execution (tests; disarmed otherwise).
    pub state_faults: StateFaults,
}

impl ChainApp {
    /// An application executing with `app`, starting from `genesis`, proposing at most one block
    /// per `block_time`, in epochs of `epoch_length` blocks whose validator sets are `sets`.
    pub fn new(
        app: Arc<App>,
        genesis: Block,
        block_time: Duration,
        max_block_bytes: usize,
        sink: Arc<dyn BlockSink>,
        epoch_length: NonZeroU64,
        sets: EpochSets,
    ) -> Self {
        ChainApp {
            app,
            genesis,
            block_time,
            max_block_bytes,
            sink,
            finalized_height: Arc::default(),
            epocher: FixedEpocher::new(epoch_length),
            sets,
            evidence: EvidencePool::default(),
            filter_refused_txs: true,
            halt: UpgradeHalt::default(),
            presence: Default::default(),
            pending_results: PendingResults::default(),
            state_faults: StateFaults::default(),
        }
    }

    /// Whether the block at engine height `height` has been finalized and applied here.
    fn is_finalized(&self, height: u64) -> bool {
        self.finalized_height.load(Ordering::Acquire) >= height
    }

    /// The engine height of the last block applied here, shared: the launcher raises it to
    /// the committed state's height at start (a restart redelivers no applied block).
    pub fn finalized_floor(&self) -> Arc<AtomicU64> {
        self.finalized_height.clone()
    }

    /// The pool the engine's reporter fills with certificates and fault proofs.
    pub fn evidence_pool(&self) -> EvidencePool {
        self.evidence.clone()
    }

    /// Executes `txs` as block `info` on `batch` (with this node's fault injection, if armed).
    async fn execute_on<E: StorageContext + Spawner>(
        &self,
        info: &BlockInfo,
        report: &ConsensusReport,
        txs: &[Vec<u8>],
        batch: caspur_store::qmdb::StateBatch<E>,
        ends_epoch: bool,
    ) -> Result<crate::execution::Executed<E>, caspur_store::StoreError> {
        execute(
            &self.app,
            info,
            report,
            txs,
            batch,
            ends_epoch,
            &self.state_faults,
        )
        .await
    }

    /// Block `block`'s results, from executing it once more on `parent_state` (its parent's
    /// committed state) and throwing the writes away; checked against the block's results hash.
    async fn reexecute<R: rand_core::CryptoRng, S: caspur_store::StateRead>(
        &self,
        block: &Block,
        rng: &mut R,
        parent_state: S,
    ) -> Result<Vec<TxResult>, String> {
        let report = self.report(block, rng)?;
        let info = BlockInfo {
            height: self.chain_height(block.height().get()),
            time_ms: block.time_ms,
        };
        let mut overlay = caspur_store::Overlay::new(parent_state);
        let (results, encoded) = self
            .app
            .execute_block_encoded(&mut overlay, &info, &report, &block.txs)
            .await
            .map_err(|e| e.0)?;
        if crate::execution::results_hash(&encoded) != block.results_hash {
            return Err("the results differ from the block's results hash".into());
        }
        Ok(results)
    }

    /// Whether the block at engine height `height` ends its epoch (epochs count engine
    /// heights: they start at the genesis block whatever the chain's first height).
    fn ends_epoch(&self, height: u64) -> bool {
        crate::epochs::ends_epoch(&self.epocher, height)
    }

    /// The chain height of the block at engine height `height`: the engine counts from its
    /// genesis block (0), the chain from genesis `initial_height` (see [`chain_height`]).
    fn chain_height(&self, height: u64) -> u64 {
        chain_height(self.app.initial_height, height)
    }

    /// What the block's evidence reports, with infraction heights as chain heights.
    fn report<R: rand_core::CryptoRng>(
        &self,
        block: &Block,
        rng: &mut R,
    ) -> Result<ConsensusReport, String> {
        evidence::report(block, &self.sets, &self.epocher, rng).map(|r| self.in_chain_heights(r))
    }

    fn in_chain_heights(&self, mut report: ConsensusReport) -> ConsensusReport {
        for fault in &mut report.faults {
            fault.infraction_height = self.chain_height(fault.infraction_height);
        }
        report
    }

    /// What monitoring learns of how `block` was reached (its evidence is read, not checked
    /// again: it was checked before the block was executed).
    fn consensus_facts<R: rand_core::CryptoRng>(&self, block: &Block) -> ConsensusFacts {
        use commonware_consensus::Viewable as _;
        let report = evidence::carried::<R>(block, &self.sets, &self.epocher).map(|r| self.in_chain_heights(r)).unwrap_or_else(|e| {
            warn!(height = self.chain_height(block.height().get()), error = %e, "cannot read the block's evidence for monitoring");
            ConsensusReport::default()
        });
        let view = block.context.view().get();
        let parent_view = block.context.parent.0.get();
        ConsensusFacts {
            report,
            rounds: view.saturating_sub(parent_view).saturating_sub(1),
            size_bytes: commonware_codec::EncodeSize::encode_size(block) as u64,
        }
    }
}

/// The chain height of the block at engine height `engine_height` on a chain whose first block
/// is `initial_height`: the engine's genesis block (0) stands for the state before it.
pub fn chain_height(initial_height: u64, engine_height: u64) -> u64 {
    engine_height.saturating_add(initial_height.max(1) - 1)
}

/// The engine height of chain height `height` (`None`: before the chain's genesis).
pub fn engine_height(initial_height: u64, height: u64) -> Option<u64> {
    height.checked_sub(initial_height.max(1) - 1)
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn digest_bytes(d: &Digest) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

impl<E> Application<E> for ChainApp
where
    E: StorageContext + Spawner + Clock + rand_core::CryptoRng,
{
    type SigningScheme = Scheme;
    type Context = BlockContext;
    type Block = Block;
    type Databases = StateSet<E>;
    type Captured = Vec<TxResult>;
    type Provider = Arc<dyn TxSource>;
    type Input = ();

    fn sync_targets(block: &Block) -> StateSyncTarget<E> {
        block.target.clone()
    }

    async fn genesis(&mut self) -> Block {
        self.genesis.clone()
    }

    async fn propose(
        &mut self,
        context: (E, BlockContext),
        ancestry: impl Ancestry<Block>,
        batches: <StateSet<E> as DatabaseSet<E>>::Unmerkleized,
        input: Input<(), Arc<dyn TxSource>>,
    ) -> Option<Proposed<Self, E>> {
        let (mut clock, consensus) = context;
        let mut ancestry = ancestry;
        let parent = ancestry.next().await?;
        let parent_digest = parent.digest();
        let parent = parent.inner().clone();
        let engine_height = parent.height().get() + 1;
        let height = self.chain_height(engine_height);
        let parent_finalized = self.is_finalized(parent.height().get());
        if !self
            .halt
            .gate(&self.app, &BatchState(&batches), height, parent_finalized)
            .await
        {
            return None;
        }
        self.presence.settled().await;
        // Pace before touching state, so a cancelled proposal leaves nothing behind.
        let earliest = parent
            .time_ms
            .saturating_add(self.block_time.as_millis() as u64);
        let now = millis(clock.current());
        if now < earliest {
            clock.sleep(Duration::from_millis(earliest - now)).await;
        }
        let time_ms = millis(clock.current()).max(parent.time_ms + 1);
        // Txs already in ancestors that are not finalized yet are still in the mempool.
        let finalized = self.finalized_height.load(Ordering::Acquire);
        let mut exclude = BTreeSet::new();
        let mut faults_on_chain = BTreeSet::new();
        let mut cursor = Some(parent.clone());
        while let Some(block) = cursor.filter(|b| b.height().get() > finalized) {
            exclude.extend(block.txs.iter().map(|t| caspur_types::tx::tx_hash(t)));
            faults_on_chain.extend(block.faults.iter().map(|f| f.encode().to_vec()));
            cursor = ancestry.next().await.map(|b| b.inner().clone());
        }
        let txs = input
            .provider
            .select(self.max_block_bytes, self.app.block_max_gas, &exclude);
        let info = BlockInfo { height, time_ms };
        let ends_epoch = self.ends_epoch(engine_height);
        let mut block = Block {
            context: consensus,
            parent: parent_digest,
            height: Height::new(engine_height),
            time_ms,
            txs,
            results_hash: Digest::EMPTY,
            state_root: Digest::EMPTY,
            target: parent.target.clone(),
            next_validators: Vec::new(),
            last_commit: evidence::best_certificate(
                &self.evidence,
                &parent_digest,
                &self.sets,
                &mut clock,
            ),
            faults: self.evidence.faults(&faults_on_chain),
        };
        // Our own evidence is checked like anyone's: what does not verify is left out.
        let report = match self.report(&block, &mut clock) {
            Ok(r) => r,
            Err(e) => {
                warn!(height, error = %e, "leaving out evidence that does not verify");
                block.last_commit = None;
                block.faults.clear();
                ConsensusReport::default()
            }
        };
        let txs = std::mem::take(&mut block.txs);
        let executed = if self.filter_refused_txs {
            execute_proposal(
                &self.app,
                &info,
                &report,
                txs,
                batches,
                ends_epoch,
                &self.state_faults,
            )
            .await
            .map(|(executed, kept)| {
                block.txs = kept;
                executed
            })
        } else {
            block.txs = txs;
            self.execute_on(&info, &report, &block.txs, batches, ends_epoch)
                .await
        };
        let executed = match executed {
            Ok(x) => x,
            // This node cannot execute a block on its own chain (a storage fault, a failing
            // block hook): stop once, with the cause and the remedy.
            Err(e) => {
                self.halt.bad_block(height, e.0);
                return std::future::pending().await;
            }
        };
        block.results_hash = executed.results_hash;
        block.state_root = executed.state_root();
        block.target = executed.target();
        block.next_validators = executed.next_validators;
        self.pending_results
            .keep(height, digest_bytes(&block.digest()), executed.results);
        debug!(height, txs = block.txs.len(), "proposed");
        Some(Proposed {
            block,
            merkleized: executed.merkleized,
        })
    }

    async fn process(
        &mut self,
        context: (E, BlockContext),
        ancestry: impl Ancestry<Block>,
        batches: <StateSet<E> as DatabaseSet<E>>::Unmerkleized,
        finality: Finality,
    ) -> Option<<StateSet<E> as DatabaseSet<E>>::Merkleized> {
        let (mut clock, _) = context;
        let mut ancestry = ancestry;
        let block = ancestry.next().await?;
        let parent = ancestry.next().await?;
        let parent_digest = parent.digest();
        let (block, parent) = (block.inner(), parent.inner());
        // Permanent rules: fixed by the block and its parent.
        if block.height().get() != parent.height().get() + 1
            || block.parent != parent_digest
            || block.time_ms <= parent.time_ms
            || block.txs.iter().map(Vec::len).sum::<usize>() > self.max_block_bytes
            || !self.app.fits_block_gas(&block.txs)
        {
            warn!(
                height = self.chain_height(block.height().get()),
                "block breaks a structural rule"
            );
            return None;
        }
        if finality == Finality::Candidate {
            // A clock rule only delays: wait until the block's time is near our clock.
            let now = millis(clock.current());
            let allowed = block
                .time_ms
                .saturating_sub(MAX_CLOCK_DRIFT.as_millis() as u64);
            if now < allowed {
                clock.sleep(Duration::from_millis(allowed - now)).await;
            }
        }
        let report = match self.report(block, &mut clock) {
            Ok(r) => r,
            Err(e) => {
                warn!(height = self.chain_height(block.height().get()), error = %e, "block carries bad evidence");
                return None;
            }
        };
        let info = BlockInfo {
            height: self.chain_height(block.height().get()),
            time_ms: block.time_ms,
        };
        // A finalized block's parent is finalized; a candidate's may not be yet.
        let parent_finalized =
            finality == Finality::Finalized || self.is_finalized(parent.height().get());
        if !self
            .halt
            .gate(
                &self.app,
                &BatchState(&batches),
                info.height,
                parent_finalized,
            )
            .await
        {
            return None;
        }
        let ends_epoch = self.ends_epoch(block.height().get());
        let executed = match self
            .execute_on(&info, &report, &block.txs, batches, ends_epoch)
            .await
        {
            Ok(x) => x,
            // A block not yet finalized that this node cannot execute gets no vote (a
            // proposer must not be able to stop honest nodes with it).
            Err(e) if finality == Finality::Candidate => {
                error!(height = info.height, error = %e, "cannot execute a proposed block; not voting for it");
                return None;
            }
            // A finalized block must be applied: stop once, with the cause and the remedy.
            Err(e) => {
                self.halt.bad_block(info.height, e.0);
                return std::future::pending().await;
            }
        };
        if carries_barred(&executed.results) {
            warn!(
                height = info.height,
                "block carries a tx the circuit breaker or a structural bound refuses"
            );
            return None;
        }
        if executed.results_hash != block.results_hash
            || executed.state_root() != block.state_root
            || executed.next_validators != block.next_validators
        {
            warn!(
                height = info.height,
                "block commitments do not match re-execution"
            );
            return None;
        }
        self.pending_results
            .keep(info.height, digest_bytes(&block.digest()), executed.results);
        Some(executed.merkleized)
    }

    async fn capture(
        &mut self,
        context: (E, BlockContext),
        block: &Block,
        _batches: &<StateSet<E> as DatabaseSet<E>>::Merkleized,
        readers: <StateSet<E> as DatabaseSet<E>>::Readers,
    ) -> Vec<TxResult> {
        let height = self.chain_height(block.height().get());
        if let Some(results) = self
            .pending_results
            .take(height, digest_bytes(&block.digest()))
        {
            return results;
        }
        // Pushed out of the bounded map: the readers still show the parent's state here, so
        // the block runs once more on it (the same results: execution is deterministic).
        let (mut clock, _) = context;
        let db = readers.read().await;
        match self.reexecute(block, &mut clock, DbState(&db)).await {
            Ok(results) => results,
            Err(e) => {
                self.halt
                    .bad_block(height, format!("re-executing it for its results: {e}"));
                std::future::pending().await
            }
        }
    }

    async fn finalized(
        &mut self,
        _context: (E, BlockContext),
        block: &Block,
        results: Vec<TxResult>,
        readers: <StateSet<E> as DatabaseSet<E>>::Readers,
    ) {
        let height = self.chain_height(block.height().get());
        let (block_events, plan) = {
            let db = readers.read().await;
            (
                read_block_events(&DbState(&db)).await,
                db.get(&caspur_app::modules::upgrade::state::PLAN.to_vec())
                    .await,
            )
        };
        let block_events = match block_events {
            Ok(events) => events,
            Err(e) => {
                self.halt
                    .bad_block(height, format!("reading its stored events: {e}"));
                return std::future::pending().await;
            }
        };
        let mut proposer = [0u8; 32];
        proposer.copy_from_slice(block.proposer().as_ref());
        let consensus = self.consensus_facts::<E>(block);
        let validators = self
            .epocher
            .containing(block.height())
            .and_then(|info| self.sets.validators(info.epoch()))
            .unwrap_or_default();
        let next_validators = if block.next_validators.is_empty() {
            validators.clone()
        } else {
            block.next_validators.clone()
        };
        self.sink
            .finalized(FinalizedBlock {
                height,
                hash: digest_bytes(&block.digest()),
                parent: digest_bytes(&block.parent),
                proposer,
                time_ms: block.time_ms,
                txs: block.txs.clone(),
                results,
                block_events,
                app_hash: digest_bytes(&block.state_root),
                state_size: *block.target.range.end(),
                consensus,
                results_hash: digest_bytes(&block.results_hash),
                validators,
                next_validators,
                last_commit: evidence::last_commit(block, &self.sets),
            })
            .await;
        self.evidence.forget(&block.faults);
        self.finalized_height
            .fetch_max(block.height().get(), Ordering::AcqRel);
        let plan = match plan {
            Ok(p) => p,
            Err(e) => {
                self.halt
                    .bad_block(height + 1, format!("reading the upgrade plan: {e}"));
                return std::future::pending().await;
            }
        };
        self.halt
            .after_finalized(&self.app, plan.as_deref(), height + 1);
    }
}
