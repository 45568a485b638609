//! Four validators on the full stack (simplex + marshal + glue + QMDB + our state machine and
//! state sync) under Commonware's deterministic runtime and simulated network, driven by glue's
//! simulation harness, with txs flowing through every run.
//!
//! Scenarios: a validator crashes and restarts from its own storage; a 2|2 partition stalls the
//! chain until it heals; links drop 30 % of messages with jittered latency; a validator joins
//! so late (blocks pruned) that only state sync can bring it up. After each: every validator
//! reports the same block hash (the harness's fork check) and the same block, results and app
//! hash at every height it executed, its executed heights are contiguous, and the chain made
//! progress whenever three of four could talk.
//!
//! `CASPUR_SIM_SEEDS=N` runs N seeds per scenario (default 20); `CASPUR_SIM_SEED=S` replays one.

use caspur_app::validators::Validator;
use caspur_app::{App, AppGenesis};
use caspur_consensus::application::ChainApp;
use caspur_consensus::engine::{self, CatchUp, TipObserver, ValidatorConfig, CHANNELS};
use caspur_consensus::validator_sets::EpochSets;
use caspur_consensus::{BlockSink, FinalizedBlock, TxSource};
use caspur_types::sign::{msg_send, sign_tx, AccountKey, TxParams};
use commonware_consensus::types::{Epoch, Height, Round, View};
use commonware_cryptography::{ed25519, Signer as _};
use commonware_glue::simulate::{
    action::{Action, Crash, Schedule},
    engine::{EngineDefinition, InitContext},
    exit::ProcessedHeightAtLeast,
    plan::PlanBuilder,
    processed::ProcessedHeight,
    tracker::FinalizationUpdate,
};
use commonware_p2p::simulated::Link;
use commonware_runtime::{deterministic, Clock, Handle, Quota, Spawner as _, Supervisor as _};
use commonware_utils::{probability, NZU32};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

mod common;

use common::Pool;

const CHAIN: &str = "caspur-sim-4";
/// Validators per epoch.
const VALIDATORS: usize = 4;
const SENDERS: usize = 4;
const TXS_PER_SENDER: u64 = 40;
/// Short epochs, so every run crosses many epoch hand-overs.
const EPOCH_LENGTH: u64 = 25;

/// What one validator executed, kept across its restarts (as the node's on-disk index would
/// be), with the simulated time each block reached it.
#[derive(Default)]
struct Ledger {
    blocks: BTreeMap<u64, (FinalizedBlock, Duration)>,
    conflicts: Vec<String>,
}

struct Recorder {
    ledger: Arc<Mutex<Ledger>>,
    pool: Arc<Pool>,
    clock: deterministic::Context,
}

impl BlockSink for Recorder {
    fn finalized(&self, block: FinalizedBlock) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            let at = self.clock.current().duration_since(UNIX_EPOCH).unwrap();
            self.pool.remove_included(&block.txs);
            let mut ledger = self.ledger.lock().unwrap();
            if let Some((known, _)) = ledger.blocks.get(&block.height) {
                // Redelivery after a restart must be the very same block and outcome.
                if known.hash != block.hash || known.app_hash != block.app_hash {
                    let msg = format!("height {} re-executed differently", block.height);
                    ledger.conflicts.push(msg);
                }
                return;
            }
            ledger.blocks.insert(block.height, (block, at));
        })
    }
}

#[derive(Clone)]
struct Sim {
    /// Every node's key (the first `VALIDATORS` form the genesis set).
    keys: Vec<ed25519::PrivateKey>,
    app: Arc<App>,
    pool: Arc<Pool>,
    ledgers: Vec<Arc<Mutex<Ledger>>>,
    synced_to: Arc<Mutex<BTreeMap<usize, u64>>>,
    catch_up: CatchUp,
    /// A validator whose data directory is wiped before each restart (as an operator does when
    /// its peers no longer hold the blocks it missed).
    wiped: Option<usize>,
    starts: Arc<Mutex<BTreeMap<usize, u32>>>,
}

struct SimState {
    ledger: Arc<Mutex<Ledger>>,
}

impl ProcessedHeight for SimState {
    async fn processed_height(&self) -> u64 {
        let ledger = self.ledger.lock().unwrap();
        ledger.blocks.keys().next_back().copied().unwrap_or(0)
    }
}

fn sender(i: usize) -> AccountKey {
    AccountKey::from_secret(&[40 + i as u8; 32]).unwrap()
}

