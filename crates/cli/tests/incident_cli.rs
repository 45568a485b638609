//! An incident end to end through the real `caspurd` (SPEC §5, issue 17): a dev chain whose
//! dCERT has three members (dev, m2, m3; seeded here through the CLI, each with a key from
//! `incident keygen`). A reporter seals a report with `tx incident report`; a member opens it;
//! a fourth member seated later cannot until another reseals it (`tx incident reseal`);
//! triage, declaration, a plan, three reviews, the announcement, two updates; the dCERT
//! quorum schedules emergency upgrade `v2` and the team links it; the node halts at the
//! height, the operator starts the `v2` binary and the incident is executing; confirmation,
//! resolution and a post-mortem whose disclosure matches the commitment. Every step is seen in
//! `query incident show`, `/incidents/{id}`, the Atom feed and the WebSocket stream
//! (`tm.event='Incident'`).

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BOND: &str = "10000000000ucsp";

fn v2_bin() -> &'static str {
    env!("CARGO_BIN_EXE_caspurd-upgrade-test")
}

fn http_get(node: &Node, path: &str) -> (u16, String) {
    match ureq::get(&format!("{}{path}", node.rpc)).call() {
        Ok(r) => (r.status(), r.into_string().unwrap()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap()),
        Err(e) => panic!("GET {path}: {e}"),
    }
}

fn keygen(node: &Node, path: &Path) -> String {
    let out = json_out(&node.cli(&[
        "incident",
        "keygen",
        "--out",
        path.to_str().unwrap(),
        "-o",
        "json",
    ]));
    out["encryption_key"].as_str().unwrap().to_string()
}

/// Collects `tm.event='Incident'` messages from the node's WebSocket in a thread.
fn watch(node: &Node) -> Arc<Mutex<Vec<Value>>> {
    let url = format!("ws://127.0.0.1:{}/websocket", node.rpc_port);
    let (mut socket, _) = tungstenite::connect(url).unwrap();
    let sub = json!({"jsonrpc": "2.0", "id": 7, "method": "subscribe",
        "params": {"query": "tm.event='Incident'"}});
    socket
        .send(tungstenite::Message::text(sub.to_string()))
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    std::thread::spawn(move || {
        while let Ok(msg) = socket.read() {
            if let Ok(text) = msg.to_text() {
                if let Ok(v) = serde_json::from_str::<Value>(text) {
                    if v["result"]["data"]["type"] == "tendermint/event/Incident" {
                        sink.lock()
                            .unwrap()
                            .push(v["result"]["data"]["value"].clone());
                    }
                }
            }
        }
    });
    seen
}

fn ws_actions(seen: &Arc<Mutex<Vec<Value>>>) -> Vec<String> {
    seen.lock()
        .unwrap()
        .iter()
        .filter_map(|v| v["attributes"]["action"].as_str().map(String::from))
        .collect()
}

