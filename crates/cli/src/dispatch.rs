//! Running a parsed `caspurd` command line: each subcommand to the module that does it.

use super::*;
use anyhow::{bail, Context, Result};
use output::Format;
use serde_json::json;
use std::io::Read as _;
use std::path::PathBuf;

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

pub(crate) fn run(cli: Cli, handlers: UpgradeHandlers) -> Result<()> {
    let explicit_home = cli.home.clone();
    let home = home::Home(cli.home.unwrap_or_else(default_home));
    // `caspurd config` reads a broken client.toml as far as it can: it is how one repairs it.
    let (defaults, out) = match &cli.command {
        Command::Config { .. } => {
            let (defaults, _) = client_config::ClientConfig::load_lenient(&home);
            let out = cli
                .output
                .unwrap_or(defaults.format().unwrap_or(Format::Text));
            (defaults, out)
        }
        _ => {
            let defaults = client_config::ClientConfig::load(&home)?;
            let out = match cli.output {
                Some(f) => f,
                None => defaults.format()?,
            };
            (defaults, out)
        }
    };
    if matches!(cli.command, Command::Start { .. } | Command::Dev { .. }) {
        // A dev chain without --home runs in a new directory: nothing configured yet.
        let log_home = match (&cli.command, &explicit_home) {
            (Command::Dev { .. }, None) => None,
            _ => Some(&home),
        };
        let configured: Option<home::NodeConfig> = log_home
            .filter(|h| h.config_toml().exists())
            .map(|h| home::read_toml(&h.config_toml()))
            .transpose()?;
        let (level, format) = configured.map_or(("info".to_string(), Default::default()), |c| {
            (c.log_level, c.log_format)
        });
        logging::init(
            cli.log_level.as_deref().unwrap_or(&level),
            cli.log_format.unwrap_or(format),
        )?;
    }
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
        Command::Start { skip_upgrade } => stopped::finish(start::start(
            &home,
            &node::Upgrades {
                handlers,
                skip: skip_upgrade.into_iter().collect(),
            },
        )?)?,
        Command::Drill(opts) => {
            let (timeline, dir) = drill::run(&opts)?;
            if out == Format::Json {
                output::print(&serde_json::to_value(&timeline)?, out);
            } else {
                output::out!("{}", timeline.markdown());
            }
            eprintln!("timeline: {}/timeline.md and timeline.json", dir.display());
        }
        Command::Testnet(TestnetCmd::Init {
            validators,
            full_nodes,
            output_dir,
            chain_id,
            starting_port,
            block_time_ms,
            account_coins,
            params,
        }) => {
            let nodes = testnet::init(&testnet::TestnetOptions {
                extra_accounts: Vec::new(),
                validators,
                full_nodes,
                output: output_dir,
                chain_id,
                starting_port,
                block_time_ms,
                account_coins,
                params,
            })?;
            output::print(&serde_json::to_value(nodes)?, out);
        }
        Command::Dev {
            dev_mnemonic,
            block_time_ms,
            rpc_laddr,
            p2p_laddr,
            grpc_laddr,
            prometheus_laddr,
            voting_period_secs,
            dcert_members,
            keep,
            skip_upgrade,
        } => {
            // Without --home: a new directory, said at start and removed at Ctrl-C unless
            // --keep (kept when the node stops for any other reason, to be looked at).
            let (scratch, dev_home) = match explicit_home {
                Some(h) => (None, home::Home(h)),
                None => {
                    let dir = tempfile::Builder::new().prefix("caspur-dev-").tempdir()?;
                    let fate = if keep {
                        "kept when it stops"
                    } else {
                        "removed at Ctrl-C; --keep keeps it, --home chooses it"
                    };
                    eprintln!("dev chain data in {} ({fate})", dir.path().display());
                    let h = home::Home(dir.path().to_path_buf());
                    (Some(dir), h)
                }
            };
            let upgrades = node::Upgrades {
                handlers,
                skip: skip_upgrade.into_iter().collect(),
            };
            let stopped = node::dev(
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
                    dcert_members,
                },
            )?;
            let interrupted = matches!(stopped, caspur_consensus::launch::Stopped::Interrupted);
            if let Some(dir) = scratch {
                if keep || !interrupted {
                    eprintln!("dev chain data kept in {}", dir.keep().display());
                }
            }
            stopped::finish(stopped)?;
        }
        Command::Genesis(GenesisCmd::AddAccount {
            address,
            coins,
            keyring_backend,
        }) => {
            let address = match caspur_types::Address::parse_account(&address) {
                Ok(_) => address,
                Err(_) => {
                    let backend = match keyring_backend {
                        Some(b) => b,
                        None => defaults.keyring()?,
                    };
                    keys::Keyring::open(&home.0, backend)
                        .show(&address)
                        .with_context(|| format!("{address:?} is neither an address nor a key"))?
                        .address
                }
            };
            let coins = denoms::parse_coins(&coins)?.to_string();
            node::add_genesis_account(&home, &address, &coins)?
        }
        Command::Keys {
            keyring_backend,
            command,
        } => {
            let backend = match keyring_backend {
                Some(b) => b,
                None => defaults.keyring()?,
            };
            let ring = keys::Keyring::open(&home.0, backend);
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
                KeysCmd::Import {
                    name,
                    file: Some(file),
                } => {
                    let mut text = String::new();
                    std::fs::File::open(&file)
                        .and_then(|f| {
                            f.take(key_armor::MAX_ARMOR_BYTES as u64 + 1)
                                .read_to_string(&mut text)
                        })
                        .with_context(|| format!("cannot read {}", file.display()))?;
                    let pass = keys::ask_passphrase(
                        "passphrase of the armored key",
                        key_armor::PASSPHRASE_ENV,
                        false,
                    )?;
                    let secret = key_armor::import(&text, &pass)?;
                    output::print(
                        &serde_json::to_value(ring.add_secret(&name, &secret, false)?)?,
                        out,
                    )
                }
                KeysCmd::Import { name, file: None } => output::print(
                    &serde_json::to_value(ring.add(&name, &read_mnemonic()?, false)?)?,
                    out,
                ),
                KeysCmd::Export { name } => {
                    let secret = ring.secret(&name)?;
                    let pass = keys::ask_passphrase(
                        "passphrase to encrypt the exported key",
                        key_armor::PASSPHRASE_ENV,
                        true,
                    )?;
                    crate::output::out!("{}", key_armor::export(&secret, &pass)?);
                }
                KeysCmd::List => output::print(&serde_json::to_value(ring.list()?)?, out),
                KeysCmd::Show {
                    name,
                    address,
                    bech,
                } => {
                    let mut info = ring.show(&name)?;
                    info.address = bech.show(&info.address)?;
                    if address {
                        crate::output::outln!("{}", info.address);
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
            tx_dispatch::run_tx(opts, *command, &home, &defaults, out)?
        }
        Command::Query { node, command } => {
            let client = client::Client::new(node.as_deref().unwrap_or(&defaults.node));
            let v = match command {
                QueryCmd::Bank(BankQuery::Balances { address }) => {
                    commands::balances(&client, &address)?
                }
                QueryCmd::Bank(BankQuery::Total) => commands::total_supply(&client)?,
                QueryCmd::Auth(AuthQuery::Params) => commands::auth_params(&client)?,
                QueryCmd::Auth(AuthQuery::Account { address }) => {
                    commands::auth_account(&client, &address)?
                }
                QueryCmd::Block { height } => {
                    client.call("block", json!({"height": height.map(|h| h.to_string())}))?
                }
                QueryCmd::Tx { hash } => commands::tx(&client, &hash)?,
                QueryCmd::Txs { query, page, limit } => {
                    commands::txs(&client, &query, page, limit)?
                }
                QueryCmd::Slashing(cmd) => slashing_cmd::query(&client, cmd)?,
                QueryCmd::Staking(cmd) => staking_cmd::query(&client, cmd)?,
                QueryCmd::Gov(cmd) => gov_cmd::gov_query(&client, cmd)?,
                QueryCmd::Dcert(cmd) => dcert_cmd::query(&client, cmd)?,
                QueryCmd::Circuit(cmd) => circuit_cmd::query(&client, cmd)?,
                QueryCmd::Upgrade(cmd) => upgrade_cmd::query(&client, cmd)?,
                QueryCmd::Incident(cmd) => incident_cmd::query(&client, cmd)?,
                QueryCmd::Distribution(cmd) => gov_cmd::distribution_query(&client, cmd)?,
            };
            output::print(&v, out);
        }
        Command::Incident(cmd) => output::print(&incident_cmd::run(cmd, &defaults.node)?, out),
        Command::Completion { shell } => {
            use clap::CommandFactory as _;
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "caspurd", &mut script);
            output::write_stdout(&String::from_utf8_lossy(&script));
        }
        Command::Debug(DebugCmd::Addr { address }) => {
            output::print(&about::debug_addr(&address)?, out)
        }
        Command::Version { long } => {
            if long {
                output::print(&about::build_facts(), out)
            } else {
                crate::output::outln!("{}", env!("CARGO_PKG_VERSION"))
            }
        }
        Command::Config { key, value } => {
            output::print(&client_config::command(&home, key, value)?, out)
        }
        Command::ShowValidator => {
            let key: home::ValidatorKeyFile = home::read_json(&home.validator_key())
                .with_context(|| format!("{} holds no validator key", home.0.display()))?;
            output::print(
                &json!({"pub_key": hex::encode(key.public()?), "address": key.address}),
                out,
            )
        }
        Command::Status { node } => output::print(
            &client::Client::new(node.as_deref().unwrap_or(&defaults.node))
                .call("status", json!({}))?,
            out,
        ),
        Command::Bench(BenchCmd::Network {
            validators,
            block_time_ms,
            loads,
            seconds,
            senders,
        }) => {
            eprintln!("starting {validators} validators ({block_time_ms} ms blocks)…");
            let reports = bench_net::run(&bench_net::NetBenchOptions {
                validators,
                block_time_ms,
                loads,
                seconds,
                senders,
                lines_to_stderr: out == Format::Json,
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
                            "broadcast_rtt_ms": r.broadcast_rtt.map(|s| json!({"median": s.median, "p99": s.p99})),
                            "rss_mib": r.rss_mib,
                            "cpu_us_per_tx": r.cpu_us_per_tx.map(|c| json!({"validators": c.validators, "generator": c.generator})),
                            "mempool_full_retries": r.full_retries,
                            "refused": r.refused,
                            "first_refusal": r.first_refusal,
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
            let r = crate::bench::circuit::run(txs, routes, rounds)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if out == Format::Text {
                crate::output::outln!(
                    "CheckTx of {} signed MsgSend txs, medians of {} alternating rounds",
                    r.txs,
                    r.rounds
                );
                crate::output::outln!("without broken routes: {:>9.0} tx/s", r.without_per_sec);
                crate::output::outln!(
                    "with {:>5} broken:     {:>9.0} tx/s",
                    r.routes,
                    r.with_per_sec
                );
                crate::output::outln!("time ratio with/without: {:.3}", r.ratio);
                crate::output::outln!(
                    "breaker check alone: {:.2}% of CheckTx; CheckTx / CheckTx without the breaker: {:.4}",
                    r.breaker_share * 100.0,
                    r.ratio_to_no_breaker
                );
            } else {
                output::print(&serde_json::to_value(&r)?, out);
            }
        }
        Command::Bench(BenchCmd::Monitor {
            blocks,
            txs,
            subscribers,
            rounds,
        }) => {
            if blocks == 0 || rounds == 0 || blocks.saturating_mul(txs) > 1_000_000 {
                anyhow::bail!("need 1+ blocks and rounds, and at most 1,000,000 txs in all");
            }
            eprintln!("signing {} txs, then measuring…", blocks * txs);
            let r = crate::bench::monitor::run(blocks, txs, subscribers, rounds)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if out == Format::Text {
                crate::output::outln!(
                    "{} blocks of {} MsgSend txs, {} board subscribers, medians of {} alternating rounds",
                    r.blocks, r.txs_per_block, r.subscribers, r.rounds
                );
                crate::output::outln!(
                    "without monitoring: {:>8.1} blocks/s",
                    r.without_blocks_per_sec
                );
                crate::output::outln!(
                    "with monitoring:    {:>8.1} blocks/s",
                    r.with_blocks_per_sec
                );
                crate::output::outln!(
                    "ratio with/without: {:.3} (board document {} bytes)",
                    r.ratio,
                    r.board_bytes
                );
                crate::output::outln!("one /metrics scrape: {:.0} µs", r.scrape_micros);
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
                let r = crate::bench::dcert::run(n, candidates, max_members, samples)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                if out == Format::Text {
                    crate::output::outln!(
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
                crate::output::outln!(
                    "medians of {} alternating rounds, {} txs in blocks of {}",
                    r.rounds,
                    r.txs,
                    r.block_size
                );
                crate::output::outln!(
                    "raw verification, libsecp256k1 ({} threads): {:>10.0} sig/s  (the ceiling)",
                    r.threads,
                    r.raw_verify_per_sec
                );
                crate::output::outln!(
                    "raw verification, k256 ({} threads):         {:>10.0} sig/s  (reference)",
                    r.threads,
                    r.k256_verify_per_sec
                );
                crate::output::outln!(
                    "full path (decode→verify→execute→commit): {:>10.0} tx/s",
                    r.full_path_per_sec
                );
                crate::output::outln!("ratio full/raw: {:.1}%", r.ratio * 100.0);
                crate::output::outln!(
                    "time split: execution {:.1}%, merkleize+commit {:.1}%",
                    r.execute_share * 100.0,
                    r.commit_share * 100.0
                );
                crate::output::outln!(
                    "CheckTx: {:.1} µs per tx on one core (one verification alone: {:.1} µs); re-check after a block: {:.1} µs",
                    r.check_tx_micros,
                    r.verify_one_core_micros,
                    r.recheck_micros
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
        Command::Export { output_document } => {
            // Held until the export is written: no node can start on the home meanwhile.
            let _index = node::open_stopped(&home)?;
            let genesis: home::GenesisDoc = home::read_json(&home.genesis())?;
            let (height, state) = caspur_consensus::launch::export_state(&home.data_dir())
                .map_err(|e| anyhow::anyhow!(e))?;
            let mut doc = genesis;
            doc.app_state = state;
            let mut v = serde_json::to_value(&doc)?;
            v["initial_height"] = json!((height + 1).to_string());
            let text = serde_json::to_string_pretty(&v)? + "\n";
            match output_document {
                Some(path) => std::fs::write(&path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => crate::output::out!("{text}"),
            }
        }
    }
    Ok(())
}
