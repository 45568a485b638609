//! What the circuit breaker costs CheckTx (issue 7's benchmark; `caspurd bench circuit`): the
//! same signed `MsgSend` txs checked against state without broken routes and with `routes`
//! broken routes (none of them covering `MsgSend`, so both runs admit every tx), alternating
//! rounds in one process; the ratio of the medians is the overhead of 1,000 routes over none.
//! The breaker's own check (every message of every tx, nested ones included) is also timed on
//! its own, giving CheckTx's time against CheckTx without the breaker at all.

use super::median;
use caspur_app::context::Direct;
use caspur_app::error::ExecError;
use caspur_app::modules::circuit::state::{set_broken, BrokenRoute};
use caspur_app::{App, AppGenesis, BlockInfo};
use caspur_store::{MemState, Overlay};
use caspur_types::sign::{msg_send, sign_tx, AccountKey, TxParams};
use caspur_types::{Coin, Coins};
use std::time::Instant;

/// The figures.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CheckTxBench {
    /// Txs checked per round.
    pub txs: usize,
    /// Broken routes in the second state.
    pub routes: usize,
    /// Rounds of each.
    pub rounds: usize,
    /// Median CheckTx rate without broken routes, tx/s.
    pub without_per_sec: f64,
    /// Median CheckTx rate with the broken routes, tx/s.
    pub with_per_sec: f64,
    /// Time with / time without (1.00 = no overhead).
    pub ratio: f64,
    /// Median time of the breaker's check alone over the same txs, with the routes broken,
    /// as a share of CheckTx's time with them.
    pub breaker_share: f64,
    /// CheckTx with the broken routes / CheckTx without any breaker check.
    pub ratio_to_no_breaker: f64,
}

const CHAIN: &str = "caspur-bench";

/// Runs the benchmark.
pub fn run(txs: usize, routes: usize, rounds: usize) -> Result<CheckTxBench, ExecError> {
    let keys: Vec<AccountKey> = (0..txs)
        .map(|i| {
            let mut secret = [7u8; 32];
            secret[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
            AccountKey::from_secret(&secret)
                .ok_or_else(|| ExecError::logic("benchmark key out of range"))
        })
        .collect::<Result<_, _>>()?;
    let addresses: Vec<_> = keys.iter().map(|k| k.address()).collect();
    let app = App::new(CHAIN, None, AppGenesis::funded(&addresses, 1_000_000_000));
    let genesis = BlockInfo {
        height: 1,
        time_ms: 1_700_000_000_000,
    };
    let mut plain = MemState::default();
    let writes = futures::executor::block_on(async {
        let mut o = Overlay::new(&plain);
        app.execute_block(&mut o, &genesis, &[])
            .await
            .map_err(caspur_app::context::store_err)?;
        Ok::<_, ExecError>(o.into_writes())
    })?;
    plain.apply(&writes);
    let mut broken = plain.clone();
    let writes = {
        let mut o = Overlay::new(&broken);
        for i in 0..routes {
            set_broken(
                &mut Direct(&mut o),
                &BrokenRoute {
                    route: format!("/bench.module{i}.v1.MsgNothing"),
                    by: "bench".into(),
                    height: 1,
                    time_ms: 0,
                    reason: "benchmark".into(),
                    break_id: 0,
                    safe_mode: false,
                },
            )?;
        }
        o.commit_tx();
        o.into_writes()
    };
    broken.apply(&writes);
    let amount = Coins::normalize([Coin::new("ucsp", 1)])?;
    let signed: Vec<Vec<u8>> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let to = &addresses[(i + 1) % addresses.len()];
            let params = TxParams {
                chain_id: CHAIN.into(),
                account_number: i as u64,
                sequence: 0,
                fee: "2000ucsp".parse().unwrap_or_default(),
                gas_limit: 200_000,
                memo: String::new(),
                include_pubkey: true,
            };
            sign_tx(k, vec![msg_send(&k.address(), to, &amount)], &params)
        })
        .collect();
    let next = BlockInfo {
        height: 2,
        time_ms: genesis.time_ms + 1000,
    };
    let check_all = |state: &MemState| -> Result<f64, ExecError> {
        futures::executor::block_on(async {
            let mut o = Overlay::new(state);
            let start = Instant::now();
            for raw in &signed {
                app.check_tx(&mut o, raw, &next, None).await?;
            }
            Ok(start.elapsed().as_secs_f64())
        })
    };
    // The breaker's own work: the rule applied to every message of every tx (the walk that
    // finds them is CheckTx's anyway, for the signers, so it is not counted here).
    let messages: Vec<Vec<cosmos_sdk_proto::Any>> = signed
        .iter()
        .filter_map(|raw| caspur_types::tx::decode_tx(raw, usize::MAX).ok())
        .map(|tx| tx.body.messages)
        .collect();
    let nodes: Vec<caspur_app::msg_tree::MsgNode> = messages
        .iter()
        .filter_map(|msgs| caspur_app::msg_tree::walk(msgs, 0).ok())
        .flatten()
        .collect();
    let breaker_only = |state: &MemState| -> Result<f64, ExecError> {
        futures::executor::block_on(async {
            let mut kv = caspur_app::context::Unmetered(state);
            let start = Instant::now();
            for node in &nodes {
                caspur_app::modules::circuit::check_message(&mut kv, &node.any).await?;
            }
            Ok(start.elapsed().as_secs_f64())
        })
    };
    let (mut without, mut with, mut alone) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        without.push(check_all(&plain)?);
        with.push(check_all(&broken)?);
        alone.push(breaker_only(&broken)?);
    }
    let (t0, t1, tb) = (median(without), median(with), median(alone));
    Ok(CheckTxBench {
        txs,
        routes,
        rounds,
        without_per_sec: txs as f64 / t0,
        with_per_sec: txs as f64 / t1,
        ratio: t1 / t0,
        breaker_share: tb / t1,
        ratio_to_no_breaker: t1 / (t1 - tb).max(f64::MIN_POSITIVE),
    })
}
