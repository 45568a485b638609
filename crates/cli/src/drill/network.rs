//! The drill's network: `testnet init` homes with a drill's parameters, each validator a real
//! `caspurd` under its own `caspurvisor`, both binaries placed ahead; a webhook receiver on
//! node 0; and the CLI calls the steps make, each through the real binary.

use crate::testnet::{self, NetworkParams, TestnetOptions};
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Longest any wait of the drill lasts before it fails, naming what it waited for.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(120);
/// Largest webhook request the receiver reads.
const MAX_HOOK_BYTES: usize = 1 << 20;

/// The running network.
pub struct Network {
    /// Where the homes are.
    pub dir: PathBuf,
    /// `caspurd` (this binary).
    pub caspurd: PathBuf,
    /// `caspurvisor`, next to it.
    pub visor: PathBuf,
    /// Node `k`'s first port (p2p; RPC +1, metrics +2).
    pub base: u16,
    /// Validators.
    pub count: usize,
    visors: Vec<Option<Child>>,
    /// Bodies the webhook receiver got.
    pub hooks: Arc<Mutex<Vec<String>>>,
}

/// The stdout of a finished command (`what` in the error), which must have succeeded; else
/// its stderr.
pub fn succeeded(what: &str, out: std::process::Output) -> Result<Vec<u8>> {
    if !out.status.success() {
        bail!("{what}: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(out.stdout)
}

impl Network {
    /// Node `k`'s home.
    pub fn home(&self, k: usize) -> PathBuf {
        self.dir.join(format!("node{k}"))
    }

    /// Node `k`'s RPC URL (`tcp://…`).
    pub fn rpc(&self, k: usize) -> String {
        format!("tcp://127.0.0.1:{}", self.base + 10 * k as u16 + 1)
    }

    /// `caspurd ARGS --home node_k --node <node 0> -o json`, which must succeed; its JSON.
    pub fn cli(&self, k: usize, args: &[&str]) -> Result<Value> {
        let out = Command::new(&self.caspurd)
            .args(args)
            .arg("--home")
            .arg(self.home(k))
            .args(["--node", &self.rpc(0), "-o", "json"])
            .stdin(Stdio::null())
            .output()?;
        let what = format!("caspurd {}", args.join(" "));
        serde_json::from_slice(&succeeded(&what, out)?).with_context(|| format!("{what}: not JSON"))
    }

    /// A tx from node `k`'s account (key `nodeK`).
    pub fn tx(&self, k: usize, args: &[&str]) -> Result<Value> {
        let from = format!("node{k}");
        let mut full = args.to_vec();
        full.extend(["--from", &from, "--gas", "auto", "--gas-adjustment", "1.5"]);
        self.cli(k, &full)
    }

    /// `caspurvisor --home node_k ARGS`, which must succeed; its stdout.
    pub fn visor_cmd(&self, k: usize, args: &[&str]) -> Result<String> {
        let out = Command::new(&self.visor)
            .arg("--home")
            .arg(self.home(k))
            .args(args)
            .output()?;
        let stdout = succeeded(&format!("caspurvisor {}", args.join(" ")), out)?;
        Ok(String::from_utf8_lossy(&stdout).into_owned())
    }

    /// `caspurvisor --home node_k ARGS`, started (its output captured) without waiting.
    pub fn visor_spawn(&self, k: usize, args: &[&str]) -> Result<Child> {
        Command::new(&self.visor)
            .arg("--home")
            .arg(self.home(k))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("cannot run caspurvisor")
    }

    /// Node `k`'s visor status.
    pub fn status(&self, k: usize) -> Value {
        self.visor_cmd(k, &["status"])
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default()
    }

    /// Node `k`'s committed height (0 when it does not answer).
    pub fn height(&self, k: usize) -> u64 {
        let url = format!("http://127.0.0.1:{}/status", self.base + 10 * k as u16 + 1);
        ureq::get(&url)
            .timeout(Duration::from_secs(2))
            .call()
            .ok()
            .and_then(|r| r.into_json::<Value>().ok())
            .and_then(|v| {
                v["result"]["sync_info"]["latest_block_height"]
                    .as_str()?
                    .parse()
                    .ok()
            })
            .unwrap_or(0)
    }

    /// Starts node `k`'s visor (`caspurvisor run -- start`), its output to `nodeK.log`.
    pub fn start(&mut self, k: usize) -> Result<()> {
        let log = std::fs::File::create(self.dir.join(format!("node{k}.log")))?;
        let child = Command::new(&self.visor)
            .arg("--home")
            .arg(self.home(k))
            .args([
                "run",
                "--canary-secs",
                "60",
                "--poll-ms",
                "200",
                "--metrics-laddr",
            ])
            .arg(format!("127.0.0.1:{}", self.base + 10 * k as u16 + 5))
            .args(["--", "start"])
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("cannot start caspurvisor")?;
        self.visors[k] = Some(child);
        Ok(())
    }

    /// Whether node `k`'s visor runs.
    pub fn started(&self, k: usize) -> bool {
        self.visors[k].is_some()
    }
}

impl Drop for Network {
    /// SIGTERM to every visor (forwarded to its node), SIGKILL to what is left.
    fn drop(&mut self) {
        for child in self.visors.iter().flatten() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        for k in 0..self.visors.len() {
            if let Some(mut child) = self.visors[k].take() {
                while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(100));
                }
                let _ = child.kill();
                let _ = child.wait();
                if let Some(pid) = self.status(k)["pid"].as_u64() {
                    let _ = Command::new("kill")
                        .args(["-KILL", &pid.to_string()])
                        .status();
                }
            }
        }
    }
}

