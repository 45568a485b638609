//! The alert rules (`[alerts]` in `config/app.toml`, every rule on by default) and their
//! evaluation: given what the monitor has seen, which conditions hold now. Each condition has
//! a key (the route, the incident, the validator…) so that two breaks are two alerts.

use super::super::window::{Windows, MAX_MISSED_WINDOW, RECENT_BLOCKS};
use caspur_app::health::ChainHealth;
use serde::{Deserialize, Serialize};

/// What the rules read.
pub struct Inputs<'a> {
    /// Wall-clock time now, ms since the Unix epoch (alerts are node-local).
    pub now_ms: u64,
    /// Wall-clock time the latest block was seen (`None`: none since start).
    pub last_block_seen_ms: Option<u64>,
    /// Wall-clock time the node started.
    pub started_ms: u64,
    /// The rolling windows.
    pub windows: &'a Windows,
    /// The chain's health after the latest block.
    pub health: Option<&'a ChainHealth>,
}

/// The rules and their thresholds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertRules {
    /// Evaluate and send alerts at all.
    pub enable: bool,
    /// `block_stalled`: no block for this many seconds.
    pub stall_secs: u64,
    /// `block_interval_slow`: the 95th percentile of the last 100 intervals above this.
    pub interval_p95_secs: f64,
    /// `throughput_drop`: tx/s of the last 100 blocks this many percent below the last hour's.
    pub throughput_drop_percent: f64,
    /// … only when the hour averaged at least this many tx/s.
    pub throughput_min_tps: f64,
    /// `bonded_ratio_drop`: the bonded ratio this many percent below its peak within …
    pub bonded_drop_percent: f64,
    /// … this many seconds.
    pub bonded_window_secs: u64,
    /// `participation_low`: signed power share of the last `participation_window` blocks
    /// below 2/3 + this.
    pub participation_margin: f64,
    /// … over this many blocks (at most the 100 the windows keep).
    pub participation_window: u32,
    /// `validator_missed_blocks`: a validator missing from this many certificates of …
    pub missed_blocks: u32,
    /// … the last this many blocks.
    pub missed_window: u32,
    /// `upgrade_readiness_low`: the plan is this many blocks away or less and readiness is
    /// below its threshold.
    pub readiness_blocks: u64,
}

impl Default for AlertRules {
    fn default() -> Self {
        AlertRules {
            enable: true,
            stall_secs: 30,
            interval_p95_secs: 10.0,
            throughput_drop_percent: 50.0,
            throughput_min_tps: 1.0,
            bonded_drop_percent: 10.0,
            bonded_window_secs: 3600,
            participation_margin: 0.05,
            participation_window: RECENT_BLOCKS as u32,
            missed_blocks: 50,
            missed_window: 100,
            readiness_blocks: 200,
        }
    }
}

/// A rule's name, as `/alerts` and webhooks show it.
pub type RuleName = &'static str;

/// Every rule.
pub const RULES: &[RuleName] = &[
    "block_stalled",
    "block_interval_slow",
    "throughput_drop",
    "participation_low",
    "validator_missed_blocks",
    "bonded_ratio_drop",
    "circuit_break",
    "incident_overdue",
    "upgrade_readiness_low",
    "dcert_liveness_low",
];

/// What the rules found now.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Evaluation {
    /// The conditions that hold.
    pub holding: Vec<Condition>,
    /// The rules that had the data to judge. A rule without it (its window still filling
    /// after a start, no health read yet) leaves its firing alerts as they are rather than
    /// resolving them for want of data.
    pub judged: std::collections::BTreeSet<RuleName>,
}

impl Evaluation {
    fn judge(&mut self, rule: RuleName, condition: Option<(String, f64, String)>) {
        self.judged.insert(rule);
        if let Some((key, value, summary)) = condition {
            self.holding.push(Condition {
                rule,
                key,
                value,
                summary,
            });
        }
    }
}

/// One condition that holds now.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// The rule.
    pub rule: RuleName,
    /// What it is about (empty for chain-wide rules).
    pub key: String,
    /// The measured value.
    pub value: f64,
    /// In words, for people.
    pub summary: String,
}

