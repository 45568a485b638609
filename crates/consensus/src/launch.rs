//! Running a node under the tokio runtime: storage directory, telemetry (logs + Prometheus),
//! p2p, the consensus stack, and the node's services — the single entry point `caspurd start`
//! and `caspurd dev` use. Keys and addresses cross this boundary as plain bytes.

use crate::application::ChainApp;
use crate::engine::{self, ValidatorConfig};
use crate::network::{self, P2pSettings};
use crate::presence::Presence;
use crate::validator_sets::{EpochSets, SetsByHeight};
use crate::{BlockSink, TxSource};
use caspur_app::validators::Validator;
use caspur_app::App;
use caspur_store::qmdb::CommittedState;
use caspur_store::{StateRead, StateScan, StoreError};
use commonware_cryptography::{ed25519, Signer as _};
use commonware_runtime::{
    tokio as cw_tokio, Clock as _, Runner as _, Spawner as _, Supervisor as _,
};
use commonware_utils::ordered::Set;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Committed state of the running node. Bound once the database is open; reads before that
/// fail with a clear error instead of blocking.
#[derive(Clone, Default)]
pub struct LiveState(Arc<OnceLock<CommittedState<cw_tokio::Context>>>);

impl LiveState {
    fn get(&self) -> Result<&CommittedState<cw_tokio::Context>, StoreError> {
        self.0
            .get()
            .ok_or_else(|| StoreError("state database is still opening".into()))
    }
}

impl StateRead for LiveState {
    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        LiveState::get(self)?.get(key).await
    }
}

impl StateScan for LiveState {
    async fn scan_prefix(
        &self,
        prefix: &[u8],
        limit: usize,
    ) -> Result<caspur_store::Rows, StoreError> {
        LiveState::get(self)?.scan_prefix(prefix, limit).await
    }
}

/// The ed25519 signing key for a 32-byte validator secret.
#[allow(
    clippy::expect_used,
    reason = "every 32-byte string is an ed25519 secret: the decode cannot fail"
)]
fn private_key(secret: &[u8; 32]) -> ed25519::PrivateKey {
    use commonware_codec::DecodeExt as _;
    ed25519::PrivateKey::decode(secret.to_vec()).expect("every 32-byte string is an ed25519 secret")
}

impl caspur_store::StateProve for LiveState {
    async fn prove(&self, key: &[u8]) -> Result<caspur_store::Proven, StoreError> {
        LiveState::get(self)?.prove(key).await
    }
}

/// A validator's ed25519 public key from its 32-byte secret.
pub fn validator_public_key(secret: &[u8; 32]) -> [u8; 32] {
    let pk = private_key(secret).public_key();
    let mut out = [0u8; 32];
    out.copy_from_slice(pk.as_ref());
    out
}

fn public_key(bytes: &[u8; 32]) -> Result<ed25519::PublicKey, String> {
    use commonware_codec::DecodeExt as _;
    ed25519::PublicKey::decode(bytes.to_vec())
        .map_err(|e| format!("invalid ed25519 public key: {e}"))
}

/// Distinct ed25519 keys from raw bytes; `what` names the list in errors.
fn key_set(keys: &[[u8; 32]], what: &str) -> Result<Set<ed25519::PublicKey>, String> {
    let keys: Vec<ed25519::PublicKey> = keys.iter().map(public_key).collect::<Result<_, _>>()?;
    Set::try_from(keys).map_err(|_| format!("duplicate keys in {what}"))
}

