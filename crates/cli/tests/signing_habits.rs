//! The SDK CLI's signing and query habits against a real `caspurd dev` (issue 19):
//! `--generate-only` → `tx sign` → `tx broadcast`, `tx bank multi-send`, `tx authz
//! grant|exec|revoke`, a proposal file carrying a message type no command builds, `query txs
//! --query`, `query slashing params|signing-info` and `query dcert unbonding`.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::{json, Value};

fn balance(node: &Node, address: &str) -> u128 {
    let b = node.json(&["query", "bank", "balances", address]);
    b["balances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["denom"] == "ucsp")
        .map_or(0, |c| c["amount"].as_str().unwrap().parse().unwrap())
}

fn write(dir: &std::path::Path, name: &str, v: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, v.to_string()).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn generate_sign_broadcast_multi_send_and_authz_work_as_in_the_sdk() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("node");
    let node = Node::start(&home, free_port(), free_port());
    let bob = node.add_key("bob");
    let carol = node.add_key("carol");

    // Unsigned: no signer yet, the message as JSON with its @type.
    let unsigned = node.json(&[
        "tx",
        "bank",
        "send",
        "dev",
        &bob,
        "5ucsp",
        "--generate-only",
        "--keyring-backend",
        "test",
    ]);
    assert_eq!(
        unsigned["body"]["messages"][0]["@type"],
        "/cosmos.bank.v1beta1.MsgSend"
    );
    assert_eq!(unsigned["body"]["messages"][0]["to_address"], bob.as_str());
    assert_eq!(unsigned["signatures"], json!([]), "{unsigned}");
    assert_eq!(unsigned["auth_info"]["signer_infos"], json!([]));
    let unsigned_file = write(dir.path(), "unsigned.json", &unsigned);
    let signed_file = dir.path().join("signed.json");
    let out = node.cli(&[
        "tx",
        "sign",
        &unsigned_file,
        "--from",
        "dev",
        "--keyring-backend",
        "test",
        "--node",
        &node.rpc.replace("http://", "tcp://"),
        "--output-document",
        signed_file.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let signed: Value = serde_json::from_slice(&std::fs::read(&signed_file).unwrap()).unwrap();
    assert_eq!(
        signed["signatures"].as_array().unwrap().len(),
        1,
        "{signed}"
    );
    assert_eq!(signed["body"], unsigned["body"]);
    let sent = node.json(&["tx", "broadcast", signed_file.to_str().unwrap()]);
    assert_eq!(sent["code"], 0, "{sent}");
    assert_eq!(balance(&node, &bob), 5);
    // The same signed file again: its sequence is used up.
    let again = node.fails(&["tx", "broadcast", signed_file.to_str().unwrap()]);
    assert!(again.contains("sequence"), "{again}");

    // multi-send: each recipient gets the amount; --split divides it.
    node.tx_from(
        "dev",
        &[
            "tx",
            "bank",
            "multi-send",
            "dev",
            &bob,
            &carol,
            "1000000ucsp",
        ],
    );
    assert_eq!(balance(&node, &bob), 1_000_005);
    assert_eq!(balance(&node, &carol), 1_000_000);
    node.tx_from(
        "dev",
        &[
            "tx",
            "bank",
            "multi-send",
            "dev",
            &bob,
            &carol,
            "10ucsp",
            "--split",
        ],
    );
    assert_eq!(balance(&node, &carol), 1_000_005);

    // authz: dev lets bob send for it; bob executes a send generated for dev's address.
    node.tx_from(
        "dev",
        &[
            "tx",
            "authz",
            "grant",
            &bob,
            "generic",
            "--msg-type",
            "/cosmos.bank.v1beta1.MsgSend",
        ],
    );
    let for_dev = node.json(&[
        "tx",
        "bank",
        "send",
        DEV_ADDRESS,
        &carol,
        "3ucsp",
        "--generate-only",
        "--keyring-backend",
        "test",
    ]);
    let for_dev_file = write(dir.path(), "for_dev.json", &for_dev);
    let dev_before = balance(&node, DEV_ADDRESS);
    let exec = node.tx_from("bob", &["tx", "authz", "exec", &for_dev_file]);
    assert!(exec["events"].to_string().contains("MsgExec"), "{exec}");
    assert_eq!(balance(&node, &carol), 1_000_008);
    assert_eq!(balance(&node, DEV_ADDRESS), dev_before - 3);
    let shown = node.json(&["query", "tx", exec["txhash"].as_str().unwrap()]);
    let inner = &shown["tx"]["body"]["messages"][0];
    assert_eq!(inner["@type"], "/cosmos.authz.v1beta1.MsgExec", "{shown}");
    assert_eq!(
        inner["msgs"][0]["@type"], "/cosmos.bank.v1beta1.MsgSend",
        "{shown}"
    );
    node.tx_from(
        "dev",
        &[
            "tx",
            "authz",
            "revoke",
            &bob,
            "/cosmos.bank.v1beta1.MsgSend",
        ],
    );
    let refused = node.fails(&[
        "tx",
        "authz",
        "exec",
        &for_dev_file,
        "--from",
        "bob",
        "--keyring-backend",
        "test",
    ]);
    assert!(refused.contains("authoriz"), "{refused}");

    // A proposal file with a message type no command builds (any registered type packs).
    let authority = node.json(&["query", "gov", "authority"])["authority"]
        .as_str()
        .unwrap()
        .to_string();
    let proposal = json!({
        "messages": [{
            "@type": "/cosmos.bank.v1beta1.MsgMultiSend",
            "inputs": [{"address": authority, "coins": [{"denom": "ucsp", "amount": "2"}]}],
            "outputs": [{"address": carol, "coins": [{"denom": "ucsp", "amount": "2"}]}],
        }],
        "deposit": "1000ucsp",
        "title": "Pay carol",
        "summary": "a multi-send from the gov account",
    });
    let proposal_file = write(dir.path(), "proposal.json", &proposal);
    node.tx_from("dev", &["tx", "gov", "submit-proposal", &proposal_file]);
    let p = node.json(&["query", "gov", "proposal", "1"]);
    assert_eq!(
        p["proposal"]["messages"][0]["@type"], "/cosmos.bank.v1beta1.MsgMultiSend",
        "{p}"
    );

    // query txs --query: the SDK's search, txs decoded.
    let found = node.json(&[
        "query",
        "txs",
        "--query",
        &format!("message.sender='{bob}' AND tx.height>=1"),
    ]);
    assert_eq!(found["total_count"], "1", "{found}");
    assert_eq!(found["txs"][0]["txhash"], exec["txhash"]);
    assert_eq!(
        found["txs"][0]["tx"]["body"]["messages"][0]["@type"],
        "/cosmos.authz.v1beta1.MsgExec"
    );
}

#[test]
fn slashing_and_dcert_unbonding_queries_answer() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("node");
    let node = Node::start_with(&home, free_port(), free_port(), &["--dcert-members", "1"]);
    let params = node.json(&["query", "slashing", "params"]);
    assert_eq!(params["signed_blocks_window"], "100", "{params}");
    assert_eq!(
        params["min_signed_per_window"], "0.500000000000000000",
        "{params}"
    );
    let key = node.cli(&["show-validator"]);
    let key = String::from_utf8_lossy(&key.stdout);
    let key = key
        .split(|c: char| !c.is_ascii_hexdigit())
        .find(|w| w.len() == 64)
        .unwrap_or_else(|| panic!("no hex key in {key}"))
        .to_string();
    let info = node.json(&["query", "slashing", "signing-info", &key]);
    let address = info["val_signing_info"]["address"].as_str().unwrap();
    assert!(address.starts_with("caspurvalcons1"), "{info}");
    let by_address = node.json(&["query", "slashing", "signing-info", address]);
    assert_eq!(by_address, info);
    let unknown = node.fails(&["query", "slashing", "signing-info", &"ab".repeat(32)]);
    assert!(unknown.contains("no validator"), "{unknown}");

    // The seeded member bonds for itself; unbond part and see the entry.
    let none = node.json(&["query", "dcert", "unbonding", DEV_ADDRESS]);
    assert!(
        none["entries"].as_array().is_none_or(Vec::is_empty),
        "{none}"
    );
    node.tx_from("dev", &["tx", "dcert", "unbond", DEV_ADDRESS, "1000ucsp"]);
    let entries = node.json(&["query", "dcert", "unbonding", DEV_ADDRESS]);
    assert_eq!(entries["entries"][0]["amount"], "1000", "{entries}");
    assert_eq!(entries["entries"][0]["candidate"], DEV_ADDRESS);
    let from_one = node.json(&["query", "dcert", "unbonding", DEV_ADDRESS, DEV_ADDRESS]);
    assert_eq!(from_one, entries);
}

#[test]
fn keys_move_between_keyrings_as_armored_exports() {
    let dir = tempfile::tempdir().unwrap();
    let caspurd = |home: &str, args: &[&str]| {
        std::process::Command::new(bin())
            .args(args)
            .args(["--keyring-backend", "test", "--home"])
            .arg(dir.path().join(home))
            .env("CASPUR_EXPORT_PASSPHRASE", "a long passphrase")
            .output()
            .unwrap()
    };
    let added = json_out(&caspurd("one", &["keys", "add", "alice", "-o", "json"]));
    let exported = caspurd("one", &["keys", "export", "alice"]);
    assert!(exported.status.success());
    let armor = String::from_utf8(exported.stdout).unwrap();
    assert!(
        armor.starts_with("-----BEGIN TENDERMINT PRIVATE KEY-----\n"),
        "{armor}"
    );
    assert!(
        armor.contains("kdf: scrypt") && armor.contains("type: secp256k1"),
        "{armor}"
    );
    let file = dir.path().join("alice.armor");
    std::fs::write(&file, &armor).unwrap();
    let imported = json_out(&caspurd(
        "two",
        &[
            "keys",
            "import",
            "alice2",
            file.to_str().unwrap(),
            "-o",
            "json",
        ],
    ));
    assert_eq!(imported["address"], added["address"]);
    // A wrong passphrase is refused, naming the cause.
    let wrong = std::process::Command::new(bin())
        .args([
            "keys",
            "import",
            "alice3",
            file.to_str().unwrap(),
            "--keyring-backend",
            "test",
            "--home",
        ])
        .arg(dir.path().join("two"))
        .env("CASPUR_EXPORT_PASSPHRASE", "not the passphrase")
        .output()
        .unwrap();
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("wrong passphrase"));
}