fn percent_ok(name: &str, v: f64) -> Result<(), String> {
    if v > 0.0 && v <= 100.0 {
        Ok(())
    } else {
        Err(format!("[alerts] {name} must be in (0, 100], got {v}"))
    }
}

impl AlertRules {
    /// Checks every threshold, naming the first one out of range.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=86_400).contains(&self.stall_secs) {
            return Err(format!(
                "[alerts] stall_secs must be 1…86400, got {}",
                self.stall_secs
            ));
        }
        if !(self.interval_p95_secs > 0.0 && self.interval_p95_secs <= 3600.0) {
            return Err(format!(
                "[alerts] interval_p95_secs must be in (0, 3600], got {}",
                self.interval_p95_secs
            ));
        }
        percent_ok("throughput_drop_percent", self.throughput_drop_percent)?;
        percent_ok("bonded_drop_percent", self.bonded_drop_percent)?;
        if !(self.throughput_min_tps >= 0.0 && self.throughput_min_tps.is_finite()) {
            return Err("[alerts] throughput_min_tps must be a number ≥ 0".into());
        }
        if !(60..=86_400).contains(&self.bonded_window_secs) {
            return Err("[alerts] bonded_window_secs must be 60…86400".into());
        }
        if !(0.0..=1.0 / 3.0).contains(&self.participation_margin) {
            return Err("[alerts] participation_margin must be in [0, 1/3]".into());
        }
        if !(1..=RECENT_BLOCKS).contains(&(self.participation_window as usize)) {
            return Err(format!(
                "[alerts] participation_window must be 1…{RECENT_BLOCKS}"
            ));
        }
        let window = self.missed_window as usize;
        if window == 0 || window > MAX_MISSED_WINDOW {
            return Err(format!(
                "[alerts] missed_window must be 1…{MAX_MISSED_WINDOW}"
            ));
        }
        if self.missed_blocks == 0 || self.missed_blocks > self.missed_window {
            return Err("[alerts] missed_blocks must be 1…missed_window".into());
        }
        Ok(())
    }

    /// The conditions that hold now, and which rules could be judged.
    pub fn evaluate(&self, i: &Inputs<'_>) -> Evaluation {
        let mut e = Evaluation::default();
        if !self.enable {
            // Switched off: nothing holds, so whatever fired resolves.
            e.judged.extend(RULES.iter().copied());
            return e;
        }
        self.chain_rules(i, &mut e);
        self.participation_rules(i.windows, &mut e);
        if let Some(h) = i.health {
            emergency_rules(self, h, i.windows, &mut e);
            liveness_rule(h, &mut e);
        }
        e
    }

    fn chain_rules(&self, i: &Inputs<'_>, e: &mut Evaluation) {
        let w = i.windows;
        let quiet_ms = i
            .now_ms
            .saturating_sub(i.last_block_seen_ms.unwrap_or(i.started_ms));
        let secs = quiet_ms as f64 / 1000.0;
        e.judge(
            "block_stalled",
            (quiet_ms > self.stall_secs * 1000)
                .then(|| chain_wide(secs, format!("no block for {secs:.0} s"))),
        );
        if let Some(p95) = w.interval_p95() {
            e.judge(
                "block_interval_slow",
                (p95 > self.interval_p95_secs).then(|| {
                    chain_wide(
                        p95,
                        format!("block interval p95 {p95:.2} s over the last 100 blocks"),
                    )
                }),
            );
        }
        const HOUR_MS: u64 = 3_600_000;
        if let Some(hour) = w
            .txs_per_second_over(HOUR_MS)
            .filter(|_| w.reaches_before_recent(HOUR_MS))
        {
            let now = w.txs_per_second();
            let dropped = hour >= self.throughput_min_tps
                && now < hour * (1.0 - self.throughput_drop_percent / 100.0);
            e.judge(
                "throughput_drop",
                dropped.then(|| {
                    chain_wide(
                        now,
                        format!("{now:.2} tx/s against {hour:.2} tx/s over the last hour"),
                    )
                }),
            );
        }
    }

    fn participation_rules(&self, w: &Windows, e: &mut Evaluation) {
        let window = self.participation_window as usize;
        if w.certified_over(window) >= window {
            let participation = w.participation_over(window);
            e.judge(
                "participation_low",
                (participation < 2.0 / 3.0 + self.participation_margin).then(|| {
                    chain_wide(
                        participation,
                        format!(
                            "{:.1} % of voting power signed the last {window} blocks",
                            participation * 100.0
                        ),
                    )
                }),
            );
        }
        let missed_window = self.missed_window as usize;
        if w.missed_len() >= missed_window {
            e.judge("validator_missed_blocks", None);
            for (key, missed) in w.missed_counts(missed_window) {
                if missed >= self.missed_blocks {
                    let address = super::super::cometbft::address_of(&key);
                    let summary = format!(
                        "validator {address} missed {missed} of the last {missed_window} blocks"
                    );
                    e.judge(
                        "validator_missed_blocks",
                        Some((address, missed as f64, summary)),
                    );
                }
            }
        }
    }
}

