//! `caspurvisor`: the Caspur upgrade supervisor (SPEC §4). It runs `caspurd` as a child from
//! `<home>/visor/current`, and when the node halts for an upgrade it verifies the plan's
//! binary, backs up the data directory cheaply, switches and restarts — rolling back if the
//! new binary fails its canary. See `docs/upgrades.md`.

mod bench;
mod binary;
mod canary;
mod checkpoint;
mod layout;
mod status;
mod supervisor;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use layout::Layout;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "caspurvisor",
    version,
    about = "Upgrade supervisor for caspurd"
)]
struct Cli {
    /// The node home (the visor lives in <home>/visor).
    #[arg(long, global = true, env = "CASPUR_HOME")]
    home: Option<PathBuf>,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Create the layout with `binary` as the genesis version and point `current` at it.
    Init {
        /// The chain's first caspurd.
        binary: PathBuf,
    },
    /// Place a plan's binary ahead of its height (upgrades/<name>/bin/caspurd); with
    /// `--signal --from KEY`, then signal readiness with the placed copy's checksum.
    AddUpgrade {
        /// Plan name.
        name: String,
        /// The binary.
        binary: PathBuf,
        /// Signal readiness for the plan once the binary is in place.
        #[arg(long, requires = "from")]
        signal: bool,
        /// Validator operator key (with --signal).
        #[arg(long)]
        from: Option<String>,
        /// Further `caspurd tx` flags for the signal (`--keyring-backend test`, `--node …`).
        #[arg(last = true)]
        tx_flags: Vec<String>,
    },
    /// Signal readiness for a plan with the checksum of the binary this visor will run
    /// (upgrades/<plan>/bin/caspurd), through the current caspurd.
    SignalReady {
        /// Plan name.
        plan: String,
        /// Validator operator key.
        #[arg(long)]
        from: String,
        /// Further `caspurd tx` flags (`--keyring-backend test`, `--node …`).
        #[arg(last = true)]
        tx_flags: Vec<String>,
    },
    /// Run the node under supervision: `caspurvisor run -- start [flags]`.
    Run {
        /// Seconds a new binary has to commit a block at or above the upgrade height.
        #[arg(long, default_value_t = 300, env = "CASPURVISOR_CANARY_SECS")]
        canary_secs: u64,
        /// Poll interval in milliseconds (node height, binary directory).
        #[arg(long, default_value_t = 1000, env = "CASPURVISOR_POLL_MS")]
        poll_ms: u64,
        /// Fetch a missing binary from the plan's location (checksum still required).
        #[arg(long, env = "CASPURVISOR_ALLOW_DOWNLOAD")]
        allow_download: bool,
        /// Backup before switching.
        #[arg(
            long,
            value_enum,
            default_value = "checkpoint",
            env = "CASPURVISOR_BACKUP"
        )]
        backup: checkpoint::Mode,
        /// Serve Prometheus metrics on this address.
        #[arg(long, env = "CASPURVISOR_METRICS_LADDR")]
        metrics_laddr: Option<std::net::SocketAddr>,
        /// The node's arguments (default: start).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Print the visor's status (status.json).
    Status,
    /// Benchmark: backup cost against data-directory size, and rollback of 100 heights.
    Bench {
        /// The caspurd to grow chains with.
        #[arg(long)]
        caspurd: PathBuf,
        /// Chain lengths to measure at.
        #[arg(long, value_delimiter = ',', default_value = "500,2000,8000")]
        blocks: Vec<u64>,
    },
    /// Back up a stopped node's data directory as the visor does before an upgrade.
    Backup {
        /// Label (directory under visor/backups).
        #[arg(long, default_value = "manual")]
        name: String,
        /// The node's committed height (recorded as the rewind target).
        #[arg(long, default_value_t = 0)]
        height: u64,
        /// How.
        #[arg(long, value_enum, default_value = "checkpoint")]
        mode: checkpoint::Mode,
    },
}

fn layout(home: Option<PathBuf>) -> Result<Layout> {
    let home = home.context("give --home (or CASPUR_HOME): the node home the visor supervises")?;
    Ok(Layout::new(&home))
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(Cli::parse()) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("caspurvisor: {e:#}");
            std::process::exit(1);
        }
    }
}

fn run(cli: Cli) -> Result<i32> {
    let home = cli.home;
    match cli.command {
        Cmd::Bench { caspurd, blocks } => bench::run(&caspurd, &blocks)?,
        Cmd::Init { binary } => {
            let layout = layout(home)?;
            let target = layout::install(&binary, &layout.genesis())?;
            layout.switch_to(&layout.genesis())?;
            println!("genesis binary: {}", target.display());
        }
        Cmd::AddUpgrade {
            name,
            binary,
            signal,
            from,
            tx_flags,
        } => {
            let layout = layout(home)?;
            caspur_types::upgrade_info::check_name(&name).map_err(anyhow::Error::msg)?;
            let target = layout::install(&binary, &layout.upgrade(&name))?;
            println!(
                "upgrade {name}: {} (sha256 {})",
                target.display(),
                binary::sha256_file(&target)?
            );
            if let (true, Some(from)) = (signal, from) {
                return binary::signal_ready(&layout, &name, &from, &tx_flags);
            }
        }
        Cmd::SignalReady {
            plan,
            from,
            tx_flags,
        } => return binary::signal_ready(&layout(home)?, &plan, &from, &tx_flags),
        Cmd::Run {
            canary_secs,
            poll_ms,
            allow_download,
            backup,
            metrics_laddr,
            args,
        } => {
            let layout = layout(home)?;
            let report = status::Reporter::new(&layout);
            if let Some(addr) = metrics_laddr {
                report.serve(addr)?;
            }
            let opts = supervisor::Options {
                args: if args.is_empty() {
                    vec!["start".into()]
                } else {
                    args
                },
                canary: Duration::from_secs(canary_secs),
                poll: Duration::from_millis(poll_ms.max(50)),
                download: allow_download,
                backup,
            };
            return supervisor::Supervisor::new(layout, opts, report)?.run();
        }
        Cmd::Status => {
            let layout = layout(home)?;
            let bytes = std::fs::read(layout.status_file()).with_context(|| {
                format!(
                    "no status at {} (has the visor run?)",
                    layout.status_file().display()
                )
            })?;
            println!("{}", String::from_utf8_lossy(&bytes));
        }
        Cmd::Backup { name, height, mode } => {
            let layout = layout(home)?;
            let r = checkpoint::create(
                &layout.data_dir(),
                &layout.backup(&name),
                &name,
                height,
                mode,
            )?;
            println!("{}", serde_json::to_string_pretty(&r)?);
        }
    }
    Ok(0)
}
