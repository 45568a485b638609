//! Mempool admission, bounds, selection and post-block recheck.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use caspur_app::{App, AppGenesis, BlockInfo};
use caspur_consensus::{FinalizedBlock, TxSource};
use caspur_node::mempool::{Mempool, MempoolConfig};
use caspur_store::{MemState, Overlay, StateRead, StoreError};
use caspur_types::sign::{msg_send, sign_tx, AccountKey, TxParams};
use caspur_types::ErrorCode;
use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};

trait SelectAll {
    fn select_all(&self, max_bytes: usize, max_gas: Option<u64>) -> Vec<Vec<u8>>;
}

impl<T: TxSource> SelectAll for T {
    fn select_all(&self, max_bytes: usize, max_gas: Option<u64>) -> Vec<Vec<u8>> {
        self.select(max_bytes, max_gas, &BTreeSet::new())
    }
}

const CHAIN: &str = "caspur-mempool";

/// Committed state shared between the test (which commits blocks) and the mempool.
#[derive(Clone, Default)]
struct Committed(Arc<RwLock<MemState>>);

impl StateRead for Committed {
    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.0.read().unwrap().0.get(key).cloned())
    }
}

fn key(n: u8) -> AccountKey {
    AccountKey::from_secret(&[n; 32]).unwrap()
}

fn app() -> Arc<App> {
    let genesis = AppGenesis::funded(&[key(1).address(), key(2).address()], 1_000_000);
    Arc::new(App::new(CHAIN, Some(1_000_000), genesis))
}

fn send(from: u8, account_number: u64, sequence: u64, amount: u128) -> Vec<u8> {
    let amount = caspur_types::Coins::normalize([caspur_types::Coin::new("ucsp", amount)]).unwrap();
    let p = TxParams {
        chain_id: CHAIN.into(),
        account_number,
        sequence,
        fee: "1000ucsp".parse().unwrap(),
        gas_limit: 200_000,
        memo: String::new(),
        include_pubkey: true,
    };
    sign_tx(
        &key(from),
        vec![msg_send(&key(from).address(), &key(9).address(), &amount)],
        &p,
    )
}

/// Executes `txs` as block `height` on the committed state.
async fn commit_block(
    app: &App,
    committed: &Committed,
    height: u64,
    txs: Vec<Vec<u8>>,
) -> FinalizedBlock {
    let snapshot = committed.0.read().unwrap().clone();
    let mut o = Overlay::new(&snapshot);
    let results = app
        .execute_block(
            &mut o,
            &BlockInfo {
                height,
                time_ms: height,
            },
            &txs,
        )
        .await
        .unwrap();
    let writes = o.into_writes();
    committed.0.write().unwrap().apply(&writes);
    FinalizedBlock {
        height,
        hash: [height as u8; 32],
        parent: [0; 32],
        proposer: [0; 32],
        time_ms: height,
        txs,
        results,
        block_events: Vec::new(),
        app_hash: [0; 32],
        state_size: 0,
        consensus: Default::default(),
        ..Default::default()
    }
}

async fn setup(config: MempoolConfig) -> (Arc<App>, Committed, Mempool<Committed>) {
    let app = app();
    let committed = Committed::default();
    commit_block(&app, &committed, 1, vec![]).await; // genesis
    let pool = Mempool::new(
        app.clone(),
        config,
        committed.clone(),
        BlockInfo {
            height: 2,
            time_ms: 2,
        },
    );
    (app, committed, pool)
}

#[tokio::test]
async fn consecutive_sequences_duplicates_and_gaps() {
    let (_, _, pool) = setup(MempoolConfig::default()).await;
    for seq in 0..5 {
        pool.add(send(1, 0, seq, 1)).await.unwrap();
    }
    assert_eq!(
        pool.add(send(1, 0, 4, 1)).await.unwrap_err().code,
        ErrorCode::TxInMempoolCache
    );
    assert_eq!(
        pool.add(send(1, 0, 7, 1)).await.unwrap_err().code,
        ErrorCode::WrongSequence
    );
    pool.add(send(2, 1, 0, 1)).await.unwrap();
    assert_eq!(pool.size().0, 6);
    assert_eq!(pool.select_all(usize::MAX, None).len(), 6);
}

