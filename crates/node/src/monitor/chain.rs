//! Caspur's own metrics (namespace `caspur_`): throughput, stake and participation, and the
//! emergency system — circuit breaker, dCERT group, incidents, the upgrade plan, the visor.
//! Every label takes values from a fixed list (routes the router knows, incident and visor
//! states), each present from the start at 0, so cardinality is bounded and a dashboard sees
//! a series before the first event.

use super::exposition::PlainCounter;
use super::window::Windows;
use caspur_app::health::ChainHealth;
use caspur_app::modules::{circuit, incident};
use caspur_types::{ErrorCode, TxError};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

/// A gauge holding a fraction or a rate.
type FloatGauge = Gauge<f64, AtomicU64>;

/// The visor's states (its `status.json`), as labelled.
pub const VISOR_STATES: &[&str] = &[
    "starting",
    "running",
    "canary",
    "waiting_for_binary",
    "checksum_mismatch",
    "rolling_back",
    "stopped",
    "failed",
];

/// A route label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabel {
    /// A message type URL the router knows.
    pub route: String,
}

/// A state label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabel {
    /// A state name from a fixed list.
    pub state: String,
}

/// The `caspur_*` families.
#[derive(Clone, Debug, Default)]
pub struct ChainMetrics {
    txs_per_second: FloatGauge,
    bonded_ratio: FloatGauge,
    participation: FloatGauge,
    broken_routes: Gauge,
    route_broken: Family<RouteLabel, Gauge>,
    refusals: Family<RouteLabel, PlainCounter>,
    dcert_seats: Gauge,
    dcert_members: Gauge,
    dcert_lowest_member_tally: FloatGauge,
    dcert_strongest_challenger_tally: FloatGauge,
    dcert_stabilization_queue: Gauge,
    dcert_suspended: Gauge,
    incidents_open: Family<StateLabel, Gauge>,
    incidents_overdue: Gauge,
    upgrade_plan_height: Gauge,
    upgrade_readiness: FloatGauge,
    upgrade_readiness_threshold: FloatGauge,
    upgrade_eta_seconds: FloatGauge,
    visor_state: Family<StateLabel, Gauge>,
}

/// The routes the circuit breaker can break (every routable type but the unbreakable ones).
pub fn breakable_routes() -> impl Iterator<Item = &'static str> {
    caspur_app::router::ROUTES
        .iter()
        .copied()
        .filter(|r| !circuit::is_unbreakable(r))
}

fn route(r: &str) -> RouteLabel {
    RouteLabel { route: r.into() }
}

fn state(s: &str) -> StateLabel {
    StateLabel { state: s.into() }
}

impl ChainMetrics {
    /// Registers the families in `r` (a registry prefixed `caspur`), every labelled series
    /// created at 0.
    pub fn register(r: &mut Registry) -> Self {
        let m = ChainMetrics::default();
        for rt in breakable_routes() {
            let _ = m.route_broken.get_or_create(&route(rt));
            let _ = m.refusals.get_or_create(&route(rt));
        }
        for s in incident::lifecycle::open_states() {
            let _ = m
                .incidents_open
                .get_or_create(&state(incident::lifecycle::name(s)));
        }
        for s in VISOR_STATES {
            let _ = m.visor_state.get_or_create(&state(s));
        }
        r.register(
            "txs_per_second",
            "Transactions per second of block time over the last 100 blocks.",
            m.txs_per_second.clone(),
        );
        r.register(
            "bonded_ratio",
            "Bonded tokens over the bond denom's total supply.",
            m.bonded_ratio.clone(),
        );
        r.register(
            "validator_participation",
            "Share of validator power that signed, over the last 100 blocks.",
            m.participation.clone(),
        );
        r.register(
            "circuit_broken_routes",
            "Routes the circuit breaker disables now.",
            m.broken_routes.clone(),
        );
        r.register(
            "circuit_route_broken",
            "1 while a break covers the route.",
            m.route_broken.clone(),
        );
        r.register(
            "circuit_refusals_total",
            "Messages the circuit breaker refused at CheckTx and re-check, by route.",
            m.refusals.clone(),
        );
        r.register(
            "dcert_seats",
            "Seats in the dCERT group.",
            m.dcert_seats.clone(),
        );
        r.register(
            "dcert_members",
            "dCERT members seated now.",
            m.dcert_members.clone(),
        );
        r.register(
            "dcert_lowest_member_tally",
            "Smallest election tally among the members.",
            m.dcert_lowest_member_tally.clone(),
        );
        r.register(
            "dcert_strongest_challenger_tally",
            "Largest election tally among the challengers.",
            m.dcert_strongest_challenger_tally.clone(),
        );
        r.register(
            "dcert_stabilization_queue",
            "Challengers waiting out the stabilization period.",
            m.dcert_stabilization_queue.clone(),
        );
        r.register(
            "dcert_suspended_members",
            "Members suspended and under review.",
            m.dcert_suspended.clone(),
        );
        r.register(
            "incidents_open",
            "Open incidents, by state.",
            m.incidents_open.clone(),
        );
        r.register(
            "incidents_overdue",
            "Open incidents past their verification SLA or disclosure deadline.",
            m.incidents_overdue.clone(),
        );
        r.register(
            "upgrade_plan_height",
            "Height of the scheduled upgrade plan (0: none).",
            m.upgrade_plan_height.clone(),
        );
        r.register(
            "upgrade_readiness",
            "Share of bonded power that signalled readiness for the scheduled plan.",
            m.upgrade_readiness.clone(),
        );
        r.register(
            "upgrade_readiness_threshold",
            "Share readiness must reach before the plan height.",
            m.upgrade_readiness_threshold.clone(),
        );
        r.register(
            "upgrade_eta_seconds",
            "Seconds until the plan height at the last 24 h block rate (0: none).",
            m.upgrade_eta_seconds.clone(),
        );
        r.register(
            "visor_state",
            "1 for the state the visor reports in its status file.",
            m.visor_state.clone(),
        );
        m
    }

