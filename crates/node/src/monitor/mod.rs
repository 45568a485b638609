//! Monitoring: the node's Prometheus metrics — CometBFT's families under CometBFT's names
//! ([`cometbft`]), Caspur's own ([`chain`]), then the runtime's — fed by the block sink after
//! each finalized block and by the mempool, and served by [`server`].

pub mod alerts;
pub mod board;
pub mod chain;
pub mod cometbft;
pub mod exposition;
pub mod server;
pub mod window;

use caspur_app::health::ChainHealth;
use caspur_consensus::launch::RuntimeMetrics;
use caspur_consensus::validator_sets::SetsByHeight;
use caspur_consensus::{ChainTip, FinalizedBlock};
use caspur_store::StateScan;
use caspur_types::TxError;
use prometheus_client::registry::Registry;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use window::{BlockSample, Windows};

/// What the monitor needs from the node.
pub struct MonitorConfig {
    /// The chain id (every CometBFT family carries it as the `chain_id` label).
    pub chain_id: String,
    /// This node's consensus key when it validates.
    pub validator_key: Option<[u8; 32]>,
    /// The validator sets by height.
    pub sets: SetsByHeight,
    /// The network's finalized height as this node sees it.
    pub tip: ChainTip,
    /// Whether the node catches up by state sync (else by replaying blocks).
    pub state_sync: bool,
    /// The runtime's metrics, served after the node's.
    pub runtime: Option<RuntimeMetrics>,
    /// The visor's status file, when a visor may run this node.
    pub visor_status: Option<PathBuf>,
    /// The alert rules.
    pub alert_rules: alerts::AlertRules,
    /// Where the firing set and the alert journal are kept (`data/alerts`; `None`: memory).
    pub alerts_dir: Option<PathBuf>,
}

/// The alert engine and its journal.
struct AlertState {
    engine: alerts::Engine,
    journal: Option<alerts::journal::Journal>,
}

#[derive(Default)]
struct Observed {
    windows: Windows,
    health: Option<Arc<ChainHealth>>,
    latest_height: u64,
    /// Wall-clock time the latest block was seen.
    last_block_seen_ms: Option<u64>,
    /// The board's open incidents (public JSON), read with the health.
    board_incidents: Vec<serde_json::Value>,
}

/// Wall-clock ms since the Unix epoch (alerts and their times are node-local).
fn wall_ms() -> u64 {
    chrono::Utc::now().timestamp_millis().max(0) as u64
}

/// The node's metrics and what they are computed from.
pub struct Monitor {
    registry: Registry,
    /// The `cometbft_*` families.
    pub comet: cometbft::CometMetrics,
    /// The `caspur_*` families.
    pub chain: chain::ChainMetrics,
    config: MonitorConfig,
    observed: Mutex<Observed>,
    alerts: Mutex<AlertState>,
    /// Woken when an alert fires or resolves (webhook deliveries wait on it).
    pub alert_news: Arc<tokio::sync::Notify>,
    /// Bumped when the board's content changes (its WebSocket pushes then).
    board_changes: tokio::sync::watch::Sender<u64>,
    /// The board's document as last rendered, with the change it was rendered for: every
    /// subscriber shares one rendering per change.
    board_cache: Mutex<Option<(u64, Arc<String>)>>,
    started_ms: u64,
}

impl Monitor {
    /// Registers every family.
    pub fn new(config: MonitorConfig) -> Arc<Self> {
        let mut registry = Registry::default();
        let chain_id = ("chain_id".into(), config.chain_id.clone().into());
        let comet = cometbft::CometMetrics::register(
            registry
                .sub_registry_with_prefix("cometbft")
                .sub_registry_with_label(chain_id.clone()),
        );
        let chain = chain::ChainMetrics::register(
            registry
                .sub_registry_with_prefix("caspur")
                .sub_registry_with_label(chain_id),
        );
        if let Some(key) = &config.validator_key {
            comet.own_validator(key);
        }
        let dir = config.alerts_dir.clone();
        if let Some(d) = &dir {
            if let Err(e) = std::fs::create_dir_all(d) {
                tracing::warn!(dir = %d.display(), error = %e, "alerts are kept in memory only");
            }
        }
        let alerts = AlertState {
            engine: alerts::Engine::open(dir.as_ref().map(|d| d.join("firing.json"))),
            journal: dir.map(|d| alerts::journal::Journal::open(d.join("journal.jsonl"))),
        };
        Arc::new(Monitor {
            registry,
            comet,
            chain,
            config,
            observed: Mutex::new(Observed::default()),
            alerts: Mutex::new(alerts),
            alert_news: Arc::new(tokio::sync::Notify::new()),
            board_changes: tokio::sync::watch::channel(0).0,
            board_cache: Mutex::new(None),
            started_ms: wall_ms(),
        })
    }

