//! `init`, `dev` and `start`: creating a home and running the node in it.

use crate::home::*;
use crate::keys;
use anyhow::{bail, Context, Result};
use caspur_app::modules::auth::GenesisAccount;
use caspur_app::modules::bank::{GenesisBalance, GenesisCoin};
use caspur_app::validators::Validator;
use caspur_app::{App, AppGenesis, BlockInfo};
use caspur_consensus::launch::{self, LaunchConfig, Services};
use caspur_consensus::{ConsensusGenesis, GenesisValidator};
use caspur_node::index::BlockIndex;
use caspur_node::mempool::{Mempool, MempoolConfig as PoolConfig};
use caspur_node::monitor::{Monitor, MonitorConfig};
use caspur_node::rpc::{self, types::PubKey, types::ValidatorInfo, NodeFacts, RpcContext};
use caspur_node::sink::NodeSink;
use rand::RngCore;
use std::sync::Arc;
use std::time::Duration;

/// Options of `init`.
pub struct InitOptions {
    /// Node name.
    pub moniker: String,
    /// Chain id.
    pub chain_id: String,
    /// Replace an existing home's files.
    pub overwrite: bool,
}

/// Creates a home: configs, a validator key, and a one-validator genesis.
pub fn init(home: &Home, opts: &InitOptions) -> Result<GenesisDoc> {
    if home.is_initialized() && !opts.overwrite {
        bail!(
            "{} already holds a node; pass --overwrite to replace its configuration",
            home.0.display()
        );
    }
    validate_chain_id(&opts.chain_id)?;
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let key = ValidatorKeyFile::new(secret);
    write_file(&home.validator_key(), &serde_json::to_vec_pretty(&key)?)?;
    let config = NodeConfig::defaults(&opts.moniker);
    write_file(
        &home.config_toml(),
        toml::to_string_pretty(&config)?.as_bytes(),
    )?;
    write_file(
        &home.app_toml(),
        toml::to_string_pretty(&AppConfig::default())?.as_bytes(),
    )?;
    crate::client_config::write_for(home, &opts.chain_id, &config.rpc.laddr, keys::Backend::File)?;
    let genesis = GenesisDoc {
        genesis_time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        chain_id: opts.chain_id.clone(),
        initial_height: "1".into(),
        consensus: ConsensusGenesis::default(),
        validators: vec![GenesisValidator {
            name: opts.moniker.clone(),
            pub_key: hex::encode(key.public()?),
            power: 10,
            address: String::new(),
        }],
        app_state: AppGenesis::default(),
    };
    write_file(&home.genesis(), &serde_json::to_vec_pretty(&genesis)?)?;
    std::fs::create_dir_all(home.data_dir())?;
    Ok(genesis)
}

fn validate_chain_id(id: &str) -> Result<()> {
    if id.is_empty()
        || id.len() > 50
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    {
        bail!("chain id {id:?} must be 1-50 letters, digits, '-', '_' or '.'");
    }
    Ok(())
}

/// Adds a funded account to a home's genesis (`genesis add-account`).
pub fn add_genesis_account(home: &Home, address: &str, coins: &str) -> Result<()> {
    require_initialized(home)?;
    let mut g: GenesisDoc = read_json(&home.genesis())?;
    push_genesis_account(&mut g, address, coins)?;
    write_file(&home.genesis(), &serde_json::to_vec_pretty(&g)?)
}

/// Tokens a genesis validator of `dev` and `testnet init` self-delegates: power 10, the power
/// their consensus genesis entry declares.
pub const GENESIS_SELF_DELEGATION: &str = "10000000";

/// Adds a staking validator to a genesis document: `operator` self-delegates `amount` from its
/// genesis balance under consensus key `pub_key` (hex).
pub fn push_genesis_validator(
    g: &mut GenesisDoc,
    operator: &str,
    pub_key: &str,
    moniker: &str,
    amount: &str,
) {
    g.app_state
        .staking
        .validators
        .push(caspur_app::modules::staking::GenesisValidator {
            operator: operator.into(),
            consensus_pubkey: pub_key.into(),
            moniker: moniker.into(),
            commission_rate: "0.1".into(),
            self_delegation: amount.into(),
        });
}

