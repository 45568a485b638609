//! One validator's consensus stack: simplex (ordering) + marshal (finalized block delivery and
//! backfill) + buffered broadcast (block dissemination) + glue `stateful` (execution on QMDB).
//!
//! Generic over the runtime and the network, so the same wiring runs under tokio with
//! authenticated p2p (`caspurd start`) and under Commonware's deterministic simulator (tests).

use crate::application::ChainApp;
use crate::block::{Block, BlockContext};
use crate::epoch_proofs::ProofStore;
use crate::epochs::SetObserver;
use crate::validator_sets::{EpochSets, SetStore};
use caspur_app::validators::MAX_VALIDATORS;
use caspur_store::qmdb::{self, StateSet};
use commonware_broadcast::buffered;
use commonware_consensus::{
    marshal::{
        self,
        core::{Actor as MarshalActor, CommitmentFallback, Mailbox as MarshalMailbox},
        resolver::p2p as marshal_resolver,
        standard::{Deferred, Standard},
        Update,
    },
    simplex::{self, scheme::ed25519::Scheme},
    types::{Epoch, FixedEpocher, Round, ViewDelta},
    Reporter,
};
use commonware_cryptography::{ed25519, Digestible};
use commonware_glue::stateful::{
    db::SyncEngineConfig,
    probe::{self, Config as ProbeConfig, Probe},
    Config as StatefulConfig, Mailbox as StatefulMailbox, PruneConfig, Stateful, SyncPlan,
};
use commonware_p2p::{Blocker, Provider, Receiver, Sender};
use commonware_parallel::Sequential;
use commonware_runtime::{buffer::paged::CacheRef, Clock, Handle, Metrics, Spawner, Storage};
use commonware_storage::{archive::prunable, translator::TwoCap};
use commonware_utils::{NZDuration, NZUsize, NZU16, NZU64};
use rand_core::CryptoRng;
use std::num::{NonZeroU64, NonZeroUsize};
use std::time::Duration;

/// The network channels of the consensus stack, in registration order.
pub const CHANNELS: [u64; 8] = [
    CH_VOTES,
    CH_CERTS,
    CH_RESOLVER,
    CH_BACKFILL,
    CH_BROADCAST,
    crate::statesync::CH_STATE_SYNC,
    CH_PROBE,
    crate::epoch_proofs::CH_EPOCH_PROOFS,
];
/// Simplex votes.
pub const CH_VOTES: u64 = 0;
/// Simplex certificates.
pub const CH_CERTS: u64 = 1;
/// Simplex certificate resolution.
pub const CH_RESOLVER: u64 = 2;
/// Marshal block backfill.
pub const CH_BACKFILL: u64 = 3;
/// Block broadcast.
pub const CH_BROADCAST: u64 = 4;
/// Discovery of a finalized floor to state-sync to.
pub const CH_PROBE: u64 = 6;

/// The marshal-backed automaton, relay and reporter every epoch's simplex engine uses.
pub type EngineDeferred<E> = Deferred<E, Scheme, StatefulMailbox<E, ChainApp>, Block, FixedEpocher>;

const IO_BUFFER: NonZeroUsize = NZUsize!(1 << 16);

/// The largest payload any component sends, for the p2p frame limit.
pub fn max_message_size(validators: u32) -> u32 {
    commonware_p2p::max_message_size(&[
        simplex::max_payload_size::<Scheme, crate::block::Digest>(validators),
        marshal::max_payload_size::<Standard<Block>, Scheme>(validators, &()),
        probe::max_payload_size::<Standard<Block>, Scheme>(validators),
        crate::statesync::MAX_RESPONSE_BYTES + 64,
        crate::epoch_proofs::MAX_PROOF_BYTES + 64,
        crate::gossip::MAX_MESSAGE_BYTES,
    ])
}

pub use crate::catch_up::CatchUp;

/// One channel pair.
pub type Channel<S, R> = (S, R);

