//! Real `caspurd` processes from `testnet init` on 127.0.0.1.
//!
//! - Four validators: txs go in through JSON-RPC, one validator is killed with SIGKILL while the
//!   others keep finalizing txs, and on restart it catches up and agrees with the others on
//!   every block and app hash; node 0's alerts (missed blocks, participation, then a stall
//!   with two of four stopped) fire and resolve once each.
//! - A full node started from genesis after 1,000+ blocks catches up by state sync and then by
//!   blocks, matches the validators' app hashes and takes txs; meanwhile garbage bytes on a
//!   validator's p2p port and a node whose key nobody admitted change nothing.
//!
//! Both run with short epochs, so every outage and catch-up crosses epoch hand-overs (and the
//! late node learns each epoch's set from its peers' boundary proofs).

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const VALIDATORS: usize = 4;

fn sync_info(n: &Node) -> Value {
    n.rpc("status", json!({})).expect("status")["sync_info"].clone()
}

struct Net {
    nodes: Vec<Option<Node>>,
    accounts: Vec<String>,
    base: u16,
    dir: std::path::PathBuf,
}

impl Net {
    /// The homes `dir/node0…` of `nodes` nodes whose ports start at `base`; none started.
    fn new(dir: &Path, base: u16, nodes: usize) -> Net {
        Net {
            nodes: (0..nodes).map(|_| None).collect(),
            accounts: (0..nodes)
                .map(|k| account_of(&dir.join(format!("node{k}")), &format!("node{k}")))
                .collect(),
            base,
            dir: dir.to_path_buf(),
        }
    }

    /// Starts the validators and waits until each has executed `height`.
    fn start_validators(&mut self, height: u64) {
        for k in 0..VALIDATORS {
            self.start(k);
        }
        wait_all(self, height, Duration::from_secs(90));
    }

    fn home(&self, k: usize) -> std::path::PathBuf {
        self.dir.join(format!("node{k}"))
    }

    fn start(&mut self, k: usize) {
        let port = self.base + 10 * k as u16;
        self.nodes[k] = Some(Node::spawn(&self.home(k), &["start"], port + 1, port));
    }

    fn node(&self, k: usize) -> &Node {
        self.nodes[k].as_ref().expect("node running")
    }

    fn running(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().flatten()
    }

    /// Sends `amount` from node `from`'s account to node `to`'s through node `via`'s RPC and
    /// waits for inclusion; returns the tx hash.
    fn send(&self, from: usize, to: usize, via: usize, amount: &str) -> String {
        let node = self.node(via).rpc.replace("http://", "tcp://");
        let out = Command::new(bin())
            .args(["tx", "bank", "send", &format!("node{from}")])
            .args([&self.accounts[to], amount])
            .args(["--keyring-backend", "test", "--node", &node, "-o", "json"])
            .args(["--broadcast-mode", "block", "--home"])
            .arg(self.home(from))
            .output()
            .unwrap();
        let v = json_out(&out);
        assert_eq!(v["code"], 0, "tx failed: {v}");
        v["txhash"].as_str().unwrap().to_string()
    }
}

/// The Prometheus address `testnet init` gives node `k`.
fn metrics_addr(base: u16, k: usize) -> String {
    format!("127.0.0.1:{}", base + 10 * k as u16 + 2)
}

fn wait_all(net: &Net, height: u64, timeout: Duration) {
    for n in net.running() {
        n.wait_height(height, timeout);
    }
}

