//! The dCERT group through the CLI against a real `caspurd dev`: the dev account accepts its
//! candidacy, bonds and is seated; it votes for itself and its tally is its stake; as a member
//! it sets the group description; circuit breaking is refused while the privilege is off;
//! governance (a proposal file with `caspur.dcert.v1.MsgUpdateParams`) turns it on; then the
//! member breaks `MsgSend`, the circuit queries report it with who and why, a transfer is
//! refused by the breaker, and the Prometheus endpoint counts the broken route and the refusal.
//! Then, with the gov v1 package broken too, the doors issue 15 found open stay shut through
//! `broadcast_tx_sync`: a send under six execs is refused (it once passed CheckTx and jammed the
//! mempool) and the next tx is committed; a legacy `v1beta1` vote (an alias of the broken v1
//! route) and a proposal riding the dissolution's exemption beside a pool spend are refused.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

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
        "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e",
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

    let metrics = Scrape::of(&metrics_addr);
    assert_eq!(
        metrics.value("caspur_circuit_broken_routes"),
        Some(1.0),
        "{}",
        metrics.0
    );
    let refused = format!("caspur_circuit_refusals_total{{route=\"{SEND}\"}}");
    assert_eq!(metrics.value(&refused), Some(1.0), "{}", metrics.0);
    let broken = format!("caspur_circuit_route_broken{{route=\"{SEND}\"}}");
    assert_eq!(metrics.value(&broken), Some(1.0), "{}", metrics.0);
    // A refusal at CheckTx is a failed tx in CometBFT's terms too.
    assert!(metrics.value("cometbft_mempool_failed_txs").unwrap_or(0.0) >= 1.0);
    // The node's own alert fires for the break, keyed by the route, once.
    let alerts: serde_json::Value = ureq::get(&format!("http://{metrics_addr}/alerts"))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    let breaks: Vec<_> = alerts["firing"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["rule"] == "circuit_break")
        .collect();
    assert_eq!(breaks.len(), 1, "{alerts}");
    assert_eq!(breaks[0]["key"], SEND, "{alerts}");
    assert!(
        breaks[0]["summary"].as_str().unwrap().contains("broken by"),
        "{alerts}"
    );

    tx(&[
        "tx",
        "dcert",
        "circuit-break",
        "--routes",
        "/cosmos.gov.v1.",
        "--reason",
        "exploit in gov",
    ]);
    closed_doors(&node, &authority);
}

/// The jam, the alias and the exemption ride, through the real binary, with `MsgSend` and the
/// gov v1 package broken.
fn closed_doors(node: &Node, authority: &str) {
    use caspur_types::sign::to_any;
    let key = dev_key();
    let me = key.address().to_string();
    let coin = |n: u128| vec![caspur_types::Coin::new("ucsp", n).to_proto()];
    let mut jam = to_any(
        SEND,
        &cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend {
            from_address: me.clone(),
            to_address: authority.to_string(),
            amount: coin(1),
        },
    );
    for _ in 0..caspur_app::limits::MAX_NESTING_DEPTH {
        jam = to_any(
            "/cosmos.authz.v1beta1.MsgExec",
            &cosmos_sdk_proto::cosmos::authz::v1beta1::MsgExec {
                grantee: me.clone(),
                msgs: vec![jam],
            },
        );
    }
    let legacy_vote = to_any(
        "/cosmos.gov.v1beta1.MsgVote",
        &cosmos_sdk_proto::cosmos::gov::v1beta1::MsgVote {
            proposal_id: 1,
            voter: me.clone(),
            option: 1,
        },
    );
    let riding = to_any(
        "/cosmos.gov.v1.MsgSubmitProposal",
        &cosmos_sdk_proto::cosmos::gov::v1::MsgSubmitProposal {
            messages: vec![
                to_any(
                    "/caspur.dcert.v1.MsgDissolveDcert",
                    &caspur_types::proto::dcert::v1::MsgDissolveDcert {
                        authority: authority.to_string(),
                        slash_fraction: String::new(),
                        reason: "cover".into(),
                    },
                ),
                to_any(
                    "/cosmos.distribution.v1beta1.MsgCommunityPoolSpend",
                    &cosmos_sdk_proto::cosmos::distribution::v1beta1::MsgCommunityPoolSpend {
                        authority: authority.to_string(),
                        recipient: me.clone(),
                        amount: coin(1),
                    },
                ),
            ],
            initial_deposit: coin(100_000_000_000),
            proposer: me.clone(),
            metadata: String::new(),
            title: "dissolve".into(),
            summary: "and pay me".into(),
            expedited: false,
        },
    );
    let sequence = dev_sequence(node);
    for (what, msg) in [("jam", jam), ("alias", legacy_vote), ("ride", riding)] {
        let r = broadcast(node, &dev_signed_tx(&key, vec![msg], sequence));
        assert_eq!(r["code"], 1001, "{what}: {r}");
        assert_eq!(r["codespace"], "circuit", "{what}: {r}");
    }
    // Nothing was admitted, so the same sequence goes through and is committed.
    let r = node.tx_from(
        "dev",
        &["tx", "dcert", "update-description", "still answering"],
    );
    assert_eq!(r["code"], 0, "{r}");
    assert_eq!(dev_sequence(node), sequence + 1);
}
