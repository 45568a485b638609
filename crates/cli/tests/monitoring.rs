//! Monitoring against a real `caspurd dev` node: its Prometheus endpoint serves CometBFT's
//! families under CometBFT's names and types, and they move with the chain (heights, txs,
//! block intervals, the mempool); Caspur's own families are there from the start. The
//! four-validator view (a stopped validator shows as missing) is in `testnet.rs`.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use std::time::Duration;

/// CometBFT's families and their types, as CometBFT serves them.
const COMETBFT: &[(&str, &str)] = &[
    ("cometbft_consensus_height", "gauge"),
    ("cometbft_consensus_latest_block_height", "gauge"),
    ("cometbft_consensus_block_interval_seconds", "histogram"),
    ("cometbft_consensus_num_txs", "gauge"),
    ("cometbft_consensus_total_txs", "gauge"),
    ("cometbft_consensus_block_size_bytes", "gauge"),
    ("cometbft_consensus_validators", "gauge"),
    ("cometbft_consensus_validators_power", "gauge"),
    ("cometbft_consensus_missing_validators", "gauge"),
    ("cometbft_consensus_missing_validators_power", "gauge"),
    ("cometbft_consensus_byzantine_validators", "gauge"),
    ("cometbft_consensus_byzantine_validators_power", "gauge"),
    ("cometbft_consensus_validator_missed_blocks", "gauge"),
    ("cometbft_consensus_validator_last_signed_height", "gauge"),
    ("cometbft_consensus_rounds", "gauge"),
    ("cometbft_mempool_size", "gauge"),
    ("cometbft_mempool_size_bytes", "gauge"),
    ("cometbft_mempool_failed_txs", "counter"),
    ("cometbft_mempool_evicted_txs", "counter"),
    ("cometbft_mempool_recheck_times", "counter"),
    ("cometbft_p2p_peers", "gauge"),
    ("cometbft_blocksync_syncing", "gauge"),
    ("cometbft_statesync_syncing", "gauge"),
];

#[test]
fn cometbft_metrics_exist_with_their_types_and_move_with_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = format!("127.0.0.1:{}", free_port());
    let node = Node::start_with(
        &dir.path().join("node"),
        free_port(),
        free_port(),
        &["--prometheus-laddr", &metrics],
    );
    node.wait_height(3, Duration::from_secs(60));
    let first = Scrape::of(&metrics);
    for (name, kind) in COMETBFT {
        assert_eq!(first.type_of(name), Some(*kind), "{name} in:\n{}", first.0);
    }
    // Every CometBFT series carries the chain id, as CometBFT's do.
    assert!(
        first
            .value("cometbft_consensus_height{chain_id=\"caspur-dev-1\"}")
            .is_some(),
        "{}",
        first.0
    );
    assert!(first
        .value("caspur_dcert_seats{chain_id=\"caspur-dev-1\"}")
        .is_some());
    let h1 = first
        .value("cometbft_consensus_latest_block_height")
        .unwrap();
    assert!(h1 >= 3.0, "{h1}");
    assert_eq!(first.value("cometbft_consensus_height"), Some(h1 + 1.0));
    assert_eq!(first.value("cometbft_consensus_validators"), Some(1.0));
    assert!(first.value("cometbft_consensus_validators_power").unwrap() > 0.0);
    // The dev node is the validator: its own series exist and it signed a recent block.
    assert!(
        first
            .value("cometbft_consensus_validator_last_signed_height")
            .unwrap()
            >= 1.0
    );
    assert_eq!(
        first.value("cometbft_consensus_validator_missed_blocks"),
        Some(0.0)
    );

    // A tx: counted in the block that holds it, and in the total.
    let to = node.add_key("friend");
    node.send(&to, "5ucsp");
    node.wait_height(node.height() + 2, Duration::from_secs(30));
    let second = Scrape::of(&metrics);
    let h2 = second
        .value("cometbft_consensus_latest_block_height")
        .unwrap();
    assert!(h2 > h1, "height {h1} -> {h2}");
    assert!(second.value("cometbft_consensus_total_txs").unwrap() >= 1.0);
    let intervals = second
        .value("cometbft_consensus_block_interval_seconds_count")
        .unwrap();
    assert!(
        intervals >= h2 - 2.0,
        "{intervals} intervals by height {h2}"
    );
    assert!(
        second
            .value("cometbft_consensus_block_interval_seconds_sum")
            .unwrap()
            > 0.0
    );
    assert!(second.value("cometbft_consensus_block_size_bytes").unwrap() > 0.0);
    assert_eq!(second.value("cometbft_mempool_size"), Some(0.0));

    // A tx CheckTx refuses (a wrong sequence) is a failed tx.
    let failed_before = second.value("cometbft_mempool_failed_txs").unwrap();
    let key = dev_key();
    let stale = dev_send_tx(&key, 0);
    let answer = node.rpc("broadcast_tx_sync", serde_json::json!({ "tx": stale }));
    assert_ne!(answer.unwrap()["code"], 0);
    let third = Scrape::of(&metrics);
    assert_eq!(
        third.value("cometbft_mempool_failed_txs"),
        Some(failed_before + 1.0)
    );

    // Caspur's own families, each labelled series present at 0 before any event.
    for name in [
        "caspur_txs_per_second",
        "caspur_bonded_ratio",
        "caspur_validator_participation",
        "caspur_circuit_broken_routes",
        "caspur_dcert_seats",
        "caspur_incidents_overdue",
        "caspur_upgrade_plan_height",
    ] {
        assert_eq!(third.type_of(name), Some("gauge"), "{name}");
    }
    assert_eq!(
        third.type_of("caspur_circuit_refusals_total"),
        Some("counter")
    );
    assert_eq!(
        third.value("caspur_circuit_refusals_total{route=\"/cosmos.bank.v1beta1.MsgSend\"}"),
        Some(0.0)
    );
    assert_eq!(
        third.value("caspur_incidents_open{state=\"reported\"}"),
        Some(0.0)
    );
    assert_eq!(third.value("caspur_dcert_seats"), Some(7.0));
    assert_eq!(third.value("caspur_validator_participation"), Some(1.0));
    let bonded = third.value("caspur_bonded_ratio").unwrap();
    assert!(bonded > 0.0 && bonded <= 1.0, "{bonded}");
    // Commonware's own families follow under their prefixes.
    assert!(third.0.contains("\np2p_"), "runtime families missing");
}

