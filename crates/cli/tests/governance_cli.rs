//! Governance and rewards through the CLI against a real `caspurd dev`: a proposal file with a
//! staking `MsgUpdateParams` is submitted, voted and executed; rewards and the community pool
//! fill from fees and are withdrawn.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use std::time::{Duration, Instant};

#[test]
fn a_proposal_from_a_file_passes_and_rewards_are_withdrawn() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("node");
    let node = Node::start_with(
        &home,
        free_port(),
        free_port(),
        &["--voting-period-secs", "4"],
    );
    let run = |args: &[&str]| node.json(args);
    let tx = |args: &[&str]| node.tx_from("dev", args);
    let authority = run(&["query", "gov", "authority"])["authority"]
        .as_str()
        .unwrap()
        .to_string();
    let proposal = dir.path().join("proposal.json");
    std::fs::write(
        &proposal,
        serde_json::json!({
            "messages": [{
                "@type": "/cosmos.staking.v1beta1.MsgUpdateParams",
                "authority": authority,
                "params": {
                    "unbonding_time": "1814400s",
                    "max_validators": 100,
                    "max_entries": 5,
                    "historical_entries": 0,
                    "bond_denom": "ucsp",
                    "min_commission_rate": "0"
                }
            }],
            "deposit": "10000000ucsp",
            "title": "Fewer unbonding entries",
            "summary": "max_entries 7 → 5"
        })
        .to_string(),
    )
    .unwrap();
    tx(&["tx", "gov", "submit-proposal", proposal.to_str().unwrap()]);
    let p = run(&["query", "gov", "proposal", "1"]);
    assert_eq!(
        p["proposal"]["status"], "PROPOSAL_STATUS_VOTING_PERIOD",
        "{p}"
    );
    tx(&["tx", "gov", "vote", "1", "yes"]);
    let tally = run(&["query", "gov", "tally", "1"]);
    assert_eq!(tally["tally"]["yes_count"], "10000000", "{tally}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let p = run(&["query", "gov", "proposal", "1"]);
        if p["proposal"]["status"] == "PROPOSAL_STATUS_PASSED" {
            break;
        }
        assert!(Instant::now() < deadline, "proposal not decided: {p}");
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(
        run(&["query", "staking", "params"])["params"]["max_entries"],
        5
    );

    // The fees of those txs became rewards and pool coins.
    let pool = run(&["query", "distribution", "community-pool"]);
    assert_eq!(pool["pool"][0]["denom"], "ucsp", "{pool}");
    let rewards = run(&["query", "distribution", "rewards", DEV_ADDRESS]);
    let validator = rewards["rewards"][0]["validator_address"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(validator.starts_with("caspurvaloper1"), "{rewards}");
    let r = tx(&["tx", "distribution", "withdraw-rewards", &validator]);
    assert!(r["events"].to_string().contains("withdraw_rewards"), "{r}");
    tx(&["tx", "distribution", "withdraw-commission"]);
    let node_flag = node.rpc.replace("http://", "tcp://");
    let bad = node.cli(&[
        "tx",
        "gov",
        "vote",
        "1",
        "maybe",
        "--from",
        "dev",
        "--keyring-backend",
        "test",
        "--node",
        &node_flag,
    ]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("yes, no, abstain"), "{err}");
}
