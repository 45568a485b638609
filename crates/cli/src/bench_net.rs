//! `bench network`: block interval and finality latency of a local N-validator network.
//!
//! Starts `caspurd start` for each home of a fresh `testnet init` (this same binary), loads it
//! with signed `MsgSend`s through JSON-RPC at each requested rate, and reads back:
//! - **block interval**: differences of consecutive block times (proposer timestamps);
//! - **block finality**: from a block's timestamp to the moment node0's RPC reports it
//!   committed (finalized and executed), polled every 2 ms;
//! - **tx finality**: from `broadcast_tx_sync` returning to the commit of the tx's block.
//!
//! All clocks are this machine's, so the differences need no synchronisation.
#![allow(
    clippy::expect_used,
    reason = "a benchmark harness: its locks and fixed coins cannot fail; a failure is a bug to see at once"
)]

use crate::testnet::{self, TestnetOptions};
use anyhow::{bail, Context, Result};
use base64::Engine as _;
use caspur_types::sign::{msg_send, sign_tx, AccountKey, TxParams};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Options of `bench network`.
pub struct NetBenchOptions {
    /// Validators to run.
    pub validators: usize,
    /// Target block interval.
    pub block_time_ms: u64,
    /// Offered loads in tx/s, one measurement each.
    pub loads: Vec<u64>,
    /// Seconds of load per measurement.
    pub seconds: u64,
    /// Load senders (genesis accounts, one thread each), at most [`MAX_SENDERS`].
    pub senders: usize,
    /// Print each load's line as it is measured to stderr (stdout then carries only what
    /// the caller prints from the reports, e.g. JSON).
    pub lines_to_stderr: bool,
}

/// Most load senders: each is a thread with its own connection.
pub const MAX_SENDERS: usize = 256;

/// Load sender `i`'s key: fixed, so a run can be repeated.
fn sender_key(i: usize) -> Result<AccountKey> {
    let mut secret = [0x5a; 32];
    secret[24..].copy_from_slice(&(i as u64 + 1).to_be_bytes());
    AccountKey::from_secret(&secret).context("sender key")
}

/// The account numbers genesis gave `keys`, in order.
fn account_numbers(genesis: &std::path::Path, keys: &[AccountKey]) -> Result<Vec<u64>> {
    let doc: crate::home::GenesisDoc = crate::home::read_json(genesis)?;
    let accounts = &doc.app_state.auth.accounts;
    keys.iter()
        .map(|k| {
            let address = k.address().to_string();
            accounts
                .iter()
                .find(|a| a.address == address)
                .map(|a| a.account_number)
                .with_context(|| format!("{address} is not a genesis account"))
        })
        .collect()
}

/// Median and 99th percentile of one quantity, in ms.
#[derive(Debug, Clone, Copy)]
pub struct Spread {
    /// Median.
    pub median: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// One measurement.
#[derive(Debug)]
pub struct LoadReport {
    /// Offered tx/s.
    pub offered: u64,
    /// Committed tx/s.
    pub committed_tps: f64,
    /// Txs committed in the blocks measured.
    pub committed_txs: usize,
    /// Blocks measured.
    pub blocks: usize,
    /// Block interval.
    pub interval: Spread,
    /// Block timestamp → committed on node0.
    pub block_finality: Spread,
    /// Tx submitted → committed on node0.
    pub tx_finality: Option<Spread>,
    /// `broadcast_tx_sync` round trip (request sent → CheckTx answer received).
    pub broadcast_rtt: Option<Spread>,
    /// Each node's resident memory after the load (MiB).
    pub rss_mib: Vec<f64>,
    /// CPU time the validators (all of them) and the load generator spent per committed tx
    /// during the load, µs: with every core busy, committed tx/s is about the cores divided
    /// by their sum, so this says where a change helped even when the machine's speed drifts.
    pub cpu_us_per_tx: Option<CpuPerTx>,
    /// `broadcast_tx_sync` answers "mempool is full" that the senders retried.
    pub full_retries: u64,
    /// Txs refused for any other reason (each stops its sender: its later sequences would
    /// all be refused), and the first such answer.
    pub refused: u64,
    /// The first refusal's answer.
    pub first_refusal: Option<String>,
}

/// CPU time per committed tx, µs.
#[derive(Debug, Clone, Copy)]
pub struct CpuPerTx {
    /// The validators' processes, summed.
    pub validators: f64,
    /// The load generator (this process).
    pub generator: f64,
}

/// Clock ticks per second of `/proc/<pid>/stat`'s times (`USER_HZ`, 100 on Linux).
const USER_HZ: f64 = 100.0;

/// User + system CPU seconds of process `pid` so far (Linux `/proc`; `None` elsewhere).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces, inside parentheses): utime is
    // the 14th field of the line, stime the 15th.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    Some((ticks(11)? + ticks(12)?) / USER_HZ)
}