fn account_of(home: &Path, name: &str) -> String {
    let out = Command::new(bin())
        .args([
            "keys",
            "show",
            name,
            "--address",
            "--keyring-backend",
            "test",
        ])
        .arg("--home")
        .arg(home)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn four_validators_survive_a_kill_and_agree() {
    let dir = tempfile::tempdir().unwrap();
    let base = free_port_block(10 * VALIDATORS as u16);
    let homes = testnet_init(dir.path(), VALIDATORS, base, 0, 200);
    assert_eq!(homes.as_array().unwrap().len(), VALIDATORS);
    // 20-block epochs: the outage and the catch-up span several hand-overs.
    set_epoch_length(dir.path(), VALIDATORS, 20);
    // Node 0 alerts, to a webhook, on a validator missing 10 of the last 40 certificates, on
    // less than 2/3 + 0.1 of the power signing the last 10 blocks (one of four missing from
    // all ten leaves 75 %) and on 8 s without a block.
    let watch = AlertWatch::new(&metrics_addr(base, 0), &dir.path().join("node0"));
    watch.configure(&[
        ("stall_secs", 8.into()),
        ("missed_blocks", 10.into()),
        ("missed_window", 40.into()),
        ("participation_margin", 0.1.into()),
        ("participation_window", 10.into()),
    ]);
    let mut net = Net::new(dir.path(), base, VALIDATORS);
    net.start_validators(3);

    // Txs through every node's RPC (gossip brings each to the proposer).
    let mut hashes = Vec::new();
    for k in 0..VALIDATORS {
        hashes.push(net.send(k, (k + 1) % VALIDATORS, k, "1000ucsp"));
    }

    // Kill validator 3 mid-flight; the other three keep finalizing txs.
    let before = net.node(0).height();
    net.nodes[3].take().unwrap().kill9();
    for round in 0..3 {
        for k in 0..3 {
            hashes.push(net.send(k, 3, (k + round) % 3, "7ucsp"));
        }
    }
    let progressed = net
        .node(0)
        .wait_height(before + 20, Duration::from_secs(120));
    // Monitoring sees it: a quarter of the set misses every block now.
    let seen = Scrape::of(&metrics_addr(base, 0));
    assert_eq!(seen.value("cometbft_consensus_validators"), Some(4.0));
    assert_eq!(
        seen.value("cometbft_consensus_missing_validators"),
        Some(1.0)
    );
    let missing_power = seen
        .value("cometbft_consensus_missing_validators_power")
        .unwrap();
    let power = seen.value("cometbft_consensus_validators_power").unwrap();
    assert!(
        missing_power > 0.0 && missing_power < power,
        "{missing_power} of {power}"
    );
    assert!(seen.value("caspur_validator_participation").unwrap() < 0.99);
    assert_eq!(
        seen.value("cometbft_p2p_peers"),
        Some(2.0),
        "two peers left"
    );
    // Node 0's own alerts fire for it.
    let missing = watch.wait_firing("validator_missed_blocks", 60);
    assert!(
        missing["summary"].as_str().unwrap().contains("missed"),
        "{missing}"
    );
    let low = watch.wait_firing("participation_low", 60);
    assert!(low["value"].as_f64().unwrap() < 0.767, "{low}");

    // Restart it: it catches up from the others and reports so truthfully.
    net.start(3);
    net.node(3)
        .wait_height(progressed, Duration::from_secs(120));
    let deadline = Instant::now() + Duration::from_secs(60);
    while sync_info(net.node(3))["catching_up"] != false {
        assert!(Instant::now() < deadline, "node3 still catching up");
        std::thread::sleep(Duration::from_millis(200));
    }
    // And it validates again: a tx through its own RPC is finalized.
    hashes.push(net.send(3, 0, 3, "5ucsp"));
    // Replaying the blocks it missed, it counted itself missing from their certificates.
    let own = Scrape::of(&metrics_addr(base, 3));
    let missed = own
        .value("cometbft_consensus_validator_missed_blocks")
        .unwrap();
    assert!(
        missed >= 10.0,
        "node3 missed {missed} blocks in:\n{}",
        own.0
    );
    // And its signatures are in certificates again.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let own = Scrape::of(&metrics_addr(base, 3));
        let signed = own.value("cometbft_consensus_validator_last_signed_height");
        if signed.unwrap_or(0.0) > progressed as f64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "node3 last signed {signed:?}, back since {progressed}:\n{}",
            own.0
                .lines()
                .filter(|l| l.starts_with("cometbft_"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    // Back and signing, it leaves the windows: each alert resolves, once, at `/alerts` and at
    // the webhook.
    for rule in ["participation_low", "validator_missed_blocks"] {
        watch.wait_resolved(rule, 60);
        watch.assert_fired_and_resolved_once(rule);
    }

    // Every block and app hash agrees at every height all four have.
    let common = net.running().map(|n| n.height()).min().unwrap();
    assert!(common > progressed);
    for h in 1..=common {
        let expected = net.node(0).hashes_at(h).expect("block on node0");
        for (k, n) in net.running().enumerate().skip(1) {
            assert_eq!(n.hashes_at(h).as_ref(), Some(&expected), "node{k} at {h}");
        }
    }
    // No finalized tx is lost on any node, the restarted one included.
    for n in net.running() {
        for hash in &hashes {
            let found = n.rpc("tx", json!({"hash": format!("0x{hash}")}));
            assert!(found.is_some(), "tx {hash} missing on {}", n.rpc);
        }
    }

    // Two of four stopped: no quorum, no blocks, and node 0 alerts on the stall. Both back,
    // the chain moves on and its first block resolves the alert, once.
    let halted = net.node(0).height();
    for k in [2, 3] {
        net.nodes[k].take().unwrap().kill9();
    }
    watch.wait_firing("block_stalled", 60);
    net.start(2);
    net.start(3);
    net.node(0)
        .wait_height(halted + 3, Duration::from_secs(120));
    watch.wait_resolved("block_stalled", 30);
    watch.assert_fired_and_resolved_once("block_stalled");
}

/// Sets `consensus.epoch_length` in the shared genesis of every home (before any start), so the
/// run crosses many epoch hand-overs.
fn set_epoch_length(dir: &Path, nodes: usize, blocks: u64) {
    edit_genesis(dir, nodes, |g| {
        g["consensus"]["epoch_length"] = json!(blocks)
    });
}

#[test]
fn late_full_node_state_syncs_and_intruders_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = VALIDATORS + 2;
    let base = free_port_block(10 * nodes as u16);
    // node4: the late full node (admitted as a follower); node5: an intruder nobody admitted.
    let homes = testnet_init(dir.path(), VALIDATORS, base, 2, 20);
    // 100-block epochs: the late node learns eleven validator sets from boundary proofs.
    set_epoch_length(dir.path(), nodes, 100);
    let intruder = homes[5]["pub_key"].as_str().unwrap().to_string();
    for k in 0..nodes {
        edit_toml(
            &dir.path().join(format!("node{k}/config/config.toml")),
            |cfg| {
                // Nobody admits node5.
                let followers = cfg["p2p"]["followers"].as_array_mut().unwrap();
                followers.retain(|f| f.as_str() != Some(intruder.as_str()));
                if k == 4 {
                    cfg["statesync"]["min_distance_views"] = toml::Value::Integer(500);
                }
            },
        );
    }
    let mut net = Net::new(dir.path(), base, nodes);
    net.start_validators(5);

    // Garbage on a validator's p2p port, and a node whose key is in no peer set.
    let p2p0 = format!("127.0.0.1:{base}");
    for round in 0..20u8 {
        if let Ok(mut conn) = std::net::TcpStream::connect(&p2p0) {
            let junk: Vec<u8> = (0..4096u32)
                .map(|i| (i as u8).wrapping_mul(31).wrapping_add(round))
                .collect();
            let _ = std::io::Write::write_all(&mut conn, &junk);
        }
    }
    net.start(5);

    // Past 1,000 blocks: every validator kept going, the intruder got nothing.
    wait_all_validators(&net, 1100, Duration::from_secs(400));
    assert_eq!(
        net.node(5).height(),
        0,
        "an unadmitted node received blocks"
    );
    for k in 0..VALIDATORS {
        assert!(
            net.nodes[k]
                .as_mut()
                .unwrap()
                .child
                .try_wait()
                .unwrap()
                .is_none(),
            "node{k} died"
        );
    }

    // The late full node: state sync to a recent floor, then blocks.
    net.start(4);
    let target = net.node(0).height();
    net.node(4).wait_height(target, Duration::from_secs(180));
    let info = sync_info(net.node(4));
    let earliest: u64 = info["earliest_block_height"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        earliest > 500,
        "node4 replayed from {earliest} instead of state syncing; log:\n{}",
        net.node(4).log()
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while sync_info(net.node(4))["catching_up"] != false {
        assert!(Instant::now() < deadline, "node4 still catching up");
        std::thread::sleep(Duration::from_millis(200));
    }
    // It follows by blocks from here on, agreeing with every validator.
    let common = (0..=4).map(|k| net.node(k).height()).min().unwrap();
    for h in (earliest + 1).max(common.saturating_sub(50))..=common {
        let expected = net.node(0).hashes_at(h).expect("block on node0");
        for k in 1..=4 {
            assert_eq!(
                net.node(k).hashes_at(h).as_ref(),
                Some(&expected),
                "node{k} at {h}"
            );
        }
    }
    // And it serves clients: a tx sent through the full node is finalized (gossip).
    let hash = net.send(4, 0, 4, "3ucsp");
    assert!(net.node(0).rpc("tx", json!({"hash": hash})).is_some());
}

fn wait_all_validators(net: &Net, height: u64, timeout: Duration) {
    for k in 0..VALIDATORS {
        net.node(k).wait_height(height, timeout);
    }
}
