//! Validators under `caspurvisor` for the upgrade tests: `testnet init` homes, each node a
//! real `caspurd` process under its own visor, with the governance and readiness helpers the
//! upgrade and canary tests share.

use super::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub const VALIDATORS: usize = 4;

pub fn v2_bin() -> &'static str {
    env!("CARGO_BIN_EXE_caspurd-upgrade-test")
}

/// `caspurvisor`, next to `caspurd` in the target directory (built if missing).
pub fn visor_bin() -> PathBuf {
    let path = Path::new(bin()).with_file_name("caspurvisor");
    if !path.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "caspur-visor", "--bin", "caspurvisor"])
            .status()
            .unwrap();
        assert!(status.success(), "building caspurvisor failed");
    }
    path
}

pub fn sha256(path: &str) -> String {
    caspur_types::upgrade_info::sha256_hex(std::fs::File::open(path).unwrap()).unwrap()
}

pub fn plan_info() -> String {
    json!({"binaries": {caspur_types::upgrade_info::platform(): {
        "url": format!("file://{}", v2_bin()),
        "sha256": sha256(v2_bin()),
    }}})
    .to_string()
}

/// Four homes under visors.
pub struct Net {
    pub dir: tempfile::TempDir,
    pub base: u16,
    pub count: usize,
    pub visors: Vec<Option<Node>>,
}

impl Net {
    /// `testnet init` with `edit` applied to every genesis, and each home's visor set up
    /// with `caspurd` as genesis binary.
    pub fn new(edit: impl Fn(&mut Value)) -> Net {
        Net::with_validators(VALIDATORS, edit)
    }

    /// [`Net::new`] with `count` validators.
    pub fn with_validators(count: usize, edit: impl Fn(&mut Value)) -> Net {
        let dir = tempfile::tempdir().unwrap();
        let base = free_port_block(10 * count as u16);
        testnet_init(dir.path(), count, base, 0, 200);
        edit_genesis(dir.path(), count, |g| {
            let gov = &mut g["app_state"]["gov"]["params"];
            gov["voting_period_secs"] = json!(4);
            gov["max_deposit_period_secs"] = json!(4);
            gov["expedited_voting_period_secs"] = json!(2);
            edit(g);
        });
        let net = Net {
            dir,
            base,
            count,
            visors: (0..count).map(|_| None).collect(),
        };
        for k in 0..count {
            net.visor_cmd(k, &["init", bin()]);
        }
        net
    }

    pub fn home(&self, k: usize) -> PathBuf {
        self.dir.path().join(format!("node{k}"))
    }

    /// Watches node 0's alerts (its Prometheus address from `testnet init`) through a webhook
    /// set in its config before it starts.
    pub fn watch_node0(&self) -> AlertWatch {
        let watch = AlertWatch::new(&format!("127.0.0.1:{}", self.base + 2), &self.home(0));
        watch.configure(&[]);
        watch
    }

    pub fn rpc(&self, k: usize) -> String {
        format!("tcp://127.0.0.1:{}", self.base + 10 * k as u16 + 1)
    }

