//! Where operators first touch a node (issue 19): a busy port is one clear line naming the
//! address and its setting, never a panic; `export` of a running node's home fails at once
//! instead of waiting on its data.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use std::process::Command;
use std::time::{Duration, Instant};

/// `caspurd dev` on a new home with these listen addresses; its exit and error output.
fn dev_on(home: &std::path::Path, rpc: &str, p2p: &str, prometheus: &str) -> (Option<i32>, String) {
    let out = Command::new(bin())
        .args(["dev", "--dev-mnemonic", MNEMONIC, "--grpc-laddr", ""])
        .args(["--rpc-laddr", rpc, "--p2p-laddr", p2p])
        .args(["--prometheus-laddr", prometheus, "--home"])
        .arg(home)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_busy_port_is_one_line_naming_it_and_export_of_a_running_node_fails_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (rpc, p2p, metrics) = (free_port(), free_port(), free_port());
    let node = Node::start_with(
        &dir.path().join("a"),
        rpc,
        p2p,
        &["--prometheus-laddr", &format!("127.0.0.1:{metrics}")],
    );
    let free = || format!("127.0.0.1:{}", free_port());
    let cases = [
        (
            "p2p ([p2p] laddr)",
            free(),
            format!("127.0.0.1:{p2p}"),
            free(),
        ),
        (
            "RPC ([rpc] laddr)",
            format!("127.0.0.1:{rpc}"),
            free(),
            free(),
        ),
        (
            "Prometheus ([instrumentation] prometheus_listen_addr)",
            free(),
            free(),
            format!("127.0.0.1:{metrics}"),
        ),
    ];
    for (k, (what, rpc, p2p, prometheus)) in cases.iter().enumerate() {
        let home = dir.path().join(format!("b{k}"));
        let (code, err) = dev_on(&home, rpc, p2p, prometheus);
        let busy = [rpc, p2p, prometheus]
            .into_iter()
            .find(|a| err.contains(a.as_str()))
            .unwrap_or_else(|| panic!("no address named: {err}"));
        assert_eq!(code, Some(1), "{err}");
        let last = err.trim().lines().last().unwrap_or_default();
        assert!(
            last.starts_with(&format!("Error: cannot listen for {what} on {busy}")),
            "{err}"
        );
        assert!(
            !err.contains("panicked") && !err.contains("backtrace"),
            "{err}"
        );
    }

    // `export` on the home of the running node: an error at once, saying why.
    let started = Instant::now();
    let out = Command::new(bin())
        .arg("export")
        .arg("--home")
        .arg(&node.home)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10), "{err}");
    assert!(err.contains("is the node still running?"), "{err}");
    // Stopped, the same export works.
    let home = node.home.clone();
    node.interrupt();
    let exported = json_out(
        &Command::new(bin())
            .arg("export")
            .arg("--home")
            .arg(&home)
            .output()
            .unwrap(),
    );
    assert_eq!(exported["chain_id"], "caspur-dev-1");
}

