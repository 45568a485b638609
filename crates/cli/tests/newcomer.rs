//! The README's tour and the operators guide's first steps, run as a newcomer would (issue 19):
//! the shell block under "A short tour" (README.md) and the one under "A local network in one
//! command" (docs/operators.md) are read from the files and run line for line in bash, with no
//! `--node` flag and `caspurd` on the PATH. The one change: the nodes' ports are moved off the
//! defaults, so that parallel test runs cannot collide. If the docs drift from the binary,
//! this fails. The 2-validator network also shows what explorers read: headers whose hashes
//! are the real ones, commits with both signatures, `commit`, `net_info`, `consensus_state`.

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
    let block = shell_block("README.md", "## A short tour");
    let commands: Vec<&str> = block.iter().map(String::as_str).collect();
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

#[test]
fn the_operators_guide_first_steps_run_as_written() {
    let lines = shell_block("docs/operators.md", "## A local network in one command");
    let init = lines
        .iter()
        .position(|l| l.starts_with("caspurd testnet init"))
        .expect("the init line");
    let start = lines
        .iter()
        .position(|l| l.starts_with("for k in"))
        .expect("the start line");
    let dir = tempfile::tempdir().unwrap();
    let base = free_port_block(20);
    // The init line (and anything before it), on ports of our own.
    let (init_line, _) = lines[init].split_once('#').unwrap_or((&lines[init], ""));
    let mut setup: Vec<String> = lines[..init].to_vec();
    setup.push(format!("{} --starting-port {base}", init_line.trim_end()));
    succeed(&mut bash(
        dir.path(),
        &format!("set -euo pipefail\n{}\n", setup.join("\n")),
    ));
    let _nodes = Background::spawn(bash(dir.path(), &format!("{}\nwait\n", lines[start])));
    let rpc = |k: u16| format!("http://127.0.0.1:{}", base + 10 * k + 1);
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    while rpc_height(&rpc(1)) < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the network did not start"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let script = format!("set -euo pipefail\n{}\n", lines[start + 1..].join("\n"));
    let out = bash(dir.path(), &script).output().unwrap();
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "the guide failed:\n{shown}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Alice's 1 CSP arrived (the send waited for its block on node0).
    let home0 = dir.path().join("testnet/node0");
    let cli = |home: &Path, args: &[&str]| {
        json_out(
            &Command::new(bin())
                .args(args)
                .arg("--home")
                .arg(home)
                .output()
                .unwrap(),
        )
    };
    let alice = cli(&home0, &["keys", "show", "alice", "-o", "json"]);
    let alice = alice["address"].as_str().unwrap();
    let balances = cli(&home0, &["query", "bank", "balances", alice, "-o", "json"]);
    assert_eq!(
        balances["balances"][0]["amount"], "1000000",
        "{balances}\n{shown}"
    );
    headers_tell_the_truth(&rpc(0), &rpc(1));
}

fn rpc_height(url: &str) -> u64 {
    rpc(url, "status", serde_json::json!({}))
        .and_then(|s| s["sync_info"]["latest_block_height"].as_str()?.parse().ok())
        .unwrap_or(0)
}

