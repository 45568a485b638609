//! The supervision loop: run the node from `current`, forward SIGINT/SIGTERM, and on an
//! upgrade halt (exit code 75 + `upgrade-info.json`) verify the plan's binary, back up the
//! data directory, switch and restart. The new binary is a **canary** until it commits a
//! block at or above the upgrade height, judged from evidence (see [`crate::canary`]): if it
//! crashes or hangs first while the network has not finalized the height either, the visor
//! restores the backup, rewinds with the old binary, switches back and restarts the old binary
//! with the height skipped; a node that is alive and waiting for its peers is left to wait.

use crate::binary::{self, NotReady};
use crate::canary::{self, Evidence, Running, StderrTail};
use crate::checkpoint::{self, Mode};
use crate::layout::{write_atomic, Layout};
use crate::status::Reporter;
use anyhow::{bail, Context, Result};
use caspur_types::upgrade_info::{UpgradeInfo, UPGRADE_EXIT_CODE};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::{info, warn};

/// How the visor behaves.
#[derive(Clone, Debug)]
pub struct Options {
    /// Arguments for the node (`start` and its flags); `--home` is added.
    pub args: Vec<String>,
    /// How long a new binary has to commit its first block at or above the upgrade height.
    pub canary: Duration,
    /// How often to poll the node and the upgrade directory.
    pub poll: Duration,
    /// Fetch a missing binary from the plan's location.
    pub download: bool,
    /// Backup taken before switching.
    pub backup: Mode,
}

/// A switched binary under watch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Canary {
    /// Plan name.
    pub plan: String,
    /// Upgrade height.
    pub height: u64,
    /// The version directory to go back to (relative to the visor root).
    pub previous: PathBuf,
    /// The committed height at the halt (the rewind target).
    pub committed: u64,
    /// When the halt was seen (Unix ms).
    pub halted_ms: u64,
}

/// What survives a visor restart (`visor/state.json`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Persisted {
    /// Heights passed to the node as `--unsafe-skip-upgrade`.
    pub skip_heights: Vec<u64>,
    /// The canary under watch.
    pub canary: Option<Canary>,
}

impl Persisted {
    fn load(layout: &Layout) -> Result<Self> {
        match std::fs::read(layout.state_file()) {
            Ok(b) => serde_json::from_slice(&b)
                .with_context(|| format!("{} is corrupt", layout.state_file().display())),
            Err(_) => Ok(Persisted::default()),
        }
    }

