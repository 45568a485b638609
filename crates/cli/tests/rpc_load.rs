//! A bounded load test on the JSON-RPC port: a few thousand concurrent connections, a quarter
//! each of valid calls, malformed JSON, unknown methods and wrong parameter types. Every
//! client must get the right JSON-RPC answer or a connection-level refusal (never a crash or a
//! wrong answer), the node's memory must stay bounded, and the chain must keep going. Then
//! idle, half-sent and trickled connections: none locks a client out or outlives its timeout.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// This process's soft limit on open files.
fn open_file_limit() -> usize {
    std::fs::read_to_string("/proc/self/limits")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3)?.parse().ok())
        .unwrap_or(1024)
}

#[derive(Debug, PartialEq)]
enum Outcome {
    /// The JSON-RPC answer the request deserved.
    Answered,
    /// Refused, reset or timed out at the connection level.
    Refused,
    /// Anything else: a wrong answer.
    Wrong(String),
}

/// The request of client `i` and a check of its answer.
fn request(i: usize) -> (String, fn(&Value) -> bool) {
    match i % 4 {
        0 => (
            r#"{"jsonrpc":"2.0","id":1,"method":"status","params":{}}"#.into(),
            |v| v["result"]["node_info"]["network"] == "caspur-dev-1",
        ),
        1 => ("{not json".into(), |v| v["error"]["code"] == -32700),
        2 => (
            r#"{"jsonrpc":"2.0","id":1,"method":"no_such_method"}"#.into(),
            |v| v["error"]["code"] == -32601,
        ),
        _ => (
            r#"{"jsonrpc":"2.0","id":1,"method":"block","params":{"height":"abc"}}"#.into(),
            |v| v["error"]["code"] == -32602,
        ),
    }
}

async fn one_client(port: u16, i: usize) -> Outcome {
    let (body, check) = request(i);
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        let head = format!(
            "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        Ok::<_, std::io::Error>(response)
    };
    let response = match tokio::time::timeout(Duration::from_secs(90), exchange).await {
        Ok(Ok(r)) if !r.is_empty() => r,
        Ok(Ok(_)) | Ok(Err(_)) | Err(_) => return Outcome::Refused,
    };
    let text = String::from_utf8_lossy(&response);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return Outcome::Wrong(format!("no HTTP header end: {text:?}"));
    };
    if !head.starts_with("HTTP/1.1 200") {
        return Outcome::Wrong(format!("status line {:?}", head.lines().next()));
    }
    match serde_json::from_str::<Value>(body) {
        Ok(v) if v["jsonrpc"] == "2.0" && check(&v) => Outcome::Answered,
        _ => Outcome::Wrong(format!("unexpected answer to request {i}: {body}")),
    }
}

/// How many of `streams` the server has closed (a read sees EOF or an error at once).
async fn count_closed(streams: &mut [tokio::net::TcpStream]) -> usize {
    let mut closed = 0;
    let mut buf = [0u8; 1024];
    for s in streams {
        let read = loop {
            // Drain any reply (a timed-out half-sent request gets a 408) until EOF or silence.
            match tokio::time::timeout(Duration::from_millis(5), s.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break true,
                Ok(Ok(_)) => continue,
                Err(_) => break false,
            }
        };
        closed += usize::from(read);
    }
    closed
}

