//! `caspurd bench tx-throughput`: signed `MsgSend` throughput through the full execution path
//! (decode → signature verification → execution → merkleize → durable QMDB commit) on one
//! node, measured in the same run as the raw secp256k1 verification rate on all cores by
//! libsecp256k1 — the ceiling the full path is compared with — and, for reference, by k256.
#![allow(
    clippy::expect_used,
    reason = "a benchmark harness over inputs it builds itself; a failure is a bug to see at once"
)]

use caspur_app::{App, AppGenesis, BlockInfo};
use caspur_store::qmdb::DirectStore;
use caspur_store::{MemState, Overlay, ReadMemo};
use caspur_types::error::TxError;
use caspur_types::sign::{msg_send, sign_tx, AccountKey, TxParams};
use caspur_types::sigverify::reference::verify_k256;
use caspur_types::tx::{decode_tx, sign_doc_bytes, verify_secp256k1};
use commonware_runtime::{tokio as cw_tokio, Runner as _, Supervisor as _};
use serde::Serialize;
use std::path::Path;
use std::time::{Duration, Instant};

const CHAIN: &str = "caspur-bench";

/// What the benchmark measured.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Signed txs executed.
    pub txs: usize,
    /// Txs per block.
    pub block_size: usize,
    /// Threads used for verification.
    pub threads: usize,
    /// Alternating measurement rounds (figures are medians).
    pub rounds: usize,
    /// Raw secp256k1 verifications per second on all cores, by libsecp256k1 (what the chain
    /// runs): the ceiling.
    pub raw_verify_per_sec: f64,
    /// The same verifications by k256 (the chain's verifier before), for reference.
    pub k256_verify_per_sec: f64,
    /// Txs per second through the full path.
    pub full_path_per_sec: f64,
    /// Median over rounds of `full / raw` measured in the same round.
    pub ratio: f64,
    /// Share of full-path time in block execution (decode, verify, ante, messages).
    pub execute_share: f64,
    /// Share of full-path time in merkleizing and durably committing state.
    pub commit_share: f64,
    /// CheckTx per tx on one core, as the mempool admits txs one after another against one
    /// check-state (decode, stateless checks, signature, ante and message): microseconds.
    pub check_tx_micros: f64,
    /// The mempool's re-check of each of those txs after a block, on one core (ante handler
    /// and circuit breaker, signatures already verified): microseconds.
    pub recheck_micros: f64,
    /// One libsecp256k1 verification on one core, for comparison: microseconds.
    pub verify_one_core_micros: f64,
}

