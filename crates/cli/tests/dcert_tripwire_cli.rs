//! A tripwire through the binary against a real `caspurd dev` (one seated member): governance
//! registers an account-outflow tripwire from a proposal file naming its kind; a send of 5 % of
//! the supply trips it; `query dcert tripwires`, `query circuit broken-routes` and
//! `query incident show` show the firing, the break held by `tripwire 1` and the incident with
//! the evidence; sends are refused; the member releases the break (`tx dcert
//! release-tripwire`) and sends go through again.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::json;
use std::time::{Duration, Instant};

const SEND: &str = "/cosmos.bank.v1beta1.MsgSend";

/// A u64 of a query answer, written as a number or (proto3 JSON) a string.
fn num(v: &serde_json::Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("not a number: {v}"))
}

fn wait_for(node: &Node, what: &str, mut ok: impl FnMut(&Node) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ok(node) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn tripwires(node: &Node) -> serde_json::Value {
    node.json(&["query", "dcert", "tripwires"])["tripwires"].clone()
}

#[test]
fn a_large_send_trips_a_tripwire_and_the_member_releases_its_break_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start_with(
        &dir.path().join("node"),
        free_port(),
        free_port(),
        &["--voting-period-secs", "4", "--dcert-members", "1"],
    );
    let authority = node.json(&["query", "gov", "authority"])["authority"]
        .as_str()
        .unwrap()
        .to_string();
    let body = json!({
        "messages": [{"@type": "/caspur.dcert.v1.MsgRegisterTripwire", "authority": authority,
            "tripwire": {"kind": "account_outflow", "denom": "ucsp", "threshold": "0.01",
                "routes": [SEND], "description": "no account moves 1 % of the supply"}}],
        "deposit": "10000000ucsp", "title": "Outflow tripwire", "summary": "tripwires"});
    node.propose_and_vote_yes(dir.path(), &body, 1);
    wait_for(&node, "the registration", |n| {
        tripwires(n).as_array().is_some_and(|t| t.len() == 1)
    });
    let t = &tripwires(&node)[0];
    assert_eq!(num(&t["id"]), 1, "{t}");
    assert_eq!(num(&t["kind"]), 4, "{t}");

    let total = node.json(&["query", "bank", "total"]);
    let supply: u128 = total["supply"][0]["amount"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let friend = node.add_key("friend");
    let r = node.send(&friend, &format!("{}ucsp", supply / 20));
    assert_eq!(r["code"], 0, "{r}");
    wait_for(&node, "the firing", |n| num(&tripwires(n)[0]["fired"]) == 1);
    let t = &tripwires(&node)[0];
    let break_id = num(&t["break_id"]);
    let routes = node.json(&["query", "circuit", "broken-routes"]);
    assert_eq!(routes["routes"][0]["broken_by"], "tripwire 1", "{routes}");
    assert_eq!(num(&routes["routes"][0]["break_id"]), break_id, "{routes}");
    let record = node.json(&["query", "dcert", "break", &break_id.to_string()]);
    let incident_id = num(&record["record"]["incident_id"]);
    let incident = node.json(&["query", "incident", "show", &incident_id.to_string()]);
    assert_eq!(incident["tripwire_id"], 1, "{incident}");
    assert!(
        incident.to_string().contains("spent"),
        "the evidence is on the timeline: {incident}"
    );
    let refused = node.fails(&[
        "tx",
        "bank",
        "send",
        "dev",
        &friend,
        "1ucsp",
        "--keyring-backend",
        "test",
    ]);
    assert!(refused.contains("circuit breaker"), "{refused}");

    node.tx_from(
        "dev",
        &[
            "tx",
            "dcert",
            "release-tripwire",
            &break_id.to_string(),
            "--reason",
            "a planned treasury move",
        ],
    );
    let record = node.json(&["query", "dcert", "break", &break_id.to_string()]);
    assert_eq!(record["record"]["standing"], false, "{record}");
    let routes = node.json(&["query", "circuit", "broken-routes"]);
    assert!(
        routes["routes"].as_array().is_none_or(|r| r.is_empty()),
        "{routes}"
    );
    assert_eq!(node.send(&friend, "1ucsp")["code"], 0);
}
