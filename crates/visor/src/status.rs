//! What the visor tells operators: `visor/status.json` (rewritten at every step) and
//! Prometheus metrics (`caspurvisor_*`, served when `--metrics-laddr` is given).

use crate::layout::{write_atomic, Layout};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};

/// One upgrade attempt, as the status reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// Plan name.
    pub plan: String,
    /// Upgrade height.
    pub height: u64,
    /// `switched`, `completed`, `rolled_back`, `waiting`.
    pub result: String,
    /// Why (for a rollback or a wait).
    #[serde(default)]
    pub reason: String,
    /// Backup taken before switching.
    #[serde(default)]
    pub backup: Option<crate::checkpoint::Record>,
    /// From the halt to the new binary's first block at or above the height (ms).
    #[serde(default)]
    pub downtime_ms: Option<u64>,
    /// Unix time (ms) of the last change.
    pub updated_ms: u64,
}

/// The status file's content.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// `starting`, `running`, `canary`, `waiting_for_binary`, `checksum_mismatch`,
    /// `rolling_back`, `stopped`, `failed`.
    pub state: String,
    /// What the state means, in words.
    pub message: String,
    /// The binary running (or to run).
    pub binary: String,
    /// Its process id while running.
    pub pid: Option<u32>,
    /// Heights the node is told to skip.
    pub skip_heights: Vec<u64>,
    /// Every upgrade attempt, oldest first.
    pub upgrades: Vec<Attempt>,
    /// Unix time (ms) of the last change.
    pub updated_ms: u64,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: String,
}

/// The visor's metrics.
#[derive(Clone, Default)]
pub struct Metrics {
    node_up: Gauge,
    starts: Counter,
    upgrades: Family<ResultLabel, Counter>,
    backup_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
    backup_bytes: Gauge,
    downtime_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
    halt_height: Gauge,
}

impl Metrics {
    fn register(&self, registry: &mut Registry) {
        registry.register(
            "caspurvisor_node_up",
            "1 while the node process runs",
            self.node_up.clone(),
        );
        registry.register(
            "caspurvisor_node_starts",
            "node processes started",
            self.starts.clone(),
        );
        registry.register(
            "caspurvisor_upgrades",
            "upgrade attempts by result (completed, rolled_back, refused)",
            self.upgrades.clone(),
        );
        registry.register(
            "caspurvisor_last_backup_seconds",
            "time the last pre-upgrade backup took",
            self.backup_seconds.clone(),
        );
        registry.register(
            "caspurvisor_last_backup_bytes",
            "bytes the last pre-upgrade backup copied",
            self.backup_bytes.clone(),
        );
        registry.register(
            "caspurvisor_last_upgrade_downtime_seconds",
            "from the halt to the new binary's first block",
            self.downtime_seconds.clone(),
        );
        registry.register(
            "caspurvisor_halt_height",
            "height of the last upgrade halt",
            self.halt_height.clone(),
        );
    }
}