    pub fn visor_cmd(&self, k: usize, args: &[&str]) -> String {
        let out = succeed(
            Command::new(visor_bin())
                .arg("--home")
                .arg(self.home(k))
                .args(args),
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Places the v2 binary for plan `name` on node `k`.
    pub fn place(&self, k: usize, name: &str, binary: &str) {
        self.visor_cmd(k, &["add-upgrade", name, binary]);
    }

    pub fn start(&mut self, k: usize, canary_secs: u64) {
        let port = self.base + 10 * k as u16;
        let mut cmd = Command::new(visor_bin());
        cmd.arg("--home").arg(self.home(k)).args([
            "run",
            "--canary-secs",
            &canary_secs.to_string(),
            "--poll-ms",
            "200",
            "--metrics-laddr",
            &format!("127.0.0.1:{}", port + 5),
            "--",
            "start",
        ]);
        self.visors[k] = Some(Node::spawn_command(cmd, &self.home(k), port + 1, port));
    }

    pub fn start_all(&mut self, canary_secs: u64) {
        for k in 0..self.count {
            self.start(k, canary_secs);
        }
        for k in 0..self.count {
            self.node(k).wait_height(3, Duration::from_secs(90));
        }
    }

    pub fn node(&self, k: usize) -> &Node {
        self.visors[k].as_ref().expect("visor running")
    }

    /// A CLI command against node `k` with JSON output.
    pub fn json(&self, k: usize, args: &[&str]) -> Value {
        let mut full: Vec<&str> = args.to_vec();
        let rpc = self.rpc(k);
        full.extend(["--node", &rpc, "-o", "json"]);
        json_out(&self.node(k).cli(&full))
    }

    /// A tx from node `k`'s account (key nodeK), waiting for its block; must succeed.
    pub fn tx(&self, k: usize, args: &[&str]) -> Value {
        let from = format!("node{k}");
        let mut full: Vec<&str> = args.to_vec();
        full.extend([
            "--from",
            &from,
            "--keyring-backend",
            "test",
            "--broadcast-mode",
            "block",
        ]);
        let r = self.json(k, &full);
        assert_eq!(r["code"], 0, "{args:?}: {r}");
        r
    }

    pub fn status(&self, k: usize) -> Value {
        serde_json::from_str(&self.visor_cmd(k, &["status"])).unwrap()
    }

    pub fn plan(&self, k: usize) -> Value {
        self.json(k, &["query", "upgrade", "plan"])["plan"].clone()
    }

    /// Submits a governance proposal of `messages` from node 0 and has every validator vote
    /// yes; returns at once (the vote ends after the voting period).
    pub fn pass(&self, messages: Value) {
        let file = self.dir.path().join("proposal.json");
        std::fs::write(
            &file,
            json!({"messages": messages, "deposit": "10000000ucsp", "title": "upgrade", "summary": "upgrade"}).to_string(),
        )
        .unwrap();
        let r = self.tx(0, &["tx", "gov", "submit-proposal", file.to_str().unwrap()]);
        let id = r["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["type"] == "submit_proposal")
            .and_then(|e| {
                e["attributes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|a| a["key"] == "proposal_id")
            })
            .map(|a| a["value"].as_str().unwrap().to_string())
            .unwrap();
        for k in 0..self.count {
            self.tx(k, &["tx", "gov", "vote", &id, "yes"]);
        }
    }

    pub fn software_upgrade(&self, name: &str, height: u64) -> Value {
        self.software_upgrade_of(name, height, &plan_info())
    }

    /// [`Net::software_upgrade`] with its own `info`.
    pub fn software_upgrade_of(&self, name: &str, height: u64, info: &str) -> Value {
        let authority = self.json(0, &["query", "gov", "authority"])["authority"].clone();
        json!([{"@type": "/caspur.upgrade.v1.MsgSoftwareUpgrade", "authority": authority,
            "plan": {"name": name, "height": height, "info": info, "routes_to_reopen": []}}])
    }

    /// Waits until node `k`'s visor status satisfies `ok`.
    pub fn wait_status(&self, k: usize, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let s = self.status(k);
            if ok(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "visor {k} never reached {what}: {s}\nlog: {}",
                self.node(k).log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// App hash of every running node at `height` (waiting for each to reach it) must agree.
    pub fn agree_at(&self, ks: &[usize], height: u64) -> String {
        let mut hashes = Vec::new();
        for &k in ks {
            self.node(k).wait_height(height, Duration::from_secs(120));
            hashes.push(self.node(k).hashes_at(height).unwrap());
        }
        assert!(
            hashes.windows(2).all(|w| w[0] == w[1]),
            "nodes disagree at {height}: {hashes:?}"
        );
        hashes[0].1.clone()
    }

    pub fn block_time_ms(&self, k: usize, height: u64) -> i64 {
        let b = self
            .node(k)
            .rpc("block", json!({"height": height.to_string()}))
            .unwrap();
        let t = b["block"]["header"]["time"].as_str().unwrap();
        chrono::DateTime::parse_from_rfc3339(t)
            .unwrap()
            .timestamp_millis()
    }
}

impl Drop for Net {
    /// SIGTERM to each visor (forwarded to its node), then SIGKILL what is left.
    fn drop(&mut self) {
        for v in self.visors.iter().flatten() {
            let _ = Command::new("kill")
                .args(["-TERM", &v.child.id().to_string()])
                .status();
        }
        for k in 0..self.count {
            if let Some(mut v) = self.visors[k].take() {
                let deadline = Instant::now() + Duration::from_secs(15);
                while v.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(100));
                }
                // Never panic here: a failing test is already unwinding.
                let status = std::fs::read(self.home(k).join("visor/status.json"))
                    .ok()
                    .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
                if let Some(pid) = status.and_then(|s| s["pid"].as_u64()) {
                    let _ = Command::new("kill")
                        .args(["-KILL", &pid.to_string()])
                        .status();
                }
            }
        }
    }
}

/// Sets the upgrade parameters: two-thirds emergency quorum, a 10-block readiness window and
/// up to 3 postponements, with `min_notice` and `readiness_threshold` ("0": readiness off).
pub fn upgrade_params(g: &mut Value, min_notice: u64, readiness_threshold: &str) {
    g["app_state"]["upgrade"]["params"] = json!({
        "emergency_quorum": "0.666666666666666666", "min_notice": min_notice,
        "readiness_threshold": readiness_threshold, "readiness_window": 10,
        "max_postponements": 3});
}

pub fn height_of(plan: &Value) -> u64 {
    plan["plan"]["height"].as_str().map_or_else(
        || plan["plan"]["height"].as_u64().unwrap(),
        |s| s.parse().unwrap(),
    )
}
