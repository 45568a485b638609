//! The README tour, driven through the real binary: `dev`, keys, `tx bank send`, balances,
//! `query tx`, `status`, clean Ctrl-C, resume, `export`.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use std::time::Duration;

#[test]
fn dev_keys_send_query_export() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("node");
    let node = DevNode::start(&home, free_port(), free_port());

    // Keys: the dev key is in the test keyring; add a second one.
    let dev = json_out(&node.cli(&[
        "keys",
        "show",
        "dev",
        "--keyring-backend",
        "test",
        "-o",
        "json",
    ]));
    assert_eq!(dev["address"], DEV_ADDRESS);
    let bob = json_out(&node.cli(&[
        "keys",
        "add",
        "bob",
        "--keyring-backend",
        "test",
        "-o",
        "json",
    ]));
    let bob_addr = bob["address"].as_str().unwrap().to_string();
    assert_eq!(bob["mnemonic"].as_str().unwrap().split(' ').count(), 24);

    // Send, wait for the block, check balances and the tx.
    let node_flag = node.rpc.replace("http://", "tcp://");
    let sent = node.send(&bob_addr, "4242ucsp");
    assert_eq!(sent["code"], 0, "{sent}");
    let hash = sent["txhash"].as_str().unwrap().to_string();
    let balances = json_out(&node.cli(&[
        "query", "bank", "balances", &bob_addr, "--node", &node_flag, "-o", "json",
    ]));
    assert_eq!(balances["balances"][0]["amount"], "4242");
    let tx = json_out(&node.cli(&["query", "tx", &hash, "--node", &node_flag, "-o", "json"]));
    assert_eq!(tx["txhash"], hash);
    // Decoded as the SDK's CLI shows it: the message, the fee, the signer's sequence.
    let msg = &tx["tx"]["body"]["messages"][0];
    assert_eq!(msg["@type"], "/cosmos.bank.v1beta1.MsgSend", "{tx}");
    assert_eq!(msg["to_address"], bob_addr.as_str(), "{tx}");
    assert_eq!(msg["amount"][0]["amount"], "4242", "{tx}");
    assert_eq!(tx["tx"]["auth_info"]["fee"]["gas_limit"], "200000", "{tx}");
    assert_eq!(
        tx["tx"]["auth_info"]["signer_infos"][0]["sequence"], "0",
        "{tx}"
    );
    assert_eq!(
        tx["tx"]["auth_info"]["signer_infos"][0]["public_key"]["key"]
            .as_str()
            .map(|k| k.len()),
        Some(44),
        "{tx}"
    );
    assert!(tx["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["type"] == "transfer"));
    let acct = json_out(&node.cli(&[
        "query",
        "auth",
        "account",
        DEV_ADDRESS,
        "--node",
        &node_flag,
        "-o",
        "json",
    ]));
    assert_eq!(acct["account"]["sequence"], "1");

    // A raw state read with prove=true verifies against the app hash.
    let addr = caspur_types::Address::parse_account(&bob_addr).unwrap();
    let key = caspur_app::modules::bank::state::balance_key(&addr, "ucsp");
    let r = node
        .rpc("abci_query", serde_json::json!({"path": "/store/state/key", "data": hex::encode(&key), "prove": true}))
        .unwrap();
    let resp = &r["response"];
    let b64 = |s: &serde_json::Value| {
        base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            s.as_str().unwrap(),
        )
        .unwrap()
    };
    let value = b64(&resp["value"]);
    assert_eq!(
        u128::from_be_bytes(value.as_slice().try_into().unwrap()),
        4242
    );
    let proof = b64(&resp["proofOps"]["ops"][0]["data"]);
    let root: [u8; 32] = hex::decode(resp["info"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    assert!(caspur_store::qmdb::verify_proof(
        &key,
        Some(&value),
        &proof,
        &root
    ));
    assert!(!caspur_store::qmdb::verify_proof(
        &key,
        Some(&[0u8; 16]),
        &proof,
        &root
    ));

    // Errors are one clear line and a non-zero exit code.
    let bad = node.cli(&[
        "tx",
        "bank",
        "send",
        "dev",
        "caspur1nope",
        "1ucsp",
        "--keyring-backend",
        "test",
        "--node",
        &node_flag,
    ]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("recipient"), "{err}");
    let over = node.cli(&[
        "tx",
        "bank",
        "send",
        "dev",
        &bob_addr,
        "999999999999999999ucsp",
        "--keyring-backend",
        "test",
        "--node",
        &node_flag,
    ]);
    assert!(!over.status.success());
    assert!(
        String::from_utf8_lossy(&over.stderr).contains("code 5"),
        "{}",
        String::from_utf8_lossy(&over.stderr)
    );

    // The home's consensus key, as genesis lists it.
    let shown = json_out(&node.cli(&["show-validator", "-o", "json"]));
    let genesis: serde_json::Value =
        serde_json::from_slice(&std::fs::read(home.join("config/genesis.json")).unwrap()).unwrap();
    assert_eq!(shown["pub_key"], genesis["validators"][0]["pub_key"]);
    assert_eq!(shown["pub_key"].as_str().unwrap().len(), 64);

    // Staking: the dev account operates the genesis validator; bob delegates and unbonds.
    let validators = json_out(&node.cli(&[
        "query",
        "staking",
        "validators",
        "--node",
        &node_flag,
        "-o",
        "json",
    ]));
    let validator = validators["validators"][0]["operator_address"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(validator.starts_with("caspurvaloper1"), "{validators}");
    assert_eq!(validators["validators"][0]["status"], "BOND_STATUS_BONDED");
    assert_eq!(validators["validators"][0]["tokens"], "10000000");
    node.send(&bob_addr, "3000000ucsp");
    for args in [
        vec![
            "tx",
            "staking",
            "delegate",
            &validator,
            "2000000ucsp",
            "--from",
            "bob",
        ],
        vec![
            "tx",
            "staking",
            "unbond",
            &validator,
            "500000ucsp",
            "--from",
            "bob",
        ],
    ] {
        let mut full = args.clone();
        full.extend([
            "--keyring-backend",
            "test",
            "--node",
            &node_flag,
            "-o",
            "json",
        ]);
        let r = json_out(&node.cli(&full));
        assert_eq!(r["code"], 0, "{r}");
    }
    let delegation = json_out(&node.cli(&[
        "query",
        "staking",
        "delegation",
        &bob_addr,
        &validator,
        "--node",
        &node_flag,
        "-o",
        "json",
    ]));
    assert_eq!(
        delegation["delegation_response"]["balance"]["amount"],
        "1500000"
    );
    let unbonding = json_out(&node.cli(&[
        "query",
        "staking",
        "unbonding-delegations",
        &bob_addr,
        "--node",
        &node_flag,
        "-o",
        "json",
    ]));
    assert_eq!(
        unbonding["unbonding_responses"][0]["entries"][0]["balance"],
        "500000"
    );
    let pool = json_out(&node.cli(&[
        "query", "staking", "pool", "--node", &node_flag, "-o", "json",
    ]));
    assert_eq!(pool["pool"]["bonded_tokens"], "11500000");
    let bad = node.cli(&[
        "tx",
        "staking",
        "delegate",
        "caspurvaloper1nope",
        "1ucsp",
        "--from",
        "bob",
        "--keyring-backend",
        "test",
        "--node",
        &node_flag,
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("validator"));

    // Ctrl-C stops cleanly; the same command resumes the same chain.
    let bob_balance = json_out(&node.cli(&[
        "query", "bank", "balances", &bob_addr, "--node", &node_flag, "-o", "json",
    ]))["balances"][0]["amount"]
        .clone();
    let (rpc_port, p2p) = (node.rpc_port, node.p2p);
    let height = node.height();
    assert!(node.interrupt().success());
    let exported = json_out(
        &std::process::Command::new(bin())
            .args(["export", "--home"])
            .arg(&home)
            .output()
            .unwrap(),
    );
    let balances = exported["app_state"]["bank"]["balances"]
        .as_array()
        .unwrap();
    assert!(balances
        .iter()
        .any(|b| b["address"] == bob_addr.as_str() && b["coins"][0]["amount"] == bob_balance));
    let node = DevNode::start(&home, rpc_port, p2p);
    assert!(node.wait_height(height + 2, Duration::from_secs(60)) > height);
    let balances = json_out(&node.cli(&[
        "query", "bank", "balances", &bob_addr, "--node", &node_flag, "-o", "json",
    ]));
    assert_eq!(balances["balances"][0]["amount"], bob_balance);
    // The delegation survived the restart.
    let delegation = json_out(&node.cli(&[
        "query",
        "staking",
        "delegation",
        &bob_addr,
        &validator,
        "--node",
        &node_flag,
        "-o",
        "json",
    ]));
    assert_eq!(
        delegation["delegation_response"]["balance"]["amount"],
        "1500000"
    );
}
