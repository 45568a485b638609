//! A recorded chain replays to the same app hashes. `tests/fixtures/recorded_chain.json` holds
//! blocks of signed txs — valid sends, high-S twins, flipped signature bits, signatures by the
//! wrong key, a wrong chain id — with the app hash and results each block produced when it was
//! recorded (with k256 verifying signatures, before the switch to libsecp256k1). Replaying them
//! into a fresh QMDB store must give every recorded app hash and results encoding: the
//! verifier switch changed no outcome.
//!
//! Re-record only for an intended state-machine change, with the binary *before* it:
//! `CASPUR_RECORD_CHAIN=1 cargo nextest run -p caspur-app --test recorded_chain`. One layout
//! change since: on 2026-12-05 the last block's results left the state (they were a blob under
//! key `00 01`), which changed every app hash; the app hashes were re-recorded then, and the
//! txs, codes and results digests recorded with k256 stayed byte for byte as they were (the
//! fixture's diff of that commit touches `app_hash` lines only).

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use base64::Engine as _;
use caspur_app::{encode_results, App, BlockInfo};
use caspur_types::sign::msg_send;
use caspur_types::{Coin, Coins};
use common::*;
use cosmos_sdk_proto::cosmos::tx::v1beta1::TxRaw;
use prost::Message as _;
use serde_json::{json, Value};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/recorded_chain.json"
);
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn ucsp(amount: u128) -> Coins {
    Coins::normalize([Coin::new("ucsp", amount)]).unwrap()
}

/// `raw` with its first signature replaced by `edit` of it.
fn resigned(raw: &[u8], edit: impl Fn(&mut Vec<u8>)) -> Vec<u8> {
    let mut tx = TxRaw::decode(raw).unwrap();
    edit(&mut tx.signatures[0]);
    tx.encode_to_vec()
}

/// s → n − s: the high-S twin of a valid signature.
fn high_s(sig: &mut Vec<u8>) {
    let parsed = k256::ecdsa::Signature::from_slice(sig).unwrap();
    let (r, s) = parsed.split_scalars();
    *sig = k256::ecdsa::Signature::from_scalars(r, -*s)
        .unwrap()
        .to_bytes()
        .to_vec();
}

/// The chain to record: per block, txs whose signatures fail each way, then sends that pass.
/// A failing tx uses the sequence its account's passing send takes after it, so a failure
/// that wrongly passed would change state and every later app hash.
fn signature_chain() -> Chain {
    let mut chain = Chain::new(Default::default());
    for round in 0..8u32 {
        let base = chain.tx(2, vec![msg_send(&addr(2), &addr(3), &ucsp(7))]);
        let mut txs = vec![
            resigned(&base, high_s),
            resigned(&base, |sig| sig[(round as usize * 7) % 64] ^= 0x10),
            resigned(&base, |sig| sig.truncate(63)),
        ];
        // Key 3's tx carrying another account's signature.
        let foreign = chain.tx(4, vec![msg_send(&addr(4), &addr(2), &ucsp(5))]);
        let foreign = TxRaw::decode(foreign.as_slice()).unwrap().signatures[0].clone();
        let own = chain.tx(3, vec![msg_send(&addr(3), &addr(2), &ucsp(5))]);
        txs.push(resigned(&own, |sig| *sig = foreign.clone()));
        for n in [2u8, 3, 4] {
            let to = addr(if n == 4 { 2 } else { n + 1 });
            let amount = ucsp(1 + u128::from(round));
            txs.push(chain.tx(n, vec![msg_send(&addr(n), &to, &amount)]));
        }
        let results = chain.block(txs, 1_000);
        let codes: Vec<u32> = results.iter().map(|r| r.code).collect();
        assert_eq!(codes[4..], [0, 0, 0], "the sends pass: {codes:?}");
        assert!(
            codes[..4].iter().all(|c| *c != 0),
            "the forgeries fail: {codes:?}"
        );
    }
    chain
}

/// Replays `blocks` into a fresh QMDB store; per block, the app hash, the results encoding
/// and the codes.
fn replay(app: &App, blocks: &[(BlockInfo, Vec<Vec<u8>>)]) -> Vec<([u8; 32], Vec<u8>, Vec<u32>)> {
    replay_into_qmdb(app, blocks)
        .into_iter()
        .map(|(hash, results)| {
            let codes = results.iter().map(|r| r.code).collect();
            (hash, encode_results(&results), codes)
        })
        .collect()
}

fn record() {
    let chain = signature_chain();
    let replayed = replay(&chain.app, &chain.blocks);
    let blocks: Vec<Value> = chain
        .blocks
        .iter()
        .zip(&replayed)
        .map(|((info, txs), (hash, results, codes))| {
            json!({
                "height": info.height,
                "time_ms": info.time_ms,
                "txs": txs.iter().map(|t| B64.encode(t)).collect::<Vec<_>>(),
                "app_hash": hex::encode(hash),
                "results_sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(results)),
                "codes": codes,
            })
        })
        .collect();
    let text = serde_json::to_string_pretty(&json!({ "blocks": blocks })).unwrap();
    std::fs::create_dir_all(std::path::Path::new(FIXTURE).parent().unwrap()).unwrap();
    std::fs::write(FIXTURE, text + "\n").unwrap();
}

#[test]
fn the_recorded_chain_replays_to_every_recorded_app_hash() {
    if std::env::var_os("CASPUR_RECORD_CHAIN").is_some() {
        record();
    }
    let fixture: Value = serde_json::from_slice(&std::fs::read(FIXTURE).unwrap()).unwrap();
    let recorded = fixture["blocks"].as_array().unwrap();
    let blocks: Vec<(BlockInfo, Vec<Vec<u8>>)> = recorded
        .iter()
        .map(|b| {
            let info = BlockInfo {
                height: b["height"].as_u64().unwrap(),
                time_ms: b["time_ms"].as_u64().unwrap(),
            };
            let txs = b["txs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| B64.decode(t.as_str().unwrap()).unwrap())
                .collect();
            (info, txs)
        })
        .collect();
    // The app the chain was recorded on: the same genesis.
    let app = Chain::new(Default::default()).app;
    let replayed = replay(&app, &blocks);
    let mut refused = 0;
    for ((b, (hash, results, codes)), (info, _)) in recorded.iter().zip(&replayed).zip(&blocks) {
        let h = info.height;
        assert_eq!(b["app_hash"], hex::encode(hash), "app hash at height {h}");
        let digest = <sha2::Sha256 as sha2::Digest>::digest(results);
        assert_eq!(
            b["results_sha256"],
            hex::encode(digest),
            "results at height {h}"
        );
        assert_eq!(b["codes"], json!(codes), "codes at height {h}");
        refused += codes.iter().filter(|c| **c != 0).count();
    }
    assert_eq!(replayed.len(), recorded.len());
    // 8 blocks, each with 4 txs whose signatures fail.
    assert!(refused >= 32, "only {refused} txs were refused");
}