/// Adds a funded account to a genesis document.
pub fn push_genesis_account(g: &mut GenesisDoc, address: &str, coins: &str) -> Result<()> {
    caspur_types::Address::parse_account(address).map_err(|e| anyhow::anyhow!("{e}"))?;
    let coins: caspur_types::Coins = coins.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    if g.app_state
        .auth
        .accounts
        .iter()
        .any(|a| a.address == address)
    {
        bail!("{address} is already a genesis account");
    }
    let number = g
        .app_state
        .auth
        .accounts
        .iter()
        .map(|a| a.account_number + 1)
        .max()
        .unwrap_or(0);
    g.app_state.auth.accounts.push(GenesisAccount {
        address: address.into(),
        pub_key: None,
        account_number: number,
        sequence: 0,
    });
    g.app_state.bank.balances.push(GenesisBalance {
        address: address.into(),
        coins: coins
            .as_slice()
            .iter()
            .map(GenesisCoin::from_coin)
            .collect(),
    });
    Ok(())
}

/// Options of `dev`.
pub struct DevOptions {
    /// Mnemonic of the funded dev account (generated when absent).
    pub mnemonic: Option<String>,
    /// Block interval.
    pub block_time_ms: u64,
    /// RPC address.
    pub rpc: String,
    /// p2p address.
    pub p2p: String,
    /// gRPC address (empty: none).
    pub grpc: String,
    /// Prometheus metrics address (empty: none).
    pub prometheus: String,
    /// Governance voting period for a new chain (seconds).
    pub voting_period_secs: Option<u64>,
    /// dCERT members a new chain is seeded with ([`crate::dev_dcert`]).
    pub dcert_members: u32,
}

/// Sets `g`'s governance periods for a test network: voting and deposit `secs` (at least 2),
/// expedited voting half of it.
pub fn shorten_voting(g: &mut GenesisDoc, secs: u64) {
    let gov = &mut g.app_state.gov.params;
    gov.voting_period_secs = secs.max(2);
    gov.max_deposit_period_secs = secs.max(2);
    gov.expedited_voting_period_secs = (secs / 2).max(1);
}

/// Blocks before a plan's height at which a dev chain judges readiness.
pub const DEV_READINESS_WINDOW: u64 = 10;
/// Blocks of notice a dev chain's emergency plans need.
pub const DEV_MIN_NOTICE: u64 = 20;
/// The dev chain's funded amount: one billion CSP.
pub const DEV_FUNDS: &str = "1000000000000000ucsp";

/// The upgrades a node runs with: the handlers its binary carries and the heights whose
/// upgrade the operator skips.
#[derive(Default)]
pub struct Upgrades {
    /// Handlers by plan name.
    pub handlers: caspur_app::modules::upgrade::UpgradeHandlers,
    /// `--unsafe-skip-upgrade` heights.
    pub skip: std::collections::BTreeSet<u64>,
}

/// After the node stopped: an upgrade halt (`upgrade-info.json` already written) exits the
/// process with [`caspur_types::upgrade_info::UPGRADE_EXIT_CODE`]; a block this node cannot
/// apply exits with [`launch::BAD_BLOCK_EXIT_CODE`] after saying what failed and what to do.
pub fn finish(stopped: launch::Stopped) -> Result<()> {
    use caspur_types::upgrade_info::UPGRADE_EXIT_CODE;
    match stopped {
        launch::Stopped::Interrupted => Ok(()),
        launch::Stopped::UpgradeNeeded { info, .. } => {
            eprintln!(
                "UPGRADE {:?} NEEDED at height {}: this binary has no handler for it. Install the plan's binary (caspurvisor does it) and restart; see docs/upgrades.md. Exiting with code {UPGRADE_EXIT_CODE}.",
                info.name, info.height
            );
            std::process::exit(UPGRADE_EXIT_CODE);
        }
        launch::Stopped::BadBlock { height, error } => {
            eprintln!("{}", bad_block_message(height, &error));
            std::process::exit(launch::BAD_BLOCK_EXIT_CODE);
        }
    }
}

