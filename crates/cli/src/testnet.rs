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

/// The mnemonic in a node's `key_seed.json`.
pub fn read_key_seed(path: &std::path::Path) -> Result<String> {
    let v: serde_json::Value = read_json(path)?;
    v["secret"]
        .as_str()
        .map(String::from)
        .ok_or_else(|| anyhow::anyhow!("{} holds no secret", path.display()))
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