fn set_of(keys: &[ed25519::PrivateKey], members: &[usize]) -> Vec<Validator> {
    members
        .iter()
        .map(|&i| Validator {
            pub_key: keys[i].public_key().as_ref().try_into().unwrap(),
            power: 10 + i as u64,
        })
        .collect()
}

impl Sim {
    fn new(catch_up: CatchUp) -> Self {
        Self::with_nodes(catch_up, VALIDATORS, BTreeMap::new())
    }

    /// `nodes` nodes; after block `h` of `changes`, the listed nodes become the set of the
    /// next epoch.
    fn with_nodes(catch_up: CatchUp, nodes: usize, changes: BTreeMap<u64, Vec<usize>>) -> Self {
        let senders: Vec<AccountKey> = (0..SENDERS).map(sender).collect();
        let genesis = AppGenesis::funded(
            &senders.iter().map(|k| k.address()).collect::<Vec<_>>(),
            10_000_000_000,
        );
        // Offered to every validator, standing in for gossip: each tx reaches every mempool.
        let pool = Pool::new(4);
        {
            let mut txs = pool.txs.lock().unwrap();
            for seq in 0..TXS_PER_SENDER {
                for (n, key) in senders.iter().enumerate() {
                    let to = &senders[(n + 1) % SENDERS];
                    let amount = caspur_types::Coins::normalize([caspur_types::Coin::new(
                        "ucsp",
                        1 + seq as u128,
                    )])
                    .unwrap();
                    let params = TxParams {
                        chain_id: CHAIN.into(),
                        account_number: n as u64,
                        sequence: seq,
                        fee: "2000ucsp".parse().unwrap(),
                        gas_limit: 200_000,
                        memo: String::new(),
                        include_pubkey: seq == 0,
                    };
                    let msg = msg_send(&key.address(), &to.address(), &amount);
                    txs.push(sign_tx(key, vec![msg], &params));
                }
            }
        }
        let keys: Vec<ed25519::PrivateKey> = (0..nodes as u64)
            .map(ed25519::PrivateKey::from_seed)
            .collect();
        let schedule_keys = keys.clone();
        let app = App::new(CHAIN, Some(10_000_000), genesis).with_validator_schedule(Arc::new(
            move |height| changes.get(&height).map(|m| set_of(&schedule_keys, m)),
        ));
        Sim {
            keys,
            app: Arc::new(app),
            pool: Arc::new(pool),
            ledgers: (0..nodes).map(|_| Default::default()).collect(),
            synced_to: Default::default(),
            catch_up,
            wiped: None,
            starts: Default::default(),
        }
    }

    fn ledger(&self, v: usize) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledgers[v].lock().unwrap()
    }
}

impl EngineDefinition for Sim {
    type PublicKey = ed25519::PublicKey;
    type Engine = Handle<()>;
    type State = SimState;

    fn participants(&self) -> Vec<ed25519::PublicKey> {
        self.keys.iter().map(|k| k.public_key()).collect()
    }

    fn channels(&self) -> Vec<(u64, Quota)> {
        CHANNELS
            .iter()
            .map(|c| (*c, Quota::per_second(NZU32!(10_000))))
            .collect()
    }

    fn max_message_size(&self) -> u32 {
        engine::max_message_size(self.keys.len() as u32)
    }

