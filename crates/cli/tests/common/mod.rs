//! Helpers for tests that drive the real `caspurd` binary.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod alerts;
mod docs;
mod visor;
#[allow(unused_imports)]
pub use alerts::*;
#[allow(unused_imports)]
pub use docs::*;
#[allow(unused_imports)]
pub use visor::*;

/// CosmJS's faucet mnemonic: a known funded dev account.
pub const MNEMONIC: &str = "economy stock theory fatal elder harbor betray wasp final emotion task crumble siren bottom lizard educate guess current outdoor pair theory focus wife stone";
/// Its address (computed by CosmJS with prefix caspur).
pub const DEV_ADDRESS: &str = "caspur1pkptre7fdkl6gfrzlesjjvhxhlc3r4gm7hng47";

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_caspurd")
}

/// A free TCP port on 127.0.0.1 (see [`free_port_block`]).
pub fn free_port() -> u16 {
    free_port_block(1)
}

/// A running `caspurd dev`.
pub type DevNode = Node;

/// A running `caspurd` node process, stopped (SIGKILL) when dropped.
pub struct Node {
    pub child: Child,
    pub home: PathBuf,
    pub rpc: String,
    pub p2p: u16,
    pub rpc_port: u16,
}

impl Node {
    /// Starts `caspurd dev --home <home>` on the given ports.
    pub fn start(home: &Path, rpc_port: u16, p2p: u16) -> Self {
        Node::start_with(home, rpc_port, p2p, &[])
    }

    /// [`Node::start`] with more `dev` flags.
    pub fn start_with(home: &Path, rpc_port: u16, p2p: u16, extra: &[&str]) -> Self {
        Node::start_bin(bin(), home, rpc_port, p2p, extra)
    }

    /// [`Node::start_with`] running the binary `binary` (a test fixture).
    pub fn start_bin(binary: &str, home: &Path, rpc_port: u16, p2p: u16, extra: &[&str]) -> Self {
        let node = Node::spawn_dev(binary, home, rpc_port, p2p, extra);
        node.wait_height(1, Duration::from_secs(60));
        node
    }

    /// `<binary> dev` on these ports with the dev mnemonic, 200 ms blocks and an empty dCERT
    /// (unless `extra` says `--dcert-members`), plus `extra` flags, without waiting.
    pub fn spawn_dev(binary: &str, home: &Path, rpc_port: u16, p2p: u16, extra: &[&str]) -> Self {
        let rpc = format!("127.0.0.1:{rpc_port}");
        let p2p_addr = format!("127.0.0.1:{p2p}");
        let grpc_addr = format!("127.0.0.1:{}", free_port());
        let args = [
            "dev",
            "--dev-mnemonic",
            MNEMONIC,
            "--block-time-ms",
            "200",
            "--rpc-laddr",
            &rpc,
            "--p2p-laddr",
            &p2p_addr,
            "--grpc-laddr",
            &grpc_addr,
        ];
        let mut cmd = Command::new(binary);
        cmd.args(args.iter().chain(extra)).arg("--home").arg(home);
        // The suites were written against an empty dCERT (each seeds what it needs); the
        // seeded dev group is tested where it is asked for.
        if !extra.contains(&"--dcert-members") {
            cmd.args(["--dcert-members", "0"]);
        }
        Node::spawn_command(cmd, home, rpc_port, p2p)
    }

    /// Starts `caspurd <args> --home <home>` (log appended to `<home>.log`) without waiting.
    pub fn spawn(home: &Path, args: &[&str], rpc_port: u16, p2p: u16) -> Self {
        let mut cmd = Command::new(bin());
        cmd.args(args).arg("--home").arg(home);
        Node::spawn_command(cmd, home, rpc_port, p2p)
    }

    /// Starts `cmd` serving `home`'s node (log appended to `<home>.log`) without waiting.
    pub fn spawn_command(mut cmd: Command, home: &Path, rpc_port: u16, p2p: u16) -> Self {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(home.with_extension("log"))
            .unwrap();
        let child = cmd
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start caspurd");
        Node {
            child,
            home: home.to_path_buf(),
            rpc: format!("http://127.0.0.1:{rpc_port}"),
            p2p,
            rpc_port,
        }
    }

    /// The block hash and app hash this node reports at `height`.
    pub fn hashes_at(&self, height: u64) -> Option<(String, String)> {
        let b = self.rpc("block", json!({"height": height.to_string()}))?;
        Some((
            b["block_id"]["hash"].as_str()?.to_string(),
            b["block"]["header"]["app_hash"].as_str()?.to_string(),
        ))
    }