#[tokio::test]
async fn bounded_by_count_and_bytes() {
    let two_txs = send(1, 0, 0, 1).len() + send(1, 0, 1, 1).len();
    let by_count = MempoolConfig {
        max_txs: 2,
        ..Default::default()
    };
    let by_bytes = MempoolConfig {
        max_bytes: two_txs + 10,
        ..Default::default()
    };
    for config in [by_count, by_bytes] {
        let (_, _, pool) = setup(config).await;
        pool.add(send(1, 0, 0, 1)).await.unwrap();
        pool.add(send(1, 0, 1, 1)).await.unwrap();
        let full = pool.add(send(1, 0, 2, 1)).await.unwrap_err();
        assert_eq!(full.code, ErrorCode::MempoolIsFull);
    }
}

#[tokio::test]
async fn selection_respects_block_limits_and_keeps_txs() {
    let (_, _, pool) = setup(MempoolConfig::default()).await;
    for seq in 0..4 {
        pool.add(send(1, 0, seq, 1)).await.unwrap();
    }
    // Sizes differ by a byte or two (protobuf omits a zero sequence): budget exactly two.
    let two = send(1, 0, 0, 1).len() + send(1, 0, 1, 1).len();
    assert_eq!(pool.select_all(two, None).len(), 2);
    assert_eq!(pool.select_all(two - 1, None).len(), 1);
    assert_eq!(
        pool.select_all(usize::MAX, Some(450_000)).len(),
        2,
        "2 × 200k gas fits, 3 do not"
    );
    assert_eq!(
        pool.select_all(usize::MAX, None).len(),
        4,
        "selection does not remove"
    );
}

#[tokio::test]
async fn recheck_after_block_drops_included_and_evicts_invalid() {
    let (app, committed, pool) = setup(MempoolConfig::default()).await;
    let txs: Vec<Vec<u8>> = (0..3).map(|seq| send(1, 0, seq, 100)).collect();
    for t in &txs {
        pool.add(t.clone()).await.unwrap();
    }
    // Account 2 queues a tx, then drains its balance in a block the mempool never saw
    // (e.g. proposed by another validator): its queued tx can no longer pay its fee.
    pool.add(send(2, 1, 0, 1)).await.unwrap();
    let block = commit_block(
        &app,
        &committed,
        2,
        vec![txs[0].clone(), send(2, 1, 0, 998_000)],
    )
    .await;
    assert!(
        block.results.iter().all(|r| r.code == 0),
        "{:?}",
        block.results
    );
    pool.on_finalized(&block).await;
    let left = pool.select_all(usize::MAX, None);
    assert_eq!(
        left,
        vec![txs[1].clone(), txs[2].clone()],
        "included tx dropped, account 2's stale tx evicted"
    );
    // The check-state moved on: account 1's next sequence is 3.
    pool.add(send(1, 0, 3, 1)).await.unwrap();
    assert_eq!(
        pool.add(txs[1].clone()).await.unwrap_err().code,
        ErrorCode::TxInMempoolCache
    );
    assert_eq!(
        pool.add(send(1, 0, 1, 1)).await.unwrap_err().code,
        ErrorCode::WrongSequence
    );
    assert_eq!(
        pool.add(txs[0].clone()).await.unwrap_err().code,
        ErrorCode::WrongSequence,
        "included tx cannot come back"
    );
}

/// Lowers the memo limit on the committed state, as a passed params proposal would.
async fn set_max_memo(committed: &Committed, max: u64) {
    use caspur_app::context::Direct;
    use caspur_app::modules::auth::state as auth;
    let snapshot = committed.0.read().unwrap().clone();
    let mut o = Overlay::new(&snapshot);
    let mut params = auth::get_params(&mut Direct(&mut o)).await.unwrap();
    params.max_memo_characters = max;
    auth::set_params(&mut Direct(&mut o), &params).unwrap();
    o.commit_tx();
    let writes = o.into_writes();
    committed.0.write().unwrap().apply(&writes);
}

