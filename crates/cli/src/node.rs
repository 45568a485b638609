//! `init` and `dev`: creating a home (and running a dev chain in it, through `start`);
//! `rollback` of a stopped one.

use crate::home::*;
use crate::keys;
use anyhow::{bail, Context, Result};
use caspur_app::modules::auth::GenesisAccount;
use caspur_app::modules::bank::{GenesisBalance, GenesisCoin};
use caspur_app::AppGenesis;
use caspur_consensus::launch;
use caspur_consensus::{ConsensusGenesis, GenesisValidator};
use caspur_node::index::BlockIndex;
use rand::RngCore;

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
    crate::start::start(home, upgrades)
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