fn key(i: usize) -> AccountKey {
    let mut secret = [0u8; 32];
    secret[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
    secret[31] = 1;
    AccountKey::from_secret(&secret).expect("valid secret")
}

fn genesis(accounts: &[AccountKey]) -> AppGenesis {
    let addresses: Vec<_> = accounts.iter().map(AccountKey::address).collect();
    AppGenesis::funded(&addresses, 1_000_000_000_000)
}

/// Signs `txs` sends round-robin over `accounts` senders (each with consecutive sequences).
fn signed_txs(accounts: &[AccountKey], txs: usize) -> Vec<Vec<u8>> {
    let one: caspur_types::Coins = "1ucsp".parse().expect("coins");
    (0..txs)
        .map(|i| {
            let from = &accounts[i % accounts.len()];
            let to = &accounts[(i + 1) % accounts.len()];
            let params = TxParams {
                chain_id: CHAIN.into(),
                account_number: (i % accounts.len()) as u64,
                sequence: (i / accounts.len()) as u64,
                fee: "500ucsp".parse().expect("coins"),
                gas_limit: 200_000,
                memo: String::new(),
                include_pubkey: true,
            };
            sign_tx(
                from,
                vec![msg_send(&from.address(), &to.address(), &one)],
                &params,
            )
        })
        .collect()
}

/// One signature rule implementation.
type Verify = fn(&[u8; 33], &[u8], &[u8]) -> Result<(), TxError>;

/// The signature jobs of `txs`: key, sign document, signature.
fn verify_jobs(txs: &[Vec<u8>], accounts: &[AccountKey]) -> Vec<([u8; 33], Vec<u8>, Vec<u8>)> {
    txs.iter()
        .enumerate()
        .map(|(i, raw)| {
            let tx = decode_tx(raw, usize::MAX).expect("bench tx decodes");
            let n = i % accounts.len();
            let doc = sign_doc_bytes(&tx.body_bytes, &tx.auth_info_bytes, CHAIN, n as u64);
            (accounts[n].public_key(), doc, tx.signatures[0].clone())
        })
        .collect()
}

/// Verifies every job with `verify` on `threads` threads; returns verifications per second.
fn raw_verify_rate(jobs: &[([u8; 33], Vec<u8>, Vec<u8>)], verify: Verify, threads: usize) -> f64 {
    let start = Instant::now();
    let chunk = jobs.len().div_ceil(threads);
    std::thread::scope(|s| {
        for part in jobs.chunks(chunk) {
            s.spawn(move || {
                for (pk, doc, sig) in part {
                    verify(pk, doc, sig).expect("bench signature verifies");
                }
            });
        }
    });
    jobs.len() as f64 / start.elapsed().as_secs_f64()
}

/// The writes of block 1 (genesis) over `state`.
async fn genesis_writes<S: caspur_store::StateRead>(
    app: &App,
    state: &S,
) -> Result<caspur_store::WriteSet, String> {
    let mut o = Overlay::new(state);
    let info = BlockInfo {
        height: 1,
        time_ms: 1,
    };
    app.execute_block(&mut o, &info, &[])
        .await
        .map_err(|e| e.to_string())?;
    Ok(o.into_writes())
}

/// Executes and commits `signed` in blocks on a fresh store under `dir`; returns the time in
/// execution and in merkleize + durable commit.
fn full_path(
    dir: &Path,
    app: &App,
    signed: &[Vec<u8>],
    block_size: usize,
) -> Result<(Duration, Duration), String> {
    let runner =
        cw_tokio::Runner::new(cw_tokio::Config::new().with_storage_directory(dir.to_path_buf()));
    runner.start(|context| async move {
        let mut store = DirectStore::open(context.child("bench"), "bench")
            .await
            .map_err(|e| e.to_string())?;
        // Block 1 writes genesis; it is not measured.
        let writes = genesis_writes(app, &store).await?;
        store.apply(writes).await.map_err(|e| e.to_string())?;
        let (mut execute, mut commit) = (Duration::ZERO, Duration::ZERO);
        for (i, block) in signed.chunks(block_size).enumerate() {
            let info = BlockInfo {
                height: 2 + i as u64,
                time_ms: 2 + i as u64,
            };
            let t0 = Instant::now();
            let (results, writes) = {
                let mut o = Overlay::new(&store);
                let r = app
                    .execute_block(&mut o, &info, block)
                    .await
                    .map_err(|e| e.to_string())?;
                (r, o.into_writes())
            };
            let t1 = Instant::now();
            store.apply(writes).await.map_err(|e| e.to_string())?;
            commit += t1.elapsed();
            execute += t1 - t0;
            if let Some(bad) = results.iter().find(|r| r.code != 0) {
                return Err(format!("a bench tx failed: {}", bad.log));
            }
        }
        Ok((execute, commit))
    })
}

/// CheckTx of every tx in order against one check-state on a fresh app (CheckTx remembers
/// the signatures it verified, which must not spare the full path its verifications), then
/// the re-check of every one of them as the mempool runs it after a block: microseconds per
/// tx of each.
fn check_tx_micros(app: &App, signed: &[Vec<u8>]) -> Result<(f64, f64), String> {
    futures::executor::block_on(async {
        let mut committed = MemState::default();
        let writes = genesis_writes(app, &committed).await?;
        committed.apply(&writes);
        let next = BlockInfo {
            height: 2,
            time_ms: 2,
        };
        let mut check_state = Overlay::new(ReadMemo::new(&committed));
        let mut checked = Vec::with_capacity(signed.len());
        let start = Instant::now();
        for raw in signed {
            let c = app
                .check_tx(&mut check_state, raw, &next, None)
                .await
                .map_err(|e| format!("a bench tx failed CheckTx: {}", e.message))?;
            checked.push(c);
        }
        let check = start.elapsed().as_secs_f64() * 1e6 / signed.len() as f64;
        let mut recheck_state = Overlay::new(ReadMemo::new(&committed));
        let start = Instant::now();
        for (raw, c) in signed.iter().zip(&checked) {
            app.recheck_tx(&mut recheck_state, raw, &next, None, c)
                .await
                .map_err(|e| format!("a bench tx failed its re-check: {}", e.message))?;
        }
        let recheck = start.elapsed().as_secs_f64() * 1e6 / signed.len() as f64;
        Ok((check, recheck))
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs the benchmark with storage under `dir`: `rounds` alternations of the raw ceiling and
/// the full path (each on a fresh store), reporting medians — this machine is noisy, and
/// alternating exposes both measurements to the same conditions.
pub fn tx_throughput(
    dir: &Path,
    txs: usize,
    accounts: usize,
    block_size: usize,
    rounds: usize,
) -> Result<Report, String> {
    if txs == 0 || accounts == 0 || block_size == 0 || rounds == 0 {
        return Err("txs, accounts, block size and rounds must be positive".into());
    }
    let keys: Vec<AccountKey> = (0..accounts).map(key).collect();
    let signed = signed_txs(&keys, txs);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let app = App::new(CHAIN, None, genesis(&keys));
    let jobs = verify_jobs(&signed, &keys);
    let (mut raws, mut k256s, mut fulls, mut ratios, mut exec_shares) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut checks, mut rechecks, mut one_core) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let (check, recheck) = check_tx_micros(&App::new(CHAIN, None, genesis(&keys)), &signed)?;
        checks.push(check);
        rechecks.push(recheck);
        one_core.push(1e6 / raw_verify_rate(&jobs, verify_secp256k1, 1));
        let raw = raw_verify_rate(&jobs, verify_secp256k1, threads);
        k256s.push(raw_verify_rate(&jobs, verify_k256, threads));
        let (execute, commit) = full_path(
            &dir.join(format!("round-{round}")),
            &app,
            &signed,
            block_size,
        )?;
        let total = (execute + commit).as_secs_f64();
        let full = txs as f64 / total;
        raws.push(raw);
        fulls.push(full);
        ratios.push(full / raw);
        exec_shares.push(execute.as_secs_f64() / total);
    }
    let execute_share = median(exec_shares);
    Ok(Report {
        txs,
        block_size,
        threads,
        rounds,
        raw_verify_per_sec: median(raws),
        k256_verify_per_sec: median(k256s),
        full_path_per_sec: median(fulls),
        ratio: median(ratios),
        execute_share,
        commit_share: 1.0 - execute_share,
        check_tx_micros: median(checks),
        recheck_micros: median(rechecks),
        verify_one_core_micros: median(one_core),
    })
}