fn wait_journal(home: &std::path::Path, what: &str, done: impl Fn(&[(String, String)]) -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !done(&alert_journal(home)) {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: {:?}",
            alert_journal(home)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn slow_blocks_fire_the_stall_and_interval_alerts_once_each_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("node");
    let (rpc, p2p) = (free_port(), free_port());
    let node = Node::start(&home, rpc, p2p);
    node.wait_height(2, Duration::from_secs(30));
    node.interrupt();
    // Blocks every 2.5 s; the stall alert at 1 s without a block, the interval one at a p95
    // over 1 s.
    let watch = AlertWatch::new(&format!("127.0.0.1:{}", free_port()), &home);
    watch.configure(&[("stall_secs", 1.into()), ("interval_p95_secs", 1.0.into())]);
    let set_block_time = |ms: i64| {
        edit_toml(&home.join("config/config.toml"), move |c| {
            c["consensus"]["block_time_ms"] = ms.into();
        })
    };
    set_block_time(2500);
    let node = Node::spawn(&home, &["start"], rpc, p2p);
    let slow = |j: &[(String, String)], status: &str| {
        j.iter()
            .filter(|(s, r)| s == status && r == "block_interval_slow")
            .count()
    };
    let stalls = |j: &[(String, String)], status: &str| {
        j.iter()
            .filter(|(s, r)| s == status && r == "block_stalled")
            .count()
    };
    // Each gap fires the stall alert and the next block resolves it: one resolution per
    // firing, never two firings in a row. (A single stall, fired and resolved once at a
    // webhook, is in `testnet.rs`.)
    wait_journal(&home, "stall fired and resolved", |j| {
        stalls(j, "resolved") >= 2
    });
    let j = alert_journal(&home);
    let stall_steps: Vec<&str> = j
        .iter()
        .filter(|(_, r)| r == "block_stalled")
        .map(|(s, _)| s.as_str())
        .collect();
    for pair in stall_steps.windows(2) {
        assert_ne!(pair[0], pair[1], "{stall_steps:?}");
    }
    assert_eq!(stall_steps.first(), Some(&"firing"));
    wait_journal(&home, "slow intervals fired", |j| slow(j, "firing") == 1);
    watch.wait_firing("block_interval_slow", 10);

    // Restarted with fast blocks: the firing set survives (no second firing), and once the
    // recent intervals are fast again it resolves, once: in the journal, at `/alerts` and at
    // the webhook.
    node.interrupt();
    set_block_time(100);
    let _node = Node::spawn(&home, &["start"], rpc, p2p);
    watch.wait_resolved("block_interval_slow", 60);
    watch.assert_fired_and_resolved_once("block_interval_slow");
}

#[test]
fn throughput_and_bonded_ratio_drops_fire_and_resolve_once() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("node");
    let (node, watch) = AlertWatch::dev_node(
        &home,
        (free_port(), free_port()),
        &[],
        &[
            ("throughput_min_tps", 0.2.into()),
            ("bonded_drop_percent", 20.0.into()),
            ("bonded_window_secs", 600.into()),
        ],
    );
    // Throughput: a burst of 30 txs, then quiet. Once the burst has left the last 100 blocks
    // (20 s of 200 ms blocks), the rate is far under the hour's and the alert fires; a
    // second burst lifts it back over half the hour's and resolves it.
    let key = dev_key();
    let burst = |from: u64| {
        for sequence in from..from + 30 {
            let tx = serde_json::json!({ "tx": dev_send_tx(&key, sequence) });
            let r = node.rpc("broadcast_tx_sync", tx).unwrap();
            assert_eq!(r["code"], 0, "{r}");
        }
    };
    let sequence = dev_sequence(&node);
    burst(sequence);
    let fired = watch.wait_firing("throughput_drop", 90);
    assert!(
        fired["summary"].as_str().unwrap().contains("last hour"),
        "{fired}"
    );
    burst(sequence + 30);
    watch.wait_resolved("throughput_drop", 30);
    watch.assert_fired_and_resolved_once("throughput_drop");

    // Bonded ratio: the validator unbonds half its self-delegation (the ratio halves within
    // the minute) and fires; delegating it again resolves.
    let validators = node.json(&["query", "staking", "validators"]);
    let validator = validators["validators"][0]["operator_address"]
        .as_str()
        .unwrap()
        .to_string();
    let half = "5000000ucsp";
    node.tx_from("dev", &["tx", "staking", "unbond", &validator, half]);
    let fired = watch.wait_firing("bonded_ratio_drop", 30);
    assert!(
        fired["summary"].as_str().unwrap().contains("from a peak"),
        "{fired}"
    );
    node.tx_from("dev", &["tx", "staking", "delegate", &validator, half]);
    watch.wait_resolved("bonded_ratio_drop", 30);
    watch.assert_fired_and_resolved_once("bonded_ratio_drop");
}
