//! One validator on the full stack (simplex + marshal + glue + QMDB) under the deterministic
//! runtime: signed txs are finalized, and replaying the finalized blocks into a fresh store
//! reproduces every app hash and every result the node handed on (logs included) — also when
//! no executed block's results are kept and each finalization re-executes its block for them.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use caspur_app::{App, AppGenesis, BlockInfo};
use caspur_consensus::pending_results::PendingResults;
use caspur_consensus::FinalizedBlock;
use caspur_store::qmdb::verify_proof;
use caspur_store::qmdb::DirectStore;
use caspur_store::{Overlay, StateProve as _};
use caspur_types::sign::{msg_send, sign_tx, AccountKey, TxParams};
use commonware_runtime::{deterministic, Clock, Runner as _, Supervisor as _};
use std::sync::Arc;
use std::time::Duration;

mod common;

use common::Pool;

const CHAIN: &str = "caspur-sim";

fn genesis(funded: &AccountKey) -> AppGenesis {
    AppGenesis::funded(&[funded.address()], 1_000_000_000)
}

/// `n` sends from `key`; the last overdraws its balance (it fails, with a log).
fn signed_sends(key: &AccountKey, n: u64) -> Vec<Vec<u8>> {
    (0..n)
        .map(|seq| {
            let to = AccountKey::from_secret(&[100 + seq as u8; 32]).unwrap();
            let amount = caspur_types::Coins::normalize([caspur_types::Coin::new(
                "ucsp",
                if seq + 1 == n {
                    1 << 40
                } else {
                    1000 + seq as u128
                },
            )])
            .unwrap();
            let params = TxParams {
                chain_id: CHAIN.into(),
                account_number: 0,
                sequence: seq,
                fee: "2000ucsp".parse().unwrap(),
                gas_limit: 200_000,
                memo: String::new(),
                include_pubkey: true,
            };
            sign_tx(
                key,
                vec![msg_send(&key.address(), &to.address(), &amount)],
                &params,
            )
        })
        .collect()
}

/// Runs one validator (keeping executed results in `kept`) until `target` blocks are finalized;
/// returns them.
fn run(seed: u64, target: u64, kept: PendingResults) -> Vec<FinalizedBlock> {
    let runner = deterministic::Runner::new(
        deterministic::Config::new()
            .with_seed(seed)
            .with_timeout(Some(Duration::from_secs(600))),
    );
    runner.start(|ctx| async move {
        let funded = AccountKey::from_secret(&[7; 32]).unwrap();
        let app = Arc::new(App::new(CHAIN, Some(10_000_000), genesis(&funded)));
        let pending = Arc::new(Pool::new(3));
        pending
            .txs
            .lock()
            .unwrap()
            .extend(signed_sends(&funded, 13));
        let node = common::single::start_keeping(&ctx, app.clone(), pending, kept).await;
        let recorder = node.recorder.clone();
        loop {
            if recorder.blocks.lock().unwrap().len() as u64 >= target {
                break;
            }
            ctx.sleep(Duration::from_millis(100)).await;
        }
        let blocks: Vec<FinalizedBlock> = recorder
            .blocks
            .lock()
            .unwrap()
            .values()
            .take(target as usize)
            .cloned()
            .collect();

        // Replay into a fresh store, independently of glue.
        let mut store = DirectStore::open(ctx.child("replay"), "replay")
            .await
            .unwrap();
        for b in &blocks {
            let info = BlockInfo {
                height: b.height,
                time_ms: b.time_ms,
            };
            let writes = {
                let mut overlay = Overlay::new(&store);
                let results = app
                    .execute_block(&mut overlay, &info, &b.txs)
                    .await
                    .unwrap();
                assert_eq!(results, b.results, "results differ at height {}", b.height);
                overlay.into_writes()
            };
            let root = store.apply(writes).await.unwrap();
            assert_eq!(
                root.as_ref(),
                &b.app_hash,
                "app hash differs at height {}",
                b.height
            );
        }

        // Proofs against the last block's app hash: the funded account's balance is included,
        // a never-used key is excluded, and tampering with anything fails verification.
        let root = blocks.last().unwrap().app_hash;
        let key = caspur_app::modules::bank::state::balance_key(&funded.address(), "ucsp");
        let p = store.prove(&key).await.unwrap();
        assert_eq!(p.root, root);
        let value = p.value.clone().expect("funded balance exists");
        assert!(verify_proof(&key, Some(&value), &p.proof, &root));
        let mut other = value.clone();
        other[15] ^= 1;
        assert!(
            !verify_proof(&key, Some(&other), &p.proof, &root),
            "tampered value"
        );
        assert!(
            !verify_proof(&key, Some(&value), &p.proof, &[0; 32]),
            "wrong root"
        );
        assert!(
            !verify_proof(&key, None, &p.proof, &root),
            "inclusion proof used as exclusion"
        );
        let mut bad = p.proof.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(
            !verify_proof(&key, Some(&value), &bad, &root),
            "tampered proof"
        );
        let absent = caspur_app::modules::bank::state::balance_key(&funded.address(), "unope");
        let q = store.prove(&absent).await.unwrap();
        assert_eq!(q.value, None);
        assert!(verify_proof(&absent, None, &q.proof, &root));
        assert!(
            !verify_proof(&key, None, &q.proof, &root),
            "exclusion proof for a present key"
        );
        assert!(!verify_proof(&absent, None, &[], &root));
        blocks
    })
}

#[test]
fn finalizes_txs_and_replay_reproduces_app_hashes() {
    let blocks = run(1, 8, PendingResults::default());
    let heights: Vec<u64> = blocks.iter().map(|b| b.height).collect();
    assert_eq!(heights, (1..=8).collect::<Vec<_>>());
    let results: Vec<_> = blocks.iter().flat_map(|b| b.results.clone()).collect();
    assert_eq!(
        results.len(),
        13,
        "every submitted tx is finalized exactly once"
    );
    assert!(results[..12].iter().all(|r| r.code == 0), "{results:?}");
    // The execution's own log reaches the node (results are not read back from state).
    assert!(
        results[12].log.contains("smaller than"),
        "{:?}",
        results[12]
    );
    for pair in blocks.windows(2) {
        assert!(pair[1].time_ms > pair[0].time_ms);
        assert_eq!(pair[1].parent, pair[0].hash);
    }
    // Same seed, same blocks: the run is reproducible bit for bit — also when no executed
    // block's results are kept, so that every finalization executes its block once more.
    let again = run(1, 8, PendingResults::with_capacity(0));
    assert_eq!(
        blocks.iter().map(|b| b.app_hash).collect::<Vec<_>>(),
        again.iter().map(|b| b.app_hash).collect::<Vec<_>>()
    );
    assert_eq!(
        blocks.iter().map(|b| &b.results).collect::<Vec<_>>(),
        again.iter().map(|b| &b.results).collect::<Vec<_>>()
    );
}