/// The record of the block this node last stopped at (`data/bad-block.json`): lets a binary
/// carrying a failing plan's handler start again at that height.
const BAD_BLOCK_FILE: &str = "bad-block.json";

fn write_bad_block(data_dir: &std::path::Path, height: u64, error: &str) -> Result<()> {
    let path = data_dir.join(BAD_BLOCK_FILE);
    std::fs::write(
        &path,
        serde_json::json!({"height": height, "error": error}).to_string(),
    )
    .with_context(|| format!("writing {}", path.display()))
}

fn read_bad_block(data_dir: &std::path::Path) -> Option<u64> {
    let bytes = std::fs::read(data_dir.join(BAD_BLOCK_FILE)).ok()?;
    serde_json::from_slice::<serde_json::Value>(&bytes).ok()?["height"].as_u64()
}

/// What an operator reads when block `height` cannot be applied.
pub fn bad_block_message(height: u64, error: &str) -> String {
    format!(
        "BLOCK {height} CANNOT BE APPLIED by this node: {error}. Nothing of it was committed; the node stopped at height {}. \
         If other nodes applied it, this node's storage or binary is at fault: check the disk, then restart (or restore a backup, or `caspurd rollback`). \
         If no node can apply it (a failing upgrade handler or block hook), the chain needs a fixed binary: an emergency upgrade (docs/upgrades.md), \
         or, when the failure is in the upgrade due at {height}, restart every validator with `--unsafe-skip-upgrade {height}`. \
         Exiting with code {}.",
        height.saturating_sub(1),
        launch::BAD_BLOCK_EXIT_CODE
    )
}

/// Writes `upgrade-info.json` into `data_dir` (atomically: a supervisor may be reading).
pub fn write_upgrade_info(
    data_dir: &std::path::Path,
    info: &caspur_types::upgrade_info::UpgradeInfo,
) -> Result<()> {
    let path = data_dir.join(caspur_types::upgrade_info::UPGRADE_INFO_FILE);
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(info)?)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))
}

/// Dates `upgrade-info.json` at the halt itself: a supervisor counts the switch's downtime
/// from the file's modification time, and the node stays up a moment after the halt
/// ([`launch::HALT_SETTLE`]).
fn backdate_upgrade_info(
    data_dir: &std::path::Path,
    halted_at: std::time::SystemTime,
) -> Result<()> {
    let path = data_dir.join(caspur_types::upgrade_info::UPGRADE_INFO_FILE);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_modified(halted_at))
        .with_context(|| format!("cannot date {}", path.display()))
}

