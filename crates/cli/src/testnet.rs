//! `testnet init`: the homes of an N-validator local network sharing one genesis.
//!
//! Node `k` listens for p2p on `starting_port + 10k`, RPC on `+1`, metrics on `+2`, gRPC on `+3`, all on
//! 127.0.0.1; every node bootstraps from all the others. Each node also gets a funded account
//! key `node{k}` in its home's test keyring, so the network can take transactions at once.

use crate::home::*;
use crate::keys;
use crate::node::{self, InitOptions};
use anyhow::{bail, Result};
use caspur_consensus::GenesisValidator;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Options of `testnet init`.
pub struct TestnetOptions {
    /// Number of validators.
    pub validators: usize,
    /// Number of full (non-validator) nodes, homes after the validators'.
    pub full_nodes: usize,
    /// Output directory.
    pub output: PathBuf,
    /// Chain id.
    pub chain_id: String,
    /// First port; node k uses `starting_port + 10k …`.
    pub starting_port: u16,
    /// Target block interval.
    pub block_time_ms: u64,
    /// Coins given to each node's account.
    pub account_coins: String,
    /// More genesis accounts funded with `account_coins`, numbered after the nodes' accounts
    /// in this order (a load generator's senders).
    pub extra_accounts: Vec<String>,
    /// Genesis parameters for drills and tests.
    pub params: NetworkParams,
}

/// Genesis parameters `testnet init` can set, so that no genesis file is edited by hand for a
/// drill (each `None` keeps the chain's default).
#[derive(Clone, Debug, Default, clap::Args)]
pub struct NetworkParams {
    /// Governance voting and deposit period in seconds (expedited: half).
    #[arg(long = "voting-period-secs")]
    pub voting_period_secs: Option<u64>,
    /// Seat the first N validators' accounts (`node0…`) in the dCERT group, bonded, with
    /// sealing keys in their homes' `config/dcert/nodeK.key`.
    #[arg(long, default_value_t = 0)]
    pub dcert_members: u32,
    /// Let the dCERT group circuit-break routes from genesis (otherwise governance must allow
    /// it first).
    #[arg(long)]
    pub circuit_break_enabled: bool,
    /// Blocks of notice an emergency plan needs.
    #[arg(long)]
    pub min_notice: Option<u64>,
    /// Blocks before a plan's height at which readiness is judged.
    #[arg(long)]
    pub readiness_window: Option<u64>,
    /// Share of bonded power that must be ready (0 turns the rule off).
    #[arg(long)]
    pub readiness_threshold: Option<String>,
    /// Seconds an untriaged incident report may wait before it is overdue (the triage SLA).
    #[arg(long)]
    pub triage_sla_secs: Option<u64>,
}

impl NetworkParams {
    /// Applies the parameters to `g`; `validators` are the validator homes with their
    /// account addresses, in order.
    fn apply(&self, g: &mut GenesisDoc, validators: &[(Home, String)]) -> Result<()> {
        if let Some(secs) = self.voting_period_secs {
            node::shorten_voting(g, secs);
        }
        let upgrade = &mut g.app_state.upgrade.params;
        if let Some(n) = self.min_notice {
            upgrade.min_notice = n;
        }
        if let Some(n) = self.readiness_window {
            upgrade.readiness_window = n;
        }
        if let Some(t) = &self.readiness_threshold {
            upgrade.readiness_threshold = t.clone();
        }
        upgrade.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
        let members = self.dcert_members as usize;
        if members > validators.len() || self.dcert_members > g.app_state.dcert.params.max_members {
            bail!(
                "--dcert-members {members}: at most the {} validators and the group's {} seats",
                validators.len(),
                g.app_state.dcert.params.max_members
            );
        }
        for (k, (home, address)) in validators.iter().take(members).enumerate() {
            let name = format!("node{k}");
            crate::dev_dcert::seat(g, home, &name, address, &format!("testnet member {name}"))?;
        }
        g.app_state.dcert.params.circuit_break_enabled = self.circuit_break_enabled;
        if let Some(secs) = self.triage_sla_secs {
            g.app_state.incident.params.verification_sla_secs = secs;
        }
        Ok(())
    }
}

/// What `testnet init` created for one node.
#[derive(Debug, Serialize)]
pub struct TestnetNode {
    /// Its home directory.
    pub home: PathBuf,
    /// Whether it validates.
    pub validator: bool,
    /// Hex consensus public key.
    pub pub_key: String,
    /// p2p address.
    pub p2p: String,
    /// RPC address.
    pub rpc: String,
    /// Cosmos gRPC address.
    pub grpc: String,
    /// Its funded account.
    pub account: String,
    /// The file holding the account's mnemonic (`{"secret": …}`, mode 0600, as the Cosmos
    /// SDK's testnet command writes it); the mnemonic itself is never printed.
    pub key_seed_file: PathBuf,
}

