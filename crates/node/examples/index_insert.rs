//! The block index's write cost per tx: indexes `blocks` blocks of `txs` signed-`MsgSend`-like
//! results (the events a bank send emits: 64 senders paying each other, a unique signature and
//! account sequence per tx) into a fresh index file and prints µs per tx for each 100 blocks
//! (the cost grows with the tables) and overall.
//!
//! `cargo run --release -p caspur-node --example index_insert -- [blocks] [txs]` (320 × 700
//! by default).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark harness stops on any failure"
)]

use base64::Engine as _;
use caspur_app::TxResult;
use caspur_consensus::FinalizedBlock;
use caspur_node::index::BlockIndex;
use caspur_types::Event;
use sha2::Digest;
use std::time::Instant;

/// Distinct senders (the network benchmark's default).
const SENDERS: usize = 64;

fn address(i: usize) -> String {
    format!("caspur1sender{:02}{}", i % SENDERS, "x".repeat(33))
}

/// The events of the send at `index` of block `height`: its fee's, its signature's and its
/// transfer's.
fn send_result(height: u64, index: usize) -> TxResult {
    let sender = address(index);
    let recipient = address(index + 1);
    let collector = format!("caspur1feecollector{}", "x".repeat(25));
    let seed = format!("{height}/{index}");
    let signature = [
        sha2::Sha256::digest(&seed),
        sha2::Sha256::digest(seed + "/s"),
    ]
    .concat();
    let signature = base64::engine::general_purpose::STANDARD.encode(signature);
    let sequence = height * (SENDERS as u64) + (index / SENDERS) as u64;
    let coins = |amount: &str, from: &str, to: &str| {
        [
            Event::new("coin_spent")
                .attr("spender", from)
                .attr("amount", amount),
            Event::new("coin_received")
                .attr("receiver", to)
                .attr("amount", amount),
            Event::new("transfer")
                .attr("recipient", to)
                .attr("sender", from)
                .attr("amount", amount),
            Event::new("message").attr("sender", from),
        ]
    };
    let mut events = coins("200ucsp", &sender, &collector).to_vec();
    events.push(
        Event::new("tx")
            .attr("fee", "200ucsp")
            .attr("fee_payer", &sender),
    );
    events.push(Event::new("tx").attr("acc_seq", format!("{sender}/{sequence}")));
    events.push(Event::new("tx").attr("signature", signature));
    events.push(
        Event::new("message")
            .attr("action", "/cosmos.bank.v1beta1.MsgSend")
            .attr("sender", &sender)
            .attr("module", "bank"),
    );
    events.extend(coins("1ucsp", &sender, &recipient));
    TxResult {
        code: 0,
        codespace: String::new(),
        log: String::new(),
        gas_wanted: 100_000,
        gas_used: 60_000,
        events,
        data: Vec::new(),
    }
}

fn block(height: u64, txs: usize) -> FinalizedBlock {
    let raw = |i: usize| {
        let mut tx = vec![7u8; 300];
        tx[..8].copy_from_slice(&height.to_be_bytes());
        tx[8..16].copy_from_slice(&(i as u64).to_be_bytes());
        tx
    };
    FinalizedBlock {
        height,
        hash: sha2::Sha256::digest(height.to_be_bytes()).into(),
        txs: (0..txs).map(raw).collect(),
        results: (0..txs).map(|i| send_result(height, i)).collect(),
        ..Default::default()
    }
}

fn main() {
    let arg = |n: usize, default: u64| {
        std::env::args()
            .nth(n)
            .map_or(default, |a| a.parse().expect("a number"))
    };
    let (blocks, txs) = (arg(1, 320), arg(2, 700) as usize);
    let dir = tempfile::tempdir().unwrap();
    let index = BlockIndex::open(&dir.path().join("index.redb")).unwrap();
    let (mut spent, mut window) = (0.0, 0.0);
    for height in 1..=blocks {
        let b = block(height, txs);
        let start = Instant::now();
        index.insert(&b).unwrap();
        let took = start.elapsed().as_secs_f64();
        spent += took;
        window += took;
        if height % 100 == 0 {
            let per_tx = window * 1e6 / (100 * txs) as f64;
            println!("blocks {height:>6}: {per_tx:.1} µs/tx over the last 100");
            window = 0.0;
        }
    }
    let per_tx = spent * 1e6 / (blocks as usize * txs) as f64;
    println!("index insert: {per_tx:.1} µs/tx over {blocks} blocks of {txs} txs");
}
