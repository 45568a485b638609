//! dCERT accountability through the binary against a real `caspurd dev` (one seated member):
//! governance turns ratification on (15 s, half the bond); the member reports an incident and
//! breaks `MsgSend` naming it (`--incident`); `query dcert break` shows the record with its
//! ratification proposal and `query circuit broken-routes` the record's id; nobody ratifies, so
//! the route reopens by rule, the bond is halved (below the minimum: the member leaves its seat)
//! and a send goes through again. While seated, the member sends a heartbeat and
//! `query dcert liveness` shows it live.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::json;
use std::time::{Duration, Instant};

const SEND: &str = "/cosmos.bank.v1beta1.MsgSend";

fn wait_until(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// A u64 of a query answer, written as a number or (proto3 JSON) a string.
fn num(v: &serde_json::Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("not a number: {v}"))
}

fn bond(node: &Node) -> u128 {
    let c = node.json(&["query", "dcert", "candidate", DEV_ADDRESS]);
    c["candidate"]["bond"].as_str().unwrap().parse().unwrap()
}

#[test]
fn an_unratified_break_lapses_and_halves_the_members_bond_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("node");
    let node = Node::start_with(
        &home,
        free_port(),
        free_port(),
        &["--voting-period-secs", "4", "--dcert-members", "1"],
    );
    let authority = node.json(&["query", "gov", "authority"])["authority"]
        .as_str()
        .unwrap()
        .to_string();
    let mut params = node.json(&["query", "dcert", "params"])["params"].clone();
    params["break_ratification_period_secs"] = json!("15");
    params["unratified_break_slash"] = json!("0.5");
    let body = json!({
        "messages": [{"@type": "/caspur.dcert.v1.MsgUpdateParams", "authority": authority,
            "params": params}],
        "deposit": "10000000ucsp", "title": "Ratified breaks", "summary": "accountability"});
    node.propose_and_vote_yes(dir.path(), &body, 1);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let p = node.json(&["query", "dcert", "params"]);
        if num(&p["params"]["break_ratification_period_secs"]) == 15 {
            break;
        }
        let proposal = node.json(&["query", "gov", "proposal", "1"]);
        assert!(Instant::now() < deadline, "not applied: {p} {proposal}");
        std::thread::sleep(Duration::from_millis(300));
    }

    // Without an incident the break is refused; with the member's own report it is made.
    let refused = node.fails(&[
        "tx",
        "dcert",
        "circuit-break",
        "--routes",
        SEND,
        "--reason",
        "drill",
        "--from",
        "dev",
        "--keyring-backend",
        "test",
    ]);
    assert!(refused.contains("name the incident"), "{refused}");
    let report = dir.path().join("report.md");
    std::fs::write(&report, "nothing at all").unwrap();
    node.tx_from(
        "dev",
        &[
            "tx",
            "incident",
            "report",
            "--file",
            report.to_str().unwrap(),
            "--severity",
            "high",
            "--title",
            "trust me",
        ],
    );
    let r = node.tx_from(
        "dev",
        &[
            "tx",
            "dcert",
            "circuit-break",
            "--routes",
            SEND,
            "--reason",
            "drill",
            "--incident",
            "1",
        ],
    );
    assert!(r["events"].to_string().contains("dcert_break"), "{r}");
    let record = node.json(&["query", "dcert", "break", "1"]);
    assert_eq!(num(&record["record"]["incident_id"]), 1, "{record}");
    assert_eq!(num(&record["record"]["proposal_id"]), 2, "{record}");
    assert_eq!(record["record"]["standing"], true, "{record}");
    let routes = node.json(&["query", "circuit", "broken-routes"]);
    assert_eq!(num(&routes["routes"][0]["break_id"]), 1, "{routes}");
    let before = bond(&node);

    // A heartbeat, and the liveness query shows the member live.
    node.tx_from("dev", &["tx", "dcert", "heartbeat"]);
    let live = node.json(&["query", "dcert", "liveness"]);
    assert_eq!(live["members"][0]["member"], DEV_ADDRESS, "{live}");
    assert_eq!(live["members"][0]["live"], true, "{live}");

    // Nobody votes: the route reopens by rule and half the bond burns.
    wait_until("the lapse", Duration::from_secs(40), || {
        node.json(&["query", "dcert", "break", "1"])["record"]["standing"] == false
    });
    let record = node.json(&["query", "dcert", "break", "1"]);
    assert_eq!(
        record["record"]["lapse_reason"], "not ratified within break_ratification_period_secs",
        "{record}"
    );
    assert_eq!(bond(&node), before - before / 2);
    let routes = node.json(&["query", "circuit", "broken-routes"]);
    assert!(
        routes["routes"].as_array().is_none_or(|r| r.is_empty()),
        "{routes}"
    );
    let to = node.add_key("friend");
    assert_eq!(node.send(&to, "1ucsp")["code"], 0);
}