/// Everything needed to run a node.
pub struct LaunchConfig {
    /// Data directory (all consensus and state storage lives here).
    pub data_dir: PathBuf,
    /// Chain id (also the p2p and signing namespace).
    pub chain_id: String,
    /// Our validator key seed.
    pub validator_secret: [u8; 32],
    /// Genesis validator set (epoch 0; later epochs' sets come from the chain).
    pub validators: Vec<Validator>,
    /// Full nodes admitted as non-voting peers.
    pub followers: Vec<[u8; 32]>,
    /// Whether this node votes (its key must be a validator) or only follows.
    pub validate: bool,
    /// p2p listen address.
    pub p2p_listen: SocketAddr,
    /// p2p address peers dial.
    pub p2p_dialable: SocketAddr,
    /// Peers to dial at startup.
    pub bootstrappers: Vec<([u8; 32], SocketAddr)>,
    /// Allow loopback/private peer addresses.
    pub allow_private_ips: bool,
    /// Most peers one epoch admits (`None`: twice the genesis set plus followers plus 16).
    pub max_peers: Option<usize>,
    /// Target block interval.
    pub block_time: Duration,
    /// Largest block in tx bytes.
    pub max_block_bytes: usize,
    /// Genesis time, ms since the Unix epoch.
    pub genesis_time_ms: u64,
    /// Hash of the genesis document.
    pub genesis_hash: [u8; 32],
    /// Blocks per epoch (genesis `consensus.epoch_length`).
    pub epoch_length: std::num::NonZeroU64,
    /// Catching up when behind (state sync, block retention).
    pub catch_up: engine::CatchUp,
    /// The plan the previous binary halted for (its `upgrade-info.json`), if any.
    pub halted_for: Option<caspur_types::upgrade_info::UpgradeInfo>,
    /// The height of the block this node last stopped at because it could not apply it.
    pub bad_block_at: Option<u64>,
}

/// What consensus hands the node layer when it builds its services.
pub struct NodeHandles {
    /// Committed state (bound once the database opens).
    pub state: LiveState,
    /// Tx gossip to peers.
    pub gossip: crate::gossip::Gossip,
    /// The network's finalized height as seen by this node.
    pub tip: crate::ChainTip,
    /// The validator set of each epoch this node knows, by height.
    pub validator_sets: SetsByHeight,
    /// The runtime's metrics, which the node's Prometheus endpoint serves after its own.
    pub runtime_metrics: RuntimeMetrics,
    /// This node's consensus key when it votes.
    pub validator_key: Option<[u8; 32]>,
}

/// Encodes the runtime's own metrics (Commonware's p2p, consensus, storage and runtime
/// families) in the Prometheus text format.
pub type RuntimeMetrics = Arc<dyn Fn() -> String + Send + Sync>;

/// What the node layer supplies: its mempool, its block sink, and its long-running services
/// (RPC server), built around the live state handle and the tx gossip handle.
pub struct Services<F> {
    /// The mempool.
    pub source: Arc<dyn TxSource>,
    /// Where peers' gossiped txs go (the mempool).
    pub peer_txs: Arc<dyn crate::PeerTxSink>,
    /// The finalized-block sink.
    pub sink: Arc<dyn BlockSink>,
    /// Runs until the node stops (its result ends the node).
    pub run: F,
}

/// Why a node stopped without an error.
#[derive(Debug, PartialEq, Eq)]
pub enum Stopped {
    /// Ctrl-C / SIGTERM, or the services finished.
    Interrupted,
    /// A block needs an upgrade this binary does not carry (nothing of it was executed).
    UpgradeNeeded {
        /// The plan and its height.
        info: caspur_types::upgrade_info::UpgradeInfo,
        /// When the halt was raised (the process stops [`HALT_SETTLE`] later).
        halted_at: std::time::SystemTime,
    },
    /// Block `height` cannot be applied by this node (nothing of it was committed).
    BadBlock {
        /// The block's height.
        height: u64,
        /// What failed.
        error: String,
    },
}

/// How long a node halted for an upgrade keeps its engine and connections up before it stops.
/// The validators halt when they apply block H−1, at slightly different instants; one that
/// stopped at once could miss the certificate of the view its peers move to next (a leader
/// nobody hears from is skipped within milliseconds) and restart a view behind them, waiting a
/// leader timeout for it (measured: 2–5 s of the switch's downtime). Nothing executes meanwhile:
/// block H stays gated.
pub const HALT_SETTLE: Duration = Duration::from_millis(300);

/// The exit code of a node stopped by a block it cannot apply (`EX_SOFTWARE`).
pub const BAD_BLOCK_EXIT_CODE: i32 = 70;