/// `caspurd <args> --home <home>` with `env`; (success, stdout, stderr).
fn run(home: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let out = Command::new(bin())
        .args(args)
        .arg("--home")
        .arg(home)
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn client_toml_gives_the_cli_its_node_keyring_and_output() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("node");
    // Ports away from the built-in default: only client.toml can lead the CLI there.
    let node = Node::start(&home, free_port(), free_port());
    let toml = std::fs::read_to_string(home.join("config/client.toml")).unwrap();
    assert!(toml.contains("chain-id = \"caspur-dev-1\""), "{toml}");
    assert!(toml.contains("keyring-backend = \"test\""), "{toml}");
    let rpc = node.rpc.replace("http://", "tcp://");
    assert!(toml.contains(&format!("node = \"{rpc}\"")), "{toml}");

    // No --node, no --keyring-backend: a send and a query reach this node.
    let bob = node.add_key("bob");
    let bob = bob.as_str();
    let (ok, out, err) = run(
        &home,
        &["tx", "bank", "send", "dev", bob, "7ucsp", "-o", "json"],
        &[],
    );
    assert!(ok, "{out}{err}");
    let balances = run(
        &home,
        &["query", "bank", "balances", bob, "-o", "json"],
        &[],
    );
    assert!(balances.1.contains("\"7\""), "{balances:?}");
    let (_, total, _) = run(&home, &["query", "bank", "total", "-o", "json"], &[]);
    let total: serde_json::Value = serde_json::from_str(total.trim()).unwrap();
    assert_eq!(total["supply"][0]["denom"], "ucsp", "{total}");
    let supply: u128 = total["supply"][0]["amount"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(supply >= 1_000_000_000_000_000, "{total}");
    let (_, auth, _) = run(&home, &["query", "auth", "params", "-o", "json"], &[]);
    let auth: serde_json::Value = serde_json::from_str(auth.trim()).unwrap();
    assert_eq!(auth["params"]["max_memo_characters"], "256", "{auth}");
    assert_eq!(auth["params"]["tx_size_cost_per_byte"], "10", "{auth}");
    assert_eq!(
        auth["params"]["sig_verify_cost_secp256k1"], "1000",
        "{auth}"
    );

    // `config`: list, get, set (checked by name); the output default follows it.
    let (ok, listed, _) = run(&home, &["config", "-o", "json"], &[]);
    assert!(
        ok && listed.contains("\"broadcast-mode\":\"block\""),
        "{listed}"
    );
    let (_, got, _) = run(&home, &["config", "node", "-o", "json"], &[]);
    assert!(got.contains(&rpc), "{got}");
    let (ok, _, err) = run(&home, &["config", "output", "yaml"], &[]);
    assert!(!ok && err.contains("output must be text or json"), "{err}");
    assert!(run(&home, &["config", "output", "json"], &[]).0);
    let (_, status, _) = run(&home, &["status"], &[]);
    let status: serde_json::Value = serde_json::from_str(status.trim()).unwrap();
    assert_eq!(status["node_info"]["network"], "caspur-dev-1");

    // Precedence: the environment over client.toml, the flag over the environment.
    let nowhere = [("CASPUR_NODE", "tcp://127.0.0.1:9")];
    let (ok, _, err) = run(&home, &["query", "bank", "balances", bob], &nowhere);
    assert!(!ok && err.contains("127.0.0.1:9"), "{err}");
    let (ok, out, err) = run(
        &home,
        &["query", "bank", "balances", bob, "--node", &rpc],
        &nowhere,
    );
    assert!(ok && out.contains("\"7\""), "{out}{err}");
    let text = [("CASPUR_OUTPUT", "text")];
    let (_, out, _) = run(&home, &["config", "node"], &text);
    assert!(out.starts_with("node: "), "{out}");

    // A broken client.toml stops other commands, naming the key, but `config` repairs it.
    let path = home.join("config/client.toml");
    let good = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, good.replace(&rpc, "localhost:26657")).unwrap();
    let (ok, _, err) = run(&home, &["status"], &[]);
    assert!(!ok && err.contains("node must be tcp://"), "{err}");
    let (ok, shown, err) = run(&home, &["config", "-o", "json"], &[]);
    assert!(ok && shown.contains("localhost:26657"), "{shown}{err}");
    assert!(err.contains("caspurd config KEY VALUE"), "{err}");
    assert!(run(&home, &["config", "node", &rpc], &[]).0);
    let (ok, _, err) = run(&home, &["status"], &[]);
    assert!(ok, "{err}");
}