    fn observed(&self) -> std::sync::MutexGuard<'_, Observed> {
        // Every update is a plain assignment: a panic elsewhere leaves it consistent.
        self.observed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a finalized block (a re-delivered height is ignored).
    pub fn observe_block(&self, block: &FinalizedBlock) {
        let mut seen = self.observed();
        if block.height <= seen.latest_height {
            return;
        }
        let set = self.config.sets.at(block.height).unwrap_or_default();
        let parent_set = self
            .config
            .sets
            .at(block.height.saturating_sub(1).max(1))
            .unwrap_or_default();
        let interval = seen
            .windows
            .last()
            .filter(|prev| prev.height + 1 == block.height)
            .map(|prev| block.time_ms.saturating_sub(prev.time_ms) as f64 / 1000.0);
        let (signed_power, set_power) = self.comet.observe_block(
            block,
            &set,
            &parent_set,
            interval,
            self.config.validator_key.as_ref(),
        );
        let missed = block
            .consensus
            .report
            .liveness
            .as_ref()
            .map(|l| l.missed.clone())
            .unwrap_or_default();
        seen.windows.push(
            BlockSample {
                height: block.height,
                time_ms: block.time_ms,
                txs: block.txs.len() as u64,
                signed_power,
                set_power,
            },
            missed,
        );
        seen.latest_height = block.height;
        seen.last_block_seen_ms = Some(wall_ms());
    }