/// Runs the node until `services.run` finishes, Ctrl-C or SIGTERM, or an upgrade halt;
/// returns an error description on a startup failure.
pub fn run<B, F>(cfg: LaunchConfig, app: Arc<App>, build: B) -> Result<Stopped, String>
where
    B: FnOnce(NodeHandles) -> Services<F>,
    F: Future<Output = Result<(), String>> + Send + 'static,
{
    let set = crate::validator_sets::key_set(&cfg.validators)?;
    let followers = key_set(&cfg.followers, "[p2p] followers")?;
    let bootstrappers = cfg
        .bootstrappers
        .iter()
        .map(|(pk, addr)| public_key(pk).map(|pk| (pk, *addr)))
        .collect::<Result<Vec<_>, _>>()?;
    let signer = private_key(&cfg.validator_secret);
    let me = signer.public_key();
    if cfg.validate && set.position(&me).is_none() {
        tracing::warn!("this node's validator key is not in the genesis validator set: it follows the chain and votes from the first epoch whose set contains it");
    }
    let runner = cw_tokio::Runner::new(
        cw_tokio::Config::new()
            .with_storage_directory(cfg.data_dir.clone())
            .with_worker_threads(4)
            .with_catch_panics(false),
    );
    let initial_height = app.initial_height;
    runner.start(|context| async move {
        // Logs go through the subscriber the binary installed (`caspurd`'s `logging`).
        let live = LiveState::default();
        let (gossip, outbound) = crate::gossip::channel();
        let tip = crate::ChainTip::default();
        let sets = EpochSets::new(
            cfg.chain_id.as_bytes(),
            cfg.validate.then(|| signer.clone()),
            cfg.validators.clone(),
        )?;
        let services = build(NodeHandles {
            state: live.clone(),
            gossip,
            tip: tip.clone(),
            validator_sets: SetsByHeight::new(sets.clone(), cfg.epoch_length)
                .starting_at(app.initial_height),
            runtime_metrics: {
                // Any context encodes the runtime's whole registry.
                let exporter = context.child("exporter");
                Arc::new(move || commonware_runtime::Metrics::encode(&exporter))
            },
            validator_key: cfg.validate.then(|| {
                let mut key = [0u8; 32];
                key.copy_from_slice(me.as_ref());
                key
            }),
        });
        let (oracle, channels, gossip_net, max_peers, _p2p) = network::start(
            &context,
            cfg.chain_id.as_bytes(),
            signer.clone(),
            set.clone(),
            followers.clone(),
            P2pSettings {
                listen: cfg.p2p_listen,
                dialable: cfg.p2p_dialable,
                bootstrappers,
                allow_private_ips: cfg.allow_private_ips,
                max_peers: cfg.max_peers,
            },
        );
        let leader_timeout = cfg.block_time + Duration::from_secs(2);
        // A validator's first proposal waits (at most half the leader timeout) for the
        // others' engines, so a restart together (an upgrade) loses no view.
        let presence = Presence::new(me.clone(), leader_timeout / 2);
        crate::gossip::start(
            context.child("tx_gossip"),
            gossip_net,
            outbound,
            services.peer_txs,
            presence.clone(),
        );
        let genesis = engine::genesis_block(cfg.genesis_time_ms, cfg.genesis_hash);
        let halt = crate::upgrade_halt::UpgradeHalt::default();
        let mut chain_app = ChainApp::new(
            app.clone(),
            genesis.clone(),
            cfg.block_time,
            cfg.max_block_bytes,
            services.sink,
            cfg.epoch_length,
            sets.clone(),
        );
        chain_app.halt = halt.clone();
        chain_app.presence = presence;
        let finalized_floor = chain_app.finalized_floor();
        let running = engine::start(
            context.child("validator"),
            ValidatorConfig {
                partition_prefix: "caspur".into(),
                sets,
                on_new_set: Some(network::set_tracker(
                    oracle.clone(),
                    set,
                    followers,
                    max_peers,
                )),
                public_key: me,
                genesis,
                leader_timeout,
                catch_up: cfg.catch_up.clone(),
                tip_observer: Some(Arc::new(move |_, height, _| {
                    tip.observe(crate::application::chain_height(initial_height, height))
                })),
                epoch_length: cfg.epoch_length,
            },
            chain_app,
            services.source,
            oracle.clone(),
            oracle,
            channels,
        )
        .await;
        let db = running.stateful.subscribe_databases().await;
        let _ = live.0.set(CommittedState(db));
        app.check_not_early(&live, cfg.halted_for.as_ref(), cfg.bad_block_at)
            .await?;
        let committed = caspur_app::last_height(&live)
            .await
            .map_err(|e| format!("cannot read the committed height: {e}"))?;
        if let Some(floor) = crate::application::engine_height(initial_height, committed) {
            finalized_floor.fetch_max(floor, std::sync::atomic::Ordering::AcqRel);
        }
        let service = context.child("services").spawn(|_| services.run);
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .map_err(|e| format!("cannot watch SIGTERM: {e}"))?;
        tokio::select! {
            r = service => match r {
                Ok(Ok(())) => Ok(Stopped::Interrupted),
                Ok(Err(e)) => Err(e),
                Err(e) => Err(format!("node services stopped: {e}")),
            },
            halted = halt.raised() => Ok(match halted {
                crate::upgrade_halt::Halted::Upgrade(info) => {
                    let halted_at = std::time::SystemTime::now();
                    context.sleep(HALT_SETTLE).await;
                    Stopped::UpgradeNeeded { info, halted_at }
                }
                crate::upgrade_halt::Halted::BadBlock { height, error } => {
                    Stopped::BadBlock { height, error }
                }
            }),
            _ = tokio::signal::ctrl_c() => {
                tracing::info!("interrupted; stopping");
                Ok(Stopped::Interrupted)
            }
            _ = terminate.recv() => {
                tracing::info!("terminated; stopping");
                Ok(Stopped::Interrupted)
            }
        }
    })
}