/// Prepares a fresh dev home (or keeps an existing one) and runs it.
pub fn dev(home: &Home, upgrades: &Upgrades, opts: DevOptions) -> Result<launch::Stopped> {
    if home.is_initialized() {
        eprintln!("resuming the chain in {}", home.0.display());
    } else {
        init(
            home,
            &InitOptions {
                moniker: "dev".into(),
                chain_id: "caspur-dev-1".into(),
                overwrite: false,
            },
        )?;
        let (mnemonic, generated) = match opts.mnemonic {
            Some(m) => (m, false),
            None => (keys::new_mnemonic(), true),
        };
        let ring = keys::Keyring::open(&home.0, keys::Backend::Test);
        let info = ring.add("dev", &mnemonic, true)?;
        add_genesis_account(home, &info.address, DEV_FUNDS)?;
        // The dev account operates the chain's validator, staked as in any staking chain.
        let mut g: GenesisDoc = read_json(&home.genesis())?;
        let key = g.validators[0].pub_key.clone();
        push_genesis_validator(&mut g, &info.address, &key, "dev", GENESIS_SELF_DELEGATION);
        let dcert = crate::dev_dcert::seed(home, &mut g, &info.address, opts.dcert_members)?;
        if let Some(secs) = opts.voting_period_secs {
            shorten_voting(&mut g, secs);
        }
        // A dev chain's upgrades come within seconds, not the ten minutes a real chain gives:
        // readiness is judged 10 blocks ahead and an emergency plan needs 20 blocks' notice.
        let upgrade = &mut g.app_state.upgrade.params;
        upgrade.readiness_window = DEV_READINESS_WINDOW;
        upgrade.min_notice = DEV_MIN_NOTICE;
        write_file(&home.genesis(), &serde_json::to_vec_pretty(&g)?)?;
        let mut cfg: NodeConfig = read_toml(&home.config_toml())?;
        cfg.rpc.laddr = format!("tcp://{}", opts.rpc);
        cfg.p2p.laddr = format!("tcp://{}", opts.p2p);
        cfg.p2p.allow_private_ips = true;
        cfg.grpc.enable = !opts.grpc.is_empty();
        if cfg.grpc.enable {
            cfg.grpc.address = opts.grpc.clone();
        }
        cfg.consensus.block_time_ms = opts.block_time_ms;
        cfg.instrumentation.prometheus = !opts.prometheus.is_empty();
        cfg.instrumentation.prometheus_listen_addr = opts.prometheus.clone();
        write_file(
            &home.config_toml(),
            toml::to_string_pretty(&cfg)?.as_bytes(),
        )?;
        crate::client_config::write_for(home, &g.chain_id, &cfg.rpc.laddr, keys::Backend::Test)?;
        crate::output::outln!("home:     {}", home.0.display());
        crate::output::outln!("chain id: caspur-dev-1");
        crate::output::outln!(
            "dev account: {} ({DEV_FUNDS}), key \"dev\" in the test keyring",
            info.address
        );
        if generated {
            // Never on a screen or in a log: in a file only its owner reads.
            let file = home.config_dir().join("dev-mnemonic.txt");
            write_secret(&file, format!("{mnemonic}\n").as_bytes())?;
            crate::output::outln!("mnemonic: in {} (mode 0600)", file.display());
        }
        if dcert.members.is_empty() {
            crate::output::outln!(
                "dCERT: no members; circuit breaking off (--dcert-members N seeds N)"
            );
        } else {
            crate::output::outln!(
                "dCERT: {} seated and bonded (keys {}), circuit breaking ON (dev chains only); \
                 their sealing keys for `incident open` are in {}",
                dcert.members.len(),
                dcert.members.join(", "),
                dcert.keys_dir.display()
            );
        }
    }
    start(home, upgrades)
}