#[test]
fn a_dev_chain_starts_with_a_seeded_dcert_that_can_break_and_open_reports() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("node");
    let node = Node::start_with(&home, free_port(), free_port(), &["--dcert-members", "3"]);
    let said = std::fs::read_to_string(home.with_extension("log")).unwrap();
    assert!(
        said.contains("dCERT: 3 seated and bonded (keys dev, dcert2, dcert3), circuit breaking ON"),
        "{said}"
    );
    let members = node.json(&["query", "dcert", "members"]);
    let members = members["members"].as_array().unwrap();
    assert_eq!(members.len(), 3, "{members:?}");
    let params = node.json(&["query", "dcert", "params"]);
    assert_eq!(params["params"]["circuit_break_enabled"], true);
    // The extra members are keys of the test keyring, funded to act.
    let m3 = json_out(&node.cli(&[
        "keys",
        "show",
        "dcert3",
        "--keyring-backend",
        "test",
        "-o",
        "json",
    ]));
    let m3 = m3["address"].as_str().unwrap();
    assert!(
        members.iter().any(|m| m.to_string().contains(m3)),
        "{members:?}"
    );
    node.tx_from("dcert3", &["tx", "dcert", "update-description", "on call"]);

    // A report is sealed to the three; each opens it with the key the dev chain wrote.
    let report = dir.path().join("report.md");
    std::fs::write(&report, "overflow in MsgSend\n").unwrap();
    node.tx_from(
        "dev",
        &[
            "tx",
            "incident",
            "report",
            "--file",
            report.to_str().unwrap(),
            "--severity",
            "high",
        ],
    );
    for name in ["dev", "dcert2", "dcert3"] {
        let key = home.join(format!("config/dcert/{name}.key"));
        let opened = node.json(&["incident", "open", "1", "--key", key.to_str().unwrap()]);
        assert!(
            opened["report"].as_str().unwrap().contains("overflow"),
            "{opened}"
        );
    }
    // And the dev account breaks a route in its first minute.
    let send = "/cosmos.bank.v1beta1.MsgSend";
    node.tx_from(
        "dev",
        &[
            "tx",
            "dcert",
            "circuit-break",
            "--routes",
            send,
            "--reason",
            "trying it",
        ],
    );
    let broken = node.json(&["query", "circuit", "is-broken", send]);
    assert_eq!(broken["broken"], true, "{broken}");
}

#[test]
fn gas_auto_simulates_first_and_pays_for_what_it_estimated() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("node");
    let node = Node::start(&home, free_port(), free_port());
    let bob = node.add_key("bob");
    let args = [
        "tx",
        "bank",
        "send",
        "dev",
        &bob,
        "3ucsp",
        "--gas",
        "auto",
        "--gas-adjustment",
        "1.5",
        "-o",
        "json",
    ];
    let (ok, out, err) = run(&home, &args, &[]);
    assert!(ok, "{out}{err}");
    let estimate: u64 = err
        .lines()
        .find_map(|l| l.strip_prefix("gas estimate: "))
        .unwrap_or_else(|| panic!("no estimate in {err:?}"))
        .parse()
        .unwrap();
    let sent: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(sent["code"], 0, "{sent}");
    let tx = node.json(&["query", "tx", sent["txhash"].as_str().unwrap()]);
    let wanted: u64 = tx["gas_wanted"].as_str().unwrap().parse().unwrap();
    let used: u64 = tx["gas_used"].as_str().unwrap().parse().unwrap();
    assert_eq!(wanted, estimate, "{tx}");
    assert!(
        used <= wanted && wanted < 200_000,
        "used {used} of {wanted}"
    );
    // 1.5 × what the simulation used (which signed a stand-in fee and limit, so the block's
    // charge may differ by a few bytes' gas).
    let ratio = wanted as f64 / used as f64;
    assert!((1.45..=1.55).contains(&ratio), "{wanted} / {used}");
    let (ok, _, err) = run(
        &home,
        &["tx", "bank", "send", "dev", &bob, "1ucsp", "--gas", "lots"],
        &[],
    );
    assert!(
        !ok && err.contains("--gas must be a whole number or auto"),
        "{err}"
    );
    let bad = [
        "tx",
        "bank",
        "send",
        "dev",
        &bob,
        "1ucsp",
        "--gas",
        "auto",
        "--gas-adjustment",
        "0",
    ];
    let (ok, _, err) = run(&home, &bad, &[]);
    assert!(!ok && err.contains("--gas-adjustment"), "{err}");
}

