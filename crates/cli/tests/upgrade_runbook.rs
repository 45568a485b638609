//! The upgrade runbook's tools without hand edits (issue 20): `testnet init` sets a drill's
//! genesis parameters, `tx upgrade plan-info` writes a plan's info, and the visor signals
//! readiness with the checksum of the binary it will run — not of the operator's copy.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::Value;
use std::process::Command;

#[test]
fn testnet_init_sets_the_drill_parameters_so_no_genesis_is_edited_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("net");
    let base = free_port_block(30).to_string();
    #[rustfmt::skip]
    let args = [
        "testnet", "init", "--validators", "3", "--output", out.to_str().unwrap(),
        "--starting-port", &base, "--voting-period-secs", "6", "--dcert-members", "2",
        "--circuit-break-enabled", "--min-notice", "8", "--readiness-window", "5",
        "--readiness-threshold", "0.5", "--triage-sla-secs", "30", "-o", "json",
    ];
    json_out(&Command::new(bin()).args(args).output().unwrap());
    for k in 0..3 {
        let g: Value = serde_json::from_slice(
            &std::fs::read(out.join(format!("node{k}/config/genesis.json"))).unwrap(),
        )
        .unwrap();
        let app = &g["app_state"];
        assert_eq!(app["gov"]["params"]["voting_period_secs"], 6);
        assert_eq!(app["upgrade"]["params"]["min_notice"], 8);
        assert_eq!(app["upgrade"]["params"]["readiness_window"], 5);
        assert_eq!(app["upgrade"]["params"]["readiness_threshold"], "0.5");
        assert_eq!(app["incident"]["params"]["verification_sla_secs"], 30);
        assert_eq!(app["dcert"]["params"]["circuit_break_enabled"], true);
        let members: Vec<&Value> = app["dcert"]["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["member"] == true)
            .collect();
        assert_eq!(members.len(), 2, "{}", app["dcert"]);
    }
    // Each member holds its own sealing key, readable by its owner only.
    use std::os::unix::fs::PermissionsExt as _;
    for k in 0..2 {
        let key = out.join(format!("node{k}/config/dcert/node{k}.key"));
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", key.display());
    }
    assert!(!out.join("node2/config/dcert/node2.key").exists());
    // A parameter the chain would refuse is refused here, before anything is written.
    let bad = Command::new(bin())
        .args(["testnet", "init", "--validators", "1", "--output"])
        .arg(dir.path().join("bad"))
        .args(["--readiness-threshold", "2"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

#[test]
fn plan_info_writes_the_info_a_plan_needs_without_a_node() {
    let out = succeed(
        Command::new(bin())
            .args(["tx", "upgrade", "plan-info", "--binary", v2_bin(), "--url"])
            .arg(format!("file://{}", v2_bin()))
            .args(["--node", "tcp://127.0.0.1:9"]),
    );
    let info: Value = serde_json::from_slice(&out.stdout).unwrap();
    let entry = &info["binaries"][caspur_types::upgrade_info::platform()];
    assert_eq!(entry["sha256"], sha256(v2_bin()), "{info}");
    assert_eq!(entry["url"], format!("file://{}", v2_bin()));
    let bad = Command::new(bin())
        .args([
            "tx",
            "upgrade",
            "plan-info",
            "--binary",
            v2_bin(),
            "--url",
            "ftp://x",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("https://"));
}

#[test]
fn signal_ready_uses_the_checksum_of_the_binary_the_visor_will_run() {
    let mut net = Net::with_validators(1, |g| {
        upgrade_params(g, 10, "0.666666666666666666");
    });
    net.start_all(60);
    let height = net.node(0).height() + 45;
    net.pass(net.software_upgrade("v2", height));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while net.plan(0)["plan"]["name"] != "v2" {
        assert!(std::time::Instant::now() < deadline, "not scheduled");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // The operator's copy is not what the visor will run: signal from the visor's own copy.
    let rpc = net.rpc(0);
    net.visor_cmd(
        0,
        &[
            "add-upgrade",
            "v2",
            v2_bin(),
            "--signal",
            "--from",
            "node0",
            "--",
            "--keyring-backend",
            "test",
            "--node",
            &rpc,
            "-o",
            "json",
        ],
    );
    let readiness = net.json(0, &["query", "upgrade", "readiness"]);
    let placed = net.home(0).join("visor/upgrades/v2/bin/caspurd");
    assert_eq!(
        readiness["signals"][0]["binary_sha256"],
        sha256(placed.to_str().unwrap()),
        "{readiness}"
    );
    assert_eq!(readiness["ready_power"], readiness["total_power"]);
    // Without a placed binary there is nothing to vouch for.
    let none = Command::new(visor_bin())
        .arg("--home")
        .arg(net.home(0))
        .args(["signal-ready", "v3", "--from", "node0"])
        .output()
        .unwrap();
    assert!(!none.status.success());
    assert!(String::from_utf8_lossy(&none.stderr).contains("place it first"));
}