/// Reads the committed application state of a stopped node's data directory: the height of
/// its last applied block and every module's state in genesis form.
pub fn export_state(data_dir: &std::path::Path) -> Result<(u64, caspur_app::AppGenesis), String> {
    if !data_dir.exists() {
        return Err(format!("{} does not exist", data_dir.display()));
    }
    let runner = cw_tokio::Runner::new(
        cw_tokio::Config::new().with_storage_directory(data_dir.to_path_buf()),
    );
    runner.start(|context| async move {
        let store = caspur_store::qmdb::DirectStore::open(context.child("export"), "caspur")
            .await
            .map_err(|e| format!("cannot open state (is the node still running?): {e}"))?;
        let height = caspur_app::last_height(&store)
            .await
            .map_err(|e| e.to_string())?;
        let state = caspur_app::AppGenesis::export(&store)
            .await
            .map_err(|e| e.to_string())?;
        Ok((height, state))
    })
}

/// Rolls a stopped node's data directory back to height `height`, whose state had
/// `state_size` operations and root `app_hash`: the state database is reopened at that commit
/// (later commits discarded), marshal's processed height is set to `height`, and glue's state
/// sync record is removed. On the next start the node re-executes `height + 1 …` from its
/// finalized-block archive (finalized blocks are never un-finalized: a rollback means
/// re-execution from `height`).
pub fn rollback(
    data_dir: &std::path::Path,
    height: u64,
    state_size: u64,
    app_hash: [u8; 32],
) -> Result<(), String> {
    use commonware_codec::varint::UInt;
    use commonware_runtime::Storage as _;
    use commonware_storage::metadata::{self, Metadata};
    use commonware_utils::sequence::U64;
    let runner = cw_tokio::Runner::new(
        cw_tokio::Config::new().with_storage_directory(data_dir.to_path_buf()),
    );
    runner.start(|context| async move {
        let mut store = caspur_store::qmdb::DirectStore::open_at(context.child("rollback_state"), "caspur", Some(state_size))
            .await
            .map_err(|e| format!("cannot reopen state at height {height} (is the node still running?): {e}"))?;
        let root = store.root().map_err(|e| e.to_string())?;
        if root.as_ref() != app_hash.as_slice() {
            return Err(format!(
                "state at height {height} has root {}, but the block recorded {}; state for that height is no longer retained",
                hex::encode_upper(root.as_ref()),
                hex::encode_upper(app_hash)
            ));
        }
        store.persist().await.map_err(|e| e.to_string())?;
        drop(store);
        let mut processed: Metadata<_, U64, UInt<u64>> = Metadata::init(
            context.child("rollback_marshal"),
            metadata::Config { partition: "caspur-application-metadata".into(), codec_config: () },
        )
        .await
        .map_err(|e| format!("cannot open marshal's processed height: {e}"))?;
        processed.clear();
        processed.put(U64::new(0xFF), UInt(height));
        processed.sync().await.map_err(|e| format!("cannot write marshal's processed height: {e}"))?;
        match context.remove("caspurstate_sync_metadata", None).await {
            Ok(()) | Err(commonware_runtime::Error::PartitionMissing(_)) => Ok(()),
            Err(e) => Err(format!("cannot remove the state sync record: {e}")),
        }
    })
}