/// A free block of `count` ports below the ephemeral range.
fn free_base(count: u16) -> Result<u16> {
    let start = 20_000 + (std::process::id() % 9_000) as u16;
    (0..60u16)
        .map(|i| (start.wrapping_add(i * 197) % 11_000) + 20_000)
        .find(|&base| (base..base + count).all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok()))
        .context("no free block of ports below 32000")
}

/// Accepts webhook POSTs on a free port, keeping each body; returns the port.
fn hook_receiver(bodies: Arc<Mutex<Vec<String>>>) -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut length = 0usize;
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0).min(MAX_HOOK_BYTES);
                }
                line.clear();
            }
            let mut body = vec![0u8; length];
            if reader.read_exact(&mut body).is_ok() {
                bodies
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(String::from_utf8_lossy(&body).into_owned());
            }
            let _ = (&stream).write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n");
        }
    });
    Ok(port)
}

/// `testnet init` of `count` validators in `dir` with a drill's parameters (dCERT of all but
/// the last validator, breaking allowed, short votes and notice), each home under a visor
/// with the current binary and `next` placed for every plan name in `plans`, and node 0's
/// incident webhook pointed at a local receiver.
pub fn build(dir: &Path, count: usize, next: &Path, plans: &[&str]) -> Result<Network> {
    let caspurd = std::env::current_exe()?;
    let visor = caspurd.with_file_name("caspurvisor");
    if !visor.exists() {
        bail!(
            "{} not found: the drill runs each validator under caspurvisor",
            visor.display()
        );
    }
    let base = free_base(10 * count as u16 + 10)?;
    testnet::init(&TestnetOptions {
        validators: count,
        full_nodes: 0,
        output: dir.to_path_buf(),
        chain_id: "caspur-drill-1".into(),
        starting_port: base,
        block_time_ms: 200,
        account_coins: "1000000000000ucsp".into(),
        extra_accounts: Vec::new(),
        params: NetworkParams {
            voting_period_secs: Some(4),
            dcert_members: (count - 1) as u32,
            circuit_break_enabled: true,
            min_notice: Some(20),
            readiness_window: Some(5),
            readiness_threshold: Some("0.6".into()),
            triage_sla_secs: Some(120),
        },
    })?;
    let hooks = Arc::new(Mutex::new(Vec::new()));
    let hook_port = hook_receiver(hooks.clone())?;
    let net = Network {
        dir: dir.to_path_buf(),
        caspurd: caspurd.clone(),
        visor,
        base,
        count,
        visors: (0..count).map(|_| None).collect(),
        hooks,
    };
    let config = net.home(0).join("config/config.toml");
    let mut cfg: toml::Value = toml::from_str(&std::fs::read_to_string(&config)?)?;
    let mut hook = toml::map::Map::new();
    hook.insert(
        "url".into(),
        format!("http://127.0.0.1:{hook_port}/hook").into(),
    );
    // Every step is an event; the drill's receiver takes them as fast as they come.
    hook.insert("max_per_minute".into(), 600.into());
    cfg.get_mut("incidents")
        .and_then(toml::Value::as_table_mut)
        .context("config.toml has no [incidents] section")?
        .insert("webhooks".into(), vec![toml::Value::Table(hook)].into());
    std::fs::write(&config, toml::to_string_pretty(&cfg)?)?;
    for k in 0..count {
        net.visor_cmd(k, &["init", &caspurd.to_string_lossy()])?;
        for plan in plans {
            net.visor_cmd(k, &["add-upgrade", plan, &next.to_string_lossy()])?;
        }
    }
    Ok(net)
}

/// Polls `check` every 200 ms until it gives a value; fails after [`STEP_TIMEOUT`] naming
/// `what`.
pub fn wait<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> Result<T> {
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        if let Some(v) = check() {
            return Ok(v);
        }
        if Instant::now() > deadline {
            bail!("the drill waited {STEP_TIMEOUT:?} for {what}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
