//! What monitoring costs block processing (issue 18's benchmark; `caspurd bench monitor`):
//! the same blocks of signed sends executed and committed to an in-memory state, once bare and
//! once with everything the node's monitoring does after a block — CometBFT and Caspur
//! metrics, the health read, the alert rules, and the board's document for every subscriber
//! — alternating rounds in one process. The ratio of the median throughputs is what
//! monitoring leaves of block processing (1.00 = free). A Prometheus scrape happens at the
//! scraper's pace (15 s by default), not per block; its cost is timed on its own.

use super::median;
use caspur_app::consensus_report::{ConsensusReport, Liveness};
use caspur_app::error::ExecError;
use caspur_app::validators::Validator;
use caspur_app::{App, AppGenesis, BlockInfo};
use caspur_consensus::validator_sets::{EpochSets, SetsByHeight};
use caspur_consensus::{ChainTip, ConsensusFacts, FinalizedBlock};
use caspur_node::monitor::{Monitor, MonitorConfig};
use caspur_store::{MemState, Overlay};
use caspur_types::sign::{msg_send, sign_tx, AccountKey, TxParams};
use caspur_types::{Coin, Coins};
use std::time::Instant;

/// The figures.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MonitorBench {
    /// Blocks per round.
    pub blocks: usize,
    /// Txs per block.
    pub txs_per_block: usize,
    /// Board subscribers (documents rendered per block).
    pub subscribers: usize,
    /// Rounds of each.
    pub rounds: usize,
    /// Median blocks per second without monitoring.
    pub without_blocks_per_sec: f64,
    /// Median blocks per second with it.
    pub with_blocks_per_sec: f64,
    /// With / without (1.00 = monitoring costs nothing).
    pub ratio: f64,
    /// Bytes of one board document at the end.
    pub board_bytes: usize,
    /// Median time of one scrape of `/metrics` (the node's families), microseconds.
    pub scrape_micros: f64,
}

const CHAIN: &str = "caspur-bench";

fn keys(n: usize, tag: u8) -> Result<Vec<AccountKey>, ExecError> {
    (0..n)
        .map(|i| {
            let mut secret = [tag; 32];
            secret[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
            AccountKey::from_secret(&secret)
                .ok_or_else(|| ExecError::logic("benchmark key out of range"))
        })
        .collect()
}

/// A monitor over a four-validator set, as a validating node has it.
fn monitor(validators: &[Validator]) -> Result<std::sync::Arc<Monitor>, ExecError> {
    let sets =
        EpochSets::new(CHAIN.as_bytes(), None, validators.to_vec()).map_err(ExecError::logic)?;
    let epoch = std::num::NonZeroU64::new(1_000_000).ok_or_else(|| ExecError::logic("epoch"))?;
    Ok(Monitor::new(MonitorConfig {
        chain_id: CHAIN.into(),
        validator_key: validators.first().map(|v| v.pub_key),
        sets: SetsByHeight::new(sets, epoch),
        tip: ChainTip::default(),
        state_sync: false,
        runtime: None,
        visor_status: None,
        alert_rules: Default::default(),
        alerts_dir: None,
    }))
}

/// Runs the benchmark.
pub fn run(
    blocks: usize,
    txs_per_block: usize,
    subscribers: usize,
    rounds: usize,
) -> Result<MonitorBench, ExecError> {
    let accounts = keys(txs_per_block, 9)?;
    let addresses: Vec<_> = accounts.iter().map(|k| k.address()).collect();
    let app = App::new(CHAIN, None, AppGenesis::funded(&addresses, 1_000_000_000));
    let validators: Vec<Validator> = (1..=4u8)
        .map(|i| Validator {
            pub_key: caspur_consensus::launch::validator_public_key(&[i; 32]),
            power: 10,
        })
        .collect();
    let amount = Coins::normalize([Coin::new("ucsp", 1)])?;
    // Block b (from 2; block 1 writes genesis) carries one send per account, sequence b - 2.
    let signed: Vec<Vec<Vec<u8>>> = (0..blocks)
        .map(|b| {
            accounts
                .iter()
                .enumerate()
                .map(|(i, k)| {
                    let params = TxParams {
                        chain_id: CHAIN.into(),
                        account_number: i as u64,
                        sequence: b as u64,
                        fee: "2000ucsp".parse().unwrap_or_default(),
                        gas_limit: 200_000,
                        memo: String::new(),
                        include_pubkey: true,
                    };
                    let to = &addresses[(i + 1) % addresses.len()];
                    sign_tx(k, vec![msg_send(&k.address(), to, &amount)], &params)
                })
                .collect()
        })
        .collect();
    let report = ConsensusReport {
        liveness: Some(Liveness {
            signed: validators[..3].iter().map(|v| v.pub_key).collect(),
            missed: vec![validators[3].pub_key],
        }),
        faults: Vec::new(),
    };
    let round = |watch: Option<&Monitor>| -> Result<(f64, usize), ExecError> {
        futures::executor::block_on(async {
            let mut state = MemState::default();
            let mut board_bytes = 0;
            let start = Instant::now();
            for height in 1..=(blocks as u64 + 1) {
                let info = BlockInfo {
                    height,
                    time_ms: 1_700_000_000_000 + height * 1000,
                };
                let txs = if height == 1 {
                    &[][..]
                } else {
                    &signed[height as usize - 2][..]
                };
                let mut o = Overlay::new(&state);
                let results = app
                    .execute_block(&mut o, &info, txs)
                    .await
                    .map_err(caspur_app::context::store_err)?;
                let writes = o.into_writes();
                state.apply(&writes);
                if let Some(m) = watch {
                    m.observe_block(&FinalizedBlock {
                        height,
                        hash: [0; 32],
                        parent: [0; 32],
                        proposer: validators[0].pub_key,
                        time_ms: info.time_ms,
                        txs: txs.to_vec(),
                        results,
                        block_events: Vec::new(),
                        app_hash: [0; 32],
                        state_size: 0,
                        consensus: ConsensusFacts {
                            report: report.clone(),
                            rounds: 0,
                            size_bytes: txs.iter().map(|t| t.len() as u64).sum(),
                        },
                        ..Default::default()
                    });
                    m.observe_state(&state).await;
                    m.evaluate_alerts();
                    for _ in 0..subscribers {
                        board_bytes = m.board_text().len();
                    }
                }
            }
            Ok((start.elapsed().as_secs_f64(), board_bytes))
        })
    };
    let (mut without, mut with, mut scrapes) = (Vec::new(), Vec::new(), Vec::new());
    let mut board_bytes = 0;
    for _ in 0..rounds {
        without.push(blocks as f64 / round(None)?.0);
        let m = monitor(&validators)?;
        let (secs, bytes) = round(Some(&m))?;
        with.push(blocks as f64 / secs);
        board_bytes = bytes;
        let start = Instant::now();
        let _ = m.render();
        scrapes.push(start.elapsed().as_secs_f64() * 1e6);
    }
    let (w0, w1) = (median(without), median(with));
    Ok(MonitorBench {
        blocks,
        txs_per_block,
        subscribers,
        rounds,
        without_blocks_per_sec: w0,
        with_blocks_per_sec: w1,
        ratio: w1 / w0,
        board_bytes,
        scrape_micros: median(scrapes),
    })
}