#[test]
fn logs_follow_the_level_and_format_asked_for_without_colours_paths_or_fresh_start_noise() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("node");
    let node = Node::start_with(&home, free_port(), free_port(), &["--log-format", "json"]);
    node.wait_height(3, Duration::from_secs(30));
    let log = node.log();
    let events: Vec<serde_json::Value> = log
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(
        events
            .iter()
            .any(|e| e["fields"]["message"] == "committed" && e["target"] == "caspur_node::sink"),
        "{log}"
    );
    assert!(!log.contains('\u{1b}'), "colour codes in a file:\n{log}");
    assert!(!log.contains("/.cargo/registry"), "source paths:\n{log}");
    assert!(
        !log.contains("initializing new db"),
        "fresh-start noise:\n{log}"
    );
    assert!(!events.iter().any(|e| e["level"] == "WARN"), "{log}");
    drop(node);

    // Plain lines at warn: no info lines; a level that is none is refused by name.
    let node = Node::spawn(
        &home,
        &["start", "--log-level", "warn"],
        free_port(),
        free_port(),
    );
    std::thread::sleep(Duration::from_secs(3));
    let tail = node.log();
    let after = tail.rsplit("caspur_node::sink").next().unwrap_or_default();
    assert!(!after.contains("INFO"), "info lines at warn:\n{after}");
    drop(node);
    let (code, err) = {
        let out = Command::new(bin())
            .args(["start", "--log-level", "verbose", "--home"])
            .arg(&home)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("log level must be trace, debug, info, warn, error or off"),
        "{err}"
    );
}

/// `caspurd dev` without --home (plus `extra`), stopped with Ctrl-C once it makes blocks; the
/// directory it announced and what it printed.
fn scratch_dev(log: &std::path::Path, extra: &[&str]) -> (std::path::PathBuf, String) {
    let (rpc, p2p) = (free_port(), free_port());
    let mut cmd = Command::new(bin());
    cmd.args(["dev", "--grpc-laddr", ""])
        .args(["--rpc-laddr", &format!("127.0.0.1:{rpc}")])
        .args(["--p2p-laddr", &format!("127.0.0.1:{p2p}")])
        .args(extra)
        .env_remove("CASPUR_HOME");
    let node = Node::spawn_command(cmd, log, rpc, p2p);
    node.wait_height(2, Duration::from_secs(60));
    assert!(node.interrupt().success());
    let said = std::fs::read_to_string(log.with_extension("log")).unwrap();
    let dir = said
        .lines()
        .find_map(|l| l.strip_prefix("dev chain data in "))
        .and_then(|rest| rest.split(" (").next())
        .unwrap_or_else(|| panic!("no data directory said:\n{said}"));
    (dir.into(), said)
}