    async fn init(&self, ctx: InitContext<'_, ed25519::PublicKey>) -> (Handle<()>, SimState) {
        let InitContext {
            context,
            index,
            public_key,
            oracle,
            channels,
            monitor,
            ..
        } = ctx;
        let ledger = self.ledgers[index].clone();
        let start = {
            let mut starts = self.starts.lock().unwrap();
            let n = starts.entry(index).or_default();
            *n += 1;
            *n - 1
        };
        let prefix = if self.wiped == Some(index) && start > 0 {
            // Fresh storage and a fresh index: nothing of the old run survives.
            *ledger.lock().unwrap() = Ledger::default();
            self.synced_to.lock().unwrap().remove(&index);
            format!("v{index}-wiped{start}")
        } else {
            format!("v{index}")
        };
        let recorder = Arc::new(Recorder {
            ledger: ledger.clone(),
            pool: self.pool.clone(),
            clock: context.child("recorder"),
        });
        // Genesis at the simulated epoch: the deterministic clock starts at the Unix epoch.
        let genesis = engine::genesis_block(0, [7; 32]);
        let chain_app = ChainApp::new(
            self.app.clone(),
            genesis.clone(),
            Duration::from_millis(100),
            1 << 20,
            recorder,
            commonware_utils::NZU64!(EPOCH_LENGTH),
        );
        let pk = public_key.clone();
        let observer: TipObserver = Arc::new(move |round, height, digest| {
            let _ = monitor.send(FinalizationUpdate {
                pk: pk.clone(),
                round,
                height: Height::new(height),
                block_digest: digest.as_ref().to_vec(),
            });
        });
        let config = ValidatorConfig {
            partition_prefix: prefix,
            sets: EpochSets::new(
                CHAIN.as_bytes(),
                Some(self.keys[index].clone()),
                set_of(&self.keys, &(0..VALIDATORS).collect::<Vec<_>>()),
            )
            .unwrap(),
            // The harness tracks every node as a peer.
            on_new_set: None,
            public_key: public_key.clone(),
            genesis,
            leader_timeout: Duration::from_secs(1),
            catch_up: self.catch_up.clone(),
            tip_observer: Some(observer),
            epoch_length: commonware_utils::NZU64!(EPOCH_LENGTH),
        };
        let (manager, control) = (oracle.manager(), oracle.control(public_key.clone()));
        let pool: Arc<dyn TxSource> = self.pool.clone();
        let synced_to = self.synced_to.clone();
        // Everything the validator runs descends from this task, so a crash (abort) stops it all.
        let handle = context.spawn(move |ctx| async move {
            let running =
                engine::start(ctx, config, chain_app, pool, manager, control, channels).await;
            if let Some(h) = running.state_synced_to {
                synced_to.lock().unwrap().insert(index, h);
            }
            let _ = running.engine.await;
        });
        (handle, SimState { ledger })
    }

    fn start(engine: Handle<()>) -> Handle<()> {
        engine
    }
}

