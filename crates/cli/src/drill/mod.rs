//! `caspurd drill`: the whole CASPUR emergency process on a local network, end to end, as
//! operators and the dCERT would run it — every step a real `caspurd` / `caspurvisor`
//! command against real nodes:
//!
//! sealed report → opened by a member → triage within the SLA → emergency declared → the
//! vulnerable route broken → announcement (on the feed and at a webhook) → plan and three
//! reviews → emergency upgrade approved by the dCERT quorum at min notice → readiness from
//! every visor → halt, backup, switch, migration, route reopened → fix verified → resolved →
//! post-mortem whose disclosure matches the commitment.
//!
//! `--broken-upgrade` ships a new binary whose migration panics first: every visor rolls back,
//! the chain goes on with the old binary, the incident records the abort with its reason, and
//! a corrected plan follows and completes. `--late-validator` starts one validator only after
//! the upgrade: it halts at the height on the old binary, switches and catches up — nothing
//! rolls back. The timeline (Markdown and JSON) lands in the drill's directory.

mod network;
mod steps;
mod timeline;

use anyhow::{bail, Result};
use std::path::PathBuf;

pub use timeline::Timeline;

/// `caspurd drill` options.
#[derive(Clone, Debug, clap::Args)]
pub struct DrillOptions {
    /// Validators (each under its own caspurvisor; all but the last form the dCERT group).
    #[arg(long, default_value_t = 4)]
    pub validators: usize,
    /// The next version's binary (default: `caspurd-upgrade-test` next to this binary, which
    /// carries the drill plans' handlers `v2` and `v2-broken`).
    #[arg(long)]
    pub next_binary: Option<PathBuf>,
    /// Ship a broken new binary first: every visor must roll back, then a corrected plan runs.
    #[arg(long, conflicts_with = "late_validator")]
    pub broken_upgrade: bool,
    /// Start the last validator only after the upgrade: it must catch up, not roll back.
    #[arg(long)]
    pub late_validator: bool,
    /// Directory for the homes, logs and the timeline (default: a new `caspur-drill-…`
    /// directory under the system's temporary directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

impl DrillOptions {
    fn variant(&self) -> &'static str {
        match (self.broken_upgrade, self.late_validator) {
            (true, _) => "broken-upgrade",
            (_, true) => "late-validator",
            _ => "standard",
        }
    }
}

/// Runs the drill; returns its timeline (also written to the drill's directory).
pub fn run(opts: &DrillOptions) -> Result<(Timeline, PathBuf)> {
    if !(3..=10).contains(&opts.validators) {
        bail!("--validators must be between 3 and 10 (a dCERT of at least two, a reporter)");
    }
    let next = match &opts.next_binary {
        Some(p) => p.clone(),
        None => std::env::current_exe()?.with_file_name("caspurd-upgrade-test"),
    };
    if !next.exists() {
        bail!(
            "the next version's binary {} does not exist: give --next-binary (a caspurd carrying the handlers of plans v2 and v2-broken)",
            next.display()
        );
    }
    let dir = match &opts.dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d.clone()
        }
        None => tempfile::Builder::new()
            .prefix("caspur-drill-")
            .tempdir()?
            .keep(),
    };
    let mut timeline = Timeline::start(opts.variant(), opts.validators);
    let plans: &[&str] = if opts.broken_upgrade {
        &["v2-broken", "v2"]
    } else {
        &["v2"]
    };
    let mut net = network::build(&dir, opts.validators, &next, plans)?;
    let outcome = steps::Drill {
        net: &mut net,
        timeline: &mut timeline,
        next: &next,
        opts,
    }
    .run();
    timeline.total_ms = timeline.elapsed_ms();
    timeline.write(&dir)?;
    outcome.map(|()| (timeline, dir))
}
