//! Judging a switched binary from evidence, not from a clock alone.
//!
//! After a switch the new binary is a canary until it commits the upgrade height H. What the
//! visor sees of it: whether its RPC answers, the height it has committed, and the height the
//! network has finalized as the node sees it (`status.sync_info.network_height`: its peers'
//! certificates). The verdicts:
//!
//! - it commits H: the upgrade completed;
//! - its RPC answers but H is not committed: the node is alive and waiting — for peers that
//!   have not switched yet, or to catch up with peers that have — so it is never rolled back
//!   for being slow;
//! - its RPC stayed silent for the canary time (it hangs or never came up), or it exited,
//!   before H: the binary is at fault and is rolled back — unless the network already
//!   finalized H, which means the new version runs elsewhere: a validator never rolls back
//!   alone (its old binary could not follow the chain); it is restarted on the new binary.

use std::collections::VecDeque;
use std::io::{BufRead as _, BufReader, Read};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Lines of the node's stderr kept to explain an exit.
const STDERR_LINES_KEPT: usize = 40;
/// Longest stderr line kept (longer ones are cut).
const STDERR_LINE_BYTES: usize = 1_000;

/// The node's RPC address from `config/config.toml` (`[rpc] laddr = "tcp://host:port"`); read
/// at every probe until found, since a fresh home gets its config only when the node starts.
pub fn rpc_url(home: &Path) -> Option<String> {
    let text = std::fs::read_to_string(home.join("config/config.toml")).ok()?;
    let v: toml::Value = toml::from_str(&text).ok()?;
    let laddr = v.get("rpc")?.get("laddr")?.as_str()?;
    Some(format!(
        "http://{}",
        laddr
            .trim_start_matches("tcp://")
            .replace("0.0.0.0", "127.0.0.1")
    ))
}

/// One answer of the node's `status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    /// Its latest committed height.
    pub own: u64,
    /// The highest height it has seen the network finalize.
    pub network: u64,
}

/// The most of a `status` answer the canary reads.
pub const MAX_STATUS_BYTES: u64 = 64 * 1024;

/// The node's `status` (`None`: no answer within 2 s).
pub fn probe(rpc: &str) -> Option<Probe> {
    use std::io::Read as _;
    let answer = ureq::get(&format!("{rpc}/status"))
        .timeout(Duration::from_secs(2))
        .call()
        .ok()?;
    // A status answer is about 1 KiB; whatever listens there is read no further than this.
    let v: serde_json::Value =
        serde_json::from_reader(answer.into_reader().take(MAX_STATUS_BYTES)).ok()?;
    let sync = &v["result"]["sync_info"];
    let height = |field: &str| sync[field].as_str().and_then(|h| h.parse().ok());
    let own = height("latest_block_height")?;
    Some(Probe {
        own,
        network: height("network_height").unwrap_or(own).max(own),
    })
}

/// What the visor has seen of the canary.
#[derive(Clone, Copy, Debug, Default)]
pub struct Evidence {
    /// When its RPC last answered.
    pub last_answer: Option<Instant>,
    /// The highest committed height it reported.
    pub own: u64,
    /// The highest network height it reported.
    pub network: u64,
}

impl Evidence {
    /// Records one probe made at `now`.
    pub fn record(&mut self, probe: Option<Probe>, now: Instant) {
        if let Some(p) = probe {
            self.last_answer = Some(now);
            self.own = self.own.max(p.own);
            self.network = self.network.max(p.network);
        }
    }

    /// Whether the network has finalized `height` (the new version runs elsewhere).
    pub fn network_passed(&self, height: u64) -> bool {
        self.network >= height
    }
}

/// The verdict on a canary that is still running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Running {
    /// It committed the upgrade height.
    Completed,
    /// Keep watching (within the canary time, or alive and waiting).
    Wait,
    /// Silent for the whole canary time: it hangs or never came up.
    Hung,
}

/// Judges a running canary for upgrade height `height`, started at `started`, at `now`.
pub fn judge_running(
    ev: &Evidence,
    height: u64,
    started: Instant,
    canary: Duration,
    now: Instant,
) -> Running {
    if ev.own >= height {
        return Running::Completed;
    }
    if now.saturating_duration_since(started) <= canary {
        return Running::Wait;
    }
    match ev.last_answer {
        Some(t) if now.saturating_duration_since(t) <= canary => Running::Wait,
        _ => Running::Hung,
    }
}

/// The node's stderr, passed through to the visor's and its last lines kept.
#[derive(Clone, Default)]
pub struct StderrTail(Arc<Mutex<Kept>>);

/// What a [`StderrTail`] keeps of one process's stderr.
#[derive(Default)]
struct Kept {
    /// The last [`STDERR_LINES_KEPT`] lines.
    lines: VecDeque<String>,
    /// The process's first panic, kept however many lines follow it: Rust prints
    /// `thread '…' panicked at file:line:col:` and the message on the next line, so that
    /// line is joined to it.
    first_panic: Option<String>,
    /// The first panic's location line was seen and its message line is due.
    panic_message_due: bool,
}

