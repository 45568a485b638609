//! The emergency runbook (docs/upgrades.md, "Rehearsal") run as written: the shell block is
//! read from the file and run in bash on a fresh directory, `caspurd`, `caspurvisor` and the
//! upgrade fixture on the PATH. The one change: the network's ports are moved off the
//! defaults (`--starting-port`), so that parallel test runs cannot collide. Four validators
//! under visors go from a sealed report to a closed incident with nothing edited by hand; if
//! the runbook drifts from the binaries, this fails.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// The longest the whole runbook may take here (it takes about a minute in a debug build).
const RUNBOOK_LIMIT: Duration = Duration::from_secs(300);

fn cli(home: &Path, args: &[&str]) -> serde_json::Value {
    json_out(
        &Command::new(bin())
            .args(args)
            .arg("--home")
            .arg(home)
            .args(["-o", "json"])
            .output()
            .unwrap(),
    )
}

#[test]
fn the_emergency_runbook_runs_as_written() {
    let _visor = visor_bin();
    let lines = shell_block("docs/upgrades.md", "## Rehearsal: the emergency process");
    let base = free_port_block(40);
    let script: Vec<String> = lines
        .iter()
        .map(|l| {
            if l.starts_with("caspurd testnet init") {
                format!("{l} --starting-port {base}")
            } else {
                l.clone()
            }
        })
        .collect();
    assert!(
        script.iter().any(|l| l.contains("--starting-port")),
        "the runbook starts with testnet init"
    );
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("runbook.log");
    let mut cmd = bash(
        dir.path(),
        &format!("set -euo pipefail\n{}\n", script.join("\n")),
    );
    cmd.stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(dir.path().join("runbook.err")).unwrap());
    // The visors the runbook starts in the background belong to this group: stopped on drop.
    let mut run = Background::spawn(cmd);
    let deadline = Instant::now() + RUNBOOK_LIMIT;
    let status = loop {
        if let Some(status) = run.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the runbook hung");
        std::thread::sleep(Duration::from_millis(500));
    };
    let shown = || {
        let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap_or_default();
        format!("{}\n{}", read("runbook.log"), read("runbook.err"))
    };
    assert!(status.success(), "the runbook failed:\n{}", shown());

    // Where the runbook leaves the network: the incident closed with the report disclosed,
    // the upgrade applied by every visor, the route open again.
    let home0 = dir.path().join("drillnet/node0");
    let incident = cli(&home0, &["query", "incident", "show", "1"]);
    assert_eq!(incident["state"], "closed", "{incident}");
    let disclosed = &incident["postmortem"]["disclosed_report"]["report"];
    assert!(disclosed.as_str().unwrap().contains("2^128"), "{incident}");
    let version = cli(&home0, &["query", "upgrade", "app-version"]);
    assert_eq!(version["app_version"].to_string().trim_matches('"'), "2");
    let route = "/cosmos.bank.v1beta1.MsgSend";
    let broken = cli(&home0, &["query", "circuit", "is-broken", route]);
    assert_eq!(broken["broken"], false, "{broken}");
    for k in 0..4 {
        let path = dir
            .path()
            .join(format!("drillnet/node{k}/visor/status.json"));
        let status: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let v2 = status["upgrades"]
            .as_array()
            .and_then(|a| a.iter().find(|a| a["plan"] == "v2"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(v2["result"], "completed", "node{k}: {status}");
    }
}