fn wait_until(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Governance (4 s voting) sets short upgrade notice, turns readiness off and shortens the
/// verification SLA to 3 s (so the report is overdue before its triage). The notice is written
/// as proto3 JSON writes 64-bit integers, a string.
fn fast_upgrades(node: &Node, dir: &Path) {
    let authority = node.json(&["query", "gov", "authority"])["authority"]
        .as_str()
        .unwrap()
        .to_string();
    let msg = json!({
        "@type": "/caspur.upgrade.v1.MsgUpdateParams",
        "authority": authority,
        "params": {"emergency_quorum": "0.666666666666666666", "min_notice": "8",
            "readiness_threshold": "0", "readiness_window": 2, "max_postponements": 3},
    });
    let mut incident = node.json(&["query", "incident", "params"])["params"].clone();
    incident["verification_sla_secs"] = json!(3);
    let sla = json!({
        "@type": "/caspur.incident.v1.MsgUpdateParams",
        "authority": authority,
        "params": incident,
    });
    let body = json!({"messages": [msg, sla], "deposit": "10000000ucsp",
        "title": "Fast upgrades", "summary": "for the incident test"});
    node.propose_and_vote_yes(dir, &body, 1);
    wait_until("upgrade params", Duration::from_secs(30), || {
        node.json(&["query", "upgrade", "params"])["params"]["min_notice"] == 8
    });
}

#[test]
fn an_incident_goes_from_sealed_report_to_postmortem_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("node");
    let (rpc_port, p2p) = (free_port(), free_port());
    let (node, alerts) =
        AlertWatch::dev_node(&home, (rpc_port, p2p), &["--voting-period-secs", "4"], &[]);
    fast_upgrades(&node, dir.path());

    // Seed a three-member dCERT, each member with its own sealing key.
    let mut members = vec![("dev".to_string(), DEV_ADDRESS.to_string())];
    for name in ["m2", "m3"] {
        let addr = node.add_key(name);
        assert_eq!(node.send(&addr, "20000000000ucsp")["code"], 0);
        members.push((name.to_string(), addr));
    }
    let mut secrets = Vec::new();
    for (name, addr) in &members {
        let secret = dir.path().join(format!("{name}.key"));
        let public = keygen(&node, &secret);
        node.tx_from(
            name,
            &[
                "tx",
                "dcert",
                "accept-candidacy",
                "--encryption-key",
                &public,
            ],
        );
        node.tx_from(name, &["tx", "dcert", "bond", addr, BOND]);
        secrets.push(secret);
    }
    wait_until("three members", Duration::from_secs(20), || {
        node.json(&["query", "dcert", "members"])["members"]
            .as_array()
            .is_some_and(|m| m.len() == 3)
    });
    let reporter = node.add_key("reporter");
    node.send(&reporter, "100000000ucsp");
    let ws = watch(&node);

    // 1. Report, sealed to the three members; a member opens it, an outsider's key cannot.
    let report = dir.path().join("report.md");
    std::fs::write(
        &report,
        "# Overflow\nMsgSend with amount 2^128 wraps the balance.\n",
    )
    .unwrap();
    node.tx_from(
        "reporter",
        &[
            "tx",
            "incident",
            "report",
            "--file",
            report.to_str().unwrap(),
            "--severity",
            "critical",
            "--title",
            "bank module issue",
        ],
    );
    let opened = node.json(&[
        "incident",
        "open",
        "1",
        "--key",
        secrets[1].to_str().unwrap(),
    ]);
    assert!(
        opened["report"].as_str().unwrap().contains("2^128 wraps"),
        "{opened}"
    );
    assert_eq!(opened["sealed_to"], members[1].1.as_str());
    let outsider = dir.path().join("outsider.key");
    keygen(&node, &outsider);
    let refused = node.fails(&["incident", "open", "1", "--key", outsider.to_str().unwrap()]);
    assert!(refused.contains("not sealed to"), "{refused}");
    let public = node.json(&["query", "incident", "show", "1"]);
    assert_eq!(public["state"], "reported");
    assert!(
        !public.to_string().contains("2^128"),
        "sealed content leaked: {public}"
    );

    // A member seated after the report reads it once another member reseals it.
    let m4 = node.add_key("m4");
    assert_eq!(node.send(&m4, "20000000000ucsp")["code"], 0);
    let m4_secret = dir.path().join("m4.key");
    let m4_public = keygen(&node, &m4_secret);
    node.tx_from(
        "m4",
        &[
            "tx",
            "dcert",
            "accept-candidacy",
            "--encryption-key",
            &m4_public,
        ],
    );
    node.tx_from("m4", &["tx", "dcert", "bond", &m4, BOND]);
    wait_until("four members", Duration::from_secs(20), || {
        node.json(&["query", "dcert", "members"])["members"]
            .as_array()
            .is_some_and(|m| m.len() == 4)
    });
    let blind = node.fails(&[
        "incident",
        "open",
        "1",
        "--key",
        m4_secret.to_str().unwrap(),
    ]);
    assert!(blind.contains("not sealed to"), "{blind}");
    node.tx_from(
        "m2",
        &[
            "tx",
            "incident",
            "reseal",
            "1",
            "--key",
            secrets[1].to_str().unwrap(),
        ],
    );
    let opened = node.json(&[
        "incident",
        "open",
        "1",
        "--key",
        m4_secret.to_str().unwrap(),
    ]);
    assert_eq!(opened["sealed_to"], m4.as_str());
    assert!(
        opened["report"].as_str().unwrap().contains("2^128 wraps"),
        "{opened}"
    );

    // Untriaged past its 3 s SLA, the report is overdue: the node alerts.
    let overdue = alerts.wait_firing("incident_overdue", 30);
    assert_eq!(overdue["key"], "1", "{overdue}");

    // 1–3. Triage, declaration (three of four), plan, reviews, announcement, updates.
    let step = |from: &str, args: &[&str]| {
        let mut full = vec!["tx", "incident"];
        full.extend_from_slice(args);
        node.tx_from(from, &full);
    };
    step(
        "m2",
        &[
            "triage",
            "1",
            "--verdict",
            "verified",
            "--severity",
            "critical",
        ],
    );
    // Triaged, it is no longer waiting on anyone's verification: resolved, once.
    alerts.wait_resolved("incident_overdue", 30);
    alerts.assert_fired_and_resolved_once("incident_overdue");
    step("dev", &["declare", "1"]);
    step("m3", &["declare", "1"]);
    let shown = node.json(&["query", "incident", "show", "1"]);
    assert_eq!(shown["state"], "verified", "{shown}");
    step("m4", &["declare", "1"]);
    assert_eq!(
        node.json(&["query", "incident", "show", "1"])["state"],
        "emergency_declared"
    );
    let plan = dir.path().join("plan.md");
    std::fs::write(&plan, "fix the overflow; emergency upgrade v2").unwrap();
    step(
        "dev",
        &[
            "propose-plan",
            "1",
            "--summary",
            "checked add in bank",
            "--file",
            plan.to_str().unwrap(),
        ],
    );
    for (from, kind) in [("dev", "technical"), ("m2", "risk"), ("m3", "legal")] {
        step(
            from,
            &[
                "review",
                "1",
                "--kind",
                kind,
                "--file",
                plan.to_str().unwrap(),
            ],
        );
    }
    assert_eq!(
        node.json(&["query", "incident", "show", "1"])["state"],
        "plan_approved"
    );
    step(
        "m2",
        &[
            "announce",
            "1",
            "--description",
            "a bank issue is being fixed",
            "--user-advice",
            "no action needed",
        ],
    );
    step("m2", &["update", "1", "binaries are being built"]);
    step("m3", &["update", "1", "binaries published"]);

    // 4. The dCERT schedules emergency upgrade v2; the team links it; the node halts at it.
    let height = node.height() + 5;
    let info = json!({"binaries": {caspur_types::upgrade_info::platform(): {
        "url": format!("file://{}", v2_bin()),
        "sha256": caspur_types::upgrade_info::sha256_hex(std::fs::File::open(v2_bin()).unwrap()).unwrap(),
    }}})
    .to_string();
    for from in ["dev", "m2", "m4"] {
        node.tx_from(
            from,
            &[
                "tx",
                "upgrade",
                "approve-emergency",
                "v2",
                "--height",
                &height.to_string(),
                "--info",
                &info,
            ],
        );
    }
    step("dev", &["link-upgrade", "1", "v2"]);
    let shown = node.json(&["query", "incident", "show", "1"]);
    assert_eq!(shown["state"], "upgrade_scheduled", "{shown}");
    let plan_height = node.json(&["query", "upgrade", "plan"])["plan"]["plan"]["height"]
        .as_i64()
        .unwrap();
    wait_until("the ws stream to catch up", Duration::from_secs(10), || {
        ws_actions(&ws).contains(&"upgrade_linked".to_string())
    });
    let mut node = node;
    let status = node.child.wait().unwrap();
    assert!(!status.success(), "the node halts at the upgrade height");
    assert!(home.join("data/upgrade-info.json").exists());
    let before_restart = ws_actions(&ws);

    // The operator starts the v2 binary: the plan runs and the incident executes.
    node = Node::spawn_dev(v2_bin(), &home, rpc_port, p2p, &[]);
    node.wait_height(plan_height as u64 + 1, Duration::from_secs(60));
    let ws2 = watch(&node);
    assert_eq!(
        node.json(&["query", "incident", "show", "1"])["state"],
        "executing"
    );

    // 5. Confirm, resolve, post-mortem with the reporter's disclosure (a forged one fails).
    let step = |from: &str, args: &[&str]| {
        let mut full = vec!["tx", "incident"];
        full.extend_from_slice(args);
        node.tx_from(from, &full);
    };
    step("m3", &["confirm", "1", "--hash", &"ab".repeat(32)]);
    step(
        "m3",
        &["resolve", "1", "--summary", "v2 fixed the overflow"],
    );
    let disclosure = dir.path().join("report.md.disclosure.json");
    let mut forged: Value = serde_json::from_slice(&std::fs::read(&disclosure).unwrap()).unwrap();
    forged["report"] = hex::encode("nothing happened").into();
    let forged_path = dir.path().join("forged.json");
    std::fs::write(&forged_path, forged.to_string()).unwrap();
    let postmortem = |d: &Path| {
        vec![
            "tx".to_string(),
            "incident".into(),
            "postmortem".into(),
            "1".into(),
            "--uri".into(),
            "https://caspur.example/pm/1".into(),
            "--hash".into(),
            "cd".repeat(32),
            "--disclose".into(),
            d.to_str().unwrap().into(),
        ]
    };
    let args = postmortem(&forged_path);
    let mut with_from: Vec<&str> = args.iter().map(String::as_str).collect();
    with_from.extend(["--from", "dev", "--keyring-backend", "test"]);
    let refused = node.fails(&with_from);
    assert!(refused.contains("does not match"), "{refused}");
    let args = postmortem(&disclosure);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    node.tx_from("dev", &args);

    // Every step, in order, in the CLI query, the JSON feed, the Atom feed and the stream.
    let expected = [
        "reported",
        "resealed",
        "triaged",
        "declare_vote",
        "declare_vote",
        "emergency_declared",
        "plan_proposed",
        "review",
        "review",
        "review",
        "announced",
        "update",
        "update",
        "upgrade_linked",
        "executing",
        "fix_verified",
        "resolved",
        "postmortem",
    ];
    let shown = node.json(&["query", "incident", "show", "1"]);
    assert_eq!(shown["state"], "closed");
    let actions = |v: &Value| -> Vec<String> {
        v["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(actions(&shown), expected, "{shown}");
    assert!(shown["postmortem"]["disclosed_report"]["report"]
        .as_str()
        .unwrap()
        .contains("2^128"));
    let (code, body) = http_get(&node, "/incidents/1");
    assert_eq!(code, 200);
    let feed_json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(feed_json, shown, "the feed and the CLI show one record");
    let (code, atom) = http_get(&node, "/incidents.atom");
    assert_eq!(code, 200);
    let parsed = atom_syndication::Feed::read_from(atom.as_bytes()).unwrap();
    let entry = &parsed.entries()[0];
    assert!(
        entry.title().as_str().contains("Incident 1 (closed)"),
        "{atom}"
    );
    let content = entry.content().and_then(|c| c.value()).unwrap_or_default();
    for action in expected {
        assert!(
            content.contains(action),
            "{action} missing from the Atom entry: {content}"
        );
    }
    let (code, summary) = http_get(&node, "/api/v2/summary.json");
    assert_eq!(code, 200);
    let summary: Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(
        summary["status"]["indicator"], "none",
        "closed: nothing open {summary}"
    );
    let mut streamed = before_restart;
    wait_until(
        "the ws stream after the restart",
        Duration::from_secs(10),
        || ws_actions(&ws2).contains(&"postmortem".to_string()),
    );
    streamed.extend(ws_actions(&ws2));
    // The `executing` step happened in the first block of v2, before the stream reconnected.
    let expected_streamed: Vec<&str> = expected
        .iter()
        .copied()
        .filter(|a| *a != "executing")
        .collect();
    assert_eq!(streamed, expected_streamed);
}
