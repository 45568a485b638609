//! `caspurd`: the Caspur node and its Cosmos-style command line. The binary is
//! [`main_with`] plus the upgrade handlers it carries (`src/main.rs`), so a release that
//! adds a handler — or the test fixture `caspurd-upgrade-test` — is the same program with a
//! longer registry.

// The consensus stack's async state machines nest deeply.
#![recursion_limit = "256"]

mod about;
mod bench;
mod bench_net;
mod circuit_cmd;
mod cli_args;
mod client;
mod client_config;
mod commands;
mod dcert_cmd;
mod denoms;
mod dev_dcert;
mod dispatch;
mod drill;
mod gov_cmd;
mod home;
mod incident_cmd;
mod key_armor;
mod keys;
mod logging;
mod node;
mod output;
mod slashing_cmd;
mod staking_cmd;
mod start;
mod stopped;
mod testnet;
mod tx_dispatch;
mod tx_file;
mod tx_json;
mod upgrade_cmd;

pub use caspur_app::modules::upgrade::{Migrating, UpgradeHandler, UpgradeHandlers};

use clap::{Args, Parser, Subcommand};
use cli_args::*;
use output::Format;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "caspurd",
    version,
    about = "Caspur node: a Cosmos-compatible chain with on-chain emergency response"
)]
struct Cli {
    /// Node home directory.
    #[arg(long, global = true, env = "CASPUR_HOME")]
    home: Option<PathBuf>,
    /// Output format (default: `output` in client.toml, else text).
    #[arg(
        short = 'o',
        long = "output",
        global = true,
        value_enum,
        env = "CASPUR_OUTPUT"
    )]
    output: Option<Format>,
    /// Log level of a running node: trace, debug, info, warn, error or off (default: config.toml's
    /// `log_level`; `RUST_LOG` filter directives override both).
    #[arg(long, global = true)]
    log_level: Option<String>,
    /// Log lines of a running node: plain or json (default: config.toml's `log_format`).
    #[arg(long, global = true, value_enum)]
    log_format: Option<logging::LogFormat>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a node home: configs, a validator key and a one-validator genesis.
    Init {
        /// Node name.
        #[arg(default_value = "node")]
        moniker: String,
        /// Chain id.
        #[arg(long, default_value = "caspur-1")]
        chain_id: String,
        /// Replace an existing configuration.
        #[arg(long)]
        overwrite: bool,
    },
    /// Run the node.
    Start {
        /// Skip the upgrade due at this height (repeatable). Every validator must skip the same
        /// heights, or their app hashes part.
        #[arg(long = "unsafe-skip-upgrade", value_name = "HEIGHT")]
        skip_upgrade: Vec<u64>,
    },
    /// Run a single-validator development chain with a funded account (resumes an existing home).
    Dev {
        /// Mnemonic of the funded dev account (a new one is generated and printed otherwise).
        #[arg(long)]
        dev_mnemonic: Option<String>,
        /// Target block interval in milliseconds.
        #[arg(long, default_value_t = 500)]
        block_time_ms: u64,
        /// RPC listen address.
        #[arg(long, default_value = "127.0.0.1:26657")]
        rpc_laddr: String,
        /// p2p listen address.
        #[arg(long, default_value = "127.0.0.1:26656")]
        p2p_laddr: String,
        /// Cosmos gRPC listen address (empty: no gRPC server).
        #[arg(long, default_value = "127.0.0.1:9090")]
        grpc_laddr: String,
        /// Prometheus metrics listen address (empty: no metrics endpoint).
        #[arg(long, default_value = "")]
        prometheus_laddr: String,
        /// Governance voting (and deposit) period in seconds for a new dev chain; the expedited
        /// period is half of it (default: the 2-day mainnet periods).
        #[arg(long)]
        voting_period_secs: Option<u64>,
        /// dCERT members a new dev chain starts with: the dev key and N−1 more funded keys
        /// (`dcert2…` in the test keyring), bonded, with sealing keys, circuit breaking on;
        /// 0: an empty group with breaking off, as on a real chain.
        #[arg(long, default_value_t = 1)]
        dcert_members: u32,
        /// Without --home: keep the new chain's directory when the node stops (it is removed
        /// at Ctrl-C otherwise).
        #[arg(long)]
        keep: bool,
        /// Skip the upgrade due at this height (repeatable).
        #[arg(long = "unsafe-skip-upgrade", value_name = "HEIGHT")]
        skip_upgrade: Vec<u64>,
    },
    /// Edit genesis.json.
    #[command(subcommand)]
    Genesis(GenesisCmd),
    /// Manage account keys.
    Keys {
        /// Keyring backend (default: client.toml's, else file).
        #[arg(long, value_enum, global = true, env = "CASPUR_KEYRING_BACKEND")]
        keyring_backend: Option<keys::Backend>,
        #[command(subcommand)]
        command: KeysCmd,
    },
    /// Sign and broadcast transactions.
    Tx {
        #[command(flatten)]
        opts: TxOpts,
        #[command(subcommand)]
        command: Box<TxCmd>,
    },
    /// Query chain state.
    #[command(alias = "q")]
    Query {
        /// RPC endpoint (default: client.toml's `node`).
        #[arg(long, global = true, env = "CASPUR_NODE")]
        node: Option<String>,
        #[command(subcommand)]
        command: QueryCmd,
    },
    /// Show the node's status.
    Status {
        /// RPC endpoint (default: client.toml's `node`).
        #[arg(long, env = "CASPUR_NODE")]
        node: Option<String>,
    },
    /// Show or set the command line's defaults in `config/client.toml`: `config` lists them,
    /// `config KEY` shows one, `config KEY VALUE` sets it (keys: chain-id, keyring-backend,
    /// output, node, broadcast-mode).
    Config {
        /// The key.
        key: Option<String>,
        /// Its new value.
        value: Option<String>,
    },
    /// This home's consensus (and p2p) key: hex for `[p2p] followers`, bootstrappers and
    /// `create-validator --pubkey`, and its CometBFT address.
    ShowValidator,
    /// Sealed incident reports: a member's encryption key, opening a report.
    #[command(subcommand)]
    Incident(incident_cmd::IncidentCmd),
    /// Export the committed application state as genesis-format JSON (node must be stopped),
    /// with `initial_height` set to the next height so a chain started from it continues.
    Export {
        /// Write the genesis to this file instead of stdout (the SDK's `--output-document`).
        #[arg(long = "output-document", value_name = "FILE")]
        output_document: Option<std::path::PathBuf>,
    },
    /// Roll state and blocks back to a retained height (node must be stopped); the next start
    /// re-executes the later finalized blocks.
    Rollback {
        /// Height to return to.
        #[arg(long)]
        to_height: u64,
    },
    /// Benchmarks.
    #[command(subcommand)]
    Bench(BenchCmd),
    /// Shell completion script for bash, zsh, fish, elvish or powershell, on stdout.
    Completion {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Tools for debugging.
    #[command(subcommand)]
    Debug(DebugCmd),
    /// The release; `--long` adds the commit, the compiler and the target.
    Version {
        /// Every build fact.
        #[arg(long)]
        long: bool,
    },
    /// Local multi-node networks.
    #[command(subcommand)]
    Testnet(TestnetCmd),
    /// The whole emergency process on a local network under caspurvisor, end to end, with a
    /// timeline (see docs/operators.md, "Emergency drill").
    Drill(drill::DrillOptions),
}

/// In `testnet init`, `--output DIR` names the directory (the form operators know from the
/// issue tracker and scripts), although `-o/--output` is the output format everywhere else.
fn testnet_output_args(args: Vec<String>) -> Vec<String> {
    let is_testnet_init = args.windows(2).any(|w| w[0] == "testnet" && w[1] == "init");
    if !is_testnet_init {
        return args;
    }
    args.into_iter()
        .map(|a| match a.strip_prefix("--output") {
            Some("") => "--output-dir".to_string(),
            Some(rest) if rest.starts_with('=') => format!("--output-dir{rest}"),
            _ => a,
        })
        .collect()
}

/// Runs `caspurd` with the upgrade handlers this binary carries; exits the process with
/// 1 on an error and with [`caspur_types::upgrade_info::UPGRADE_EXIT_CODE`] after an upgrade
/// halt.
pub fn main_with(handlers: UpgradeHandlers) {
    let cli = Cli::parse_from(testnet_output_args(std::env::args().collect()));
    if let Err(e) = dispatch::run(cli, handlers) {
        eprintln!("Error: {e:#}");
        std::process::exit(1);
    }
}