/// CPU seconds of the validators (summed) and of this process.
fn cpu_of(nodes: &Nodes) -> Option<(f64, f64)> {
    let mut validators = 0.0;
    for c in &nodes.0 {
        validators += cpu_seconds(c.id())?;
    }
    Some((validators, cpu_seconds(std::process::id())?))
}

struct Nodes(Vec<Child>);

impl Drop for Nodes {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Resident memory of process `pid` in MiB (Linux `/proc`; `None` elsewhere).
fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

fn rss_of(nodes: &Nodes) -> Vec<f64> {
    nodes
        .0
        .iter()
        .map(|c| rss_mib(c.id()).unwrap_or(0.0))
        .collect()
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn call(url: &str, method: &str, params: Value) -> Result<Value> {
    call_on(&ureq::agent(), url, method, params)
}

/// A JSON-RPC call on `agent` (a sender keeps one, so its connection is kept alive).
fn call_on(agent: &ureq::Agent, url: &str, method: &str, params: Value) -> Result<Value> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let v: Value = agent
        .post(url)
        .timeout(Duration::from_secs(10))
        .send_json(body)?
        .into_json()?;
    v.get("result")
        .cloned()
        .with_context(|| format!("{method}: {}", v["error"]))
}

fn height(url: &str) -> u64 {
    call(url, "status", json!({}))
        .ok()
        .and_then(|s| s["sync_info"]["latest_block_height"].as_str()?.parse().ok())
        .unwrap_or(0)
}

fn free_base(count: u16) -> Result<u16> {
    let start = 20_000 + (std::process::id() % 10_000) as u16;
    (0..40u16)
        .map(|i| start.wrapping_add(i * 211) % 12_000 + 20_000)
        .find(|&base| (base..base + count).all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok()))
        .context("no free block of ports below 32000")
}

