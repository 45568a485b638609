//! One validator on the full stack (simplex + marshal + glue + QMDB) under the deterministic
//! runtime, recording every finalized block.

use caspur_app::App;
use caspur_consensus::application::ChainApp;
use caspur_consensus::engine::{self, Running, ValidatorConfig, CHANNELS};
use caspur_consensus::faults::StateFaults;
use caspur_consensus::pending_results::PendingResults;
use caspur_consensus::upgrade_halt::UpgradeHalt;
use caspur_consensus::validator_sets::EpochSets;
use caspur_consensus::{BlockSink, FinalizedBlock};
use commonware_cryptography::{ed25519, Signer as _};
use commonware_p2p::{simulated, Manager as _};
use commonware_runtime::{deterministic, Clock, Quota, Supervisor as _};
use commonware_utils::{ordered::Set, NZUsize, NZU32};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::Pool;

/// The finalized blocks, by height; finalized txs leave the pool.
pub struct Recorder {
    pub blocks: Mutex<BTreeMap<u64, FinalizedBlock>>,
    pub pending: Arc<Pool>,
}

impl BlockSink for Recorder {
    fn finalized(&self, block: FinalizedBlock) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            self.pending.remove_included(&block.txs);
            self.blocks.lock().unwrap().insert(block.height, block);
        })
    }
}

/// A running validator: its blocks, its halt, and the engine (dropped: stopped).
pub struct Single {
    pub recorder: Arc<Recorder>,
    pub halt: UpgradeHalt,
    pub faults: StateFaults,
    pub _running: Running<deterministic::Context>,
}

/// Starts one validator executing with `app`, proposing `pending`'s txs.
pub async fn start(ctx: &deterministic::Context, app: Arc<App>, pending: Arc<Pool>) -> Single {
    start_keeping(ctx, app, pending, PendingResults::default()).await
}

/// [`start`], keeping executed blocks' results in `kept` until finalization.
pub async fn start_keeping(
    ctx: &deterministic::Context,
    app: Arc<App>,
    pending: Arc<Pool>,
    kept: PendingResults,
) -> Single {
    let signer = ed25519::PrivateKey::from_seed(1);
    let pk = signer.public_key();
    let participants = Set::try_from(vec![pk.clone()]).unwrap();
    let validators = vec![caspur_app::validators::Validator {
        pub_key: pk.as_ref().try_into().unwrap(),
        power: 1,
    }];
    let (network, oracle) = simulated::Network::new(
        ctx.child("network"),
        simulated::Config {
            max_size: engine::max_message_size(1),
            max_peers_per_set: NZUsize!(1),
            disconnect_on_block: true,
            tracked_peer_sets: NZUsize!(1),
        },
    );
    network.start();
    oracle.manager().track(0, participants);
    let control = oracle.control(pk.clone());
    let mut channels = Vec::new();
    for ch in CHANNELS {
        channels.push(
            control
                .register(ch, Quota::per_second(NZU32!(10_000)))
                .await
                .unwrap(),
        );
    }
    let recorder = Arc::new(Recorder {
        blocks: Default::default(),
        pending: pending.clone(),
    });
    let now_ms = ctx
        .current()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let genesis_block = engine::genesis_block(now_ms, [9; 32]);
    let sets = EpochSets::new(b"caspur-sim", Some(signer), validators).unwrap();
    let mut chain_app = ChainApp::new(
        app,
        genesis_block.clone(),
        Duration::from_millis(200),
        1 << 20,
        recorder.clone(),
        commonware_utils::NZU64!(5),
        sets.clone(),
    );
    chain_app.pending_results = kept;
    let halt = chain_app.halt.clone();
    let faults = chain_app.state_faults.clone();
    let running = engine::start(
        ctx.child("validator"),
        ValidatorConfig {
            partition_prefix: "v0".into(),
            sets,
            on_new_set: None,
            public_key: pk,
            genesis: genesis_block,
            leader_timeout: Duration::from_secs(2),
            catch_up: Default::default(),
            tip_observer: None,
            epoch_length: commonware_utils::NZU64!(5),
        },
        chain_app,
        pending,
        oracle.manager(),
        control,
        channels,
    )
    .await;
    Single {
        recorder,
        halt,
        faults,
        _running: running,
    }
}