    fn save(&self, layout: &Layout) -> Result<()> {
        write_atomic(&layout.state_file(), &serde_json::to_vec_pretty(self)?)
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The node's latest committed height (0 when unreachable).
pub fn committed_height(rpc: &str) -> u64 {
    canary::probe(rpc).map_or(0, |p| p.own)
}

/// Times the network may finalize the upgrade height while this node's new binary keeps
/// exiting before the visor gives up restarting it (it never rolls back alone).
const MAX_CANARY_RESTARTS: u32 = 5;

/// The supervisor.
pub struct Supervisor {
    layout: Layout,
    opts: Options,
    report: Reporter,
    stop: Arc<AtomicBool>,
    child_pid: Arc<AtomicI32>,
}

impl Supervisor {
    /// A supervisor of `layout`'s node; installs the signal forwarding.
    pub fn new(layout: Layout, opts: Options, report: Reporter) -> Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let child_pid = Arc::new(AtomicI32::new(0));
        let mut signals = signal_hook::iterator::Signals::new([
            signal_hook::consts::SIGINT,
            signal_hook::consts::SIGTERM,
        ])?;
        let (s, p) = (stop.clone(), child_pid.clone());
        std::thread::spawn(move || {
            for sig in signals.forever() {
                s.store(true, Ordering::SeqCst);
                let pid = p.load(Ordering::SeqCst);
                info!(signal = sig, pid, "forwarding signal to the node");
                if pid > 0 {
                    // SAFETY: kill(2) with a pid we spawned and a standard signal number.
                    unsafe {
                        libc::kill(pid, sig);
                    }
                }
            }
        });
        Ok(Supervisor {
            layout,
            opts,
            report,
            stop,
            child_pid,
        })
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn spawn(&self, binary: &Path, skip: &[u64], tail: &StderrTail) -> Result<Child> {
        let mut cmd = Command::new(binary);
        cmd.args(&self.opts.args)
            .arg("--home")
            .arg(&self.layout.home)
            .stderr(Stdio::piped());
        for h in skip {
            cmd.arg("--unsafe-skip-upgrade").arg(h.to_string());
        }
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        if let Some(stderr) = child.stderr.take() {
            tail.follow(stderr);
        }
        self.child_pid.store(child.id() as i32, Ordering::SeqCst);
        info!(binary = %binary.display(), pid = child.id(), ?skip, "node started");
        self.report
            .node(&binary.display().to_string(), Some(child.id()));
        Ok(child)
    }

    /// Runs until the node stops for good; returns the exit code to exit with.
    pub fn run(&self) -> Result<i32> {
        let mut after_rollback: Option<String> = None;
        let mut canary_restarts = 0;
        loop {
            if self.stopping() {
                self.report.state("stopped", "stopped on a signal");
                return Ok(0);
            }
            let mut state = Persisted::load(&self.layout)?;
            let binary = Layout::binary_in(&self.layout.current()?);
            self.report
                .update(|s| s.skip_heights = state.skip_heights.clone());
            let tail = StderrTail::default();
            let mut child = self.spawn(&binary, &state.skip_heights, &tail)?;
            self.report_start(&binary, &state, after_rollback.as_deref());
            let mut evidence = Evidence::default();
            let (status, timed_out) =
                self.watch(&mut child, &mut state, &mut evidence, &mut after_rollback)?;
            self.child_pid.store(0, Ordering::SeqCst);
            self.report.node(&binary.display().to_string(), None);
            if self.stopping() {
                self.report
                    .state("stopped", format!("node stopped on a signal ({status})"));
                return Ok(status.code().unwrap_or(0));
            }
            if status.code() == Some(UPGRADE_EXIT_CODE) && state.canary.is_none() {
                after_rollback = None;
                if !self.upgrade(&mut state)? {
                    return Ok(0);
                }
                continue;
            }
            let Some(c) = state.canary.clone() else {
                let cause = tail.cause().map(|c| format!(": {c}")).unwrap_or_default();
                self.report.state(
                    "failed",
                    format!("node exited ({status}){cause}; not restarting: fix the cause and start the visor again (run it under systemd with Restart=on-failure to restart it)"),
                );
                return Ok(status.code().unwrap_or(1));
            };
            let what = if timed_out {
                format!(
                    "committed no block at or above {} and did not answer for {:?}",
                    c.height, self.opts.canary
                )
            } else {
                let cause = tail.cause().map(|c| format!(": {c}")).unwrap_or_default();
                format!(
                    "the new binary exited ({status}) before committing height {}{cause}",
                    c.height
                )
            };
            if evidence.network_passed(c.height) {
                // The network finalized H with the new version: the old binary could not follow
                // it. Restart the new one; never roll back alone.
                canary_restarts += 1;
                if canary_restarts > MAX_CANARY_RESTARTS {
                    self.report.state("failed", format!("{what}; the network has passed height {} with the new version, so this node does not roll back: check this machine (disk, memory, the binary) and start the visor again", c.height));
                    return Ok(status.code().unwrap_or(1));
                }
                warn!(plan = %c.plan, "{what}; the network passed height {} with the new version: restarting it (attempt {canary_restarts})", c.height);
                std::thread::sleep(self.opts.poll);
                continue;
            }
            self.rollback(&mut state, &c, &what)?;
            after_rollback = Some(format!(
                "running the previous binary with height {h} skipped, after rolling back upgrade {plan:?}: {what}. Next: fix or replace the new binary and schedule a corrected plan under a new name (governance, or the dCERT emergency track); see docs/upgrades.md, \"After a rollback\"",
                h = c.height,
                plan = c.plan
            ));
        }
    }

    /// Reports what was just started: a canary, the previous binary after a rollback, or a
    /// plain run.
    fn report_start(&self, binary: &Path, state: &Persisted, after_rollback: Option<&str>) {
        match (&state.canary, after_rollback) {
            (Some(c), _) => self.report.state(
                "canary",
                format!(
                    "watching {} for upgrade {:?} at height {}",
                    binary.display(),
                    c.plan,
                    c.height
                ),
            ),
            (None, Some(message)) => self.report.state("rolled_back", message),
            (None, None) => self
                .report
                .state("running", format!("running {}", binary.display())),
        }
    }

    /// Waits for the child to exit, judging a canary meanwhile; true with the exit status when
    /// the canary hung and was stopped.
    fn watch(
        &self,
        child: &mut Child,
        state: &mut Persisted,
        evidence: &mut Evidence,
        after_rollback: &mut Option<String>,
    ) -> Result<(ExitStatus, bool)> {
        let started = Instant::now();
        let mut rpc = None;
        let mut last_poll = Instant::now() - self.opts.poll;
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok((status, false));
            }
            if let Some(c) = state.canary.clone() {
                if last_poll.elapsed() >= self.opts.poll {
                    last_poll = Instant::now();
                    // A fresh home gets its config.toml only when the node starts.
                    rpc = rpc.or_else(|| canary::rpc_url(&self.layout.home));
                    evidence.record(rpc.as_deref().and_then(canary::probe), Instant::now());
                    match canary::judge_running(
                        evidence,
                        c.height,
                        started,
                        self.opts.canary,
                        Instant::now(),
                    ) {
                        Running::Completed => {
                            self.complete(state, &c, evidence.own)?;
                            *after_rollback = None;
                        }
                        Running::Wait if started.elapsed() > self.opts.canary => {
                            self.report_once("canary", &format!(
                                "the new binary for upgrade {:?} runs and answers but height {} is not committed yet (this node at {}, the network at {}): waiting for the other validators, not rolling back",
                                c.plan, c.height, evidence.own, evidence.network
                            ));
                        }
                        Running::Wait => {}
                        Running::Hung => {
                            warn!(plan = %c.plan, "the new binary did not answer for the whole canary time; stopping it");
                            terminate(child)?;
                            return Ok((child.wait()?, true));
                        }
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The canary committed the upgrade height: the upgrade completed.
    fn complete(&self, state: &mut Persisted, c: &Canary, height: u64) -> Result<()> {
        let downtime = now_ms().saturating_sub(c.halted_ms);
        info!(plan = %c.plan, height, downtime_ms = downtime, "upgrade completed: the new binary commits blocks");
        state.canary = None;
        state.save(&self.layout)?;
        self.report.attempt(&c.plan, c.height, |a| {
            a.result = "completed".into();
            a.reason.clear();
            a.downtime_ms = Some(downtime);
        });
        self.report.outcome("completed");
        self.report.gauges(None, None, Some(downtime));
        self.report
            .state("running", format!("upgrade {:?} completed", c.plan));
        Ok(())
    }

    /// Handles a halt: binary, backup, switch. Returns false when told to stop meanwhile.
    fn upgrade(&self, state: &mut Persisted) -> Result<bool> {
        let path = self.layout.upgrade_info();
        let bytes = std::fs::read(&path).with_context(|| {
            format!(
                "the node exited for an upgrade but {} is missing",
                path.display()
            )
        })?;
        let info: UpgradeInfo = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is corrupt", path.display()))?;
        // When the node wrote its halt record: the same however often the visor restarts
        // while the node stays halted, so the downtime counts from the real halt.
        let halted_ms = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or_else(now_ms, |d| d.as_millis() as u64);
        info!(plan = %info.name, height = info.height, committed = info.committed_height, "node halted for an upgrade");
        self.report.gauges(Some(info.height), None, None);
        self.report
            .attempt(&info.name, info.height, |a| a.result = "waiting".into());
        let mut refused = false;
        let new_binary = loop {
            match binary::ensure(&self.layout, &info, self.opts.download)? {
                Ok(p) => break p,
                Err(NotReady::ChecksumMismatch(m)) => {
                    if !refused {
                        refused = true;
                        self.report.outcome("refused");
                        tracing::error!("{m}");
                    }
                    self.report
                        .attempt(&info.name, info.height, |a| a.reason = m.clone());
                    self.report.update(|s| {
                        s.state = "checksum_mismatch".into();
                        s.message = m;
                    });
                }
                Err(NotReady::Missing(m)) => {
                    self.report
                        .attempt(&info.name, info.height, |a| a.reason = m.clone());
                    if self.report_once("waiting_for_binary", &m) {
                        warn!("{m}; the node stays halted until it appears");
                    }
                }
            }
            if self.stopping() {
                self.report
                    .state("stopped", "stopped while waiting for the upgrade binary");
                return Ok(false);
            }
            std::thread::sleep(self.opts.poll);
        };
        info!(binary = %new_binary.display(), "upgrade binary verified");
        let backup = checkpoint::create(
            &self.layout.data_dir(),
            &self.layout.backup(&info.name),
            &info.name,
            info.committed_height,
            self.opts.backup,
        )?;
        info!(
            mode = ?backup.mode,
            millis = backup.millis,
            copied_bytes = backup.copied_bytes,
            linked_files = backup.linked_files,
            data_bytes = backup.data_bytes,
            "backup taken"
        );
        self.report.gauges(None, Some(&backup), None);
        let previous = self.layout.current()?;
        let relative = previous
            .strip_prefix(self.layout.root())
            .map(Path::to_path_buf)
            .unwrap_or(previous.clone());
        self.layout.switch_to(&self.layout.upgrade(&info.name))?;
        info!(plan = %info.name, "switched to the new binary");
        state.canary = Some(Canary {
            plan: info.name.clone(),
            height: info.height,
            previous: relative,
            committed: info.committed_height,
            halted_ms,
        });
        state.save(&self.layout)?;
        self.report.attempt(&info.name, info.height, |a| {
            a.result = "switched".into();
            a.reason.clear();
            a.backup = Some(backup);
        });
        Ok(true)
    }

    /// Sets a waiting state; true the first time (to log it once).
    fn report_once(&self, state: &str, message: &str) -> bool {
        let mut first = false;
        self.report.update(|s| {
            first = s.state != state || s.message != message;
            s.state = state.into();
            s.message = message.into();
        });
        first
    }

    /// Restores the backup, rewinds with the old binary, switches back, skips the height.
    fn rollback(&self, state: &mut Persisted, c: &Canary, reason: &str) -> Result<()> {
        self.report.state(
            "rolling_back",
            format!("rolling back upgrade {:?}: {reason}", c.plan),
        );
        let backup = self.layout.backup(&c.plan);
        if backup.join("checkpoint.json").exists() {
            let r = checkpoint::restore(&self.layout.data_dir(), &backup)?;
            info!(mode = ?r.mode, height = r.height, "backup restored");
        }
        let previous_dir = self.layout.root().join(&c.previous);
        let old = Layout::binary_in(&previous_dir);
        if c.committed > 0 {
            let out = Command::new(&old)
                .args([
                    "rollback",
                    "--to-height",
                    &c.committed.to_string(),
                    "--home",
                ])
                .arg(&self.layout.home)
                .output()
                .with_context(|| format!("cannot run {}", old.display()))?;
            if !out.status.success() {
                let msg = format!(
                    "rewind to height {} failed: {}",
                    c.committed,
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                self.report.state("failed", msg.clone());
                bail!(msg);
            }
            info!(
                height = c.committed,
                "state rewound with the previous binary"
            );
        }
        self.layout.switch_to(&previous_dir)?;
        if !state.skip_heights.contains(&c.height) {
            state.skip_heights.push(c.height);
        }
        state.canary = None;
        state.save(&self.layout)?;
        self.report.attempt(&c.plan, c.height, |a| {
            a.result = "rolled_back".into();
            a.reason = reason.into();
        });
        self.report.outcome("rolled_back");
        tracing::error!(plan = %c.plan, height = c.height, "upgrade rolled back: {reason}; restarting {} with --unsafe-skip-upgrade {}", old.display(), c.height);
        Ok(())
    }
}

/// SIGTERM, then SIGKILL after 10 s.
fn terminate(child: &mut Child) -> Result<()> {
    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if child.try_wait()?.is_some() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().context("cannot kill the node")
}