    /// Calls a JSON-RPC method.
    pub fn rpc(&self, method: &str, params: Value) -> Option<Value> {
        rpc(&self.rpc, method, params)
    }

    /// The latest committed height (0 when unreachable).
    pub fn height(&self) -> u64 {
        self.rpc("status", json!({}))
            .and_then(|s| {
                s["sync_info"]["latest_block_height"]
                    .as_str()
                    .and_then(|h| h.parse().ok())
            })
            .unwrap_or(0)
    }

    /// Waits until the chain reaches `h`.
    pub fn wait_height(&self, h: u64, timeout: Duration) -> u64 {
        let deadline = Instant::now() + timeout;
        loop {
            let now = self.height();
            if now >= h {
                return now;
            }
            assert!(
                Instant::now() < deadline,
                "chain did not reach height {h} (at {now}); log: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The node's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.home.with_extension("log")).unwrap_or_default()
    }

    /// Runs a CLI command against this node's home and RPC.
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new(bin())
            .args(args)
            .arg("--home")
            .arg(&self.home)
            .env("CASPUR_NODE_UNUSED", "1")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// Runs a CLI command against this node's RPC with JSON output and parses it.
    pub fn json(&self, args: &[&str]) -> Value {
        let node = self.rpc.replace("http://", "tcp://");
        let mut full: Vec<&str> = args.to_vec();
        full.extend(["--node", &node, "-o", "json"]);
        json_out(&self.cli(&full))
    }

    /// A tx signed by `from` (test keyring) that must succeed; returns its response.
    pub fn tx_from(&self, from: &str, args: &[&str]) -> Value {
        let mut full: Vec<&str> = args.to_vec();
        full.extend(["--from", from, "--keyring-backend", "test"]);
        let r = self.json(&full);
        assert_eq!(r["code"], 0, "{args:?}: {r}");
        r
    }

    /// Submits `proposal` (a proposal file's JSON, written into `dir`) from the dev key and
    /// votes yes on it, proposal `id`, with the same key.
    pub fn propose_and_vote_yes(&self, dir: &Path, proposal: &Value, id: u64) {
        let file = dir.join(format!("proposal-{id}.json"));
        std::fs::write(&file, proposal.to_string()).unwrap();
        self.tx_from(
            "dev",
            &["tx", "gov", "submit-proposal", file.to_str().unwrap()],
        );
        self.tx_from("dev", &["tx", "gov", "vote", &id.to_string(), "yes"]);
    }

    /// A command against this node's RPC that must fail; returns its error output.
    pub fn fails(&self, args: &[&str]) -> String {
        let node = self.rpc.replace("http://", "tcp://");
        let mut full: Vec<&str> = args.to_vec();
        full.extend(["--node", &node]);
        let out = self.cli(&full);
        assert!(!out.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// Adds a test-keyring key; returns its address.
    pub fn add_key(&self, name: &str) -> String {
        let out = json_out(&self.cli(&[
            "keys",
            "add",
            name,
            "--keyring-backend",
            "test",
            "-o",
            "json",
        ]));
        out["address"].as_str().unwrap().to_string()
    }

    /// `tx bank send` from the dev key, waiting for the block; returns the tx response.
    pub fn send(&self, to: &str, amount: &str) -> Value {
        let node = self.rpc.replace("http://", "tcp://");
        let args = [
            "tx",
            "bank",
            "send",
            "dev",
            to,
            amount,
            "--keyring-backend",
            "test",
            "--node",
            &node,
            "-o",
            "json",
        ];
        json_out(&self.cli(&args))
    }

    /// SIGKILL, no cleanup.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        std::mem::forget(self);
    }

    /// SIGINT (Ctrl-C); returns the exit status.
    pub fn interrupt(mut self) -> std::process::ExitStatus {
        Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                std::mem::forget(self);
                return status;
            }
            assert!(Instant::now() < deadline, "node did not stop on Ctrl-C");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Lowest port tests hand out.
const PORTS_FROM: u16 = 20_000;
/// First port past the range tests hand out: Linux's ephemeral range (32768+) is avoided, so
/// outgoing connections made while a test runs cannot take its ports.
const PORTS_UNTIL: u16 = 32_000;

/// A base port from which `count` consecutive ports are all free on 127.0.0.1.
///
/// Ports are handed out in order from a start chosen at random per test process, so one
/// process never hands out a port twice (a block's ports are not bound until its nodes start)
/// and two processes rarely meet.
pub fn free_port_block(count: u16) -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: std::sync::OnceLock<AtomicU16> = std::sync::OnceLock::new();
    let next = NEXT.get_or_init(|| {
        let seed = std::process::id()
            ^ std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos();
        AtomicU16::new(PORTS_FROM + (seed % u32::from(PORTS_UNTIL - PORTS_FROM - 1_000)) as u16)
    });
    for _ in 0..1_000 {
        let base = next.fetch_add(count, Ordering::Relaxed);
        if base.saturating_add(count) > PORTS_UNTIL {
            let _ = next.compare_exchange(
                base.wrapping_add(count),
                PORTS_FROM,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
            continue;
        }
        let all_free = (base..base + count).all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok());
        if all_free {
            return base;
        }
    }
    panic!("no block of {count} free ports below {PORTS_UNTIL}");
}

/// One JSON-RPC call; `None` on transport failure or an error answer.
pub fn rpc(url: &str, method: &str, params: Value) -> Option<Value> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let v: Value = ureq::post(url)
        .timeout(Duration::from_secs(10))
        .send_json(body)
        .ok()?
        .into_json()
        .ok()?;
    v.get("result").cloned()
}

/// `caspurd testnet init` of `validators` validators and `full_nodes` full nodes in `dir`,
/// ports from `base`; returns its JSON list of homes.
pub fn testnet_init(
    dir: &Path,
    validators: usize,
    base: u16,
    full_nodes: usize,
    block_time_ms: u64,
) -> Value {
    let init = Command::new(bin())
        .args([
            "testnet",
            "init",
            "--validators",
            &validators.to_string(),
            "-o",
            "json",
            "--output",
        ])
        .arg(dir)
        .args(["--full-nodes", &full_nodes.to_string()])
        .args(["--starting-port", &base.to_string()])
        .args(["--block-time-ms", &block_time_ms.to_string()])
        .output()
        .unwrap();
    json_out(&init)
}

/// Edits `genesis.json` of homes `dir/node0…` (all alike, so they stay one chain).
pub fn edit_genesis(dir: &Path, nodes: usize, edit: impl Fn(&mut Value)) {
    for k in 0..nodes {
        let path = dir.join(format!("node{k}/config/genesis.json"));
        let mut genesis: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        edit(&mut genesis);
        std::fs::write(&path, serde_json::to_string_pretty(&genesis).unwrap()).unwrap();
    }
}

/// Runs `cmd` to its end, failing the test with its stderr unless it succeeds.
pub fn succeed(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert_succeeded(&out);
    out
}

fn assert_succeeded(o: &Output) {
    assert!(
        o.status.success(),
        "command failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Parses stdout as JSON, failing with stderr on error.
pub fn json_out(o: &Output) -> Value {
    assert_succeeded(o);
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&o.stdout)))
}

/// The dev account's key, derived as the keyring does (m/44'/118'/0'/0/0).
pub fn dev_key() -> caspur_types::sign::AccountKey {
    let seed = bip39::Mnemonic::parse_normalized(MNEMONIC)
        .unwrap()
        .to_seed("");
    let xprv = bip32::XPrv::derive_from_path(seed, &"m/44'/118'/0'/0/0".parse().unwrap()).unwrap();
    let key =
        caspur_types::sign::AccountKey::from_secret(&xprv.private_key().to_bytes().into()).unwrap();
    assert_eq!(key.address().to_string(), DEV_ADDRESS);
    key
}

/// A signed 1ucsp send from the dev account (account 0) at `sequence`, base64 for
/// `broadcast_tx_sync`; recipients cycle through 200 fixed keys.
pub fn dev_send_tx(key: &caspur_types::sign::AccountKey, sequence: u64) -> String {
    use base64::Engine as _;
    use caspur_types::sign::{msg_send, sign_tx, AccountKey, TxParams};
    let to = AccountKey::from_secret(&[(sequence % 200 + 1) as u8; 32]).unwrap();
    let one: caspur_types::Coins = "1ucsp".parse().unwrap();
    let params = TxParams {
        chain_id: "caspur-dev-1".into(),
        account_number: 0,
        sequence,
        fee: "500ucsp".parse().unwrap(),
        gas_limit: 200_000,
        memo: String::new(),
        include_pubkey: true,
    };
    base64::engine::general_purpose::STANDARD.encode(sign_tx(
        key,
        vec![msg_send(&key.address(), &to.address(), &one)],
        &params,
    ))
}

/// Resident memory of a process, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The height at which the tx `hash` was committed, as `tx_search` reports it.
pub fn committed_height(node: &Node, hash: &str) -> Option<u64> {
    let r = node.rpc("tx_search", json!({"query": format!("tx.hash='{hash}'")}))?;
    r["txs"][0]["height"].as_str()?.parse().ok()
}

/// A tx of `msgs` signed by the dev account (account 0) at `sequence`, with room for large
/// txs (20M gas, 50,000ucsp).
pub fn dev_signed_tx(
    key: &caspur_types::sign::AccountKey,
    msgs: Vec<cosmos_sdk_proto::Any>,
    sequence: u64,
) -> Vec<u8> {
    caspur_types::sign::sign_tx(
        key,
        msgs,
        &caspur_types::sign::TxParams {
            chain_id: "caspur-dev-1".into(),
            account_number: 0,
            sequence,
            fee: "50000ucsp".parse().unwrap(),
            gas_limit: 20_000_000,
            memo: String::new(),
            include_pubkey: true,
        },
    )
}

/// `broadcast_tx_sync` of raw tx bytes; the node's answer.
pub fn broadcast(node: &Node, raw: &[u8]) -> Value {
    use base64::Engine as _;
    node.rpc(
        "broadcast_tx_sync",
        json!({"tx": base64::engine::general_purpose::STANDARD.encode(raw)}),
    )
    .expect("the node answers broadcast_tx_sync")
}

/// The dev account's sequence on chain.
pub fn dev_sequence(node: &Node) -> u64 {
    let out = node.cli(&[
        "query",
        "auth",
        "account",
        DEV_ADDRESS,
        "--node",
        &node.rpc,
        "-o",
        "json",
    ]);
    json_out(&out)["account"]["sequence"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// One scrape of a node's Prometheus endpoint.
pub struct Scrape(pub String);

impl Scrape {
    /// `GET http://addr/metrics`.
    pub fn of(addr: &str) -> Scrape {
        let body = ureq::get(&format!("http://{addr}/metrics"))
            .timeout(Duration::from_secs(10))
            .call()
            .expect("metrics endpoint answers")
            .into_string()
            .expect("metrics are text");
        Scrape(body)
    }

    /// The declared type of family `name` (`# TYPE name <type>`).
    pub fn type_of(&self, name: &str) -> Option<&str> {
        let prefix = format!("# TYPE {name} ");
        self.0.lines().find_map(|l| l.strip_prefix(prefix.as_str()))
    }

    /// The value of the first sample of `series`: a family name, optionally with labels
    /// (`name{k="v"}`) that the sample must carry among its own.
    pub fn value(&self, series: &str) -> Option<f64> {
        let (name, wanted) = match series.split_once('{') {
            Some((name, labels)) => (name, labels.trim_end_matches('}')),
            None => (series, ""),
        };
        let wanted: Vec<&str> = wanted.split(',').filter(|l| !l.is_empty()).collect();
        self.0
            .lines()
            .filter(|l| !l.starts_with('#'))
            .find(|l| {
                let (sample, _) = l.rsplit_once(' ').unwrap_or((l, ""));
                let (sample_name, labels) = match sample.split_once('{') {
                    Some((n, rest)) => (n, rest.trim_end_matches('}')),
                    None => (sample, ""),
                };
                sample_name == name && wanted.iter().all(|w| labels.split(',').any(|l| l == *w))
            })
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    }
}

/// An HTTP receiver on 127.0.0.1 that answers every request 200 and records each body.
pub struct Recorder {
    /// Its URL.
    pub url: String,
    bodies: std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
}

impl Recorder {
    /// Starts it on a free port (a background thread serves it until the test ends).
    pub fn start() -> Recorder {
        use std::io::{BufRead, BufReader, Read, Write};
        let port = free_port();
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = bodies.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream);
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0u8; length];
                if reader.read_exact(&mut body).is_ok() {
                    if let Ok(v) = serde_json::from_slice(&body) {
                        seen.lock().unwrap().push(v);
                    }
                }
                let _ = reader.get_mut().write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
            }
        });
        Recorder {
            url: format!("http://127.0.0.1:{port}/hook"),
            bodies,
        }
    }

    /// The bodies received so far.
    pub fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }
}
