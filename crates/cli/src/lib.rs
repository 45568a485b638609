//! `caspurd`: the Caspur node and its Cosmos-style command line. The binary is
//! [`main_with`] plus the upgrade handlers it carries (`src/main.rs`), so a release that
//! adds a handler — or the test fixture `caspurd-upgrade-test` — is the same program with a
//! longer registry.

// The consensus stack's async state machines nest deeply.
#![recursion_limit = "256"]

mod bench_net;
mod circuit_cmd;
mod client;
mod commands;
mod dcert_cmd;
mod gov_cmd;
mod home;
mod keys;
mod node;
mod output;
mod staking_cmd;
mod testnet;
mod upgrade_cmd;

pub use caspur_app::modules::upgrade::{Migrating, UpgradeHandler, UpgradeHandlers};

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use output::Format;
use serde_json::json;
use std::io::Read as _;
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
    /// Output format.
    #[arg(
        short = 'o',
        long = "output",
        global = true,
        value_enum,
        default_value = "text"
    )]
    output: Format,
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
        /// Skip the upgrade due at this height (repeatable).
        #[arg(long = "unsafe-skip-upgrade", value_name = "HEIGHT")]
        skip_upgrade: Vec<u64>,
    },
    /// Edit genesis.json.
    #[command(subcommand)]
    Genesis(GenesisCmd),
    /// Manage account keys.
    Keys {
        /// Keyring backend.
        #[arg(long, value_enum, default_value = "file", global = true)]
        keyring_backend: keys::Backend,
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
        /// RPC endpoint.
        #[arg(long, default_value = "tcp://127.0.0.1:26657", global = true)]
        node: String,
        #[command(subcommand)]
        command: QueryCmd,
    },
    /// Show the node's status.
    Status {
        /// RPC endpoint.
        #[arg(long, default_value = "tcp://127.0.0.1:26657")]
        node: String,
    },
    /// This home's consensus (and p2p) key: hex for `[p2p] followers`, bootstrappers and
    /// `create-validator --pubkey`, and its CometBFT address.
    ShowValidator,
    /// Export the committed application state as genesis-format JSON (node must be stopped).
    Export,
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
    /// Local multi-node networks.
    #[command(subcommand)]
    Testnet(TestnetCmd),
}

#[derive(Subcommand)]
enum TestnetCmd {
    /// Write the homes of an N-validator network on 127.0.0.1 (`DIR/node0 …`), sharing one
    /// genesis; start each with `caspurd start --home DIR/nodeK`.
    Init {
        /// Number of validators.
        #[arg(long, default_value_t = 4)]
        validators: usize,
        /// Number of full (non-validator) nodes, after the validators.
        #[arg(long, default_value_t = 0)]
        full_nodes: usize,
        /// Directory for the homes (this command always prints JSON).
        /// (`--output DIR` is accepted too, see `testnet_output_args`.)
        #[arg(long, default_value = "./testnet")]
        output_dir: PathBuf,
        /// Chain id.
        #[arg(long, default_value = "caspur-testnet-1")]
        chain_id: String,
        /// First port: node k uses p2p = PORT+10k, RPC = +1, metrics = +2.
        #[arg(long, default_value_t = 26656)]
        starting_port: u16,
        /// Target block interval in milliseconds.
        #[arg(long, default_value_t = 500)]
        block_time_ms: u64,
        /// Coins for each node's account (key `nodeK`, test keyring of its home).
        #[arg(long, default_value = "1000000000000ucsp")]
        account_coins: String,
    },
}

