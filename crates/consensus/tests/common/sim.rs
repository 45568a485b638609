//! The four-validator simulation harness: our full stack per validator under Commonware's
//! deterministic runtime and simulated network, driven by glue's simulation harness, with txs
//! flowing and every finalized block recorded per validator.
//!
//! `CASPUR_SIM_SEEDS=N` runs N seeds per scenario (default 20); `CASPUR_SIM_SEED=S` replays one.

use caspur_app::modules::slashing::SlashingParams;
use caspur_app::modules::staking::GenesisValidator;
use caspur_app::validators::Validator;
use caspur_app::{App, AppGenesis};
use caspur_consensus::application::ChainApp;
use caspur_consensus::engine::{self, CatchUp, TipObserver, ValidatorConfig, CHANNELS};
use caspur_consensus::validator_sets::EpochSets;
use caspur_consensus::{BlockSink, FinalizedBlock, TxSource};
use caspur_types::sign::{msg_send, sign_tx, AccountKey, TxParams};
use commonware_consensus::types::{Epoch, Height};
use commonware_cryptography::{ed25519, Signer as _};
use commonware_glue::simulate::{
    action::{Crash, Schedule},
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

use super::Pool;

pub const CHAIN: &str = "caspur-sim-4";
/// Validators per epoch.
pub const VALIDATORS: usize = 4;
pub const SENDERS: usize = 4;
pub const TXS_PER_SENDER: u64 = 40;
/// Short epochs, so every run crosses many epoch hand-overs.
pub const EPOCH_LENGTH: u64 = 25;

/// What one validator executed, kept across its restarts (as the node's on-disk index would
/// be), with the simulated time each block reached it.
#[derive(Default)]
pub struct Ledger {
    pub blocks: BTreeMap<u64, (FinalizedBlock, Duration)>,
    pub conflicts: Vec<String>,
}

pub struct Recorder {
    pub ledger: Arc<Mutex<Ledger>>,
    pub pool: Arc<Pool>,
    pub clock: deterministic::Context,
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
pub struct Sim {
    /// Every node's key (the first `VALIDATORS` form the genesis set).
    pub keys: Vec<ed25519::PrivateKey>,
    pub app: Arc<App>,
    pub pool: Arc<Pool>,
    pub ledgers: Vec<Arc<Mutex<Ledger>>>,
    pub synced_to: Arc<Mutex<BTreeMap<usize, u64>>>,
    pub catch_up: CatchUp,
    /// A validator whose data directory is wiped before each restart (as an operator does when
    /// its peers no longer hold the blocks it missed).
    pub wiped: Option<usize>,
    pub starts: Arc<Mutex<BTreeMap<usize, u32>>>,
    /// A validator that runs no node, only a byzantine voter signing conflicting votes.
    pub byzantine: Option<usize>,
    /// A validator whose proposals include txs the circuit breaker refuses.
    pub byzantine_proposer: Option<usize>,
    /// Each node's view of the validator sets (the latest start's).
    pub sets: Arc<Mutex<BTreeMap<usize, EpochSets>>>,
}

pub struct SimState {
    pub ledger: Arc<Mutex<Ledger>>,
    /// A byzantine voter: it executes nothing, so it never holds up the exit condition.
    pub byzantine: bool,
}

impl ProcessedHeight for SimState {
    async fn processed_height(&self) -> u64 {
        if self.byzantine {
            return u64::MAX;
        }
        let ledger = self.ledger.lock().unwrap();
        ledger.blocks.keys().next_back().copied().unwrap_or(0)
    }
}

pub fn sender(i: usize) -> AccountKey {
    AccountKey::from_secret(&[40 + i as u8; 32]).unwrap()
}

fn sender_addresses() -> Vec<caspur_types::Address> {
    (0..SENDERS).map(|i| sender(i).address()).collect()
}

fn node_keys(nodes: usize) -> Vec<ed25519::PrivateKey> {
    (0..nodes as u64)
        .map(ed25519::PrivateKey::from_seed)
        .collect()
}

/// The dCERT member of [`Sim::with_breaker`].
pub fn breaker_member() -> AccountKey {
    AccountKey::from_secret(&[77; 32]).unwrap()
}

/// The breaker member's X25519 key for sealed incident reports.
pub fn breaker_sealing_key() -> caspur_types::seal::SecretKey {
    caspur_types::seal::SecretKey::parse(&hex::encode([78u8; 32])).unwrap()
}

/// The breaker member's `MsgCircuitBreak` of `route`, answering incident `incident_id`.
pub fn circuit_break(route: &str, incident_id: u64) -> cosmos_sdk_proto::Any {
    caspur_types::sign::to_any(
        "/caspur.dcert.v1.MsgCircuitBreak",
        &caspur_types::proto::dcert::v1::MsgCircuitBreak {
            member: breaker_member().address().to_string(),
            routes: vec![route.to_string()],
            reason: "simulated exploit".into(),
            incident_id,
        },
    )
}

pub fn set_of(keys: &[ed25519::PrivateKey], members: &[usize]) -> Vec<Validator> {
    members
        .iter()
        .map(|&i| Validator {
            pub_key: keys[i].public_key().as_ref().try_into().unwrap(),
            power: 10 + i as u64,
        })
        .collect()
}

impl Sim {
    pub fn new(catch_up: CatchUp) -> Self {
        Self::with_nodes(catch_up, VALIDATORS, BTreeMap::new())
    }

    /// `nodes` nodes; after block `h` of `changes`, the listed nodes become the set of the
    /// next epoch.
    pub fn with_nodes(catch_up: CatchUp, nodes: usize, changes: BTreeMap<u64, Vec<usize>>) -> Self {
        let keys = node_keys(nodes);
        let schedule_keys = keys.clone();
        let genesis = AppGenesis::funded(&sender_addresses(), 10_000_000_000);
        let app = App::new(CHAIN, Some(10_000_000), genesis).with_validator_schedule(Arc::new(
            move |height| changes.get(&height).map(|m| set_of(&schedule_keys, m)),
        ));
        Self::build(catch_up, keys, app)
    }

    /// Four validators whose set comes from the staking module: sender `i` operates validator
    /// `i` with 10 CSP self-delegated; slashing runs with `slashing` parameters.
    pub fn staked(catch_up: CatchUp, slashing: SlashingParams) -> Self {
        let keys = node_keys(VALIDATORS);
        let mut genesis = AppGenesis::funded(&sender_addresses(), 10_000_000_000);
        genesis.slashing.params = slashing;
        genesis.staking.validators = keys
            .iter()
            .enumerate()
            .map(|(i, k)| GenesisValidator {
                operator: sender(i).address().to_account_string(),
                consensus_pubkey: hex::encode(k.public_key().as_ref()),
                moniker: format!("v{i}"),
                commission_rate: "0.1".into(),
                self_delegation: "10000000".into(),
            })
            .collect();
        Self::build(catch_up, keys, App::new(CHAIN, Some(10_000_000), genesis))
    }

    /// Four validators (fixed set) on a chain where account [`breaker_member`] is a seated
    /// dCERT member allowed to circuit-break; its `MsgCircuitBreak` of `route` is queued among
    /// the sends after `after` of them.
    pub fn with_breaker(catch_up: CatchUp, route: &str, after: usize) -> Self {
        let msg = circuit_break(route, 0);
        Self::with_member_txs(catch_up, |_| {}, vec![msg], after)
    }

    /// Four validators (fixed set) on a chain where account [`breaker_member`] is a seated
    /// dCERT member allowed to circuit-break (its report-sealing key is
    /// [`breaker_sealing_key`]), with the genesis `edit` changes; the member's txs of `msgs`
    /// (one message each, consecutive sequences) are queued among the sends after `after` of
    /// them.
    pub fn with_member_txs(
        catch_up: CatchUp,
        edit: impl FnOnce(&mut AppGenesis),
        msgs: Vec<cosmos_sdk_proto::Any>,
        after: usize,
    ) -> Self {
        let keys = node_keys(VALIDATORS);
        let member = breaker_member();
        let mut accounts = sender_addresses();
        accounts.push(member.address());
        let mut genesis = AppGenesis::funded(&accounts, 10_000_000_000);
        genesis.dcert.params.circuit_break_enabled = true;
        genesis.dcert.params.min_member_stake = "1000".into();
        genesis.dcert.candidates = vec![caspur_app::modules::dcert::GenesisCandidate {
            address: member.address().to_string(),
            description: String::new(),
            encryption_key: breaker_sealing_key().public().unwrap().to_hex(),
            bond: "1000".into(),
            member: true,
        }];
        edit(&mut genesis);
        let sim = Self::build(catch_up, keys, App::new(CHAIN, Some(10_000_000), genesis));
        let mut txs = sim.pool.txs.lock().unwrap();
        for (sequence, msg) in msgs.into_iter().enumerate() {
            let params = TxParams {
                chain_id: CHAIN.into(),
                account_number: SENDERS as u64,
                sequence: sequence as u64,
                fee: "2000ucsp".parse().unwrap(),
                gas_limit: 400_000,
                memo: String::new(),
                include_pubkey: sequence == 0,
            };
            txs.insert(after + sequence, sign_tx(&member, vec![msg], &params));
        }
        drop(txs);
        sim
    }

    fn build(catch_up: CatchUp, keys: Vec<ed25519::PrivateKey>, app: App) -> Self {
        let senders: Vec<AccountKey> = (0..SENDERS).map(sender).collect();
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
        Sim {
            ledgers: (0..keys.len()).map(|_| Default::default()).collect(),
            keys,
            app: Arc::new(app),
            pool: Arc::new(pool),
            synced_to: Default::default(),
            catch_up,
            wiped: None,
            starts: Default::default(),
            byzantine: None,
            byzantine_proposer: None,
            sets: Default::default(),
        }
    }

    pub fn ledger(&self, v: usize) -> std::sync::MutexGuard<'_, Ledger> {
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
        let sets = EpochSets::new(
            CHAIN.as_bytes(),
            Some(self.keys[index].clone()),
            set_of(&self.keys, &(0..VALIDATORS).collect::<Vec<_>>()),
        )
        .unwrap();
        self.sets.lock().unwrap().insert(index, sets.clone());
        if self.byzantine == Some(index) {
            let handle = spawn_conflicter(context, &sets, channels);
            let state = SimState {
                ledger,
                byzantine: true,
            };
            return (handle, state);
        }
        let mut chain_app = ChainApp::new(
            self.app.clone(),
            genesis.clone(),
            Duration::from_millis(100),
            1 << 20,
            recorder,
            commonware_utils::NZU64!(EPOCH_LENGTH),
            sets.clone(),
        );
        chain_app.filter_refused_txs = self.byzantine_proposer != Some(index);
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
            sets,
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
        let state = SimState {
            ledger,
            byzantine: false,
        };
        (handle, state)
    }

    fn start(engine: Handle<()>) -> Handle<()> {
        engine
    }
}

/// Runs, instead of a node, Commonware's byzantine voter on epoch 0's vote channel: for every
/// notarize or finalize it receives it signs the same proposal and a random one.
fn spawn_conflicter<S, R>(
    context: deterministic::Context,
    sets: &EpochSets,
    channels: Vec<(S, R)>,
) -> Handle<()>
where
    S: commonware_p2p::Sender<PublicKey = ed25519::PublicKey>,
    R: commonware_p2p::Receiver<PublicKey = ed25519::PublicKey>,
{
    use commonware_consensus::simplex::{mocks::conflicter, scheme::ed25519::Scheme};
    use commonware_p2p::utils::mux::Muxer;
    let scheme: Scheme = sets.scheme(Epoch::zero()).expect("epoch 0's set");
    context.spawn(move |ctx| async move {
        let (votes_tx, votes_rx) = channels.into_iter().next().expect("the vote channel");
        let (mux, mut votes) = Muxer::new(ctx.child("votes_mux"), votes_tx, votes_rx);
        mux.start();
        let epoch0 = votes.register(0).await.expect("register epoch 0");
        let voter = conflicter::Conflicter::<_, Scheme, commonware_cryptography::Sha256>::new(
            ctx.child("conflicter"),
            conflicter::Config { scheme },
        );
        let _ = voter.start(epoch0).await;
    })
}

pub fn seeds() -> Vec<u64> {
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

pub fn good_link() -> Link {
    Link {
        latency: Duration::from_millis(10),
        jitter: Duration::from_millis(5),
        success_rate: probability!(1.0),
    }
}

/// Runs `scenario` for every seed on a fresh simulation each; the first failure names its seed.
pub fn for_each_seed(
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
pub fn for_each_seed_of(
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
pub fn check_agreement(sim: &Sim) -> Result<(), String> {
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
pub fn finalized_between(sim: &Sim, v: usize, from: Duration, to: Duration) -> usize {
    let ledger = sim.ledger(v);
    ledger
        .blocks
        .values()
        .filter(|(_, at)| *at >= from && *at < to)
        .count()
}

/// Runs `schedule` on good links until every validator executed height 150.
pub fn run_schedule(
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

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Proposers of the blocks validator `v` executed in `[from, to]`.
pub fn proposers(sim: &Sim, v: usize, from: u64, to: u64) -> Vec<[u8; 32]> {
    sim.ledger(v)
        .blocks
        .range(from..=to)
        .map(|(_, (b, _))| b.proposer)
        .collect()
}

/// Node `i`'s public key bytes.
pub fn key(sim: &Sim, i: usize) -> [u8; 32] {
    sim.participants()[i].as_ref().try_into().unwrap()
}
