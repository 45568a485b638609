//! Caspur's deterministic state machine.
//!
//! [`App`] turns (state, block) into (new state, results) with no clock, randomness, floats or
//! hash-map iteration: time and height come from the block, state from the store. It knows
//! neither consensus nor the network; the consensus crate calls [`App::execute_block`] for
//! proposals, verification and finalization, and the node calls [`App::check_tx`] and
//! [`App::query`].

pub mod ante;
pub mod blob;
pub mod consensus_report;
pub mod context;
pub mod error;
pub mod gas;
pub mod genesis;
pub mod health;
pub mod limits;
pub mod modules;
pub mod msg_json;
pub mod msg_tree;
pub mod params;
pub mod prepare;
pub mod query;
pub mod queue;
pub mod records;
pub mod results;
pub mod router;
pub mod sig_cache;
pub mod simulate;
pub mod sorted_index;
pub mod tx_exec;
pub mod validators;
pub mod verifier;

use crate::error::ExecError;
use caspur_store::{Overlay, StateRead, StoreError};
use caspur_types::tx::decode_tx;
use caspur_types::Event;
use context::{Ctx, Unmetered};
use prost::Message as _;

pub use consensus_report::ConsensusReport;
pub use context::BlockInfo;
pub use genesis::AppGenesis;
pub use results::{encode_results, TxResult, BARRED_CODES};

/// Node-independent settings of the state machine.
#[derive(Clone)]
pub struct App {
    /// The chain id every signature commits to.
    pub chain_id: String,
    /// Most gas all txs of one block may ask for (`None`: unlimited).
    pub block_max_gas: Option<u64>,
    /// Gas costs.
    pub costs: gas::GasCosts,
    /// Module state written before block 1's txs.
    pub genesis: std::sync::Arc<AppGenesis>,
    /// Validator sets by height, for chains without staking (see [`validators`]).
    pub validator_schedule: Option<validators::ValidatorSchedule>,
    /// The upgrade plans this binary can run (see `modules::upgrade`).
    pub upgrades: modules::upgrade::UpgradeHandlers,
    /// Heights whose due upgrade this node skips (`--unsafe-skip-upgrade`).
    pub skip_upgrade_heights: std::collections::BTreeSet<u64>,
    /// Height of the chain's first block (genesis `initial_height`; 1 unless the chain was
    /// restarted from an export): genesis state is written before its txs.
    pub initial_height: u64,
    /// Signatures this node verified in CheckTx, which block execution need not verify again
    /// (node-local; see [`sig_cache`]).
    pub verified_sigs: std::sync::Arc<sig_cache::VerifiedSigs>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("chain_id", &self.chain_id)
            .field("block_max_gas", &self.block_max_gas)
            .field("costs", &self.costs)
            .field("genesis", &self.genesis)
            .field("validator_schedule", &self.validator_schedule.is_some())
            .field("upgrades", &self.upgrades)
            .field("skip_upgrade_heights", &self.skip_upgrade_heights)
            .field("initial_height", &self.initial_height)
            .finish()
    }
}

// [0x00, 0x01] held the last block's tx results until 2026-12-05; it stays unused, so that no
// chunk such a blob left in an old data directory is ever read as something else. Results
// are not state: the header's results hash commits to them and the node indexes them.

/// State key of the height of the last executed block.
pub const LAST_HEIGHT_KEY: [u8; 2] = [0x00, 0x02];

/// State key of the last executed block's time (ms, u64 BE): where time queues resume.
pub const LAST_TIME_KEY: [u8; 2] = [0x00, 0x04];

/// State key of the events the last block's end emitted (matured unbondings, decided
/// proposals, …): CometBFT's `finalize_block_events`.
pub const LAST_BLOCK_EVENTS_KEY: [u8; 2] = [0x00, 0x05];