#[derive(Subcommand)]
enum BenchCmd {
    /// CheckTx with N broken routes vs. none (the circuit breaker's overhead), alternating
    /// rounds in one run.
    Circuit {
        /// Signed MsgSend txs per round (one account each).
        #[arg(long, default_value_t = 2_000)]
        txs: usize,
        /// Broken routes.
        #[arg(long, default_value_t = 1_000)]
        routes: usize,
        /// Rounds of each (medians are reported).
        #[arg(long, default_value_t = 7)]
        rounds: usize,
    },
    /// The dCERT election's cost (vote update, delegation change, end-of-block seat
    /// maintenance: median and p99) for each electorate size, on in-memory state.
    Dcert {
        /// Voter counts, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "10000,100000,1000000")]
        voters: Vec<u64>,
        /// Candidates.
        #[arg(long, default_value_t = 10_000)]
        candidates: u64,
        /// Seats.
        #[arg(long, default_value_t = 21)]
        max_members: u32,
        /// Measured operations of each kind per size.
        #[arg(long, default_value_t = 1_000)]
        samples: usize,
    },
    /// Signed MsgSend throughput through decode → verify → execute → durable commit, against
    /// the raw secp256k1 verification rate on all cores, measured in the same run.
    TxThroughput {
        /// Signed txs to execute.
        #[arg(long, default_value_t = 20_000)]
        txs: usize,
        /// Distinct sender accounts.
        #[arg(long, default_value_t = 1_000)]
        accounts: usize,
        /// Txs per block.
        #[arg(long, default_value_t = 2_000)]
        block_size: usize,
        /// Alternating rounds of both measurements (medians are reported).
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
    /// Block interval and finality latency (median, p99) of a local N-validator network
    /// (separate `caspurd start` processes) under each offered tx load.
    Network {
        /// Validators.
        #[arg(long, default_value_t = 4)]
        validators: usize,
        /// Target block interval in milliseconds.
        #[arg(long, default_value_t = 100)]
        block_time_ms: u64,
        /// Offered loads in tx/s, comma-separated (0: empty blocks).
        #[arg(long, value_delimiter = ',', default_value = "0,50,2000")]
        loads: Vec<u64>,
        /// Seconds per load.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
    },
}

#[derive(Subcommand)]
enum GenesisCmd {
    /// Fund an account in genesis.
    AddAccount {
        /// Bech32 address.
        address: String,
        /// Coins, e.g. 1000000ucsp.
        coins: String,
    },
}

#[derive(Subcommand)]
enum KeysCmd {
    /// Create a key (prints its new mnemonic), or recover one with --recover.
    Add {
        /// Key name.
        name: String,
        /// Read the mnemonic from standard input instead of generating one.
        #[arg(long)]
        recover: bool,
    },
    /// Import a key from a mnemonic read from standard input.
    Import {
        /// Key name.
        name: String,
    },
    /// List keys.
    List,
    /// Show a key.
    Show {
        /// Key name.
        name: String,
        /// Print only the address.
        #[arg(short = 'a', long)]
        address: bool,
    },
    /// Delete a key.
    Delete {
        /// Key name.
        name: String,
        /// Skip confirmation (accepted for Cosmos compatibility; deletion never prompts).
        #[arg(short = 'y', long)]
        yes: bool,
    },
}

#[derive(Args)]
struct TxOpts {
    /// RPC endpoint.
    #[arg(long, default_value = "tcp://127.0.0.1:26657", global = true)]
    node: String,
    /// Chain id (default: asked from the node).
    #[arg(long, global = true)]
    chain_id: Option<String>,
    /// Fee, e.g. 5000ucsp (default: gas × gas price).
    #[arg(long, global = true)]
    fees: Option<String>,
    /// Gas limit.
    #[arg(long, default_value_t = 200_000, global = true)]
    gas: u64,
    /// Gas price used when --fees is absent.
    #[arg(long, default_value = "0.0025ucsp", global = true)]
    gas_prices: String,
    /// Memo.
    #[arg(long, default_value = "", global = true)]
    note: String,
    /// Keyring backend.
    #[arg(long, value_enum, default_value = "file", global = true)]
    keyring_backend: keys::Backend,
    /// `sync` returns after admission; `block` waits until the tx is committed.
    #[arg(long, default_value = "block", global = true)]
    broadcast_mode: String,
    /// Skip confirmation (accepted for Cosmos compatibility; never prompts).
    #[arg(short = 'y', long, global = true)]
    yes: bool,
}

#[derive(Subcommand)]
enum TxCmd {
    /// Bank transactions.
    #[command(subcommand)]
    Bank(BankTx),
    /// Staking transactions.
    #[command(subcommand)]
    Staking(staking_cmd::StakingTx),
    /// dCERT group transactions.
    #[command(subcommand)]
    Dcert(dcert_cmd::DcertTx),
    /// Upgrade readiness and the dCERT emergency track.
    #[command(subcommand)]
    Upgrade(upgrade_cmd::UpgradeTx),
    /// Governance transactions.
    #[command(subcommand)]
    Gov(gov_cmd::GovTx),
    /// Rewards and the community pool.
    #[command(subcommand)]
    Distribution(gov_cmd::DistributionTx),
    /// Jail and unjail.
    #[command(subcommand)]
    Slashing(gov_cmd::SlashingTx),
}

#[derive(Subcommand)]
enum BankTx {
    /// Send coins: `send <from-key> <to-address> <amount>`.
    Send {
        /// Sender key name.
        from: String,
        /// Recipient address.
        to: String,
        /// Amount, e.g. 1000ucsp.
        amount: String,
    },
}

#[derive(Subcommand)]
enum QueryCmd {
    /// Bank queries.
    #[command(subcommand)]
    Bank(BankQuery),
    /// Auth queries.
    #[command(subcommand)]
    Auth(AuthQuery),
    /// A block (latest when no height is given).
    Block {
        /// Height.
        height: Option<u64>,
    },
    /// A committed tx by hash.
    Tx {
        /// Hex hash.
        hash: String,
    },
    /// Staking queries.
    #[command(subcommand)]
    Staking(staking_cmd::StakingQuery),
    /// dCERT group queries.
    #[command(subcommand)]
    Dcert(dcert_cmd::DcertQuery),
    /// Circuit-breaker queries.
    #[command(subcommand)]
    Circuit(circuit_cmd::CircuitQuery),
    /// Upgrade plans and readiness.
    #[command(subcommand)]
    Upgrade(upgrade_cmd::UpgradeQuery),
    /// Governance queries.
    #[command(subcommand)]
    Gov(gov_cmd::GovQuery),
    /// Rewards and community pool queries.
    #[command(subcommand)]
    Distribution(gov_cmd::DistributionQuery),
}

#[derive(Subcommand)]
enum BankQuery {
    /// All balances of an address.
    Balances {
        /// Bech32 address.
        address: String,
    },
}

#[derive(Subcommand)]
enum AuthQuery {
    /// An account.
    Account {
        /// Bech32 address.
        address: String,
    },
}

fn default_home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".caspur")
}