/// What a validator needs to start.
pub struct ValidatorConfig {
    /// Storage partition prefix.
    pub partition_prefix: String,
    /// The known validator sets, starting with genesis (`EpochSets::new` with the chain id
    /// as namespace, and our key if this node votes whenever an epoch's set contains it);
    /// shared with whoever else reads them (RPC).
    pub sets: EpochSets,
    /// Our public key (p2p identity).
    pub public_key: ed25519::PublicKey,
    /// The genesis block.
    pub genesis: Block,
    /// How long a leader waits for a proposal before timing out; must exceed the block time.
    pub leader_timeout: Duration,
    /// Catching up when behind.
    pub catch_up: CatchUp,
    /// Called with every finalized tip marshal learns of (before the block is executed).
    pub tip_observer: Option<TipObserver>,
    /// Blocks per epoch (a genesis parameter).
    pub epoch_length: NonZeroU64,
    /// Told of the latest known set at start and of every set learned later.
    pub on_new_set: Option<SetObserver>,
}

/// Observes finalized tips: (round, height, block digest).
pub type TipObserver = std::sync::Arc<dyn Fn(Round, u64, crate::block::Digest) + Send + Sync>;

/// Passes marshal's reports on to glue, showing finalized tips to an observer on the way.
#[derive(Clone)]
struct TipTap<R> {
    inner: R,
    observer: Option<TipObserver>,
}

impl<R: Reporter<Activity = Update<Block>>> Reporter for TipTap<R> {
    type Activity = Update<Block>;

    fn report(&mut self, activity: Self::Activity) -> commonware_actor::Feedback {
        if let (Some(observer), Update::Tip(round, height, digest)) = (&self.observer, &activity) {
            observer(*round, height.get(), *digest);
        }
        self.inner.report(activity)
    }
}

/// Handles to a running validator.
pub struct Running<E: commonware_storage::Context + Spawner + CryptoRng> {
    /// Marshal: finalized blocks by height.
    pub marshal: MarshalMailbox<Scheme, Standard<Block>>,
    /// Glue: committed state.
    pub stateful: StatefulMailbox<E, ChainApp>,
    /// The consensus engine task.
    pub engine: Handle<()>,
    /// The finalized height this node state-synced to, if it did.
    pub state_synced_to: Option<u64>,
}

fn archive_config<C>(
    prefix: &str,
    name: &str,
    page_cache: CacheRef,
    codec_config: C,
) -> prunable::Config<TwoCap, C> {
    prunable::Config {
        translator: TwoCap,
        metadata_partition: format!("{prefix}-{name}-metadata"),
        key_partition: format!("{prefix}-{name}-key"),
        key_page_cache: page_cache,
        value_partition: format!("{prefix}-{name}-value"),
        compression: None,
        codec_config,
        items_per_section: NZU64!(4096),
        key_write_buffer: IO_BUFFER,
        value_write_buffer: IO_BUFFER,
        replay_buffer: IO_BUFFER,
    }
}