/// State key of the chain's first block: its height and time (ms), u64 BE each — what block
/// time estimates (a plan's earliest height) measure from.
pub const CHAIN_START_KEY: [u8; 2] = [0x00, 0x06];

/// The `N` big-endian u64s of a block-bookkeeping record (`what` names it in the error).
fn be_u64s<const N: usize>(v: &[u8], what: &str) -> Result<[u64; N], ExecError> {
    let corrupt = || ExecError::logic(format!("corrupt {what} record"));
    if v.len() != 8 * N {
        return Err(corrupt());
    }
    let mut words = [0u64; N];
    for (word, bytes) in words.iter_mut().zip(v.chunks_exact(8)) {
        *word = u64::from_be_bytes(bytes.try_into().map_err(|_| corrupt())?);
    }
    Ok(words)
}

/// The chain's first block (height, time in ms), if recorded.
pub async fn chain_start(kv: &mut impl context::KvRead) -> Result<Option<(u64, u64)>, ExecError> {
    match kv.get(&CHAIN_START_KEY).await? {
        None => Ok(None),
        Some(v) => be_u64s::<2>(&v, "chain start").map(|[h, t]| Some((h, t))),
    }
}

/// The last executed block (height, time in ms); zeros before block 1.
pub async fn last_block(kv: &mut impl context::KvRead) -> Result<(u64, u64), ExecError> {
    let mut read = async |key: &[u8], what: &str| match kv.get(key).await? {
        None => Ok(0),
        Some(v) => be_u64s::<1>(&v, what).map(|[w]| w),
    };
    Ok((
        read(&LAST_HEIGHT_KEY, "last height").await?,
        read(&LAST_TIME_KEY, "last block time").await?,
    ))
}

/// The height of the last block executed on `state` (0 before block 1).
pub async fn last_height<S: StateRead>(state: &S) -> Result<u64, ExecError> {
    match state
        .get(&LAST_HEIGHT_KEY)
        .await
        .map_err(context::store_err)?
    {
        None => Ok(0),
        Some(b) => be_u64s::<1>(&b, "last height").map(|[h]| h),
    }
}

/// The events the last executed block's end emitted, stored (as a [`blob`]) under
/// [`LAST_BLOCK_EVENTS_KEY`].
pub async fn read_block_events<S: StateRead>(state: &S) -> Result<Vec<Event>, StoreError> {
    match blob::get(state, &LAST_BLOCK_EVENTS_KEY).await? {
        Some(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| StoreError(format!("corrupt block events: {e}"))),
        None => Ok(Vec::new()),
    }
}

/// What CheckTx learned about an admissible tx.
#[derive(Clone, Debug)]
pub struct CheckedTx {
    /// The tx hash.
    pub hash: [u8; 32],
    /// Its gas limit.
    pub gas_wanted: u64,
    /// Per signer, the account number and key its signature was verified for: a recheck
    /// with the same ones skips the verification (as Cosmos's ReCheckTx does).
    pub verified: Vec<prepare::Ticket>,
    /// The tx decoded and checked, for its re-checks.
    pub admitted: std::sync::Arc<prepare::Admitted>,
}

impl App {
    /// An app for `chain_id` with default gas costs.
    pub fn new(
        chain_id: impl Into<String>,
        block_max_gas: Option<u64>,
        genesis: AppGenesis,
    ) -> Self {
        App {
            chain_id: chain_id.into(),
            block_max_gas,
            costs: gas::DEFAULT_COSTS,
            genesis: std::sync::Arc::new(genesis),
            validator_schedule: None,
            upgrades: Default::default(),
            skip_upgrade_heights: Default::default(),
            initial_height: 1,
            verified_sigs: Default::default(),
        }
    }

    /// This app for a chain whose first block is `height` (genesis `initial_height`, at least 1).
    pub fn with_initial_height(mut self, height: u64) -> Self {
        self.initial_height = height.max(1);
        self
    }