impl Kept {
    fn push(&mut self, mut line: String) {
        if line.len() > STDERR_LINE_BYTES {
            let mut end = STDERR_LINE_BYTES;
            while !line.is_char_boundary(end) {
                end -= 1;
            }
            line.truncate(end);
        }
        if self.panic_message_due {
            self.panic_message_due = false;
            if let Some(panic) = &mut self.first_panic {
                panic.push(' ');
                panic.push_str(line.trim());
            }
        } else if self.first_panic.is_none() && line.contains("panicked") {
            let panic = line.trim().to_string();
            self.panic_message_due = panic.ends_with(':');
            self.first_panic = Some(panic);
        }
        if self.lines.len() == STDERR_LINES_KEPT {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
    }
}

impl StderrTail {
    /// Copies `from` to the visor's stderr line by line on a thread of its own, keeping the
    /// last [`STDERR_LINES_KEPT`] lines and the first panic.
    pub fn follow(&self, from: impl Read + Send + 'static) {
        let kept = self.0.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(from).lines() {
                let Ok(line) = line else { break };
                eprintln!("{line}");
                kept.lock().unwrap_or_else(|e| e.into_inner()).push(line);
            }
        });
    }

    /// The line that best explains an exit: the first panic with its message, else the last
    /// error line, else the last line. The first panic comes first: the errors and panics
    /// other tasks log while the process goes down after it (a peer channel closing, an actor
    /// whose peer task died) are its echoes.
    pub fn cause(&self) -> Option<String> {
        let kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(panic) = &kept.first_panic {
            return Some(panic.clone());
        }
        let lines = &kept.lines;
        lines
            .iter()
            .rev()
            .find(|l| l.contains("ERROR") || l.starts_with("Error"))
            .or(lines.back())
            .map(|l| l.trim().to_string())
    }

    /// How many lines have been kept so far (tests wait on it).
    #[cfg(test)]
    fn kept_lines(&self) -> usize {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).lines.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANARY: Duration = Duration::from_secs(8);

    #[test]
    fn a_canary_that_answers_is_never_judged_hung() {
        let start = Instant::now();
        let mut ev = Evidence::default();
        // Within the canary time: wait, whatever was seen.
        assert_eq!(judge_running(&ev, 10, start, CANARY, start), Running::Wait);
        // Silent for the whole canary time: hung.
        let late = start + CANARY + Duration::from_secs(1);
        assert_eq!(judge_running(&ev, 10, start, CANARY, late), Running::Hung);
        // Answering but waiting for peers (nobody has 10): still waiting, long after.
        ev.record(Some(Probe { own: 9, network: 9 }), late);
        let later = late + Duration::from_secs(1);
        assert_eq!(judge_running(&ev, 10, start, CANARY, later), Running::Wait);
        assert!(!ev.network_passed(10));
        // Silent again for the canary time: hung.
        let silent = late + CANARY + Duration::from_secs(1);
        assert_eq!(judge_running(&ev, 10, start, CANARY, silent), Running::Hung);
        // It commits 10: completed.
        ev.record(
            Some(Probe {
                own: 10,
                network: 11,
            }),
            silent,
        );
        assert_eq!(
            judge_running(&ev, 10, start, CANARY, silent),
            Running::Completed
        );
        assert!(ev.network_passed(10));
    }

    /// Feeds `text` to a fresh tail and waits until all its `lines` are read.
    fn tail_of(text: impl Into<String>, lines: usize) -> StderrTail {
        let tail = StderrTail::default();
        tail.follow(std::io::Cursor::new(text.into()));
        let deadline = Instant::now() + Duration::from_secs(5);
        while tail.kept_lines() < lines.min(STDERR_LINES_KEPT) {
            assert!(Instant::now() < deadline, "{:?}", tail.cause());
            std::thread::sleep(Duration::from_millis(10));
        }
        tail
    }

    #[test]
    fn the_stderr_tail_names_the_panic() {
        // Every line read, the error logged after the panic included.
        let tail = tail_of(
            "INFO starting\nthread 'main' panicked at src/x.rs:1: handler failed\nnote: backtrace\nERROR commonware_resolver::p2p: channel closed\n",
            4,
        );
        assert!(tail.cause().unwrap_or_default().contains("handler failed"));
        // Rust's two-line panic, then the runtime's echoes (another task panicking because
        // the first one died), then more lines than are kept: the first panic is named.
        let text = concat!(
            "INFO starting\n",
            "thread 'rt-worker' panicked at src/bin/v2.rs:33:53:\n",
            "v2-broken: migration bug\n",
            "ERROR commonware_runtime::utils::handle: task panicked err=\"migration bug\"\n",
            "thread 'rt-worker' panicked at marshal.rs:9:1:\n",
            "stateful actor dropped during verify\n",
            "ERROR commonware_runtime::utils::handle: task panicked err=\"stateful actor dropped\"\n",
        );
        let flood = format!("{text}{}", "ERROR p2p: closed\n".repeat(50));
        let cause = tail_of(flood, 57).cause().unwrap_or_default();
        assert_eq!(
            cause,
            "thread 'rt-worker' panicked at src/bin/v2.rs:33:53: v2-broken: migration bug"
        );
        // No panic: the last error line.
        let cause = tail_of("INFO a\nERROR first\nERROR second\nINFO b\n", 4).cause();
        assert_eq!(cause.as_deref(), Some("ERROR second"));
    }
}