fn read_mnemonic() -> Result<String> {
    eprintln!("Enter your BIP-39 mnemonic:");
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .context("cannot read the mnemonic from standard input")?;
    let words = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if words.is_empty() {
        bail!("no mnemonic given on standard input");
    }
    Ok(words)
}

fn run(cli: Cli, handlers: UpgradeHandlers) -> Result<()> {
    let out = cli.output;
    let explicit_home = cli.home.clone();
    let home = home::Home(cli.home.unwrap_or_else(default_home));
    match cli.command {
        Command::Init {
            moniker,
            chain_id,
            overwrite,
        } => {
            let g = node::init(
                &home,
                &node::InitOptions {
                    moniker,
                    chain_id,
                    overwrite,
                },
            )?;
            output::print(
                &json!({"home": home.0, "chain_id": g.chain_id, "validator": g.validators[0].pub_key}),
                out,
            );
        }
        Command::Start { skip_upgrade } => node::finish(node::start(
            &home,
            &node::Upgrades {
                handlers,
                skip: skip_upgrade.into_iter().collect(),
            },
        )?)?,
        Command::Testnet(TestnetCmd::Init {
            validators,
            full_nodes,
            output_dir,
            chain_id,
            starting_port,
            block_time_ms,
            account_coins,
        }) => {
            let nodes = testnet::init(&testnet::TestnetOptions {
                validators,
                full_nodes,
                output: output_dir,
                chain_id,
                starting_port,
                block_time_ms,
                account_coins,
            })?;
            output::print(&serde_json::to_value(nodes)?, Format::Json);
        }
        Command::Dev {
            dev_mnemonic,
            block_time_ms,
            rpc_laddr,
            p2p_laddr,
            grpc_laddr,
            prometheus_laddr,
            voting_period_secs,
            skip_upgrade,
        } => {
            let dev_home = match explicit_home {
                Some(h) => home::Home(h),
                None => {
                    let dir = tempfile::Builder::new().prefix("caspur-dev-").tempdir()?;
                    home::Home(dir.keep())
                }
            };
            let upgrades = node::Upgrades {
                handlers,
                skip: skip_upgrade.into_iter().collect(),
            };
            node::finish(node::dev(
                &dev_home,
                &upgrades,
                node::DevOptions {
                    mnemonic: dev_mnemonic,
                    block_time_ms,
                    rpc: rpc_laddr,
                    p2p: p2p_laddr,
                    grpc: grpc_laddr,
                    prometheus: prometheus_laddr,
                    voting_period_secs,
                },
            )?)?;
        }
        Command::Genesis(GenesisCmd::AddAccount { address, coins }) => {
            node::add_genesis_account(&home, &address, &coins)?
        }
        Command::Keys {
            keyring_backend,
            command,
        } => {
            let ring = keys::Keyring::open(&home.0, keyring_backend);
            match command {
                KeysCmd::Add { name, recover } => {
                    let (mnemonic, fresh) = if recover {
                        (read_mnemonic()?, false)
                    } else {
                        (keys::new_mnemonic(), true)
                    };
                    let info = ring.add(&name, &mnemonic, false)?;
                    let mut v = serde_json::to_value(&info)?;
                    if fresh {
                        v["mnemonic"] = json!(mnemonic);
                    }
                    output::print(&v, out);
                }
                KeysCmd::Import { name } => output::print(
                    &serde_json::to_value(ring.add(&name, &read_mnemonic()?, false)?)?,
                    out,
                ),
                KeysCmd::List => output::print(&serde_json::to_value(ring.list()?)?, out),
                KeysCmd::Show { name, address } => {
                    let info = ring.show(&name)?;
                    if address {
                        println!("{}", info.address);
                    } else {
                        output::print(&serde_json::to_value(info)?, out);
                    }
                }
                KeysCmd::Delete { name, .. } => {
                    ring.delete(&name)?;
                    eprintln!("key {name:?} deleted");
                }
            }
        }
        Command::Tx { opts, command } => {
            let client = client::Client::new(&opts.node);
            let ring = keys::Keyring::open(&home.0, opts.keyring_backend);
            let chain_id = match opts.chain_id {
                Some(c) => c,
                None => client.call("status", json!({}))?["node_info"]["network"]
                    .as_str()
                    .map(String::from)
                    .context("the node did not report its chain id; pass --chain-id")?,
            };
            let wait = match opts.broadcast_mode.as_str() {
                "block" => true,
                "sync" | "async" => false,
                other => bail!("--broadcast-mode must be sync or block, not {other:?}"),
            };
            let fee = commands::FeeOptions {
                fees: opts.fees,
                gas: opts.gas,
                gas_price: opts.gas_prices,
            };
            let tx = commands::TxContext {
                client: &client,
                ring: &ring,
                chain_id: &chain_id,
                fee: &fee,
                memo: &opts.note,
                wait,
            };
            match *command {
                TxCmd::Bank(BankTx::Send { from, to, amount }) => {
                    output::print(&commands::bank_send(&tx, &from, &to, &amount)?, out);
                }
                TxCmd::Staking(cmd) => output::print(&staking_cmd::tx(&tx, &home, cmd)?, out),
                TxCmd::Gov(cmd) => output::print(&gov_cmd::gov_tx(&tx, cmd)?, out),
                TxCmd::Dcert(cmd) => output::print(&dcert_cmd::tx(&tx, cmd)?, out),
                TxCmd::Upgrade(cmd) => output::print(&upgrade_cmd::tx(&tx, cmd)?, out),
                TxCmd::Distribution(cmd) => {
                    output::print(&gov_cmd::distribution_tx(&tx, cmd)?, out)
                }
                TxCmd::Slashing(cmd) => output::print(&gov_cmd::slashing_tx(&tx, cmd)?, out),
            }
        }
        Command::Query { node, command } => {
            let client = client::Client::new(&node);
            let v = match command {
                QueryCmd::Bank(BankQuery::Balances { address }) => {
                    commands::balances(&client, &address)?
                }
                QueryCmd::Auth(AuthQuery::Account { address }) => {
                    commands::auth_account(&client, &address)?
                }
                QueryCmd::Block { height } => {
                    client.call("block", json!({"height": height.map(|h| h.to_string())}))?
                }
                QueryCmd::Tx { hash } => commands::tx(&client, &hash)?,
                QueryCmd::Staking(cmd) => staking_cmd::query(&client, cmd)?,
                QueryCmd::Gov(cmd) => gov_cmd::gov_query(&client, cmd)?,
                QueryCmd::Dcert(cmd) => dcert_cmd::query(&client, cmd)?,
                QueryCmd::Circuit(cmd) => circuit_cmd::query(&client, cmd)?,
                QueryCmd::Upgrade(cmd) => upgrade_cmd::query(&client, cmd)?,
                QueryCmd::Distribution(cmd) => gov_cmd::distribution_query(&client, cmd)?,
            };
            output::print(&v, out);
        }
        Command::ShowValidator => {
            let key: home::ValidatorKeyFile = home::read_json(&home.validator_key())
                .with_context(|| format!("{} holds no validator key", home.0.display()))?;
            output::print(
                &json!({"pub_key": hex::encode(key.public()?), "address": key.address}),
                out,
            )
        }
        Command::Status { node } => {
            output::print(&client::Client::new(&node).call("status", json!({}))?, out)
        }
        Command::Bench(BenchCmd::Network {
            validators,
            block_time_ms,
            loads,
            seconds,
        }) => {
            eprintln!("starting {validators} validators ({block_time_ms} ms blocks)…");
            let reports = bench_net::run(&bench_net::NetBenchOptions {
                validators,
                block_time_ms,
                loads,
                seconds,
            })?;
            if out == Format::Json {
                let rows: Vec<_> = reports
                    .iter()
                    .map(|r| {
                        json!({
                            "offered_tps": r.offered,
                            "committed_tps": r.committed_tps,
                            "blocks": r.blocks,
                            "interval_ms": {"median": r.interval.median, "p99": r.interval.p99},
                            "block_finality_ms": {"median": r.block_finality.median, "p99": r.block_finality.p99},
                            "tx_finality_ms": r.tx_finality.map(|s| json!({"median": s.median, "p99": s.p99})),
                        })
                    })
                    .collect();
                output::print(&json!(rows), out);
            }
        }
        Command::Bench(BenchCmd::Circuit {
            txs,
            routes,
            rounds,
        }) => {
            if txs == 0 || rounds == 0 {
                anyhow::bail!("need at least one tx and one round");
            }
            let r = caspur_app::modules::circuit::bench::run(txs, routes, rounds)
                .map_err(|e| anyhow::anyhow!(e.log()))?;
            if out == Format::Text {
                println!(
                    "CheckTx of {} signed MsgSend txs, medians of {} alternating rounds",
                    r.txs, r.rounds
                );
                println!("without broken routes: {:>9.0} tx/s", r.without_per_sec);
                println!(
                    "with {:>5} broken:     {:>9.0} tx/s",
                    r.routes, r.with_per_sec
                );
                println!("time ratio with/without: {:.3}", r.ratio);
                println!(
                    "breaker check alone: {:.2}% of CheckTx; CheckTx / CheckTx without the breaker: {:.4}",
                    r.breaker_share * 100.0,
                    r.ratio_to_no_breaker
                );
            } else {
                output::print(&serde_json::to_value(&r)?, out);
            }
        }
        Command::Bench(BenchCmd::Dcert {
            voters,
            candidates,
            max_members,
            samples,
        }) => {
            let mut reports = Vec::new();
            for n in voters {
                if candidates < 3 || samples == 0 || n == 0 {
                    anyhow::bail!("need at least 3 candidates, 1 voter and 1 sample");
                }
                eprintln!("building {n} voters over {candidates} candidates…");
                let r = caspur_app::modules::dcert::bench::run(n, candidates, max_members, samples)
                    .map_err(|e| anyhow::anyhow!(e.log()))?;
                if out == Format::Text {
                    println!(
                        "{:>9} voters: vote update {:>6.1} µs median {:>6.1} µs p99 | delegation change {:>6.1} / {:>6.1} | seat maintenance {:>6.1} / {:>6.1} | gas {} / {} / {}  (setup {:.0} s)",
                        r.voters,
                        r.vote_update_us.0,
                        r.vote_update_us.1,
                        r.delegation_change_us.0,
                        r.delegation_change_us.1,
                        r.seat_maintenance_us.0,
                        r.seat_maintenance_us.1,
                        r.gas.0,
                        r.gas.1,
                        r.gas.2,
                        r.setup_secs
                    );
                }
                reports.push(r);
            }
            if out != Format::Text {
                output::print(&serde_json::to_value(&reports)?, out);
            }
        }
        Command::Bench(BenchCmd::TxThroughput {
            txs,
            accounts,
            block_size,
            rounds,
        }) => {
            let dir = tempfile::Builder::new().prefix("caspur-bench-").tempdir()?;
            eprintln!("signing {txs} txs from {accounts} accounts, then measuring…");
            let r = caspur_consensus::bench::tx_throughput(
                dir.path(),
                txs,
                accounts,
                block_size,
                rounds,
            )
            .map_err(|e| anyhow::anyhow!(e))?;
            if out == Format::Text {
                println!(
                    "medians of {} alternating rounds, {} txs in blocks of {}",
                    r.rounds, r.txs, r.block_size
                );
                println!(
                    "raw secp256k1 verification ({} threads): {:>10.0} sig/s",
                    r.threads, r.raw_verify_per_sec
                );
                println!(
                    "full path (decode→verify→execute→commit): {:>10.0} tx/s",
                    r.full_path_per_sec
                );
                println!("ratio full/raw: {:.1}%", r.ratio * 100.0);
                println!(
                    "time split: execution {:.1}%, merkleize+commit {:.1}%",
                    r.execute_share * 100.0,
                    r.commit_share * 100.0
                );
            } else {
                output::print(&serde_json::to_value(&r)?, out);
            }
        }
        Command::Rollback { to_height } => {
            let removed = node::rollback(&home, to_height)?;
            output::print(
                &json!({"height": to_height, "blocks_removed_from_index": removed}),
                out,
            );
        }
        Command::Export => {
            home::require_initialized(&home)?;
            let genesis: home::GenesisDoc = home::read_json(&home.genesis())?;
            let (height, state) = caspur_consensus::launch::export_state(&home.data_dir())
                .map_err(|e| anyhow::anyhow!(e))?;
            let mut doc = genesis;
            doc.app_state = state;
            let mut v = serde_json::to_value(&doc)?;
            v["initial_height"] = json!((height + 1).to_string());
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
    }
    Ok(())
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
    if let Err(e) = run(cli, handlers) {
        eprintln!("Error: {e:#}");
        std::process::exit(1);
    }
}
