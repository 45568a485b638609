//! A storage fault during execution stops the node and never becomes a tx failure: one
//! validator under the deterministic runtime finalizes blocks, then the store under its state
//! machine fails every read (`StateFaults`); the next execution hits the fault, the node halts
//! once naming the height and the storage error, and no finalized block ever carries an `Io`
//! result.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use caspur_app::{App, AppGenesis};
use caspur_consensus::upgrade_halt::Halted;
use caspur_types::sign::{msg_send, sign_tx, AccountKey, TxParams};
use caspur_types::ErrorCode;
use commonware_runtime::{deterministic, Clock, Runner as _};
use futures::FutureExt as _;
use std::sync::Arc;
use std::time::Duration;

mod common;

use common::Pool;

const CHAIN: &str = "caspur-fault";

/// `n` sends from `key`, each to a new account (so every block reads state it never wrote).
fn sends(key: &AccountKey, n: u64) -> Vec<Vec<u8>> {
    let one = caspur_types::Coins::normalize([caspur_types::Coin::new("ucsp", 1)]).unwrap();
    (0..n)
        .map(|sequence| {
            let to = AccountKey::from_secret(&[50 + sequence as u8; 32]).unwrap();
            sign_tx(
                key,
                vec![msg_send(&key.address(), &to.address(), &one)],
                &TxParams {
                    chain_id: CHAIN.into(),
                    account_number: 0,
                    sequence,
                    fee: "1ucsp".parse().unwrap(),
                    gas_limit: 200_000,
                    memo: String::new(),
                    include_pubkey: true,
                },
            )
        })
        .collect()
}

#[test]
fn a_storage_fault_during_execution_halts_the_node_and_commits_no_failure() {
    let runner = deterministic::Runner::new(
        deterministic::Config::new()
            .with_seed(3)
            .with_timeout(Some(Duration::from_secs(600))),
    );
    runner.start(|ctx| async move {
        let funded = AccountKey::from_secret(&[7; 32]).unwrap();
        let genesis = AppGenesis::funded(&[funded.address()], 1_000_000_000);
        let app = Arc::new(App::new(CHAIN, Some(10_000_000), genesis));
        let pending = Arc::new(Pool::new(1));
        pending.txs.lock().unwrap().extend(sends(&funded, 40));
        let node = common::single::start(&ctx, app, pending).await;
        while node.recorder.blocks.lock().unwrap().len() < 3 {
            ctx.sleep(Duration::from_millis(100)).await;
        }
        let armed = node.recorder.blocks.lock().unwrap().len() as u64 + 2;
        node.faults.fail_reads_from(armed);

        let halted = futures::select! {
            h = node.halt.raised().fuse() => h,
            _ = ctx.sleep(Duration::from_secs(60)).fuse() => panic!("the node never halted"),
        };
        let Halted::BadBlock { height, error } = halted else {
            panic!("halted for an upgrade: {halted:?}");
        };
        assert!(error.contains("storage"), "{error}");
        assert!(height >= armed, "halted at {height}, faults from {armed}");
        assert!(
            blocks_before(&node, armed),
            "blocks before the fault were finalized"
        );
        let blocks = node.recorder.blocks.lock().unwrap();
        for block in blocks.values() {
            for r in &block.results {
                assert_ne!(
                    r.code,
                    ErrorCode::Io.code(),
                    "a fault committed as a tx failure at {}",
                    block.height
                );
            }
        }
        assert!(
            blocks.keys().all(|h| *h < height),
            "a block at or past the halt was finalized"
        );
    });
}

fn blocks_before(node: &common::single::Single, armed: u64) -> bool {
    let blocks = node.recorder.blocks.lock().unwrap();
    (1..armed).all(|h| blocks.contains_key(&h))
}