    /// This app with the upgrade `handlers` it carries, skipping the plans due at `skip`.
    pub fn with_upgrades(
        mut self,
        handlers: modules::upgrade::UpgradeHandlers,
        skip: std::collections::BTreeSet<u64>,
    ) -> Self {
        self.upgrades = handlers;
        self.skip_upgrade_heights = skip;
        self
    }

    /// The plan that stops this binary from executing block `height` on `state` (the state
    /// after block `height - 1`): due at or before `height`, not skipped, and without a
    /// handler here. The node halts instead of executing such a block.
    pub async fn pending_upgrade<S: StateRead>(
        &self,
        state: &S,
        height: u64,
    ) -> Result<Option<caspur_types::proto::upgrade::v1::Plan>, StoreError> {
        let scheduled = modules::upgrade::state::scheduled(&mut Unmetered(state))
            .await
            .map_err(|e| StoreError(e.to_string()))?;
        self.pending_upgrade_of(scheduled, height)
    }

    /// [`App::pending_upgrade`] for the record stored under `modules::upgrade::state::PLAN`
    /// (`None`: no plan), already read.
    pub fn pending_upgrade_in(
        &self,
        stored: Option<&[u8]>,
        height: u64,
    ) -> Result<Option<caspur_types::proto::upgrade::v1::Plan>, StoreError> {
        let scheduled = stored
            .map(caspur_types::proto::upgrade::v1::ScheduledPlan::decode)
            .transpose()
            .map_err(|e| StoreError(format!("corrupt upgrade plan: {e}")))?;
        self.pending_upgrade_of(scheduled, height)
    }

    fn pending_upgrade_of(
        &self,
        scheduled: Option<caspur_types::proto::upgrade::v1::ScheduledPlan>,
        height: u64,
    ) -> Result<Option<caspur_types::proto::upgrade::v1::Plan>, StoreError> {
        use modules::upgrade::{due_of, Due};
        match due_of(
            scheduled,
            height,
            &self.upgrades,
            &self.skip_upgrade_heights,
        )
        .map_err(|e| StoreError(e.to_string()))?
        {
            Due::Halt(plan) => Ok(Some(plan)),
            _ => Ok(None),
        }
    }

    /// Refuses to run a binary that carries the handler of the scheduled plan before the plan's
    /// height has come: it would execute the blocks before the upgrade with the new code. The
    /// height has come when the chain is one block short of it, or when the previous binary
    /// halted for this very plan (`halted`: its `upgrade-info.json`; consensus may have run
    /// the halting binary a block or two short of the height), or when this node stopped at
    /// the plan's height because it could not apply that block (`bad_block_at`). A plan whose
    /// height this node skips (`--unsafe-skip-upgrade`) runs no handler, so it is never early.
    pub async fn check_not_early<S: StateRead>(
        &self,
        state: &S,
        halted: Option<&caspur_types::upgrade_info::UpgradeInfo>,
        bad_block_at: Option<u64>,
    ) -> Result<(), String> {
        let mut kv = Unmetered(state);
        let scheduled = modules::upgrade::state::scheduled(&mut kv)
            .await
            .map_err(|e| e.to_string())?;
        let Some(plan) = scheduled.and_then(|s| s.plan) else {
            return Ok(());
        };
        let next = last_height(state).await.map_err(|e| e.to_string())? + 1;
        let height = plan.height as u64;
        let reached = halted.is_some_and(|h| h.name == plan.name && h.height == height)
            || bad_block_at == Some(height)
            || self.skip_upgrade_heights.contains(&height);
        if self.upgrades.get(&plan.name).is_some() && next < height && !reached {
            return Err(format!(
                "this binary carries the handler of upgrade {:?} scheduled for height {}, but the chain is only at height {}: run the previous binary until it halts at the upgrade height",
                plan.name,
                plan.height,
                next - 1
            ));
        }
        Ok(())
    }