    /// Counts `err` if it is a circuit-breaker refusal of a known route.
    pub fn count_refusal(&self, err: &TxError) {
        if err.code != ErrorCode::RouteBroken {
            return;
        }
        // "message <type URL> is disabled by the circuit breaker (…)"
        let refused = err
            .message
            .strip_prefix("message ")
            .and_then(|rest| rest.split_once(' '))
            .and_then(|(url, _)| caspur_app::router::route_of(url));
        if let Some(r) = refused {
            self.refusals.get_or_create(&route(r)).inc();
        }
    }

    /// The refusals counted for `route`.
    pub fn refusals_of(&self, r: &str) -> u64 {
        self.refusals.get_or_create(&route(r)).get()
    }

    /// Sets the families read from committed state and the windows.
    pub fn observe(&self, h: &ChainHealth, w: &Windows) {
        self.txs_per_second.set(w.txs_per_second());
        self.participation.set(w.participation());
        self.bonded_ratio.set(ratio(h.pool.bonded, h.pool.supply));
        self.observe_circuit(h);
        let d = &h.dcert;
        self.dcert_seats.set(d.seats as i64);
        self.dcert_members.set(d.members as i64);
        self.dcert_lowest_member_tally
            .set(d.lowest_member_tally as f64);
        self.dcert_strongest_challenger_tally
            .set(d.strongest_challenger_tally as f64);
        self.dcert_stabilization_queue
            .set(d.stabilization_queue as i64);
        self.dcert_suspended.set(d.suspended as i64);
        for s in incident::lifecycle::open_states() {
            let n = h.incidents.iter().filter(|i| i.state == s as i32).count();
            self.incidents_open
                .get_or_create(&state(incident::lifecycle::name(s)))
                .set(n as i64);
        }
        let overdue = h
            .incidents
            .iter()
            .filter(|i| incident::lifecycle::overdue_deadline(i).is_some())
            .count();
        self.incidents_overdue.set(overdue as i64);
        match &h.plan {
            None => {
                self.upgrade_plan_height.set(0);
                self.upgrade_readiness.set(0.0);
                self.upgrade_eta_seconds.set(0.0);
            }
            Some(p) => {
                self.upgrade_plan_height.set(p.height as i64);
                self.upgrade_readiness
                    .set(ratio(p.ready_power as u128, p.total_power as u128));
                self.upgrade_readiness_threshold
                    .set(p.threshold.atomics() as f64 / caspur_types::Dec::ONE.atomics() as f64);
                self.upgrade_eta_seconds
                    .set(w.eta_seconds(p.height).unwrap_or(0.0));
            }
        }
    }

    fn observe_circuit(&self, h: &ChainHealth) {
        self.broken_routes.set(h.broken_routes.len() as i64);
        for rt in breakable_routes() {
            let covered = h.broken_routes.iter().any(|b| covers(b, rt));
            self.route_broken
                .get_or_create(&route(rt))
                .set(covered as i64);
        }
    }

    /// Sets the visor state (`None`: no visor runs this node).
    pub fn observe_visor(&self, current: Option<&str>) {
        for s in VISOR_STATES {
            self.visor_state
                .get_or_create(&state(s))
                .set((current == Some(*s)) as i64);
        }
    }
}

/// Whether `broken` covers `route`: the breaker's own rule ([`circuit::covering_keys`] over
/// every spelling of the route, as `check_route` does, and a safe-mode break sparing its
/// allowlist, [`circuit::refuses`]).
fn covers(broken: &circuit::state::BrokenRoute, route: &str) -> bool {
    caspur_app::router::spellings(route).iter().any(|s| {
        circuit::covering_keys(s).any(|k| k == broken.route) && circuit::refuses(broken, s)
    })
}

/// `part / whole` (0 when `whole` is 0).
pub fn ratio(part: u128, whole: u128) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    part as f64 / whole as f64
}