    /// Reads the chain's health from committed state and sets the families drawn from it.
    pub async fn observe_state<S: StateScan>(&self, state: &S) {
        match caspur_app::health::read(state).await {
            Ok(health) => {
                let incidents = board::state::incidents(state, &health).await;
                let mut seen = self.observed();
                seen.windows
                    .set_bonded_ratio(chain::ratio(health.pool.bonded, health.pool.supply));
                self.chain.observe(&health, &seen.windows);
                seen.health = Some(Arc::new(health));
                seen.board_incidents = incidents;
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the chain's health for monitoring"),
        }
        self.board_changes.send_modify(|v| *v += 1);
    }

    /// Evaluates the alert rules now: what starts or stops holding fires or resolves (once),
    /// is logged, journaled and announced to webhook deliveries.
    pub fn evaluate_alerts(&self) {
        let (holding, height) = {
            let seen = self.observed();
            let inputs = alerts::Inputs {
                now_ms: wall_ms(),
                last_block_seen_ms: seen.last_block_seen_ms,
                started_ms: self.started_ms,
                windows: &seen.windows,
                health: seen.health.as_deref(),
            };
            (
                self.config.alert_rules.evaluate(&inputs),
                seen.latest_height,
            )
        };
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut state = self.alerts.lock().unwrap_or_else(|e| e.into_inner());
        let changes = state.engine.step(holding, &now, height);
        for t in &changes {
            let a = &t.alert;
            if t.status == "firing" {
                tracing::warn!(rule = %a.rule, key = %a.key, summary = %a.summary, "alert firing");
            } else {
                tracing::info!(rule = %a.rule, key = %a.key, "alert resolved");
            }
            if let Some(j) = &mut state.journal {
                j.append(t);
            }
        }
        if !changes.is_empty() {
            self.alert_news.notify_waiters();
            self.board_changes.send_modify(|v| *v += 1);
        }
    }

    /// `/alerts`: what fires now, and the recent transitions (newest first).
    pub fn alerts_json(&self) -> serde_json::Value {
        let state = self.alerts.lock().unwrap_or_else(|e| e.into_inner());
        serde_json::json!({
            "firing": state.engine.firing(),
            "recent": state.engine.recent(),
        })
    }

    /// Follows the board's changes.
    pub fn subscribe_board(&self) -> tokio::sync::watch::Receiver<u64> {
        self.board_changes.subscribe()
    }

    /// The board's document as JSON text, rendered once per change.
    pub fn board_text(&self) -> Arc<String> {
        let version = *self.board_changes.borrow();
        let mut cache = self.board_cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((v, text)) = cache.as_ref() {
            if *v == version {
                return text.clone();
            }
        }
        let text = Arc::new(self.board_json().to_string());
        *cache = Some((version, text.clone()));
        text
    }

    /// The board's document (see [`board`]).
    pub fn board_json(&self) -> serde_json::Value {
        let (body, latest) = {
            let seen = self.observed();
            let latest = seen.latest_height;
            let set = self.config.sets.at(latest.max(1)).unwrap_or_default();
            let missed = seen.windows.missed_counts(window::RECENT_BLOCKS);
            let eta = seen
                .health
                .as_ref()
                .and_then(|h| h.plan.as_ref())
                .and_then(|p| seen.windows.eta_seconds(p.height));
            let body = serde_json::json!({
                "chain_id": self.config.chain_id,
                "height": latest,
                "time": seen.windows.last().map(|b| caspur_app::modules::incident::view::time(b.time_ms)),
                "chart": seen.windows.chart(),
                "window": window::RECENT_BLOCKS,
                "validators": board::state::validators_json(&set, &missed),
                "chain": seen.health.as_ref().map(|h| board::state::chain_json(h, latest, eta)),
                "incidents": seen.board_incidents,
            });
            (body, latest)
        };
        let mut body = body;
        let firing = self.alerts_json()["firing"].clone();
        body["alerts"] = firing;
        body["catching_up"] = self.config.tip.catching_up(latest).into();
        body
    }

    /// Where the alert journal is (`None`: alerts are not journaled).
    pub fn alert_journal(&self) -> Option<PathBuf> {
        self.config
            .alerts_dir
            .as_ref()
            .map(|d| d.join("journal.jsonl"))
    }

    /// The next journal position (where a new webhook destination starts).
    pub fn alert_journal_next(&self) -> u64 {
        let state = self.alerts.lock().unwrap_or_else(|e| e.into_inner());
        state.journal.as_ref().map_or(1, |j| j.next_seq())
    }

    /// Evaluates the alerts every [`ALERT_TICK`] (a stall shows without a block) until the
    /// node stops.
    pub async fn run_alerts(self: Arc<Self>) {
        loop {
            tokio::time::sleep(ALERT_TICK).await;
            self.evaluate_alerts();
        }
    }

    /// The chain's health as last read (`None` before the first block).
    pub fn health(&self) -> Option<Arc<ChainHealth>> {
        self.observed().health.clone()
    }

    /// Counts a tx CheckTx refused (and the route, for a circuit-breaker refusal).
    pub fn tx_refused(&self, err: &TxError) {
        self.comet.mempool_failed_txs.inc();
        self.chain.count_refusal(err);
    }

    /// Counts a re-check after a block: `rechecked` txs, of which the refused were evicted.
    pub fn rechecked(&self, rechecked: usize, evicted: &[TxError]) {
        self.comet.mempool_recheck_times.inc_by(rechecked as u64);
        self.comet.mempool_evicted_txs.inc_by(evicted.len() as u64);
        for err in evicted {
            self.chain.count_refusal(err);
        }
    }

    /// Sets the mempool's size.
    pub fn mempool_size(&self, txs: usize, bytes: usize) {
        self.comet.mempool_size.set(txs as i64);
        self.comet.mempool_size_bytes.set(bytes as i64);
    }

    /// The exposition, with the gauges read at scrape time refreshed first: peers (from the
    /// runtime's p2p tracker), catching up, the visor's state.
    pub fn render(&self) -> String {
        let runtime = self
            .config
            .runtime
            .as_ref()
            .map(|f| f())
            .unwrap_or_default();
        self.comet
            .p2p_peers
            .set(crate::rpc::net::connected_peers(&runtime).len() as i64);
        let latest = self.observed().latest_height;
        let behind = self.config.tip.catching_up(latest);
        // State sync restores a snapshot before the first block this process executes.
        let restoring = self.config.state_sync && latest == 0;
        self.comet
            .statesync_syncing
            .set((behind && restoring) as i64);
        self.comet
            .blocksync_syncing
            .set((behind && !restoring) as i64);
        self.chain.observe_visor(self.visor_state().as_deref());
        exposition::render(&self.registry, &runtime)
    }

    fn visor_state(&self) -> Option<String> {
        let path = self.config.visor_status.as_ref()?;
        let bytes = std::fs::read(path).ok()?;
        // Only the state is read; a file too large to be the visor's is not parsed.
        if bytes.len() > MAX_VISOR_STATUS_BYTES {
            return None;
        }
        let status: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        Some(status.get("state")?.as_str()?.to_string())
    }
}

/// How often alerts are evaluated between blocks.
pub const ALERT_TICK: std::time::Duration = std::time::Duration::from_secs(1);

/// Largest visor status file read.
pub const MAX_VISOR_STATUS_BYTES: usize = 1 << 20;