    /// This app with validator sets chosen by `schedule` (chains and tests without staking).
    pub fn with_validator_schedule(mut self, schedule: validators::ValidatorSchedule) -> Self {
        self.validator_schedule = Some(schedule);
        self
    }

    /// Whether a list of txs fits the block gas limit (sum of declared gas limits; undecodable
    /// txs count as zero and fail at execution). A proposer packs by this rule and a verifier
    /// rejects a block that breaks it.
    pub fn fits_block_gas(&self, txs: &[Vec<u8>]) -> bool {
        let Some(max) = self.block_max_gas else {
            return true;
        };
        let mut total: u64 = 0;
        for raw in txs {
            let gas = decode_tx(raw, usize::MAX)
                .ok()
                .and_then(|t| t.fee().ok())
                .map_or(0, |(_, g)| g);
            total = total.saturating_add(gas);
            if total > max {
                return false;
            }
        }
        true
    }

    /// Executes a block's txs in order on `state` (block 1 first writes genesis). A tx that
    /// fails leaves only its fee and sequence; a storage failure aborts the block (it must never
    /// become a tx result that another node, with a healthy disk, would compute differently).
    /// The results are returned, not stored: the block's results hash commits to them.
    pub async fn execute_block<B: StateRead>(
        &self,
        state: &mut Overlay<B>,
        block: &BlockInfo,
        txs: &[Vec<u8>],
    ) -> Result<Vec<TxResult>, StoreError> {
        self.execute_block_with(state, block, &ConsensusReport::default(), txs)
            .await
    }

    /// [`App::execute_block`] with what consensus reports about the block (signers of the
    /// previous block's certificate, proven faults), applied before the txs.
    pub async fn execute_block_with<B: StateRead>(
        &self,
        state: &mut Overlay<B>,
        block: &BlockInfo,
        report: &ConsensusReport,
        txs: &[Vec<u8>],
    ) -> Result<Vec<TxResult>, StoreError> {
        let (results, _) = self
            .execute_block_encoded(state, block, report, txs)
            .await?;
        Ok(results)
    }

    /// [`App::execute_block_with`], also returning the results' canonical encoding (what the
    /// block's results hash covers), so the caller need not encode them a second time.
    pub async fn execute_block_encoded<B: StateRead>(
        &self,
        state: &mut Overlay<B>,
        block: &BlockInfo,
        report: &ConsensusReport,
        txs: &[Vec<u8>],
    ) -> Result<(Vec<TxResult>, Vec<u8>), StoreError> {
        if block.height == self.initial_height {
            self.genesis
                .init(state, block, &self.chain_id)
                .await
                .map_err(|e| StoreError(format!("invalid genesis: {e}")))?;
            let mut start = block.height.to_be_bytes().to_vec();
            start.extend_from_slice(&block.time_ms.to_be_bytes());
            state.put(CHAIN_START_KEY.to_vec(), start);
        }
        let begin_events = self.begin_block(state, block, report).await?;
        let results = self.execute_txs(state, block, txs).await?;
        self.end_block(state, block, begin_events, &results).await?;
        if let Some(set) = self
            .validator_schedule
            .as_ref()
            .and_then(|s| s(block.height))
        {
            validators::set_next(state, set)
                .map_err(|e| StoreError(format!("validator schedule at {}: {e}", block.height)))?;
        }
        let encoded = encode_results(&results);
        state.put(
            LAST_HEIGHT_KEY.to_vec(),
            block.height.to_be_bytes().to_vec(),
        );
        state.put(LAST_TIME_KEY.to_vec(), block.time_ms.to_be_bytes().to_vec());
        state.commit_tx();
        Ok((results, encoded))
    }

