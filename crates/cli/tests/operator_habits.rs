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
    let out = Command::new(bin())
        .arg("export")
        .arg("--home")
        .arg(&home)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exported: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(exported["chain_id"], "caspur-dev-1");
}
