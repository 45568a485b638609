//! The upgrade supervisor's canary judged from evidence (issue 20), each test named after the
//! fault it pins: a fresh dev home under the visor (the RPC address appears only once the node
//! has written its config), and a validator whose peers are late (a slow network is not a
//! broken binary: it waits instead of rolling back alone).

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::{json, Value};
use std::process::Command;
use std::time::Duration;

fn attempt<'a>(status: &'a Value, plan: &str) -> Option<&'a Value> {
    status["upgrades"]
        .as_array()?
        .iter()
        .find(|a| a["plan"] == plan)
}

#[test]
fn under_caspurvisor_run_dev_on_a_fresh_home_the_canary_is_judged() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("dev");
    let visor = |args: &[&str]| {
        succeed(
            Command::new(visor_bin())
                .arg("--home")
                .arg(&home)
                .args(args),
        );
    };
    visor(&["init", bin()]);
    visor(&["add-upgrade", "v2", v2_bin()]);
    let (rpc, p2p) = (free_port(), free_port());
    let mut cmd = Command::new(visor_bin());
    cmd.arg("--home").arg(&home).args([
        "run",
        "--canary-secs",
        "60",
        "--poll-ms",
        "200",
        "--",
        "dev",
        "--dev-mnemonic",
        MNEMONIC,
        "--block-time-ms",
        "200",
        "--voting-period-secs",
        "2",
        "--rpc-laddr",
        &format!("127.0.0.1:{rpc}"),
        "--p2p-laddr",
        &format!("127.0.0.1:{p2p}"),
        "--grpc-laddr",
        "",
        "--dcert-members",
        "0",
    ]);
    let node = Node::spawn_command(cmd, &home, rpc, p2p);
    node.wait_height(2, Duration::from_secs(60));

    let authority = node.json(&["query", "gov", "authority"])["authority"].clone();
    let height = node.height() + 40;
    let plan = json!({"name": "v2", "height": height, "info": plan_info(), "routes_to_reopen": []});
    let proposal = json!({"messages": [{"@type": "/caspur.upgrade.v1.MsgSoftwareUpgrade",
        "authority": authority, "plan": plan}],
        "deposit": "10000000ucsp", "title": "v2", "summary": "v2"});
    node.propose_and_vote_yes(dir.path(), &proposal, 1);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while node.json(&["query", "upgrade", "plan"])["plan"]["plan"]["name"] != "v2" {
        assert!(
            std::time::Instant::now() < deadline,
            "the plan was not scheduled"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    node.tx_from(
        "dev",
        &["tx", "upgrade", "signal-ready", "v2", "--binary", v2_bin()],
    );

    // The halt, the switch, and the canary judged: completed, running again.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let out = Command::new(visor_bin())
            .arg("--home")
            .arg(&home)
            .arg("status")
            .output()
            .unwrap();
        let status: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        if attempt(&status, "v2").is_some_and(|a| a["result"] == "completed") {
            assert_eq!(status["state"], "running", "{status}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the canary was never judged: {status}\n{}",
            node.log()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(node.wait_height(height + 2, Duration::from_secs(60)) > height);
}

#[test]
fn a_validator_whose_canary_outlives_slow_peers_is_not_rolled_back_alone() {
    let mut net = Net::new(|g| upgrade_params(g, 10, "0"));
    // Only node 0 has the new binary when the chain halts: the others wait for theirs, so
    // no quorum can make the upgrade height for a while.
    net.place(0, "v2", v2_bin());
    net.start_all(6);
    let height = net.node(0).height() + 45;
    net.pass(net.software_upgrade("v2", height));
    let waiting = net.wait_status(0, "waiting past its canary time", |s| {
        s["state"] == "canary"
            && s["message"]
                .as_str()
                .is_some_and(|m| m.contains("waiting for the other validators"))
    });
    assert!(
        attempt(&waiting, "v2").is_some_and(|a| a["result"] == "switched"),
        "{waiting}"
    );
    // Well past the canary time, still no rollback.
    std::thread::sleep(Duration::from_secs(8));
    let still = net.status(0);
    assert_ne!(
        attempt(&still, "v2").unwrap()["result"],
        "rolled_back",
        "{still}"
    );
    // The others get the binary: the network makes the height and node 0 completes.
    for k in 1..VALIDATORS {
        net.place(k, "v2", v2_bin());
    }
    let done = net.wait_status(0, "the upgrade completed", |s| {
        attempt(s, "v2").is_some_and(|a| a["result"] == "completed")
    });
    assert_eq!(done["state"], "running", "{done}");
    net.agree_at(&[0, 1, 2, 3], height + 2);
}
