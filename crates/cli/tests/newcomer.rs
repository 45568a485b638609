//! The README's tour, run as a newcomer would (issue 19): the shell block under "A short
//! tour" is read from README.md and run line for line in bash, with no `--node` flag and
//! `caspurd` on the PATH. The one change: the dev node's ports are moved off the defaults, so
//! that parallel test runs cannot collide. If the README drifts from the binary, this fails.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The tour's shell block: (the `caspurd dev` line, the lines run while it runs, the lines
/// run after it stops).
fn tour() -> (String, Vec<String>, Vec<String>) {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let section = readme.split("## A short tour").nth(1).expect("a tour");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a sh block");
    let commands: Vec<&str> = block.lines().filter(|l| !l.trim().is_empty()).collect();
    let dev = commands
        .iter()
        .position(|l| l.starts_with("caspurd dev "))
        .expect("the dev line");
    let stop = commands
        .iter()
        .position(|l| l.starts_with("# Stop the node"))
        .expect("the stop comment");
    let own = |ls: &[&str]| ls.iter().map(|l| l.to_string()).collect();
    (
        commands[dev].to_string(),
        own(&commands[dev + 1..stop]),
        own(&commands[stop..]),
    )
}

/// bash running `script` in `dir` as a user whose HOME is `dir`, `caspurd` first on the PATH.
fn bash(dir: &Path, script: &str) -> Command {
    let bin_dir = Path::new(bin()).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(script)
        .current_dir(dir)
        .env("HOME", dir)
        .env("PATH", path);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("CASPUR_")) {
        cmd.env_remove(k);
    }
    cmd
}

#[test]
fn the_readme_tour_runs_as_written() {
    let (dev, during, after) = tour();
    let dir = tempfile::tempdir().unwrap();
    let (rpc, p2p) = (free_port(), free_port());
    let dev = format!(
        "exec {dev} --rpc-laddr 127.0.0.1:{rpc} --p2p-laddr 127.0.0.1:{p2p} --grpc-laddr ''"
    );
    let home = dir.path().join(".caspur-dev");
    let node = Node::spawn_command(bash(dir.path(), &dev), &home, rpc, p2p);
    node.wait_height(2, Duration::from_secs(60));

    let script = format!("set -euo pipefail\n{}\n", during.join("\n"));
    let out = bash(dir.path(), &script).output().unwrap();
    let shown = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the tour failed:\n{shown}");
    // Every tx of the tour landed: bob holds 5 CSP less the delegation and the fees, and
    // delegates 2 CSP to the dev validator.
    let bob = json_out(&node.cli(&[
        "keys",
        "show",
        "bob",
        "--keyring-backend",
        "test",
        "-o",
        "json",
    ]));
    let bob = bob["address"].as_str().unwrap();
    let delegations = node.json(&["query", "staking", "delegations", bob]);
    let amount = &delegations["delegation_responses"][0]["balance"]["amount"];
    assert_eq!(amount, "2000000", "{delegations}\n{shown}");
    assert!(shown.contains("caspurvaloper1"), "{shown}");
    // And the seeded dCERT's circuit break took effect.
    let delegate = "/cosmos.staking.v1beta1.MsgDelegate";
    let broken = node.json(&["query", "circuit", "is-broken", delegate]);
    assert_eq!(broken["broken"], true, "{broken}\n{shown}");

    node.interrupt();
    // The same shell: its exported variables still hold.
    let exports: Vec<&str> = during
        .iter()
        .map(String::as_str)
        .filter(|l| l.starts_with("export "))
        .collect();
    let script = format!(
        "set -euo pipefail\n{}\n{}\n",
        exports.join("\n"),
        after.join("\n")
    );
    let out = bash(dir.path(), &script).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exported: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("exported-genesis.json")).unwrap())
            .unwrap();
    assert_eq!(exported["chain_id"], "caspur-dev-1");
}
