//! Upgrades end to end (SPEC §4, issue 8): four validators from `testnet init`, each a real
//! `caspurd` process under its own `caspurvisor`. The "v2" binary is the test fixture
//! `caspurd-upgrade-test` (built with the package), whose handler for plan `v2` migrates state
//! (app version 2, gov voting period doubled) and whose handler for `v2-broken` panics.
//!
//! - Governance: readiness below threshold postpones the plan, validators signal, all halt at
//!   the height, three visors switch and the chain continues on v2; the fourth, without the
//!   binary, stays halted saying so until the binary appears, then upgrades and catches up.
//! - Emergency: the dCERT quorum schedules a plan (moved to min_notice ahead) that reopens a
//!   broken route; one visor finds a binary with the wrong checksum and refuses to switch
//!   until the right one is placed.
//! - Broken v2: every visor rolls back to v1 with the height skipped; the chain resumes on v1
//!   and nothing committed before the halt changes.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

#[test]
fn governance_upgrade_with_readiness_postponement_and_a_late_validator() {
    let mut net = Net::new(|g| upgrade_params(g, 10, "0.666666666666666666"));
    for k in 0..3 {
        net.place(k, "v2", v2_bin());
    }
    let watch = net.watch_node0();
    net.start_all(120);
    let h0 = net.node(0).height();
    let height = h0 + 60;
    net.pass(net.software_upgrade("v2", height));
    // Nobody signalled: judged `readiness_window` blocks before the height and postponed.
    let deadline = Instant::now() + Duration::from_secs(90);
    let plan = loop {
        let p = net.plan(0);
        if p["postponements"] == 1 {
            break p;
        }
        assert!(Instant::now() < deadline, "plan never postponed: {p}");
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(height_of(&plan), height + 10, "postponed by the window");
    // Node 0 alerts on the unready plan within 200 blocks of its height (the default rule).
    let unready = watch.wait_firing("upgrade_readiness_low", 30);
    assert_eq!(unready["key"], "v2", "{unready}");
    // Three of four (75 % of the power) signal with the binary's checksum.
    for k in 0..3 {
        net.tx(
            k,
            &["tx", "upgrade", "signal-ready", "v2", "--binary", v2_bin()],
        );
    }
    let readiness = net.json(2, &["query", "upgrade", "readiness"]);
    assert_eq!(readiness["ready_power"], "30", "{readiness}");
    // 75 % is over the threshold: the alert resolves, once.
    watch.wait_resolved("upgrade_readiness_low", 60);
    watch.assert_fired_and_resolved_once("upgrade_readiness_low");
    // All four halt at the height; three visors switch and the chain continues on v2.
    for k in 0..3 {
        net.wait_status(k, "the completed upgrade", |s| {
            s["upgrades"].as_array().is_some_and(|u| {
                u.iter()
                    .any(|a| a["plan"] == "v2" && a["result"] == "completed")
            })
        });
    }
    // Where it ran: height + 10, or a window later if the signals came in too late for that
    // judgement on a slow machine.
    let applied = net.json(1, &["query", "upgrade", "applied"]);
    let upgrade_height: u64 = applied["plans"][0]["height"]
        .as_u64()
        .or_else(|| applied["plans"][0]["height"].as_str()?.parse().ok())
        .unwrap();
    assert!(
        upgrade_height >= height + 10 && (upgrade_height - height).is_multiple_of(10),
        "{applied}"
    );
    // Each halted with the block before the plan applied, none a block behind.
    for k in 0..3 {
        let backup = &net.status(k)["upgrades"][0]["backup"];
        assert_eq!(backup["height"], upgrade_height - 1, "node{k}: {backup}");
    }
    let after = upgrade_height + 5;
    let hash = net.agree_at(&[0, 1, 2], after);
    assert_eq!(
        net.json(0, &["query", "upgrade", "app-version"])["app_version"],
        2
    );
    // The migration doubled the governance voting period (4 s in this genesis).
    let gov = net.json(2, &["query", "gov", "params"]);
    assert_eq!(gov["params"]["voting_period"], "8s", "{gov}");
    let downtime = net.block_time_ms(0, upgrade_height) - net.block_time_ms(0, upgrade_height - 1);
    let visor_downtime = net.status(0)["upgrades"][0]["downtime_ms"].clone();
    println!("upgrade at {upgrade_height}: block interval across the switch {downtime} ms; visor halt-to-first-block {visor_downtime} ms; app hash at {after}: {hash}");
    let metrics = ureq::get(&format!("http://127.0.0.1:{}/metrics", net.base + 5))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    assert!(
        metrics.contains("caspurvisor_upgrades_total{result=\"completed\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("caspurvisor_node_up 1"), "{metrics}");
    // The fourth stays halted and says why.
    let s = net.wait_status(3, "waiting for the binary", |s| {
        s["state"] == "waiting_for_binary"
    });
    assert!(s["message"].as_str().unwrap().contains("missing"), "{s}");
    assert_eq!(s["pid"], Value::Null);
    // Its binary appears: the visor upgrades it and it catches up.
    net.place(3, "v2", v2_bin());
    net.wait_status(3, "the completed upgrade", |s| s["state"] == "running");
    net.agree_at(&[0, 1, 2, 3], after + 20);
}

/// dCERT members node0…node3 (circuit breaking on), emergency quorum 2/3, min_notice 25.
fn emergency_genesis(g: &mut Value) {
    let dcert = &mut g["app_state"]["dcert"];
    dcert["params"]["min_member_stake"] = json!("1000000");
    dcert["params"]["max_members"] = json!(4);
    dcert["params"]["circuit_break_enabled"] = json!(true);
    let accounts: Vec<Value> = g["app_state"]["staking"]["validators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| json!({"address": v["operator"], "bond": "1000000", "member": true}))
        .collect();
    g["app_state"]["dcert"]["candidates"] = json!(accounts);
    upgrade_params(g, 25, "0");
}

#[test]
fn emergency_upgrade_reopens_a_broken_route_and_a_wrong_checksum_is_refused() {
    let mut net = Net::new(emergency_genesis);
    for k in 0..3 {
        net.place(k, "v2", v2_bin());
    }
    // Node 3 holds the wrong binary for the plan (v1's).
    net.place(3, "v2", bin());
    let watch = net.watch_node0();
    net.start_all(120);
    let send = "/cosmos.bank.v1beta1.MsgSend";
    net.tx(
        0,
        &[
            "tx",
            "dcert",
            "circuit-break",
            "--routes",
            send,
            "--reason",
            "exploit in MsgSend",
        ],
    );
    let out = net.node(1).cli(&[
        "keys",
        "show",
        "node1",
        "--address",
        "--keyring-backend",
        "test",
    ]);
    let to = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let rpc = net.rpc(0);
    let refused = net.node(0).cli(&[
        "tx",
        "bank",
        "send",
        "node0",
        &to,
        "5ucsp",
        "--keyring-backend",
        "test",
        "--node",
        &rpc,
    ]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("circuit breaker"));
    let broken = watch.wait_firing("circuit_break", 30);
    assert_eq!(broken["key"], send, "{broken}");
    // Three of four members approve a plan asking for the next block: scheduled min_notice ahead.
    let approved_at = net.node(0).height();
    for k in 0..3 {
        net.tx(
            k,
            &[
                "tx",
                "upgrade",
                "approve-emergency",
                "v2",
                "--height",
                &(approved_at + 1).to_string(),
                "--info",
                &plan_info(),
                "--reopen",
                send,
            ],
        );
    }
    // The last approval went through node 2; node 0 may be a block behind.
    let deadline = Instant::now() + Duration::from_secs(30);
    let plan = loop {
        let plan = net.plan(0);
        if !plan.is_null() || Instant::now() > deadline {
            break plan;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(plan["source"], "emergency", "{plan}");
    let height = height_of(&plan);
    assert!(
        height >= approved_at + 25,
        "min_notice respected: {height} vs {approved_at}"
    );
    // Node 3's visor refuses the wrong binary and says so; the others upgrade.
    let s = net.wait_status(3, "the checksum refusal", |s| {
        s["state"] == "checksum_mismatch"
    });
    assert!(
        s["message"].as_str().unwrap().contains("checksum mismatch"),
        "{s}"
    );
    net.agree_at(&[0, 1, 2], height + 3);
    assert_eq!(
        net.json(0, &["query", "circuit", "broken-routes"])["routes"],
        json!([])
    );
    // The reopening resolves the break's alert (fired under v1, resolved under v2), once.
    watch.wait_resolved("circuit_break", 60);
    watch.assert_fired_and_resolved_once("circuit_break");
    let sent = net.json(
        0,
        &[
            "tx",
            "bank",
            "send",
            "node0",
            &to,
            "5ucsp",
            "--keyring-backend",
            "test",
            "--broadcast-mode",
            "block",
        ],
    );
    assert_eq!(sent["code"], 0, "the upgrade reopened sends: {sent}");
    // The right binary replaces the wrong one: node 3 upgrades and catches up.
    net.place(3, "v2", v2_bin());
    net.wait_status(3, "running v2", |s| s["state"] == "running");
    net.agree_at(&[0, 1, 2, 3], height + 15);
}

#[test]
fn a_broken_v2_is_rolled_back_everywhere_and_the_chain_resumes_on_v1() {
    let mut net = Net::new(|g| upgrade_params(g, 10, "0"));
    for k in 0..VALIDATORS {
        net.place(k, "v2-broken", v2_bin());
    }
    net.start_all(60);
    let height = net.node(0).height() + 60;
    net.pass(net.software_upgrade("v2-broken", height));
    let before = net.agree_at(&[0, 1, 2, 3], height - 20);
    for k in 0..VALIDATORS {
        let s = net.wait_status(k, "the rollback", |s| {
            s["upgrades"]
                .as_array()
                .is_some_and(|u| u.iter().any(|a| a["result"] == "rolled_back"))
                && s["state"] == "rolled_back"
        });
        assert_eq!(s["skip_heights"], json!([height]), "{s}");
        // The status says why (the node's own panic line) and what to do next.
        let message = s["message"].as_str().unwrap();
        assert!(message.contains("migration bug"), "{s}");
        assert!(message.contains("schedule a corrected plan"), "{s}");
        assert!(
            s["binary"].as_str().unwrap().contains("genesis"),
            "back on v1: {s}"
        );
    }
    net.agree_at(&[0, 1, 2, 3], height + 5);
    // Nothing committed before the halt changed; the plan was skipped at its height.
    assert_eq!(net.node(2).hashes_at(height - 20).unwrap().1, before);
    let applied = net.json(0, &["query", "upgrade", "applied"]);
    assert_eq!(applied["plans"][0]["outcome"], "skipped", "{applied}");
    assert_eq!(
        net.json(0, &["query", "upgrade", "app-version"])["app_version"],
        1
    );
}

/// A v2 "binary" that is a shell script; returns its path and plan info.
fn script_binary(dir: &Path, name: &str, body: &str) -> (String, String) {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = path.to_str().unwrap().to_string();
    let info = json!({"binaries": {caspur_types::upgrade_info::platform(): {
        "url": format!("file://{path}"), "sha256": sha256(&path)}}})
    .to_string();
    (path, info)
}

#[test]
fn a_new_binary_that_hangs_or_fails_to_start_is_rolled_back_by_the_canary() {
    let mut net = Net::with_validators(1, |g| upgrade_params(g, 10, "0"));
    let bins = net.dir.path().to_path_buf();
    let (hang, hang_info) = script_binary(&bins, "hangs", "exec sleep 600");
    let (fail, fail_info) = script_binary(&bins, "fails", "echo cannot start >&2; exit 3");
    net.place(0, "v2-hang", &hang);
    net.place(0, "v2-fail", &fail);
    net.start_all(8);
    for (name, info) in [("v2-hang", &hang_info), ("v2-fail", &fail_info)] {
        let height = net.node(0).height() + 45;
        net.pass(net.software_upgrade_of(name, height, info));
        let s = net.wait_status(0, "the rollback", |s| {
            s["upgrades"].as_array().is_some_and(|u| {
                u.iter()
                    .any(|a| a["plan"] == name && a["result"] == "rolled_back")
            }) && s["state"] == "rolled_back"
        });
        let attempt = s["upgrades"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["plan"] == name)
            .unwrap()
            .clone();
        println!("{name}: {}", attempt["reason"]);
        net.node(0).wait_height(height + 3, Duration::from_secs(60));
        let applied = net.json(0, &["query", "upgrade", "applied"]);
        assert!(
            applied["plans"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == name && p["outcome"] == "skipped"),
            "{applied}"
        );
    }
    let s = net.status(0);
    let reasons: Vec<&str> = s["upgrades"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["reason"].as_str().unwrap())
        .collect();
    assert!(reasons[0].contains("committed no block"), "{reasons:?}");
    assert!(reasons[1].contains("exited"), "{reasons:?}");
}