/// Runs the node in `home` until Ctrl-C, SIGTERM or an upgrade halt (whose
/// `upgrade-info.json` it writes before returning).
pub fn start(home: &Home, upgrades: &Upgrades) -> Result<launch::Stopped> {
    require_initialized(home)?;
    let config: NodeConfig = read_toml(&home.config_toml())?;
    let app_config: AppConfig = read_toml(&home.app_toml())?;
    let genesis: GenesisDoc = read_json(&home.genesis())?;
    let key: ValidatorKeyFile = read_json(&home.validator_key())?;
    let min_gas_price = parse_gas_price(&app_config.minimum_gas_prices)?;
    let genesis_ms = genesis.time_ms()?;
    let set = genesis.validator_set()?;
    let public = key.public()?;
    let power = set
        .iter()
        .find(|(k, _)| *k == public)
        .map_or(0, |(_, p)| *p);
    let validators: Vec<Validator> = set
        .iter()
        .map(|(pub_key, power)| Validator {
            pub_key: *pub_key,
            power: *power,
        })
        .collect();
    let p2p_listen = parse_addr(&config.p2p.laddr)?;
    let p2p_dialable = if config.p2p.external_address.is_empty() {
        p2p_listen
    } else {
        parse_addr(&config.p2p.external_address)?
    };
    let rpc_addr = parse_addr(&config.rpc.laddr)?;
    let max_connections = config.rpc.max_open_connections;
    let rpc_limits = config.rpc.limits()?;
    config.incidents.validate()?;
    let feeds = config.incidents.to_feeds();
    let webhooks = config.incidents.webhook_settings(
        &genesis.chain_id,
        &format!("http://{rpc_addr}"),
        home.data_dir().join("webhooks"),
    )?;
    let idle_timeout = std::time::Duration::from_millis(config.rpc.idle_timeout_ms);
    // A request's bytes must arrive and be answered within the idle and request timeouts
    // together (20 s by default), however slowly they trickle in.
    let request_deadline = idle_timeout + rpc_limits.request_timeout;
    let grpc_addr = if config.grpc.enable {
        Some(parse_addr(&config.grpc.address).context("[grpc] address")?)
    } else {
        None
    };
    let metrics_addr = if config.instrumentation.prometheus
        && !config.instrumentation.prometheus_listen_addr.is_empty()
    {
        Some(parse_addr(&config.instrumentation.prometheus_listen_addr)?)
    } else {
        None
    };
    ensure_free(
        [
            ("p2p ([p2p] laddr)", Some(p2p_listen)),
            ("RPC ([rpc] laddr)", Some(rpc_addr)),
            ("gRPC ([grpc] address)", grpc_addr),
            (
                "Prometheus ([instrumentation] prometheus_listen_addr)",
                metrics_addr,
            ),
        ]
        .into_iter()
        .filter_map(|(what, addr)| addr.map(|a| (what, a))),
    )?;
    let bootstrappers = config
        .p2p
        .bootstrappers
        .iter()
        .map(|b| parse_bootstrapper(b))
        .collect::<Result<Vec<_>>>()?;
    std::fs::create_dir_all(home.data_dir())?;
    let first_height = genesis.first_height()?;
    let index = Arc::new(BlockIndex::open(&home.index()).context("cannot open the block index")?);
    let next = match index.latest()? {
        Some(b) => BlockInfo {
            height: b.height + 1,
            time_ms: b.time_ms,
        },
        None => BlockInfo {
            height: first_height,
            time_ms: genesis_ms,
        },
    };
    let app = Arc::new(
        App::new(
            &genesis.chain_id,
            genesis.consensus.block_max_gas,
            genesis.app_state.clone(),
        )
        .with_upgrades(upgrades.handlers.clone(), upgrades.skip.clone())
        .with_initial_height(first_height),
    );
    let data_dir = home.data_dir();
    // Left in place (as cosmovisor's is): it records which upgrade the last halt was for.
    let halt_record = data_dir.join(caspur_types::upgrade_info::UPGRADE_INFO_FILE);
    let halted_for = match std::fs::read(&halt_record) {
        Ok(bytes) => Some(
            serde_json::from_slice(&bytes)
                .with_context(|| format!("{} is not an upgrade record", halt_record.display()))?,
        ),
        Err(_) => None,
    };
    let bad_block_at = read_bad_block(&data_dir);
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, public);
    let facts = NodeFacts {
        chain_id: genesis.chain_id.clone(),
        moniker: config.moniker.clone(),
        node_id: hex::encode(&public[..20]),
        listen_addr: config.p2p.laddr.clone(),
        rpc_addr: config.rpc.laddr.clone(),
        validator: ValidatorInfo {
            address: key.address.clone(),
            pub_key: PubKey {
                kind: "tendermint/PubKeyEd25519".into(),
                value: b64,
            },
            voting_power: power.to_string(),
        },
        block_max_bytes: genesis.consensus.block_max_bytes,
        block_max_gas: genesis.consensus.block_max_gas,
        genesis: Arc::new(std::fs::read(home.genesis())?),
    };
    let pool_config = PoolConfig {
        max_txs: config.mempool.size,
        max_bytes: config.mempool.max_txs_bytes,
        min_gas_price,
    };
    let launch_config = LaunchConfig {
        data_dir: home.data_dir(),
        chain_id: genesis.chain_id.clone(),
        validator_secret: key.secret()?,
        validators,
        followers: config
            .p2p
            .followers
            .iter()
            .map(|f| parse_public_key(f).with_context(|| format!("[p2p] followers entry {f:?}")))
            .collect::<Result<_>>()?,
        validate: config.mode == Mode::Validator,
        p2p_listen,
        p2p_dialable,
        bootstrappers,
        allow_private_ips: config.p2p.allow_private_ips,
        max_peers: (config.p2p.max_peers > 0).then_some(config.p2p.max_peers),
        block_time: Duration::from_millis(config.consensus.block_time_ms.max(10)),
        max_block_bytes: genesis.consensus.block_max_bytes as usize,
        genesis_time_ms: genesis_ms,
        genesis_hash: genesis.hash(),
        epoch_length: std::num::NonZeroU64::new(genesis.consensus.epoch_length)
            .context("genesis consensus.epoch_length must be at least 1")?,
        catch_up: caspur_consensus::engine::CatchUp {
            state_sync: config.statesync.enable,
            min_distance_views: config.statesync.min_distance_views,
            probe_timeout: Duration::from_millis(config.statesync.probe_timeout_ms),
            retained_blocks: (config.statesync.retain_blocks > 0)
                .then_some(config.statesync.retain_blocks as usize),
        },
        halted_for,
        bad_block_at,
    };
    let node_app = app.clone();
    let halt_index = index.clone();
    let chain_id = genesis.chain_id.clone();
    let state_sync = config.statesync.enable;
    let visor_status = home.visor_status();
    let alerts_url = metrics_addr.map_or_else(String::new, |a| format!("http://{a}/alerts"));
    let alert_rules = app_config.alerts.clone();
    alert_rules.validate().map_err(anyhow::Error::msg)?;
    let alerts_dir = home.data_dir().join("alerts");
    launch::run(launch_config, app, move |handles| {
        let launch::NodeHandles {
            state: live,
            gossip,
            tip,
            validator_sets,
            runtime_metrics,
            validator_key,
        } = handles;
        let monitor = Monitor::new(MonitorConfig {
            chain_id: chain_id.clone(),
            validator_key,
            sets: validator_sets.clone(),
            tip: tip.clone(),
            state_sync,
            runtime: Some(runtime_metrics.clone()),
            visor_status: Some(visor_status),
            alert_rules,
            alerts_dir: Some(alerts_dir),
        });
        let mempool = Arc::new(
            Mempool::new(node_app.clone(), pool_config, live.clone(), next)
                .with_publisher(Arc::new(gossip))
                .with_monitor(monitor.clone()),
        );
        let (feed, _) = tokio::sync::broadcast::channel(64);
        let sink = Arc::new(NodeSink {
            index: index.clone(),
            mempool: mempool.clone(),
            feed: feed.clone(),
            monitor: Some(monitor.clone()),
        });
        let ctx = Arc::new(RpcContext {
            app: node_app,
            state: live,
            mempool: mempool.clone(),
            index,
            facts,
            tip,
            feed,
            validator_sets,
            limits: rpc_limits,
            feeds,
            runtime_metrics: Some(runtime_metrics),
            genesis_validators: Default::default(),
        });
        let run = async move {
            tokio::spawn(monitor.clone().run_alerts());
            // Each webhook destination is its own task, reading committed blocks from the
            // index: nothing here waits on a receiver.
            if let Some(settings) = webhooks {
                let alerts =
                    monitor
                        .alert_journal()
                        .map(|journal| caspur_node::webhooks::AlertSource {
                            journal,
                            news: monitor.alert_news.clone(),
                            next_seq: monitor.alert_journal_next(),
                            url: alerts_url.clone(),
                        });
                caspur_node::webhooks::spawn(
                    settings,
                    ctx.index.clone(),
                    ctx.state.clone(),
                    ctx.feed.clone(),
                    alerts,
                );
            }
            let listener = tokio::net::TcpListener::bind(rpc_addr)
                .await
                .map_err(|e| format!("cannot listen for RPC on {rpc_addr}: {e}"))?;
            tracing::info!(%rpc_addr, "RPC listening");
            let grpc = async {
                match grpc_addr {
                    Some(addr) => caspur_node::grpc::serve(ctx.clone(), addr).await,
                    None => std::future::pending().await,
                }
            };
            let metrics = async {
                match metrics_addr {
                    Some(addr) => {
                        caspur_node::monitor::server::serve(
                            monitor,
                            addr,
                            idle_timeout,
                            request_deadline,
                        )
                        .await
                    }
                    None => std::future::pending().await,
                }
            };
            let rpc = async {
                let listener = rpc::LimitedListener::new(
                    listener,
                    max_connections,
                    idle_timeout,
                    request_deadline,
                );
                axum::serve(listener, rpc::router(ctx.clone()))
                    .await
                    .map_err(|e| format!("RPC server failed: {e}"))
            };
            tokio::try_join!(rpc, grpc, metrics).map(|_| ())
        };
        Services {
            source: mempool.clone(),
            peer_txs: mempool,
            sink,
            run,
        }
    })
    .map_err(|e| anyhow::anyhow!(e))
    .and_then(|mut stopped| {
        match &mut stopped {
            launch::Stopped::UpgradeNeeded { info, halted_at } => {
                info.committed_height = halt_index.latest()?.map_or(0, |b| b.height);
                write_upgrade_info(&data_dir, info)?;
                backdate_upgrade_info(&data_dir, *halted_at)?;
            }
            launch::Stopped::BadBlock { height, error } => {
                write_bad_block(&data_dir, *height, error)?;
            }
            launch::Stopped::Interrupted => {}
        }
        Ok(stopped)
    })
}

