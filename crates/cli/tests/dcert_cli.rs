//! The dCERT group through the CLI against a real `caspurd dev`: the dev account accepts its
//! candidacy, bonds and is seated; it votes for itself and its tally is its stake; as a member
//! it sets the group description; circuit breaking is refused while the privilege is off;
//! governance (a proposal file with `caspur.dcert.v1.MsgUpdateParams`) turns it on; then the
//! member breaks `MsgSend`, the circuit queries report it with who and why, a transfer is
//! refused by the breaker, and the Prometheus endpoint counts the broken route and the refusal.

mod common;

use common::*;
use std::time::{Duration, Instant};

const SEND: &str = "/cosmos.bank.v1beta1.MsgSend";

#[test]
fn a_member_is_elected_and_breaks_a_route_once_governance_allows_it() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("node");
    let metrics_addr = format!("127.0.0.1:{}", free_port());
    let node = Node::start_with(
        &home,
        free_port(),
        free_port(),
        &[
            "--voting-period-secs",
            "4",
            "--prometheus-laddr",
            &metrics_addr,
        ],
    );
    let tx = |args: &[&str]| node.tx_from("dev", args);
    let params = node.json(&["query", "dcert", "params"]);
    assert_eq!(params["params"]["max_members"], 7, "{params}");
    assert_eq!(params["params"]["circuit_break_enabled"], false);

    tx(&[
        "tx",
        "dcert",
        "accept-candidacy",
        "--description",
        "dev's incident desk",
        "--encryption-key",
        "age1devkey",
    ]);
    tx(&["tx", "dcert", "bond", DEV_ADDRESS, "10000000000ucsp"]);
    // Seated at the end of that block: the group was empty.
    let members = node.json(&["query", "dcert", "members"]);
    assert_eq!(members["members"][0]["address"], DEV_ADDRESS, "{members}");
    assert_eq!(members["members"][0]["sequence"], 1);
    assert_eq!(members["members"][0]["status"], "member");

    tx(&["tx", "dcert", "vote", &format!("{DEV_ADDRESS}=1")]);
    let vote = node.json(&["query", "dcert", "vote", DEV_ADDRESS]);
    let stake = vote["stake"].as_str().unwrap().to_string();
    assert_ne!(stake, "0", "{vote}");
    let me = node.json(&["query", "dcert", "candidate", DEV_ADDRESS]);
    assert_eq!(me["candidate"]["tally"], stake.as_str(), "{me}");

    tx(&["tx", "dcert", "update-description", "call +1 555 0100"]);
    let d = node.json(&["query", "dcert", "description"]);
    assert_eq!(d["description"], "call +1 555 0100");

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
    assert!(refused.contains("circuit_break_enabled"), "{refused}");

    // Governance turns the privilege on.
    let authority = node.json(&["query", "gov", "authority"])["authority"]
        .as_str()
        .unwrap()
        .to_string();
    let mut new_params = params["params"].clone();
    new_params["circuit_break_enabled"] = true.into();
    let proposal = dir.path().join("enable.json");
    std::fs::write(
        &proposal,
        serde_json::json!({
            "messages": [{
                "@type": "/caspur.dcert.v1.MsgUpdateParams",
                "authority": authority,
                "params": new_params,
            }],
            "deposit": "10000000ucsp",
            "title": "Enable dCERT circuit breaking",
            "summary": "turn on the emergency power"
        })
        .to_string(),
    )
    .unwrap();
    tx(&["tx", "gov", "submit-proposal", proposal.to_str().unwrap()]);
    tx(&["tx", "gov", "vote", "1", "yes"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while node.json(&["query", "dcert", "params"])["params"]["circuit_break_enabled"] != true {
        let p = node.json(&["query", "gov", "proposal", "1"]);
        assert!(Instant::now() < deadline, "proposal not applied: {p}");
        std::thread::sleep(Duration::from_millis(300));
    }

    let r = tx(&[
        "tx",
        "dcert",
        "circuit-break",
        "--routes",
        SEND,
        "--reason",
        "exploit in MsgSend",
    ]);
    assert!(r["events"].to_string().contains("circuit_break"), "{r}");
    let routes = node.json(&["query", "circuit", "broken-routes"]);
    assert_eq!(routes["routes"][0]["route"], SEND, "{routes}");
    assert_eq!(routes["routes"][0]["broken_by"], DEV_ADDRESS);
    assert_eq!(routes["routes"][0]["reason"], "exploit in MsgSend");
    let is = node.json(&["query", "circuit", "is-broken", SEND]);
    assert_eq!(is["broken"], true, "{is}");
    let other = node.json(&[
        "query",
        "circuit",
        "is-broken",
        "/cosmos.staking.v1beta1.MsgDelegate",
    ]);
    assert_eq!(other["broken"], false, "{other}");
    let to = node.add_key("friend");
    let sent = node.fails(&[
        "tx",
        "bank",
        "send",
        "dev",
        &to,
        "1ucsp",
        "--keyring-backend",
        "test",
    ]);
    assert!(sent.contains("circuit breaker"), "{sent}");

    let metrics = ureq::get(&format!("http://{metrics_addr}/metrics"))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    let line = |name: &str| {
        metrics
            .lines()
            .find(|l| l.contains(name) && !l.starts_with('#'))
            .unwrap_or_else(|| panic!("{name} missing from:\n{metrics}"))
            .to_string()
    };
    assert!(line("circuit_broken_routes").ends_with(" 1"), "{metrics}");
    let rejected = line("circuit_rejected_messages");
    assert!(
        rejected.contains(SEND) && rejected.ends_with(" 1"),
        "{rejected}"
    );
}