/// Starts a validator's stack on `context` with the given network channels (in [`CHANNELS`]
/// order), the peer set provider and the blocker of misbehaving peers.
#[allow(
    clippy::too_many_arguments,
    clippy::expect_used,
    reason = "startup: a validator cannot run without its own stores; failing to open them stops the node before it takes any input"
)]
pub async fn start<E, S, R, P, B>(
    context: E,
    cfg: ValidatorConfig,
    app: ChainApp,
    provider: std::sync::Arc<dyn crate::TxSource>,
    peers: P,
    blocker: B,
    channels: Vec<Channel<S, R>>,
) -> Running<E>
where
    E: Clock + CryptoRng + Spawner + Storage + Metrics + commonware_storage::Context,
    S: Sender<PublicKey = ed25519::PublicKey>,
    R: Receiver<PublicKey = ed25519::PublicKey>,
    P: Provider<PublicKey = ed25519::PublicKey>,
    B: Blocker<PublicKey = ed25519::PublicKey> + Sync,
{
    let ValidatorConfig {
        partition_prefix,
        sets,
        public_key,
        genesis,
        leader_timeout,
        catch_up,
        tip_observer,
        epoch_length,
        on_new_set,
    } = cfg;
    let evidence = app.evidence_pool();
    let presence = app.presence.clone();
    let mut set_store = SetStore::open(context.child("validator_sets"), &partition_prefix, &sets)
        .await
        .expect("open the validator set store");
    let mut proofs = ProofStore::open(context.child("epoch_proofs"), &partition_prefix)
        .await
        .expect("open the epoch proof store");
    if let Some(observer) = &on_new_set {
        let (epoch, set) = sets.latest();
        observer(epoch, &set);
    }
    let (tips_tx, tips_rx) = futures::channel::mpsc::unbounded();
    let tip_observer: TipObserver = std::sync::Arc::new(move |round, height, digest| {
        let _ = tips_tx.unbounded_send((height, digest));
        if let Some(outer) = &tip_observer {
            outer(round, height, digest);
        }
    });
    let page_cache = CacheRef::new(NZU16!(4096), NZUsize!(4096));
    let mut channels = channels.into_iter();
    let mut next = || {
        channels
            .next()
            .expect("one channel pair per entry of CHANNELS")
    };
    let (votes, certs, resolver_net, backfill_net, broadcast_net, state_sync_net, probe_net) =
        (next(), next(), next(), next(), next(), next(), next());
    let mut proofs_net = next();

    let resolver = marshal_resolver::init(
        context.child("marshal_resolver"),
        marshal_resolver::Config {
            public_key: public_key.clone(),
            peer_provider: peers.clone(),
            blocker: blocker.clone(),
            mailbox_size: NZUsize!(1024),
            fetch_timeout: NZDuration!(Duration::from_secs(2)),
            fetch_retry_delay: Duration::from_millis(200),
            priority_requests: false,
            priority_responses: false,
        },
        backfill_net,
    );

    let (broadcast_engine, buffer) = buffered::Engine::new(
        context.child("broadcast"),
        buffered::Config {
            public_key: public_key.clone(),
            mailbox_size: NZUsize!(1024),
            deque_size: 10,
            priority: false,
            codec_config: (),
            peer_provider: peers,
            strategy: Sequential,
        },
    );
    broadcast_engine.start(broadcast_net);

    let finalizations = prunable::Archive::init(
        context.child("finalizations_by_height"),
        archive_config(
            &partition_prefix,
            "finalizations",
            page_cache.clone(),
            MAX_VALIDATORS,
        ),
    )
    .await
    .expect("open finalizations archive");
    let blocks = prunable::Archive::init(
        context.child("finalized_blocks"),
        archive_config(&partition_prefix, "blocks", page_cache.clone(), ()),
    )
    .await
    .expect("open blocks archive");

    let mut plan = SyncPlan::init(context.child("sync_plan"), partition_prefix.clone()).await;
    let fresh = plan.floor().is_none() && plan.may_sync() && catch_up.state_sync;
    let epocher = FixedEpocher::new(epoch_length);
    let mut start = crate::catch_up::FreshStart {
        context: context.child("epoch_walk"),
        walk: crate::epoch_proofs::Walk {
            sets: &sets,
            set_store: &mut set_store,
            proofs: &mut proofs,
            on_new_set: on_new_set.as_ref(),
            epocher: &epocher,
            me: &public_key,
        },
        net: &mut proofs_net,
    };
    if fresh {
        // Learn the sets of the epochs a state sync would skip.
        start.walk().await;
    }
    let (latest_epoch, latest_set) = sets.latest();
    let sync_peers: Vec<ed25519::PublicKey> = latest_set
        .iter()
        .filter_map(|v| crate::validator_sets::public_key(v).ok())
        .filter(|p| *p != public_key)
        .collect();
    let (probe_actor, probe_mailbox) = Probe::new(ProbeConfig {
        context: context.child("probe"),
        provider: sets.clone(),
        strategy: Sequential,
        mailbox_size: NZUsize!(64),
        blocker: blocker.clone(),
        minimum_epoch: latest_epoch,
        retry_timeout: NZDuration!(Duration::from_millis(500)),
    });
    probe_actor.start(probe_net);
    if fresh && !sync_peers.is_empty() {
        if let Some(floor) = start.floor(&probe_mailbox, &catch_up).await {
            plan = plan.set_floor(floor).await;
        }
    }
    let syncing = plan.floor().map(|f| f.proposal.payload);
    let (marshal_actor, marshal_mailbox, floor) =
        MarshalActor::<_, Standard<Block>, _, _, _, _, _>::init(
            context.child("marshal"),
            finalizations,
            blocks,
            marshal::Config {
                provider: sets.clone(),
                epocher: FixedEpocher::new(epoch_length),
                start: plan.marshal_start(commonware_cryptography::Digested::precomputed(
                    genesis.clone(),
                    genesis.digest(),
                )),
                partition_prefix: partition_prefix.clone(),
                mailbox_size: NZUsize!(1024),
                view_retention: ViewDelta::new(64),
                prunable_items_per_section: NZU64!(4096),
                page_cache: page_cache.clone(),
                replay_buffer: IO_BUFFER,
                key_write_buffer: IO_BUFFER,
                value_write_buffer: IO_BUFFER,
                block_codec_config: (),
                max_repair: NZUsize!(16),
                max_pending_acks: NZUsize!(1),
                strategy: Sequential,
            },
        )
        .await;

    probe_mailbox.attach(marshal_mailbox.clone());
    let (state_sync, _state_sync_task) = crate::statesync::start(
        context.child("state_sync"),
        state_sync_net,
        sync_peers,
        blocker.clone(),
    );
    let (stateful_actor, stateful_mailbox) = Stateful::new(
        context.child("stateful"),
        StatefulConfig {
            application: app,
            db_config: qmdb::config(&partition_prefix, page_cache.clone()),
            provider,
            marshal: (marshal_mailbox.clone(), floor),
            mailbox_size: NZUsize!(1024),
            plan,
            resolvers: state_sync,
            sync_config: SyncEngineConfig {
                fetch_batch_size: crate::statesync::FETCH_BATCH,
                apply_batch_size: NZU64!(1024),
                max_outstanding_requests: NZUsize!(8),
            },
            prune_config: catch_up.retained_blocks.map(|blocks| PruneConfig {
                maintenance_interval: NZUsize!(16),
                retained_marshal_blocks: blocks,
                retained_qmdb_blocks: blocks,
            }),
            strategy: Sequential,
        },
    );

    let deferred = Deferred::new(
        context.child("deferred"),
        stateful_mailbox.clone(),
        marshal_mailbox.clone(),
        FixedEpocher::new(epoch_length),
    );
    let reporter = TipTap {
        inner: stateful_mailbox.clone(),
        observer: Some(tip_observer),
    };
    marshal_actor.start(reporter, buffer, resolver);
    let state_synced_to = match syncing {
        Some(commitment) => marshal_mailbox
            .subscribe_by_commitment(commitment, CommitmentFallback::Wait)
            .await
            .ok()
            .map(|b| b.inner().height.get()),
        None => None,
    };
    stateful_actor.start();

    // Every epoch's engine descends from this task, so aborting it stops them all.
    let (ended_tx, ended_rx) = futures::channel::mpsc::unbounded();
    crate::epoch_proofs::serve(
        context.child("epoch_proofs"),
        proofs_net,
        proofs,
        marshal_mailbox.clone(),
        FixedEpocher::new(epoch_length),
        ended_rx,
    );
    let marshal = marshal_mailbox.clone();
    let genesis = genesis.digest();
    let engine = context.child("orchestrator").spawn(move |ctx| {
        crate::epochs::Orchestrator {
            context: ctx,
            evidence,
            sets,
            set_store,
            on_new_set,
            ended: ended_tx,
            blocker,
            deferred,
            marshal,
            epocher: FixedEpocher::new(epoch_length),
            genesis,
            partition_prefix,
            page_cache,
            leader_timeout,
            presence,
        }
        .run(votes, certs, resolver_net, tips_rx)
    });
    Running {
        marshal: marshal_mailbox,
        stateful: stateful_mailbox,
        engine,
        state_synced_to,
    }
}

/// The genesis block: binds the chain to its genesis document (its hash rides in
/// `results_hash`) and starts from empty state.
pub fn genesis_block(genesis_time_ms: u64, genesis_doc_hash: [u8; 32]) -> Block {
    use commonware_consensus::types::{Height, Round, View};
    use commonware_cryptography::{Digest as _, Signer as _};
    let initial = <StateSet<commonware_runtime::deterministic::Context> as commonware_glue::stateful::db::DatabaseSet<_>>::initial_sync_targets();
    Block {
        context: BlockContext {
            round: Round::new(Epoch::zero(), View::zero()),
            leader: ed25519::PrivateKey::from_seed(0).public_key(),
            parent: (View::zero(), crate::block::Digest::EMPTY),
        },
        parent: crate::block::Digest::EMPTY,
        height: Height::zero(),
        time_ms: genesis_time_ms,
        txs: Vec::new(),
        results_hash: crate::block::Digest::from(genesis_doc_hash),
        state_root: initial.root,
        target: initial,
        next_validators: Vec::new(),
        last_commit: None,
        faults: Vec::new(),
    }
}