/// Parses `0.0025ucsp` (empty: no floor).
pub fn parse_gas_price(s: &str) -> Result<Option<caspur_types::Dec>> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let amount = s.strip_suffix(caspur_types::STAKE_DENOM).with_context(|| {
        format!(
            "minimum-gas-prices {s:?} must be a decimal followed by {}",
            caspur_types::STAKE_DENOM
        )
    })?;
    Ok(Some(
        amount
            .parse()
            .map_err(|e| anyhow::anyhow!("minimum-gas-prices: {e}"))?,
    ))
}

/// Checks, before anything starts, that this node can listen on each address: a busy port is
/// one line naming the address and its setting (the p2p listener would otherwise fail deep
/// inside the network stack once consensus is already running).
fn ensure_free(addrs: impl Iterator<Item = (&'static str, std::net::SocketAddr)>) -> Result<()> {
    for (what, addr) in addrs {
        if let Err(e) = std::net::TcpListener::bind(addr) {
            bail!("cannot listen for {what} on {addr}: {e}");
        }
    }
    Ok(())
}

/// The block index of a home whose node is stopped. A running node holds the index open, so
/// this fails at once rather than waiting on the data directory (`export`, `rollback`).
pub fn open_stopped(home: &Home) -> Result<BlockIndex> {
    require_initialized(home)?;
    BlockIndex::open(&home.index()).with_context(|| {
        format!(
            "cannot open the block index of {} (is the node still running? stop it first)",
            home.0.display()
        )
    })
}

/// `rollback --to-height H`: rewinds state to block `H` and forgets later blocks in the index.
pub fn rollback(home: &Home, height: u64) -> Result<usize> {
    require_initialized(home)?;
    let genesis: GenesisDoc = read_json(&home.genesis())?;
    let first = genesis.first_height()?;
    let engine_height = caspur_consensus::application::engine_height(first, height)
        .filter(|h| *h > 0)
        .with_context(|| format!("height {height} is before this chain's first block ({first}); to restart from genesis use a fresh home"))?;
    let index = open_stopped(home)?;
    let latest = index.bounds()?.map_or(0, |(_, l)| l);
    let block = index.block(height)?.with_context(|| {
        format!("height {height} is not retained (the index holds blocks up to {latest})")
    })?;
    if block.state_size == 0 {
        bail!("block {height} was indexed without its state size and cannot be a rollback target");
    }
    let app_hash: [u8; 32] = hex::decode(&block.app_hash)
        .ok()
        .and_then(|b| b.try_into().ok())
        .context("corrupt app hash in the index")?;
    launch::rollback(&home.data_dir(), engine_height, block.state_size, app_hash)
        .map_err(|e| anyhow::anyhow!(e))?;
    Ok(index.truncate_above(height)?)
}