#[tokio::test]
async fn a_recheck_decodes_again_under_changed_params() {
    let (app, committed, pool) = setup(MempoolConfig::default()).await;
    let with_memo = |sequence: u64, memo: &str| {
        let p = TxParams {
            chain_id: CHAIN.into(),
            account_number: 0,
            sequence,
            fee: "1000ucsp".parse().unwrap(),
            gas_limit: 200_000,
            memo: memo.into(),
            include_pubkey: true,
        };
        let amount = "1ucsp".parse().unwrap();
        sign_tx(
            &key(1),
            vec![msg_send(&key(1).address(), &key(9).address(), &amount)],
            &p,
        )
    };
    let long = with_memo(1, &"m".repeat(200));
    pool.add(with_memo(0, "short")).await.unwrap();
    pool.add(long.clone()).await.unwrap();
    // A block under the same params keeps both (their decoding is reused).
    let block = commit_block(&app, &committed, 2, vec![]).await;
    pool.on_finalized(&block).await;
    assert_eq!(pool.size().0, 2);
    // The memo limit falls below the pending tx's memo: the next re-check must decode it
    // under the new params and evict it, though nothing else about it changed.
    set_max_memo(&committed, 100).await;
    let block = commit_block(&app, &committed, 3, vec![]).await;
    pool.on_finalized(&block).await;
    assert_eq!(
        pool.select_all(usize::MAX, None),
        vec![with_memo(0, "short")]
    );
    assert_eq!(
        pool.add(long).await.unwrap_err().code,
        ErrorCode::MemoTooLarge
    );
}

/// A chain where key 3 is a seated dCERT member allowed to circuit-break.
fn breaker_app() -> Arc<App> {
    let mut genesis = AppGenesis::funded(
        &[key(1).address(), key(2).address(), key(3).address()],
        1_000_000,
    );
    genesis.dcert.params.circuit_break_enabled = true;
    genesis.dcert.params.min_member_stake = "1000".into();
    genesis.dcert.candidates = vec![caspur_app::modules::dcert::GenesisCandidate {
        address: key(3).address().to_string(),
        description: String::new(),
        encryption_key: String::new(),
        bond: "1000".into(),
        member: true,
    }];
    Arc::new(App::new(CHAIN, Some(1_000_000), genesis))
}

#[tokio::test]
async fn a_tripped_breaker_evicts_every_pending_tx_of_its_route_from_a_full_mempool() {
    let app = breaker_app();
    let committed = Committed::default();
    commit_block(&app, &committed, 1, vec![]).await;
    let config = MempoolConfig {
        max_txs: 20,
        ..MempoolConfig::default()
    };
    let next = BlockInfo {
        height: 2,
        time_ms: 2,
    };
    let pool = Mempool::new(app.clone(), config, committed.clone(), next);
    for seq in 0..10 {
        pool.add(send(1, 0, seq, 1)).await.unwrap();
        pool.add(send(2, 1, seq, 1)).await.unwrap();
    }
    assert_eq!(
        pool.add(send(1, 0, 10, 1)).await.unwrap_err().code,
        ErrorCode::MempoolIsFull
    );
    let break_send = caspur_types::sign::to_any(
        "/caspur.dcert.v1.MsgCircuitBreak",
        &caspur_types::proto::dcert::v1::MsgCircuitBreak {
            member: key(3).address().to_string(),
            routes: vec!["/cosmos.bank.v1beta1.MsgSend".into()],
            reason: "drain in progress".into(),
            incident_id: 0,
        },
    );
    let p = TxParams {
        chain_id: CHAIN.into(),
        account_number: 2,
        sequence: 0,
        fee: "1000ucsp".parse().unwrap(),
        gas_limit: 200_000,
        memo: String::new(),
        include_pubkey: true,
    };
    let block = commit_block(
        &app,
        &committed,
        2,
        vec![sign_tx(&key(3), vec![break_send], &p)],
    )
    .await;
    assert_eq!(block.results[0].code, 0, "{}", block.results[0].log);
    pool.on_finalized(&block).await;
    assert_eq!(pool.size().0, 0, "every pending MsgSend was evicted");
    assert!(pool.select_all(usize::MAX, None).is_empty());
    let refused = pool.add(send(1, 0, 0, 1)).await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::RouteBroken, "{refused:?}");
}