#[test]
fn a_dev_chain_without_a_home_is_removed_at_ctrl_c_unless_kept_and_never_prints_mnemonics() {
    let dir = tempfile::tempdir().unwrap();
    let (gone, said) = scratch_dev(&dir.path().join("a"), &[]);
    assert!(said.contains("removed at Ctrl-C"), "{said}");
    assert!(!gone.exists(), "{} still there", gone.display());
    // Kept: the generated mnemonic is in a file only its owner reads, not in the output.
    let (kept, said) = scratch_dev(&dir.path().join("b"), &["--keep"]);
    assert!(kept.exists(), "{said}");
    let file = kept.join("config/dev-mnemonic.txt");
    let words = std::fs::read_to_string(&file).unwrap();
    assert_eq!(words.split_whitespace().count(), 24);
    assert!(!said.contains(words.trim()), "mnemonic printed:\n{said}");
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    std::fs::remove_dir_all(&kept).unwrap();

    // testnet init: text by default, JSON with -o json; seeds in 0600 files, never printed.
    let out = Command::new(bin())
        .args(["testnet", "init", "--validators", "2", "--output"])
        .arg(dir.path().join("net"))
        .args(["--starting-port", &free_port_block(20).to_string()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("key_seed_file: "),
        "{text}"
    );
    let seed = dir.path().join("net/node1/key_seed.json");
    let secret: serde_json::Value = serde_json::from_slice(&std::fs::read(&seed).unwrap()).unwrap();
    let words = secret["secret"].as_str().unwrap();
    assert_eq!(words.split(' ').count(), 24);
    assert!(!text.contains(words), "{text}");
    let mode = std::fs::metadata(&seed).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let out = Command::new(bin())
        .args([
            "testnet",
            "init",
            "--validators",
            "1",
            "-o",
            "json",
            "--output",
        ])
        .arg(dir.path().join("net2"))
        .args(["--starting-port", &free_port_block(10).to_string()])
        .output()
        .unwrap();
    let nodes: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(nodes[0].get("mnemonic").is_none(), "{nodes}");
}

#[test]
fn version_debug_addr_and_completion_answer_without_a_node() {
    let cli = |args: &[&str]| {
        let out = Command::new(bin()).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(cli(&["version"]).trim(), env!("CARGO_PKG_VERSION"));
    let long: serde_json::Value =
        serde_json::from_str(&cli(&["version", "--long", "-o", "json"])).unwrap();
    let commit = long["commit"].as_str().unwrap();
    assert!(
        commit == "unknown"
            || (commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit())),
        "{long}"
    );
    assert!(
        long["rustc"].as_str().unwrap().starts_with("rustc 1."),
        "{long}"
    );
    assert_eq!(long["cometbft_rpc"], "0.38.17");
    // One address, three spellings, each leading back to the others.
    let forms: serde_json::Value =
        serde_json::from_str(&cli(&["debug", "addr", DEV_ADDRESS, "-o", "json"])).unwrap();
    for given in ["validator_operator", "hex"] {
        let again: serde_json::Value = serde_json::from_str(&cli(&[
            "debug",
            "addr",
            forms[given].as_str().unwrap(),
            "-o",
            "json",
        ]))
        .unwrap();
        assert_eq!(again, forms, "from {given}");
    }
    assert!(forms["validator_operator"]
        .as_str()
        .unwrap()
        .starts_with("caspurvaloper1"));
    for shell in ["bash", "zsh", "fish"] {
        let script = cli(&["completion", shell]);
        assert!(
            script.contains("caspurd") && script.contains("circuit-break"),
            "{shell}"
        );
    }
}

#[test]
fn amounts_in_csp_convert_unknown_denoms_are_refused_and_from_works_on_bank_send() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("node");
    let node = Node::start(&home, free_port(), free_port());
    let bob = node.add_key("bob");
    let balance = || {
        let b = node.json(&["query", "bank", "balances", &bob]);
        b["balances"][0]["amount"]
            .as_str()
            .unwrap_or("0")
            .parse::<u64>()
            .unwrap()
    };
    let send = |args: &[&str]| {
        let mut full = vec!["tx", "bank", "send"];
        full.extend_from_slice(args);
        full.extend(["-o", "json"]);
        run(&home, &full, &[])
    };
    let (ok, out, err) = send(&[&bob, "1csp", "--from", "dev", "--fees", "0.01csp"]);
    assert!(ok, "{out}{err}");
    assert_eq!(balance(), 1_000_000);
    let (ok, out, err) = send(&["dev", &bob, "0.5csp"]);
    assert!(ok, "{out}{err}");
    assert_eq!(balance(), 1_500_000);
    let sequence = dev_sequence(&node);
    let (ok, _, err) = send(&[&bob, "1uatom", "--from", "dev"]);
    assert!(
        !ok && err.contains("unknown denomination \"uatom\""),
        "{err}"
    );
    let (ok, _, err) = send(&["dev", &bob, "1.5ucsp"]);
    assert!(!ok && err.contains("indivisible"), "{err}");
    let (ok, _, err) = send(&["dev", &bob, "1ucsp", "--from", "bob"]);
    assert!(!ok && err.contains("given twice"), "{err}");
    assert_eq!(dev_sequence(&node), sequence, "nothing refused was signed");
    drop(node);

    // genesis add-account takes a key name and display amounts, and refuses other coins.
    let fresh = dir.path().join("fresh");
    assert!(run(&fresh, &["init", "n", "--chain-id", "caspur-x-1"], &[]).0);
    let add = |args: &[&str]| run(&fresh, args, &[]);
    assert!(add(&["keys", "add", "alice", "--keyring-backend", "test"]).0);
    let (ok, out, err) = add(&[
        "genesis",
        "add-account",
        "alice",
        "2.5csp",
        "--keyring-backend",
        "test",
    ]);
    assert!(ok, "{out}{err}");
    let genesis = std::fs::read_to_string(fresh.join("config/genesis.json")).unwrap();
    assert!(genesis.contains("2500000"), "{genesis}");
    let (ok, _, err) = add(&[
        "genesis",
        "add-account",
        "alice",
        "1uatom",
        "--keyring-backend",
        "test",
    ]);
    assert!(!ok && err.contains("unknown denomination"), "{err}");
    let (ok, _, err) = add(&[
        "genesis",
        "add-account",
        "nobody",
        "1csp",
        "--keyring-backend",
        "test",
    ]);
    assert!(!ok && err.contains("neither an address nor a key"), "{err}");
}