fn seeds() -> Vec<u64> {
    if let Some(seed) = std::env::var("CASPUR_SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return vec![seed];
    }
    let n = std::env::var("CASPUR_SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    (0..n).collect()
}

fn good_link() -> Link {
    Link {
        latency: Duration::from_millis(10),
        jitter: Duration::from_millis(5),
        success_rate: probability!(1.0),
    }
}

/// Runs `scenario` for every seed on a fresh simulation each; the first failure names its seed.
fn for_each_seed(
    name: &str,
    catch_up: CatchUp,
    wiped: Option<usize>,
    scenario: impl Fn(&Sim, u64) -> Result<(), String>,
) {
    let make = || {
        let mut sim = Sim::new(catch_up.clone());
        sim.wiped = wiped;
        sim
    };
    for_each_seed_of(name, make, scenario);
}

/// [`for_each_seed`] on simulations built by `make`.
fn for_each_seed_of(
    name: &str,
    make: impl Fn() -> Sim,
    scenario: impl Fn(&Sim, u64) -> Result<(), String>,
) {
    for seed in seeds() {
        let sim = make();
        if let Err(e) = scenario(&sim, seed) {
            panic!("{name}: seed {seed} failed: {e}\nreplay with CASPUR_SIM_SEED={seed}");
        }
    }
}

/// Same block, results and app hash at every height two validators both executed; executed
/// heights contiguous; no re-execution conflicts.
fn check_agreement(sim: &Sim) -> Result<(), String> {
    let nodes = sim.keys.len();
    for v in 0..nodes {
        let ledger = sim.ledger(v);
        if let Some(c) = ledger.conflicts.first() {
            return Err(format!("validator {v}: {c}"));
        }
        let heights: Vec<u64> = ledger.blocks.keys().copied().collect();
        if heights.windows(2).any(|w| w[1] != w[0] + 1) {
            return Err(format!("validator {v} executed non-contiguous heights"));
        }
    }
    let reference = sim.ledger(0).blocks.clone();
    for v in 1..nodes {
        for (h, (b, _)) in sim.ledger(v).blocks.iter() {
            if let Some((r, _)) = reference.get(h) {
                if (r.hash, r.app_hash, &r.results) != (b.hash, b.app_hash, &b.results) {
                    return Err(format!("validator {v} disagrees with validator 0 at {h}"));
                }
            }
        }
    }
    let txs: usize = reference.values().map(|(b, _)| b.txs.len()).sum();
    if txs == 0 {
        return Err("no txs were finalized".into());
    }
    Ok(())
}

/// Heights validator `v` finalized within `[from, to)` of simulated time.
fn finalized_between(sim: &Sim, v: usize, from: Duration, to: Duration) -> usize {
    let ledger = sim.ledger(v);
    ledger
        .blocks
        .values()
        .filter(|(_, at)| *at >= from && *at < to)
        .count()
}

/// Runs `schedule` on good links until every validator executed height 150.
fn run_schedule(
    sim: &Sim,
    seed: u64,
    schedule: Schedule<ed25519::PublicKey>,
) -> Result<(), String> {
    PlanBuilder::new(sim.clone())
        .seed(seed)
        .crash(Crash::Schedule(schedule))
        .exit_condition(ProcessedHeightAtLeast::new(150))
        .timeout(secs(600))
        .run()
        .map(|_| ())
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn crash_and_restart_from_own_storage() {
    for_each_seed(
        "crash",
        CatchUp {
            probe_timeout: secs(1),
            ..CatchUp::default()
        },
        None,
        |sim, seed| {
            let down = sim.participants()[3].clone();
            let schedule = Schedule::new()
                .at(secs(5), Action::Crash(down.clone()))
                .at(secs(12), Action::Restart(down));
            run_schedule(sim, seed, schedule)?;
            if finalized_between(sim, 0, secs(6), secs(12)) < 10 {
                return Err("three validators made no progress while one was down".into());
            }
            check_agreement(sim)
        },
    );
}

#[test]
fn partition_two_two_stalls_then_heals() {
    for_each_seed(
        "partition",
        CatchUp {
            probe_timeout: secs(1),
            ..CatchUp::default()
        },
        None,
        |sim, seed| {
            let p = sim.participants();
            let dead = Link {
                success_rate: probability!(0.0),
                ..good_link()
            };
            let mut schedule = Schedule::new();
            for a in 0..2 {
                for b in 2..4 {
                    for (from, to) in [(a, b), (b, a)] {
                        let action = Action::UpdateLink {
                            from: p[from].clone(),
                            to: p[to].clone(),
                            link: dead.clone(),
                        };
                        schedule = schedule.at(secs(5), action);
                    }
                }
            }
            let schedule = schedule.at(secs(12), Action::Heal(good_link()));
            run_schedule(sim, seed, schedule)?;
            for v in 0..VALIDATORS {
                // Blocks certified just before the cut may still arrive; after that, nothing.
                let during = finalized_between(sim, v, secs(7), secs(12));
                if during > 0 {
                    return Err(format!(
                        "validator {v} finalized {during} blocks while split 2|2"
                    ));
                }
                if finalized_between(sim, v, secs(12), secs(600)) == 0 {
                    return Err(format!("validator {v} made no progress after the heal"));
                }
            }
            check_agreement(sim)
        },
    );
}

#[test]
fn lossy_jittery_links() {
    for_each_seed(
        "lossy",
        CatchUp {
            probe_timeout: secs(1),
            ..CatchUp::default()
        },
        None,
        |sim, seed| {
            PlanBuilder::new(sim.clone())
                .seed(seed)
                .link(Link {
                    latency: Duration::from_millis(40),
                    jitter: Duration::from_millis(30),
                    success_rate: probability!(0.7),
                })
                .exit_condition(ProcessedHeightAtLeast::new(80))
                .timeout(secs(900))
                .run()?;
            check_agreement(sim)
        },
    );
}

/// Catching up needs state sync here: peers keep only 10 finalized blocks.
fn pruning_network() -> CatchUp {
    CatchUp {
        state_sync: true,
        min_distance_views: 50,
        probe_timeout: secs(1),
        retained_blocks: Some(10),
    }
}

/// Node `v` state-synced, then executed only blocks after its floor, in agreement.
fn check_state_synced(sim: &Sim, v: usize) -> Result<(), String> {
    let synced = sim.synced_to.lock().unwrap().get(&v).copied();
    let Some(floor) = synced else {
        return Err(format!("node {v} did not state sync"));
    };
    // It adopted state at the floor (or a later anchor) and executed only what followed.
    let first = sim.ledger(v).blocks.keys().next().copied().unwrap_or(0);
    if first <= floor {
        return Err(format!("after syncing to {floor} it executed from {first}"));
    }
    check_agreement(sim)
}

#[test]
fn late_validator_catches_up_by_state_sync() {
    for_each_seed("late joiner", pruning_network(), None, |sim, seed| {
        let late = sim.participants()[3].clone();
        PlanBuilder::new(sim.clone())
            .seed(seed)
            .crash(Crash::DelayRound {
                participants: vec![late],
                // Views restart every epoch: join once epoch 5 (height 125) has begun.
                round: Round::new(Epoch::new(5), View::zero()),
            })
            .exit_condition(ProcessedHeightAtLeast::new(200))
            .timeout(secs(900))
            .run()?;
        check_state_synced(sim, 3)
    });
}

#[test]
fn validator_down_past_retention_catches_up_by_state_sync() {
    for_each_seed("long outage", pruning_network(), Some(3), |sim, seed| {
        let down = sim.participants()[3].clone();
        let schedule = Schedule::new()
            .at(secs(5), Action::Crash(down.clone()))
            .at(secs(25), Action::Restart(down));
        PlanBuilder::new(sim.clone())
            .seed(seed)
            .crash(Crash::Schedule(schedule))
            .exit_condition(ProcessedHeightAtLeast::new(300))
            .timeout(secs(900))
            .run()?;
        check_state_synced(sim, 3)
    });
}

/// Proposers of the blocks validator `v` executed in `[from, to]`.
fn proposers(sim: &Sim, v: usize, from: u64, to: u64) -> Vec<[u8; 32]> {
    sim.ledger(v)
        .blocks
        .range(from..=to)
        .map(|(_, (b, _))| b.proposer)
        .collect()
}

/// Five nodes; the app moves node 0 out and node 4 in for epoch 2 (heights 50–74), then
/// node 0 back in and node 3 out from epoch 4 (heights 100–).
fn rotating(catch_up: CatchUp) -> Sim {
    let changes = BTreeMap::from([(40, vec![1, 2, 3, 4]), (90, vec![0, 1, 2, 4])]);
    Sim::with_nodes(catch_up, 5, changes)
}

fn key(sim: &Sim, i: usize) -> [u8; 32] {
    sim.participants()[i].as_ref().try_into().unwrap()
}

#[test]
fn validator_set_changes_at_epoch_boundaries() {
    // Node 4 crashes across the boundary where it becomes a validator, node 0 across the one
    // where it returns.
    let make = || {
        rotating(CatchUp {
            probe_timeout: secs(1),
            ..CatchUp::default()
        })
    };
    for_each_seed_of("set change", make, |sim, seed| {
        let p = sim.participants();
        let schedule = Schedule::new()
            .at(secs(3), Action::Crash(p[4].clone()))
            .at(secs(7), Action::Restart(p[4].clone()))
            .at(secs(9), Action::Crash(p[0].clone()))
            .at(secs(13), Action::Restart(p[0].clone()));
        PlanBuilder::new(sim.clone())
            .seed(seed)
            .crash(Crash::Schedule(schedule))
            .exit_condition(ProcessedHeightAtLeast::new(175))
            .timeout(secs(600))
            .run()?;
        check_agreement(sim)?;
        let key = |i| key(sim, i);
        let (epoch2, epoch4) = (proposers(sim, 1, 50, 74), proposers(sim, 1, 100, 175));
        if epoch2.contains(&key(0)) || epoch4.contains(&key(3)) {
            return Err("a node outside the epoch's set proposed".into());
        }
        if !epoch2.contains(&key(4)) || !epoch4.contains(&key(0)) {
            return Err("a node that joined the set never proposed".into());
        }
        Ok(())
    });
}

#[test]
fn late_node_state_syncs_across_set_changes() {
    // Node 4 (not a genesis validator) first starts in epoch 5, after both changes, with
    // blocks pruned: it must learn each epoch's set from peers' boundary proofs, state-sync,
    // and then vote as the member it has been since epoch 2.
    for_each_seed_of(
        "late node across set changes",
        || rotating(pruning_network()),
        |sim, seed| {
            let late = sim.participants()[4].clone();
            PlanBuilder::new(sim.clone())
                .seed(seed)
                .crash(Crash::DelayRound {
                    participants: vec![late],
                    round: Round::new(Epoch::new(5), View::zero()),
                })
                .exit_condition(ProcessedHeightAtLeast::new(250))
                .timeout(secs(900))
                .run()?;
            check_state_synced(sim, 4)?;
            if !proposers(sim, 1, 175, 250).contains(&key(sim, 4)) {
                return Err("the late node never proposed after syncing".into());
            }
            Ok(())
        },
    );
}