    /// The consensus report's consequences (slashing), before any tx. Like end of block, a
    /// failure is a bug or a storage fault and aborts the block.
    async fn begin_block<B: StateRead>(
        &self,
        state: &mut Overlay<B>,
        block: &BlockInfo,
        report: &ConsensusReport,
    ) -> Result<Vec<Event>, StoreError> {
        let mut ctx = Ctx::new(state, block, &self.chain_id, u64::MAX, self.costs);
        // The upgrade first: its migrations run before anything else of the block.
        modules::upgrade::apply_due(&mut ctx, &self.upgrades, &self.skip_upgrade_heights)
            .await
            .map_err(|e| StoreError(format!("upgrade at {}: {e}", block.height)))?;
        if report != &ConsensusReport::default() {
            consensus_report::apply(&mut ctx, report)
                .await
                .map_err(|e| StoreError(format!("begin block at {}: {e}", block.height)))?;
        }
        let events = std::mem::take(&mut ctx.events);
        drop(ctx);
        state.commit_tx();
        Ok(events)
    }

    /// The modules' end of block: staking's bonded set (handed to consensus for the next
    /// epoch) and matured unbondings. A failure here is a bug or a storage fault, never a
    /// user's doing, so it aborts the block.
    async fn end_block<B: StateRead>(
        &self,
        state: &mut Overlay<B>,
        block: &BlockInfo,
        mut events: Vec<Event>,
        results: &[TxResult],
    ) -> Result<(), StoreError> {
        let since = match state.get(&LAST_TIME_KEY).await? {
            Some(b) => {
                be_u64s::<1>(&b, "last block time").map_err(|e| StoreError(e.to_string()))?[0]
            }
            None => block.time_ms,
        };
        let mut ctx = Ctx::new(state, block, &self.chain_id, u64::MAX, self.costs);
        // As in the SDK: governance decides on the stake before this block's staking changes.
        modules::gov::end_block(&mut ctx, since)
            .await
            .map_err(|e| StoreError(format!("gov end block at {}: {e}", block.height)))?;
        modules::distribution::end_block(&mut ctx, since)
            .await
            .map_err(|e| StoreError(format!("distribution end block at {}: {e}", block.height)))?;
        modules::dcert::end_block(&mut ctx, since, results)
            .await
            .map_err(|e| StoreError(format!("dcert end block at {}: {e}", block.height)))?;
        modules::upgrade::end_block(&mut ctx)
            .await
            .map_err(|e| StoreError(format!("upgrade end block at {}: {e}", block.height)))?;
        modules::incident::end_block(&mut ctx, since)
            .await
            .map_err(|e| StoreError(format!("incident end block at {}: {e}", block.height)))?;
        let set = modules::staking::end_block(&mut ctx, since)
            .await
            .map_err(|e| StoreError(format!("staking end block at {}: {e}", block.height)))?;
        events.append(&mut ctx.events);
        drop(ctx);
        // Struct fields serialize in declaration order: deterministic bytes.
        let encoded = serde_json::to_vec(&events)
            .map_err(|e| StoreError(format!("encoding block events: {e}")))?;
        blob::put(state, &LAST_BLOCK_EVENTS_KEY, &encoded).await?;
        if let Some(set) = set {
            validators::set_next(state, set)
                .map_err(|e| StoreError(format!("bonded set at {}: {e}", block.height)))?;
        }
        state.commit_tx();
        Ok(())
    }

    async fn execute_txs<B: StateRead>(
        &self,
        state: &mut Overlay<B>,
        block: &BlockInfo,
        txs: &[Vec<u8>],
    ) -> Result<Vec<TxResult>, StoreError> {
        let prepared = prepare::prepare_block(
            &*state,
            &self.chain_id,
            block.height,
            txs,
            &self.verified_sigs,
        )
        .await?;
        let mut results = Vec::with_capacity(txs.len());
        for p in prepared {
            let result = match p {
                Ok(p) => self.deliver_tx(state, block, p).await?,
                Err(e) => TxResult::failed(&e.into_tx()?, 0, 0, Vec::new()),
            };
            results.push(result);
        }
        Ok(results)
    }
}