/// Runs the benchmark and prints one line per load.
pub fn run(opts: &NetBenchOptions) -> Result<Vec<LoadReport>> {
    if opts.senders == 0 || opts.senders > MAX_SENDERS {
        bail!("--senders must be between 1 and {MAX_SENDERS}");
    }
    let keys: Vec<AccountKey> = (0..opts.senders).map(sender_key).collect::<Result<_>>()?;
    let dir = tempfile::Builder::new()
        .prefix("caspur-bench-net-")
        .tempdir()?;
    let base = free_base(10 * opts.validators as u16)?;
    let nodes = testnet::init(&TestnetOptions {
        validators: opts.validators,
        full_nodes: 0,
        output: dir.path().to_path_buf(),
        chain_id: "caspur-bench-1".into(),
        starting_port: base,
        block_time_ms: opts.block_time_ms,
        account_coins: "1000000000000000ucsp".into(),
        extra_accounts: keys.iter().map(|k| k.address().to_string()).collect(),
        params: Default::default(),
    })?;
    let exe = std::env::current_exe()?;
    let mut children = Nodes(Vec::new());
    for n in &nodes {
        let log = std::fs::File::create(n.home.with_extension("log"))?;
        children.0.push(
            Command::new(&exe)
                .args(["start", "--home"])
                .arg(&n.home)
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()?,
        );
    }
    let urls: Vec<String> = nodes.iter().map(|n| format!("http://{}", n.rpc)).collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    while urls.iter().any(|u| height(u) < 3) {
        if Instant::now() > deadline {
            bail!(
                "the network did not start; logs in {}",
                dir.path().display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let numbers = account_numbers(&crate::home::Home(nodes[0].home.clone()).genesis(), &keys)?;
    let keys: Vec<(AccountKey, u64)> = keys.into_iter().zip(numbers).collect();
    let mut sequences = vec![0u64; keys.len()];
    let mut reports = Vec::new();
    let say = |line: String| {
        if opts.lines_to_stderr {
            eprintln!("{line}");
        } else {
            crate::output::outln!("{line}");
        }
    };
    say(format!("idle: rss MiB {:.0?}", rss_of(&children)));
    for &load in &opts.loads {
        let cpu_before = cpu_of(&children);
        let mut r = measure(&urls, &keys, &mut sequences, load, opts.seconds)?;
        r.rss_mib = rss_of(&children);
        r.cpu_us_per_tx = cpu_before.zip(cpu_of(&children)).and_then(|(a, b)| {
            let txs = r.committed_txs as f64;
            (txs > 0.0).then(|| CpuPerTx {
                validators: (b.0 - a.0) * 1e6 / txs,
                generator: (b.1 - a.1) * 1e6 / txs,
            })
        });
        say(format!(
            "load {:>6} tx/s: {:>5} blocks, committed {:>7.1} tx/s | cpu per tx {} | interval median {:>6.1} ms p99 {:>6.1} ms | block finality median {:>6.1} ms p99 {:>6.1} ms | tx finality {} | broadcast rtt {} | rss MiB {:.0?} | mempool-full retries {} | refused {}{}",
            r.offered,
            r.blocks,
            r.committed_tps,
            r.cpu_us_per_tx.map_or("-".into(), |c| format!(
                "validators {:.0} µs, generator {:.0} µs",
                c.validators, c.generator
            )),
            r.interval.median,
            r.interval.p99,
            r.block_finality.median,
            r.block_finality.p99,
            show(r.tx_finality),
            show(r.broadcast_rtt),
            r.rss_mib,
            r.full_retries,
            r.refused,
            r.first_refusal
                .as_ref()
                .map_or(String::new(), |w| format!(" (first: {w})")),
        ));
        reports.push(r);
    }
    Ok(reports)
}

/// One load sender: an account's txs to one node, sequences consecutive.
struct Sender {
    key: AccountKey,
    account_number: u64,
    to: caspur_types::Address,
    url: String,
    first_sequence: u64,
    count: u64,
    per_second: f64,
}

/// How long a sender waits before offering a tx again after "mempool is full" (a wallet's
/// retry), and how long past the measurement it keeps retrying.
const FULL_RETRY_WAIT: Duration = Duration::from_millis(20);
const RETRY_GRACE: Duration = Duration::from_secs(5);

/// What the senders observed: accepted tx hashes with the time, every round trip (ms), the
/// retries after a full mempool and the refusals.
#[derive(Default)]
struct Sent {
    accepted: Mutex<Vec<Submitted>>,
    rtts: Mutex<Vec<f64>>,
    full_retries: std::sync::atomic::AtomicU64,
    refusals: Mutex<Vec<String>>,
}

/// `broadcast_tx_sync`'s `code` for a full mempool (the Cosmos SDK's `ErrMempoolIsFull`).
const MEMPOOL_IS_FULL: u64 = caspur_types::ErrorCode::MempoolIsFull as u64;

impl Sender {
    /// Signs every tx first (signing is the clients' work, not the network's, and would take
    /// the shared cores from the nodes), waits for `ready`, then sends them at its rate until
    /// `deadline`. A tx the mempool is too full for is offered again after
    /// [`FULL_RETRY_WAIT`], as a wallet would; any other refusal stops the sender, since every
    /// later sequence of its account would be refused too. Returns how many txs were accepted
    /// (its account's next sequence is `first_sequence` plus that).
    fn run(self, ready: &std::sync::Barrier, sent: &Sent, deadline: Duration) -> u64 {
        let txs = self.sign_all();
        let agent = ureq::agent();
        ready.wait();
        let begin = Instant::now();
        for (n, tx) in txs.iter().enumerate() {
            let due = Duration::from_secs_f64(n as f64 / self.per_second);
            if due > deadline {
                return n as u64;
            }
            if let Some(wait) = due.checked_sub(begin.elapsed()) {
                std::thread::sleep(wait);
            }
            let b64 = base64::engine::general_purpose::STANDARD.encode(tx);
            loop {
                let start = Instant::now();
                let reply = call_on(&agent, &self.url, "broadcast_tx_sync", json!({"tx": b64}));
                let rtt = start.elapsed().as_secs_f64() * 1000.0;
                sent.rtts.lock().expect("sender lock").push(rtt);
                let code = reply.as_ref().ok().and_then(|r| r["code"].as_u64());
                if code == Some(0) {
                    let hash = caspur_types::tx::tx_hash(tx);
                    let mut accepted = sent.accepted.lock().expect("sender lock");
                    accepted.push((hash, now_ms()));
                    break;
                }
                if code == Some(MEMPOOL_IS_FULL) && begin.elapsed() < deadline + RETRY_GRACE {
                    sent.full_retries.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(FULL_RETRY_WAIT);
                    continue;
                }
                let why = match reply {
                    Ok(r) => r.to_string(),
                    Err(e) => format!("{e:#}"),
                };
                sent.refusals.lock().expect("sender lock").push(why);
                return n as u64;
            }
        }
        txs.len() as u64
    }

    fn sign_all(&self) -> Vec<Vec<u8>> {
        let amount = caspur_types::Coins::normalize([caspur_types::Coin::new("ucsp", 1)])
            .expect("valid coin");
        (0..self.count)
            .map(|n| {
                let params = TxParams {
                    chain_id: "caspur-bench-1".into(),
                    account_number: self.account_number,
                    sequence: self.first_sequence + n,
                    fee: "500ucsp".parse().expect("valid fee"),
                    gas_limit: 200_000,
                    memo: String::new(),
                    include_pubkey: true,
                };
                let msg = msg_send(&self.key.address(), &self.to, &amount);
                sign_tx(&self.key, vec![msg], &params)
            })
            .collect()
    }
}

/// Polls `url`'s height every 2 ms from `start` until `stop`, recording when each height was
/// first seen committed.
fn poll_commits(
    url: String,
    start: u64,
    stop: Arc<AtomicBool>,
    commits: Arc<Mutex<BTreeMap<u64, f64>>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut last = start;
        while !stop.load(Ordering::Relaxed) {
            let h = height(&url);
            if h > last {
                let t = now_ms();
                let mut c = commits.lock().expect("poller lock");
                for k in last + 1..=h {
                    c.insert(k, t);
                }
                last = h;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    })
}

/// Blocks `from..=to` on `url`: each block's time (ms) and each tx's block.
type BlockTimes = (BTreeMap<u64, f64>, BTreeMap<[u8; 32], u64>);

fn read_blocks(url: &str, from: u64, to: u64) -> Result<BlockTimes> {
    let mut block_time = BTreeMap::new();
    let mut tx_block = BTreeMap::new();
    for h in from..=to {
        let b = call(url, "block", json!({"height": h.to_string()}))?;
        let time = b["block"]["header"]["time"].as_str().unwrap_or_default();
        let ms = chrono::DateTime::parse_from_rfc3339(time)
            .map(|t| t.timestamp_millis() as f64)
            .with_context(|| format!("block {h} time {time:?}"))?;
        block_time.insert(h, ms);
        for t in b["block"]["data"]["txs"].as_array().into_iter().flatten() {
            if let Some(raw) = t
                .as_str()
                .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
            {
                tx_block.insert(caspur_types::tx::tx_hash(&raw), h);
            }
        }
    }
    Ok((block_time, tx_block))
}

fn measure(
    urls: &[String],
    keys: &[(AccountKey, u64)],
    sequences: &mut [u64],
    load: u64,
    seconds: u64,
) -> Result<LoadReport> {
    let observer = urls[0].clone();
    let sent = Arc::new(Sent::default());
    let per_second = (load as f64 / keys.len() as f64).max(0.0);
    let senders_n = if load == 0 { 0 } else { keys.len() };
    let ready = Arc::new(std::sync::Barrier::new(senders_n + 1));
    let mut senders = Vec::new();
    for (i, (key, account_number)) in keys.iter().enumerate().take(senders_n) {
        let count = (per_second * seconds as f64) as u64;
        let sender = Sender {
            key: AccountKey::from_secret(&key.signing_key().to_bytes().into())
                .context("account key")?,
            account_number: *account_number,
            to: keys[(i + 1) % keys.len()].0.address(),
            url: urls[i % urls.len()].clone(),
            first_sequence: sequences[i],
            count,
            per_second,
        };
        let (ready, sent) = (ready.clone(), sent.clone());
        let deadline = Duration::from_secs(seconds);
        senders.push(std::thread::spawn(move || {
            sender.run(&ready, &sent, deadline)
        }));
    }
    ready.wait();
    let begin = Instant::now();
    let start_height = height(&observer);
    let stop = Arc::new(AtomicBool::new(false));
    let commits: Arc<Mutex<BTreeMap<u64, f64>>> = Default::default();
    let poller = poll_commits(
        observer.clone(),
        start_height,
        stop.clone(),
        commits.clone(),
    );
    for (i, s) in senders.into_iter().enumerate() {
        sequences[i] += s.join().unwrap_or(0);
    }
    std::thread::sleep(Duration::from_secs(
        seconds.saturating_sub(begin.elapsed().as_secs()),
    ));
    let end_height = height(&observer);
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::Relaxed);
    let _ = poller.join();

    let commits = commits.lock().expect("poller lock").clone();
    let (block_time, tx_block) = read_blocks(&observer, start_height + 1, end_height)?;
    let times: Vec<f64> = block_time.values().copied().collect();
    let intervals: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    let finality: Vec<f64> = block_time
        .iter()
        .filter_map(|(h, t)| commits.get(h).map(|c| c - t))
        .collect();
    let tx_lat: Vec<f64> = sent
        .accepted
        .lock()
        .expect("sender lock")
        .iter()
        .filter_map(|(hash, t)| commits.get(tx_block.get(hash)?).map(|c| c - t))
        .collect();
    let span_s = (times.last().copied().unwrap_or(0.0) - times.first().copied().unwrap_or(0.0))
        .max(1.0)
        / 1000.0;
    let rtts = sent.rtts.lock().expect("sender lock").clone();
    let refusals = sent.refusals.lock().expect("sender lock").clone();
    Ok(LoadReport {
        full_retries: sent.full_retries.load(Ordering::Relaxed),
        refused: refusals.len() as u64,
        first_refusal: refusals.first().cloned(),
        offered: load,
        committed_tps: tx_block.len() as f64 / span_s,
        committed_txs: tx_block.len(),
        blocks: times.len(),
        interval: spread(intervals).context("too few blocks")?,
        block_finality: spread(finality).context("no commits observed")?,
        tx_finality: spread(tx_lat),
        broadcast_rtt: spread(rtts),
        rss_mib: Vec::new(),
        cpu_us_per_tx: None,
    })
}

fn show(s: Option<Spread>) -> String {
    s.map_or("-".into(), |s| {
        format!("median {:.1} ms p99 {:.1} ms", s.median, s.p99)
    })
}

/// A tx hash and when `broadcast_tx_sync` accepted it (ms since the Unix epoch).
type Submitted = ([u8; 32], f64);

fn spread(mut v: Vec<f64>) -> Option<Spread> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    Some(Spread {
        median: at(0.5),
        p99: at(0.99),
    })
}