/// A chain-wide condition (no key).
fn chain_wide(value: f64, summary: String) -> (String, f64, String) {
    (String::new(), value, summary)
}

/// `dcert_liveness_low`: with heartbeats required, fewer members live than the suspension
/// quorum — no coverage gap goes unseen (a group that cannot reach its own quorum cannot act).
fn liveness_rule(h: &ChainHealth, e: &mut Evaluation) {
    let d = &h.dcert;
    if !d.heartbeats_required || d.liveness.is_empty() {
        e.judge("dcert_liveness_low", None);
        return;
    }
    let live = d.liveness.iter().filter(|l| l.live).count();
    let total = d.liveness.len();
    let share = super::super::chain::ratio(live as u128, total as u128);
    let quorum = d.suspension_quorum.atomics() as f64 / caspur_types::Dec::ONE.atomics() as f64;
    let silent: Vec<&str> = d
        .liveness
        .iter()
        .filter(|l| !l.live)
        .map(|l| l.member.as_str())
        .collect();
    let summary = format!(
        "{live} of {total} dCERT members sent a heartbeat this period or the last, below the \
         suspension quorum of {:.1} %; silent: {}",
        quorum * 100.0,
        silent.join(", ")
    );
    e.judge(
        "dcert_liveness_low",
        (share < quorum).then(|| chain_wide(share, summary)),
    );
}

fn emergency_rules(r: &AlertRules, h: &ChainHealth, w: &Windows, e: &mut Evaluation) {
    let ratio = super::super::chain::ratio(h.pool.bonded, h.pool.supply);
    if let Some(peak) = w.bonded_ratio_max_over(r.bonded_window_secs * 1000) {
        let summary = format!(
            "bonded ratio {:.2} % from a peak of {:.2} %",
            ratio * 100.0,
            peak * 100.0
        );
        e.judge(
            "bonded_ratio_drop",
            (ratio < peak * (1.0 - r.bonded_drop_percent / 100.0))
                .then(|| chain_wide(ratio, summary)),
        );
    }
    e.judge("circuit_break", None);
    for b in &h.broken_routes {
        let summary = format!(
            "{} broken by {} at height {}: {}",
            b.route, b.by, b.height, b.reason
        );
        e.judge(
            "circuit_break",
            Some((b.route.clone(), b.height as f64, summary)),
        );
    }
    e.judge("incident_overdue", None);
    for i in &h.incidents {
        if let Some(deadline) = caspur_app::modules::incident::lifecycle::overdue_deadline(i) {
            let summary = format!("incident {} is past its {deadline}", i.id);
            e.judge(
                "incident_overdue",
                Some((i.id.to_string(), i.id as f64, summary)),
            );
        }
    }
    e.judge("upgrade_readiness_low", None);
    let latest = w.last().map_or(0, |b| b.height);
    if let Some(p) = &h.plan {
        let share = super::super::chain::ratio(p.ready_power as u128, p.total_power as u128);
        let left = p.height.saturating_sub(latest);
        let threshold = p.threshold.atomics() as f64 / caspur_types::Dec::ONE.atomics() as f64;
        if left <= r.readiness_blocks && share < threshold {
            let summary = format!(
                "plan {} at height {} is {left} blocks away with {:.1} % ready (needs {:.1} %)",
                p.name,
                p.height,
                share * 100.0,
                threshold * 100.0
            );
            e.judge(
                "upgrade_readiness_low",
                Some((p.name.clone(), share, summary)),
            );
        }
    }
}