#[test]
fn thousands_of_concurrent_connections_are_answered_or_refused_with_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let rpc_port = free_port();
    let mut node = DevNode::start(&dir.path().join("node"), rpc_port, free_port());
    let pid = node.child.id();
    let start_height = node.wait_height(2, Duration::from_secs(60));
    let rss_before = rss_kib(pid);

    // Each client holds one descriptor here; keep well inside this process's limit.
    let clients = 3000.min(open_file_limit().saturating_sub(256));
    assert!(clients >= 500, "open-file limit too low for a load test");
    let peak = Arc::new(AtomicU64::new(rss_before));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        std::thread::spawn(move || {
            while sampling.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let outcomes: Vec<Outcome> = runtime.block_on(async {
        let tasks: Vec<_> = (0..clients)
            .map(|i| tokio::spawn(one_client(rpc_port, i)))
            .collect();
        let mut outcomes = Vec::with_capacity(tasks.len());
        for t in tasks {
            outcomes.push(t.await.unwrap());
        }
        outcomes
    });
    let elapsed = started.elapsed();
    sampling.store(false, Ordering::Relaxed);
    sampler.join().unwrap();

    let answered = outcomes.iter().filter(|o| **o == Outcome::Answered).count();
    let refused = outcomes.iter().filter(|o| **o == Outcome::Refused).count();
    let wrong: Vec<_> = outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Wrong(w) => Some(w.as_str()),
            _ => None,
        })
        .collect();
    let peak_kib = peak.load(Ordering::Relaxed);
    println!(
        "{clients} concurrent clients in {elapsed:?}: {answered} answered, {refused} refused; \
         node RSS {rss_before} KiB before, peak {peak_kib} KiB"
    );
    assert!(
        wrong.is_empty(),
        "{} wrong answers, e.g. {}",
        wrong.len(),
        wrong[0]
    );
    // Past `[rpc] max_open_connections` (900) a burst is refused at the connection; how many
    // more than that are answered depends on the machine's speed, so the floor is the slots.
    assert!(
        answered >= 900.min(clients / 2),
        "too few answered: {answered} of {clients}"
    );
    // Bounded: at most 900 connections are open at once, each costing kilobytes.
    assert!(
        peak_kib < rss_before + 256 * 1024,
        "node memory grew from {rss_before} KiB to {peak_kib} KiB under load"
    );

    // Idle connections never lock clients out (issue 15, finding 6): with every slot held by
    // idle or half-sent connections, a new client is served within a second (the quietest
    // connection is evicted), and the idle timeout (10 s) closes the rest.
    let (served_in, evicted, closed_later) = runtime.block_on(async {
        let mut held = Vec::with_capacity(900);
        for i in 0..900 {
            let mut s = tokio::net::TcpStream::connect(("127.0.0.1", rpc_port))
                .await
                .unwrap();
            if i % 2 == 1 {
                // Half a request: headers promising a body that never comes.
                s.write_all(
                    b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{\"id\"",
                )
                .await
                .unwrap();
            }
            held.push(s);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        let started = std::time::Instant::now();
        let outcome = tokio::time::timeout(Duration::from_secs(5), one_client(rpc_port, 0)).await;
        let served_in = started.elapsed();
        assert_eq!(outcome, Ok(Outcome::Answered));
        let evicted = count_closed(&mut held).await;
        tokio::time::sleep(Duration::from_secs(11)).await;
        (served_in, evicted, count_closed(&mut held).await)
    });
    println!("with 900 idle/half-sent connections held: a client served in {served_in:?}; {evicted} evicted, {closed_later} closed after the idle timeout");
    assert!(served_in < Duration::from_secs(1), "{served_in:?}");
    assert!(evicted >= 1, "the new client evicted no connection");
    assert_eq!(
        closed_later, 900,
        "idle connections outlived the idle timeout"
    );

    // A client trickling its request a byte every 2 s never goes idle, but its request must be
    // answered within the request deadline (idle + request timeouts, 20 s): it is closed.
    let trickled_for = runtime.block_on(async {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", rpc_port))
            .await
            .unwrap();
        let started = std::time::Instant::now();
        let head = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
        let mut buf = [0u8; 256];
        for byte in head.iter().chain(std::iter::repeat(&b'a')) {
            if s.write_all(&[*byte]).await.is_err() || started.elapsed() > Duration::from_secs(40) {
                break;
            }
            match tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break,
                _ => {}
            }
        }
        started.elapsed()
    });
    println!("a request trickled a byte every 2 s was closed after {trickled_for:?}");
    assert!(
        trickled_for >= Duration::from_secs(15) && trickled_for < Duration::from_secs(30),
        "{trickled_for:?}"
    );

    // The node is alive, answers, and the chain goes on.
    assert!(node.child.try_wait().unwrap().is_none(), "the node exited");
    assert!(node.rpc("health", serde_json::json!({})).is_some());
    node.wait_height(start_height + 3, Duration::from_secs(60));
}