/// Status and metrics, shared by the supervisor loop and the metrics server.
#[derive(Clone)]
pub struct Reporter {
    layout: Layout,
    status: Arc<Mutex<Status>>,
    /// The metrics.
    pub metrics: Metrics,
    registry: Arc<Registry>,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Reporter {
    /// A reporter writing `layout`'s status file, resuming its upgrade history.
    pub fn new(layout: &Layout) -> Self {
        let status = std::fs::read(layout.status_file())
            .ok()
            .and_then(|b| serde_json::from_slice::<Status>(&b).ok())
            .unwrap_or_default();
        let metrics = Metrics::default();
        let mut registry = Registry::default();
        metrics.register(&mut registry);
        let reporter = Reporter {
            layout: layout.clone(),
            status: Arc::new(Mutex::new(status.clone())),
            metrics,
            registry: Arc::new(registry),
        };
        reporter.resume_metrics(&status);
        reporter
    }

    /// Metrics that describe the history, rebuilt from the status file after a visor restart
    /// (they would otherwise read as if no upgrade had ever happened): upgrade outcomes, and
    /// the last attempt's halt height, backup and downtime.
    fn resume_metrics(&self, status: &Status) {
        for a in &status.upgrades {
            if a.result == "completed" || a.result == "rolled_back" {
                self.outcome(&a.result);
            }
        }
        if let Some(last) = status.upgrades.last() {
            self.gauges(Some(last.height), last.backup.as_ref(), None);
        }
        let downtime = status.upgrades.iter().rev().find_map(|a| a.downtime_ms);
        self.gauges(None, None, downtime);
    }

    /// Edits the status, stamps it and writes the file (errors are logged, never fatal).
    pub fn update(&self, edit: impl FnOnce(&mut Status)) {
        let mut s = self.status.lock().unwrap_or_else(|e| e.into_inner());
        edit(&mut s);
        s.updated_ms = now_ms();
        match serde_json::to_vec_pretty(&*s) {
            Ok(bytes) => {
                if let Err(e) = write_atomic(&self.layout.status_file(), &bytes) {
                    tracing::warn!(error = %e, "cannot write the status file");
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot encode the status"),
        }
    }

    /// Sets the state and its message (and logs it).
    pub fn state(&self, state: &str, message: impl Into<String>) {
        let message = message.into();
        tracing::info!(state, "{message}");
        self.update(|s| {
            s.state = state.into();
            s.message = message;
        });
    }

    /// Adds or updates the attempt for `plan` at `height`.
    pub fn attempt(&self, plan: &str, height: u64, edit: impl FnOnce(&mut Attempt)) {
        self.update(|s| {
            let at = match s
                .upgrades
                .iter()
                .position(|a| a.plan == plan && a.height == height)
            {
                Some(at) => at,
                None => {
                    s.upgrades.push(Attempt {
                        plan: plan.into(),
                        height,
                        ..Attempt::default()
                    });
                    s.upgrades.len() - 1
                }
            };
            let a = &mut s.upgrades[at];
            edit(a);
            a.updated_ms = now_ms();
        });
    }

    /// Records the node process starting (`pid`) or stopping (`None`).
    pub fn node(&self, binary: &str, pid: Option<u32>) {
        self.metrics.node_up.set(i64::from(pid.is_some()));
        if pid.is_some() {
            self.metrics.starts.inc();
        }
        self.update(|s| {
            s.binary = binary.into();
            s.pid = pid;
        });
    }

    /// Counts an upgrade outcome.
    pub fn outcome(&self, result: &str) {
        self.metrics
            .upgrades
            .get_or_create(&ResultLabel {
                result: result.into(),
            })
            .inc();
    }

    /// Records a halt, a backup and a downtime in the gauges.
    pub fn gauges(
        &self,
        halt: Option<u64>,
        backup: Option<&crate::checkpoint::Record>,
        downtime_ms: Option<u64>,
    ) {
        if let Some(h) = halt {
            self.metrics.halt_height.set(h as i64);
        }
        if let Some(b) = backup {
            self.metrics.backup_seconds.set(b.millis as f64 / 1000.0);
            self.metrics.backup_bytes.set(b.copied_bytes as i64);
        }
        if let Some(d) = downtime_ms {
            self.metrics.downtime_seconds.set(d as f64 / 1000.0);
        }
    }

    /// The metrics in Prometheus text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }

    /// Serves `/metrics` on `addr` from a background thread.
    pub fn serve(&self, addr: std::net::SocketAddr) -> anyhow::Result<()> {
        let listener = std::net::TcpListener::bind(addr)
            .map_err(|e| anyhow::anyhow!("cannot listen for metrics on {addr}: {e}"))?;
        listener.set_nonblocking(true)?;
        let me = self.clone();
        std::thread::spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => return tracing::warn!(error = %e, "metrics server did not start"),
            };
            rt.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                let app = axum::Router::new().route(
                    "/metrics",
                    axum::routing::get(move || {
                        let me = me.clone();
                        async move { me.encode() }
                    }),
                );
                let _ = axum::serve(listener, app).await;
            });
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restarted_visor_reports_the_upgrade_history_it_resumes() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let layout = Layout::new(dir.path());
        std::fs::create_dir_all(layout.root()).unwrap_or_else(|e| panic!("{e}"));
        let first = Reporter::new(&layout);
        first.attempt("v2-broken", 40, |a| a.result = "rolled_back".into());
        first.outcome("rolled_back");
        first.attempt("v2", 60, |a| {
            a.result = "completed".into();
            a.downtime_ms = Some(2_500);
        });
        first.outcome("completed");
        first.gauges(Some(60), None, Some(2_500));
        let before = first.encode();
        // A new visor process on the same home.
        let again = Reporter::new(&layout).encode();
        for line in [
            "caspurvisor_upgrades_total{result=\"completed\"} 1",
            "caspurvisor_upgrades_total{result=\"rolled_back\"} 1",
            "caspurvisor_last_upgrade_downtime_seconds 2.5",
            "caspurvisor_halt_height 60",
        ] {
            assert!(before.contains(line), "{before}");
            assert!(
                again.contains(line),
                "{line} missing after the restart:\n{again}"
            );
        }
    }
}