/// Writes the homes; fails without touching anything if `output` already holds nodes.
pub fn init(opts: &TestnetOptions) -> Result<Vec<TestnetNode>> {
    if opts.validators == 0 || opts.validators > 100 {
        bail!("--validators must be between 1 and 100");
    }
    let total = opts.validators + opts.full_nodes;
    let last_port = opts.starting_port as usize + 10 * total;
    if last_port > u16::MAX as usize {
        bail!(
            "--starting-port {} leaves no room for {total} nodes",
            opts.starting_port
        );
    }
    for k in 0..total {
        if Home(node_dir(&opts.output, k)).is_initialized() {
            bail!(
                "{} already holds a node",
                node_dir(&opts.output, k).display()
            );
        }
    }
    let mut nodes = Vec::with_capacity(total);
    let mut validators = Vec::new();
    let mut followers = Vec::new();
    for k in 0..total {
        let home = Home(node_dir(&opts.output, k));
        let moniker = format!("node{k}");
        node::init(
            &home,
            &InitOptions {
                moniker: moniker.clone(),
                chain_id: opts.chain_id.clone(),
                overwrite: true,
            },
        )?;
        let key: ValidatorKeyFile = read_json(&home.validator_key())?;
        let pub_key = hex::encode(key.public()?);
        let port = opts.starting_port + 10 * k as u16;
        let p2p = format!("127.0.0.1:{port}");
        let validator = k < opts.validators;
        if validator {
            validators.push(GenesisValidator {
                name: moniker.clone(),
                pub_key: pub_key.clone(),
                power: 10,
                address: p2p.clone(),
            });
        } else {
            followers.push(pub_key.clone());
        }
        let mnemonic = keys::new_mnemonic();
        let account = keys::Keyring::open(&home.0, keys::Backend::Test)
            .add(&moniker, &mnemonic, true)?
            .address;
        let key_seed_file = home.0.join("key_seed.json");
        crate::home::write_secret(
            &key_seed_file,
            serde_json::json!({ "secret": mnemonic })
                .to_string()
                .as_bytes(),
        )?;
        nodes.push(TestnetNode {
            home: home.0,
            validator,
            pub_key,
            p2p,
            rpc: format!("127.0.0.1:{}", port + 1),
            grpc: format!("127.0.0.1:{}", port + 3),
            account,
            key_seed_file,
        });
    }
    let mut genesis: GenesisDoc = read_json(&Home(nodes[0].home.clone()).genesis())?;
    genesis.validators = validators;
    let validator_accounts: Vec<(Home, String)> = nodes
        .iter()
        .filter(|n| n.validator)
        .map(|n| (Home(n.home.clone()), n.account.clone()))
        .collect();
    opts.params.apply(&mut genesis, &validator_accounts)?;
    for (k, n) in nodes.iter().enumerate() {
        node::push_genesis_account(&mut genesis, &n.account, &opts.account_coins)?;
        if n.validator {
            node::push_genesis_validator(
                &mut genesis,
                &n.account,
                &n.pub_key,
                &format!("node{k}"),
                node::GENESIS_SELF_DELEGATION,
            );
        }
    }
    for address in &opts.extra_accounts {
        node::push_genesis_account(&mut genesis, address, &opts.account_coins)?;
    }
    for (k, n) in nodes.iter().enumerate() {
        let home = Home(n.home.clone());
        write_file(&home.genesis(), &serde_json::to_vec_pretty(&genesis)?)?;
        let mut cfg: NodeConfig = read_toml(&home.config_toml())?;
        cfg.mode = if n.validator {
            Mode::Validator
        } else {
            Mode::Full
        };
        cfg.rpc.laddr = format!("tcp://{}", n.rpc);
        cfg.grpc.address = n.grpc.clone();
        cfg.p2p.laddr = format!("tcp://{}", n.p2p);
        cfg.p2p.allow_private_ips = true;
        cfg.p2p.bootstrappers = nodes
            .iter()
            .enumerate()
            .filter(|(j, other)| *j != k && other.validator)
            .map(|(_, other)| format!("{}@{}", other.pub_key, other.p2p))
            .collect();
        cfg.p2p.followers = followers.clone();
        cfg.consensus.block_time_ms = opts.block_time_ms;
        cfg.instrumentation.prometheus_listen_addr =
            format!("127.0.0.1:{}", opts.starting_port + 10 * k as u16 + 2);
        write_file(
            &home.config_toml(),
            toml::to_string_pretty(&cfg)?.as_bytes(),
        )?;
        crate::client_config::write_for(
            &home,
            &genesis.chain_id,
            &cfg.rpc.laddr,
            crate::keys::Backend::Test,
        )?;
    }
    Ok(nodes)
}

fn node_dir(output: &Path, k: usize) -> PathBuf {
    output.join(format!("node{k}"))
}