/// Headers carry the real commitments and blocks the certificate over their parent, as
/// explorers read them through `block`, `commit`, `net_info` and `consensus_state`.
fn headers_tell_the_truth(rpc0: &str, rpc1: &str) {
    use serde_json::json;
    use sha2::Digest as _;
    let call = |url: &str, method: &str, params: serde_json::Value| {
        rpc(url, method, params.clone()).unwrap_or_else(|| panic!("{method} {params}"))
    };
    // Block 1 carries no certificate (its parent is genesis): look past it.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while rpc_height(rpc1) < 4 {
        assert!(std::time::Instant::now() < deadline, "the network stalled");
        std::thread::sleep(Duration::from_millis(100));
    }
    let height = rpc_height(rpc1) - 1;
    let block = call(rpc1, "block", json!({"height": height.to_string()}));
    let header = &block["block"]["header"];
    let empty = hex::encode_upper(sha2::Sha256::digest([]));

    // validators_hash: CometBFT's hash of the set `validators` reports, by tendermint-rs.
    let set = call(rpc1, "validators", json!({"height": height.to_string()}));
    let infos: Vec<tendermint::validator::Info> = set["validators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let key = base64::Engine::decode(
                &base64::engine::general_purpose::STANDARD,
                v["pub_key"]["value"].as_str().unwrap(),
            )
            .unwrap();
            let power: u64 = v["voting_power"].as_str().unwrap().parse().unwrap();
            tendermint::validator::Info::new(
                tendermint::PublicKey::from_raw_ed25519(&key).unwrap(),
                power.try_into().unwrap(),
            )
        })
        .collect();
    assert_eq!(infos.len(), 2, "{set}");
    let expected = tendermint::validator::Set::without_proposer(infos).hash();
    assert_eq!(header["validators_hash"], expected.to_string(), "{header}");
    assert_eq!(header["next_validators_hash"], expected.to_string());
    // The rest are real hashes, not SHA-256 of nothing.
    for field in ["consensus_hash", "last_commit_hash", "last_results_hash"] {
        let value = header[field].as_str().unwrap();
        assert_eq!(value.len(), 64, "{field}: {header}");
        assert_ne!(value, empty, "{field} is the hash of nothing: {header}");
    }
    // Both validators' signatures over the parent, as CometBFT lists them.
    let signatures = block["block"]["last_commit"]["signatures"]
        .as_array()
        .unwrap();
    assert_eq!(signatures.len(), 2, "{block}");
    let addresses: Vec<&str> = set["validators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["address"].as_str().unwrap())
        .collect();
    for sig in signatures.iter().filter(|s| s["block_id_flag"] == 2) {
        assert!(
            addresses.contains(&sig["validator_address"].as_str().unwrap()),
            "{sig}"
        );
        let bytes = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            sig["signature"].as_str().unwrap(),
        )
        .unwrap();
        assert_eq!(bytes.len(), 64);
    }
    // Both signed: a quorum of two is both.
    assert!(
        signatures.iter().all(|s| s["block_id_flag"] == 2),
        "{signatures:?}"
    );

    // `commit` at the height: the next block's certificate, canonical; at the tip, not yet.
    let commit = call(rpc1, "commit", json!({"height": (height - 1).to_string()}));
    assert_eq!(commit["canonical"], true, "{commit}");
    assert_eq!(
        commit["signed_header"]["commit"]["signatures"],
        block["block"]["last_commit"]["signatures"]
    );
    assert_eq!(
        commit["signed_header"]["commit"]["block_id"]["hash"],
        block["block"]["header"]["last_block_id"]["hash"]
    );
    // net_info: each validator is connected to the other, named as genesis names it.
    for (url, other) in [(rpc0, "node1"), (rpc1, "node0")] {
        let net = call(url, "net_info", json!({}));
        assert_eq!(net["n_peers"], "1", "{net}");
        assert_eq!(net["peers"][0]["node_info"]["moniker"], other, "{net}");
    }
    let state = call(rpc1, "consensus_state", json!({}));
    let hrs = state["round_state"]["height/round/step"].as_str().unwrap();
    assert!(hrs.ends_with("/0/1"), "{state}");
}

#[test]
fn cargo_install_installs_caspurd_and_not_the_test_fixture() {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cli = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "caspur-cli")
        .unwrap();
    // `cargo install` builds the bins whose required features are on by default: none are.
    let installed: Vec<&str> = cli["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"][0] == "bin")
        .filter(|t| t["required-features"].as_array().is_none_or(Vec::is_empty))
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(installed, ["caspurd"], "{cli}");
    assert_eq!(cli["features"]["default"], serde_json::Value::Null, "{cli}");
}

#[test]
fn a_reader_that_goes_away_ends_the_command_quietly() {
    // `caspurd … | head -1` closes the pipe early: the command must end without a panic.
    for args in [&["version", "--long"][..], &["completion", "bash"][..]] {
        let mut child = Command::new(bin())
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {:?} {stderr}", out.status);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
