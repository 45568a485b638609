//! A block whose tx results outgrow one store value (the store caps a value at 4 MiB) is
//! executed and committed, the store reopens at its root, and re-execution gives the same
//! results and app hash (issue 15, finding 2: such a block once made every validator panic on
//! every restart). Results are no longer state at all: the block writes none of them.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use caspur_app::{App, AppGenesis, BlockInfo};
use caspur_store::qmdb::{DirectStore, MAX_VALUE_LEN};
use caspur_store::Overlay;
use caspur_types::sign::{msg_send, sign_tx, AccountKey, TxParams};
use commonware_runtime::{deterministic, Runner as _, Supervisor as _};

const CHAIN: &str = "caspur-large-results";

/// `txs` txs from `key`, each with the most messages a tx may carry.
fn big_txs(key: &AccountKey, txs: u64) -> Vec<Vec<u8>> {
    let to = AccountKey::from_secret(&[9; 32]).unwrap().address();
    let one = caspur_types::Coins::normalize([caspur_types::Coin::new("ucsp", 1)]).unwrap();
    (0..txs)
        .map(|sequence| {
            let msgs = (0..caspur_app::limits::MAX_TX_MSGS)
                .map(|_| msg_send(&key.address(), &to, &one))
                .collect();
            sign_tx(
                key,
                msgs,
                &TxParams {
                    chain_id: CHAIN.into(),
                    account_number: 0,
                    sequence,
                    fee: "1ucsp".parse().unwrap(),
                    gas_limit: 1 << 34,
                    memo: String::new(),
                    include_pubkey: true,
                },
            )
        })
        .collect()
}

async fn execute(
    app: &App,
    store: &mut DirectStore<deterministic::Context>,
    height: u64,
    txs: &[Vec<u8>],
) -> Vec<caspur_app::TxResult> {
    let info = BlockInfo {
        height,
        time_ms: 1_700_000_000_000 + height * 1000,
    };
    let (results, writes) = {
        let mut overlay = Overlay::new(&*store);
        let results = app.execute_block(&mut overlay, &info, txs).await.unwrap();
        (results, overlay.into_writes())
    };
    // The key that once held the last block's results (and its chunks) stays unused.
    assert!(
        !writes.keys().any(|k| k.starts_with(&[0x00, 0x01])),
        "results written to state"
    );
    store.apply(writes).await.unwrap();
    results
}

#[test]
fn results_larger_than_a_store_value_are_executed_committed_and_replayed() {
    deterministic::Runner::default().start(|ctx| async move {
        let key = AccountKey::from_secret(&[7; 32]).unwrap();
        let app = App::new(
            CHAIN,
            None,
            AppGenesis::funded(&[key.address()], 1_000_000_000_000),
        );
        let txs = big_txs(&key, 32);
        let mut store = DirectStore::open(ctx.child("a"), "large").await.unwrap();
        execute(&app, &mut store, 1, &[]).await;
        let results = execute(&app, &mut store, 2, &txs).await;
        assert!(results.iter().all(|r| r.code == 0), "{:?}", results[0].log);
        let encoded = caspur_app::encode_results(&results).len();
        assert!(encoded > MAX_VALUE_LEN, "results are {encoded} bytes");
        let root = store.root().unwrap();
        store.persist().await.unwrap();
        drop(store);

        // Reopened (a restart): the same root, and the chain goes on.
        let mut store = DirectStore::open(ctx.child("b"), "large").await.unwrap();
        assert_eq!(store.root().unwrap(), root);
        assert!(execute(&app, &mut store, 3, &[]).await.is_empty());

        // Re-execution from genesis on a fresh store reaches the same root at height 2.
        let mut replay = DirectStore::open(ctx.child("c"), "replay").await.unwrap();
        execute(&app, &mut replay, 1, &[]).await;
        assert_eq!(execute(&app, &mut replay, 2, &txs).await, results);
        assert_eq!(replay.root().unwrap(), root);
    });
}
