//! The drill's steps, in the order of the process (see the module above).

use super::network::{wait, Network};
use super::{DrillOptions, Timeline};
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::path::Path;

/// The route the drill's vulnerability is in.
const ROUTE: &str = "/cosmos.bank.v1beta1.MsgSend";
/// The report's text (sealed until the post-mortem discloses it).
const REPORT: &str =
    "# MsgSend overflow (drill)\nA send of 2^128 ucsp wraps the recipient's balance.\n";

/// A drill in progress.
pub struct Drill<'a> {
    /// The network.
    pub net: &'a mut Network,
    /// What happened so far.
    pub timeline: &'a mut Timeline,
    /// The next version's binary.
    pub next: &'a Path,
    /// The options.
    pub opts: &'a DrillOptions,
}

/// A 64-bit integer as proto3 JSON writes it (number or string).
fn int(v: &Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(0)
}

fn state(v: &Value) -> String {
    v["state"].as_str().unwrap_or_default().to_string()
}

impl Drill<'_> {
    fn height(&self) -> u64 {
        self.net.height(0)
    }

    fn record(&mut self, name: &str, detail: impl Into<String>) {
        let h = self.height();
        self.timeline.step(name, h, detail);
    }

    /// Members are validators 0 … n−2; the last validator reports.
    fn members(&self) -> usize {
        self.net.count - 1
    }

    fn reporter(&self) -> usize {
        self.net.count - 1
    }

    fn incident(&self) -> Result<Value> {
        self.net.cli(0, &["query", "incident", "show", "1"])
    }

    fn step(&self, k: usize, args: &[&str]) -> Result<Value> {
        let mut full = vec!["tx", "incident"];
        full.extend_from_slice(args);
        self.net.tx(k, &full)
    }

    /// Runs the whole process.
    pub fn run(&mut self) -> Result<()> {
        self.start_network()?;
        let process = std::time::Instant::now();
        self.report_and_declare()?;
        self.break_route()?;
        self.plan_and_reviews()?;
        self.announce()?;
        if self.opts.broken_upgrade {
            self.upgrade("v2-broken", true)?;
        }
        self.upgrade("v2", false)?;
        if self.opts.late_validator {
            self.late_validator_catches_up()?;
        }
        if !self.opts.broken_upgrade {
            self.verify_resolve_postmortem()?;
        }
        self.timeline.process_ms = process.elapsed().as_millis() as u64;
        self.alerts_seen();
        Ok(())
    }

    fn start_network(&mut self) -> Result<()> {
        let late = self.opts.late_validator.then(|| self.net.count - 1);
        for k in 0..self.net.count {
            if Some(k) != late {
                self.net.start(k)?;
            }
        }
        wait("the network's first blocks", || {
            (self.height() >= 3).then_some(())
        })?;
        let detail = match late {
            Some(k) => format!(
                "{} validators under caspurvisor; node{k} joins late",
                self.net.count - 1
            ),
            None => format!("{} validators under caspurvisor", self.net.count),
        };
        self.record("network up", detail);
        Ok(())
    }

    fn report_and_declare(&mut self) -> Result<()> {
        let report = self.net.dir.join("report.md");
        std::fs::write(&report, REPORT)?;
        let path = report.to_string_lossy().into_owned();
        let args = [
            "report",
            "--file",
            &path,
            "--severity",
            "critical",
            "--title",
            "drill: bank issue",
        ];
        self.step(self.reporter(), &args)?;
        self.record(
            "sealed report",
            format!("sealed to {} dCERT members", self.members()),
        );
        let key = self.net.home(1).join("config/dcert/node1.key");
        let opened = self.net.cli(
            0,
            &["incident", "open", "1", "--key", &key.to_string_lossy()],
        )?;
        if !opened["report"]
            .as_str()
            .unwrap_or_default()
            .contains("2^128")
        {
            bail!("a member opened the report but it does not read as sent: {opened}");
        }
        self.record(
            "report opened by a member",
            "node1 decrypts it with its sealing key",
        );
        self.step(
            1,
            &[
                "triage",
                "1",
                "--verdict",
                "verified",
                "--severity",
                "critical",
            ],
        )?;
        let i = self.incident()?;
        if i["sla_overdue"] == true {
            bail!("triage came after the SLA: {i}");
        }
        self.record("triage within the SLA", "verified, critical");
        for k in 0..self.members() {
            if state(&self.incident()?) == "emergency_declared" {
                break;
            }
            self.step(k, &["declare", "1"])?;
        }
        let s = state(&self.incident()?);
        if s != "emergency_declared" {
            bail!("the members' votes did not declare the emergency (state {s})");
        }
        self.record("emergency declared", "by the dCERT quorum");
        Ok(())
    }

    fn break_route(&mut self) -> Result<()> {
        let args = [
            "tx",
            "dcert",
            "circuit-break",
            "--routes",
            ROUTE,
            "--reason",
            "drill: overflow in MsgSend",
        ];
        self.net.tx(0, &args)?;
        let broken = self.net.cli(0, &["query", "circuit", "is-broken", ROUTE])?;
        if broken["broken"] != true {
            bail!("the route is not broken: {broken}");
        }
        self.record("route broken", ROUTE);
        Ok(())
    }

    fn announce(&mut self) -> Result<()> {
        self.step(
            0,
            &[
                "announce",
                "1",
                "--description",
                "a bank issue is being fixed",
                "--user-advice",
                "sends are paused; no action needed",
            ],
        )?;
        let hooks = self.net.hooks.clone();
        wait("the announcement at the webhook", || {
            let bodies = hooks.lock().unwrap_or_else(|e| e.into_inner());
            bodies.iter().any(|b| b.contains("announced")).then_some(())
        })?;
        let atom = ureq::get(&format!(
            "http://127.0.0.1:{}/incidents.atom",
            self.net.base + 1
        ))
        .call()
        .context("the incident feed")?
        .into_string()?;
        if !atom.contains("a bank issue is being fixed") {
            bail!("the announcement is not on the Atom feed");
        }
        self.record("announced", "on the Atom feed and at the webhook");
        Ok(())
    }

    fn plan_and_reviews(&mut self) -> Result<()> {
        let plan = self.net.dir.join("plan.md");
        std::fs::write(
            &plan,
            "Emergency upgrade v2: checked addition in bank; reopen MsgSend.\n",
        )?;
        let plan = plan.to_string_lossy().into_owned();
        self.step(
            0,
            &[
                "propose-plan",
                "1",
                "--summary",
                "checked add in bank",
                "--file",
                &plan,
            ],
        )?;
        for (k, kind) in ["technical", "risk", "legal"].iter().enumerate() {
            self.step(
                k % self.members(),
                &["review", "1", "--kind", kind, "--file", &plan],
            )?;
        }
        let s = state(&self.incident()?);
        if s != "plan_approved" {
            bail!("three reviews did not approve the plan (state {s})");
        }
        self.record("plan and three reviews", "technical, risk, legal");
        Ok(())
    }

    /// Plan `name` through the emergency track to its end: completed everywhere, or (when
    /// `broken`) rolled back everywhere with the chain going on.
    fn upgrade(&mut self, name: &str, broken: bool) -> Result<()> {
        let next = self.next.to_string_lossy().into_owned();
        let info = crate::upgrade_cmd::plan_info(
            &[self.next.to_path_buf()],
            &[format!("file://{next}")],
            &[],
        )?;
        let asked = (self.height() + 2).to_string();
        for k in 0..self.members() {
            if self.net.cli(0, &["query", "upgrade", "plan"])?["plan"]["plan"]["name"] == name {
                break;
            }
            let args = [
                "tx",
                "upgrade",
                "approve-emergency",
                name,
                "--height",
                &asked,
                "--info",
                &info,
                "--reopen",
                ROUTE,
            ];
            self.net.tx(k, &args)?;
        }
        let plan = self.net.cli(0, &["query", "upgrade", "plan"])?;
        let height = int(&plan["plan"]["plan"]["height"]);
        if plan["plan"]["plan"]["name"] != name || height == 0 {
            bail!("the quorum's approvals did not schedule {name}: {plan}");
        }
        if state(&self.incident()?) != "aborted" {
            self.step(0, &["link-upgrade", "1", name])?;
        }
        self.record(
            &format!("{name} approved by the dCERT quorum"),
            format!("at height {height} (min notice)"),
        );
        // Every visor signals at once (each from its own account), well before readiness is
        // judged.
        let signals: Vec<(usize, std::process::Child)> = (0..self.net.count)
            .filter(|&k| self.net.started(k))
            .map(|k| {
                let from = format!("node{k}");
                let rpc = self.net.rpc(0);
                let args = ["signal-ready", name, "--from", &from, "--", "--node", &rpc];
                self.net.visor_spawn(k, &args).map(|c| (k, c))
            })
            .collect::<Result<_>>()?;
        for (k, child) in signals {
            let what = format!("node{k}'s visor could not signal readiness");
            super::network::succeeded(&what, child.wait_with_output()?)?;
        }
        let ready = self.net.cli(0, &["query", "upgrade", "readiness"])?;
        self.record(
            "readiness from every visor",
            format!(
                "ready power {} of {}",
                ready["ready_power"].as_str().unwrap_or("?"),
                ready["total_power"].as_str().unwrap_or("?")
            ),
        );
        if broken {
            self.rolled_back_everywhere(name)
        } else {
            self.switched_everywhere(name, height)
        }
    }

    fn attempt(&self, k: usize, name: &str) -> Option<Value> {
        self.net.status(k)["upgrades"]
            .as_array()?
            .iter()
            .find(|a| a["plan"] == name)
            .cloned()
    }

    fn switched_everywhere(&mut self, name: &str, height: u64) -> Result<()> {
        let running: Vec<usize> = (0..self.net.count)
            .filter(|&k| self.net.started(k))
            .collect();
        let mut downtimes = Vec::new();
        let mut switched_at = height;
        for &k in &running {
            let a = wait(&format!("node{k}'s visor to complete {name}"), || {
                self.attempt(k, name).filter(|a| a["result"] == "completed")
            })?;
            downtimes.push(int(&a["downtime_ms"]));
            // Readiness may have postponed the plan: the height the switch happened at.
            switched_at = int(&a["height"]);
            // Every validator halts with the block before the plan applied (a node a block
            // behind restarts needing it from peers that are restarting too).
            let committed = int(&a["backup"]["height"]);
            if committed + 1 != switched_at {
                bail!("node{k} halted for {name} at {switched_at} with only height {committed} committed");
            }
        }
        self.timeline.downtime_ms = downtimes.clone();
        self.record(
            "halt, backup, switch, migration",
            format!("all visors completed {name} at {switched_at} (approved for {height}); downtime {downtimes:?} ms"),
        );
        let version = self.net.cli(0, &["query", "upgrade", "app-version"])?;
        let broken = self.net.cli(0, &["query", "circuit", "is-broken", ROUTE])?;
        if broken["broken"] == true {
            bail!("the upgrade did not reopen {ROUTE}");
        }
        self.record(
            "route reopened",
            format!("app version {}", version["app_version"]),
        );
        Ok(())
    }

    fn rolled_back_everywhere(&mut self, name: &str) -> Result<()> {
        let mut skipped_at = 0;
        for k in 0..self.net.count {
            let a = wait(&format!("node{k}'s visor to roll back {name}"), || {
                self.attempt(k, name)
                    .filter(|a| a["result"] == "rolled_back")
            })?;
            // Readiness may have postponed the plan: the height it was skipped at.
            skipped_at = int(&a["height"]);
        }
        let reason = self
            .attempt(0, name)
            .map(|a| a["reason"].as_str().unwrap_or_default().to_string())
            .unwrap_or_default();
        self.record("every visor rolled back", reason);
        wait("the chain to go on with the old binary", || {
            (self.height() > skipped_at + 2).then_some(())
        })?;
        let i = wait("the incident to record the abort", || {
            self.incident().ok().filter(|i| state(i) == "aborted")
        })?;
        self.record(
            "chain continues; incident aborted",
            i["abort_reason"].as_str().unwrap_or_default().to_string(),
        );
        Ok(())
    }

    fn late_validator_catches_up(&mut self) -> Result<()> {
        let k = self.net.count - 1;
        self.net.start(k)?;
        let target = self.height();
        wait(&format!("node{k} to catch up"), || {
            (self.net.height(k) >= target).then_some(())
        })?;
        let a = self.attempt(k, "v2");
        if a.as_ref().is_some_and(|a| a["result"] == "rolled_back") {
            bail!("the late validator rolled back: {a:?}");
        }
        self.record(
            "late validator caught up",
            format!(
                "node{k} at {} on v2, nothing rolled back",
                self.net.height(k)
            ),
        );
        Ok(())
    }

    fn verify_resolve_postmortem(&mut self) -> Result<()> {
        wait("the incident to execute", || {
            self.incident().ok().filter(|i| state(i) == "executing")
        })?;
        let checks = crate::upgrade_cmd::file_sha256(self.next)?;
        self.step(0, &["confirm", "1", "--hash", &checks])?;
        self.record("fix verified", "the checks' hash recorded");
        self.step(
            0,
            &[
                "resolve",
                "1",
                "--summary",
                "v2 fixed the overflow; MsgSend reopened",
            ],
        )?;
        self.record("resolved", "completion announced");
        let disclosure = self.net.dir.join("report.md.disclosure.json");
        let pm_hash = {
            use sha2::Digest as _;
            hex::encode(sha2::Sha256::digest(REPORT.as_bytes()))
        };
        let args = [
            "postmortem",
            "1",
            "--uri",
            "https://caspur.example/postmortems/1",
            "--hash",
            &pm_hash,
            "--disclose",
            &disclosure.to_string_lossy(),
        ];
        self.step(0, &args)?;
        let i = self.incident()?;
        let disclosed = i["postmortem"]["disclosed_report"]["report"]
            .as_str()
            .unwrap_or_default();
        if state(&i) != "closed" || !disclosed.contains("2^128") {
            bail!("the post-mortem did not close the incident with the disclosed report: {i}");
        }
        self.record("post-mortem", "disclosure matches the report's commitment");
        Ok(())
    }

    /// Node 0's alert transitions during the drill, from its alert journal (which outlives
    /// the switch of binaries).
    fn alerts_seen(&mut self) {
        let journal = self.net.home(0).join("data/alerts/journal.jsonl");
        let text = std::fs::read_to_string(journal).unwrap_or_default();
        self.timeline.alerts = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .map(|t| {
                let alert = &t["alert"];
                let key = alert["key"].as_str().filter(|k| !k.is_empty());
                format!(
                    "{}{} {} at height {}",
                    alert["rule"].as_str().unwrap_or("?"),
                    key.map(|k| format!(" ({k})")).unwrap_or_default(),
                    t["status"].as_str().unwrap_or("?"),
                    t["height"]
                )
            })
            .collect();
    }
}
