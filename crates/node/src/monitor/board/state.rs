//! The board's content: one JSON document assembled from what the monitor has seen (charts,
//! validators' missed blocks), the chain's health (dCERT, broken routes, the plan) and the
//! firing alerts, with the open incidents' public records and latest steps read from state
//! after each block. Its size is bounded by the constants here and the health's own bounds.

use crate::monitor::cometbft::address_of;
use caspur_app::context::Unmetered;
use caspur_app::health::ChainHealth;
use caspur_app::modules::incident::{lifecycle, state, view};
use caspur_store::StateScan;
use serde_json::{json, Value};

/// Open incidents the board shows (newest first).
pub const BOARD_INCIDENTS: usize = 20;
/// Latest steps shown per incident.
pub const BOARD_STEPS: u32 = 10;

/// The newest open incidents' public JSON with their latest steps.
pub async fn incidents<S: StateScan>(s: &S, h: &ChainHealth) -> Vec<Value> {
    let mut kv = Unmetered(s);
    let mut out = Vec::new();
    for i in h.incidents.iter().rev().take(BOARD_INCIDENTS) {
        let first = i.timeline_len.saturating_sub(BOARD_STEPS);
        let mut steps = Vec::new();
        for seq in first..i.timeline_len {
            match state::timeline_entry(&mut kv, i.id, seq).await {
                Ok(t) => steps.push(t),
                Err(e) => {
                    tracing::warn!(id = i.id, seq, error = %e, "board: reading a timeline step")
                }
            }
        }
        let mut public = view::incident_json(i, &steps);
        // The deadline it is past now (the record's flags only say one was missed once).
        public["overdue"] = json!(lifecycle::overdue_deadline(i));
        out.push(public);
    }
    out
}

/// What the board shows besides the charts and incidents.
pub fn chain_json(h: &ChainHealth, latest: u64, eta_seconds: Option<f64>) -> Value {
    let d = &h.dcert;
    let plan = h.plan.as_ref().map(|p| {
        json!({
            "name": p.name, "height": p.height, "source": p.source,
            "blocks_left": p.height.saturating_sub(latest),
            "ready": crate::monitor::chain::ratio(p.ready_power as u128, p.total_power as u128),
            "threshold": p.threshold.to_string(),
            "eta_seconds": eta_seconds,
        })
    });
    json!({
        "bonded_ratio": crate::monitor::chain::ratio(h.pool.bonded, h.pool.supply),
        "dcert": {
            "seats": d.seats,
            "members": d.member_tallies.iter()
                .map(|(a, t)| {
                    let l = d.liveness.iter().find(|l| &l.member == a)
                        .filter(|_| d.heartbeats_required);
                    json!({"address": a, "tally": t.to_string(),
                        "live": l.map(|l| l.live), "misses": l.map(|l| l.misses),
                        "suspension_vote_open": l.map(|l| l.suspension_vote_open)})
                })
                .collect::<Vec<_>>(),
            "challenger": d.challenger.as_ref()
                .map(|a| json!({"address": a, "tally": d.strongest_challenger_tally.to_string()})),
            "stabilization_queue": d.stabilization_queue,
            "suspended": d.suspended,
        },
        "broken_routes": h.broken_routes.iter().map(|b| json!({
            "route": b.route, "by": b.by, "height": b.height,
            "time": view::time(b.time_ms), "reason": b.reason,
            "break": h.breaks.get(&b.break_id).map(break_json),
        })).collect::<Vec<_>>(),
        "plan": plan,
    })
}

/// An accountable break as the board shows it beside its routes.
fn break_json(r: &caspur_types::proto::dcert::v1::BreakRecord) -> Value {
    use caspur_types::proto::dcert::v1::{Ratification, TripwireAnswer};
    let ratification = match r.ratification() {
        Ratification::NotRequired => "not required",
        Ratification::Pending => "pending",
        Ratification::Ratified => "ratified",
        Ratification::Unratified => "unratified",
    };
    json!({
        "id": r.id, "incident": r.incident_id, "ratification": ratification,
        "proposal": r.proposal_id,
        "ratify_by": (r.ratify_by_ms > 0).then(|| view::time(r.ratify_by_ms)),
        "expires_height": (r.expires_height > 0).then_some(r.expires_height),
        "tripwire": (r.tripwire_id > 0).then_some(r.tripwire_id),
        "answer": match r.tripwire_answer() {
            TripwireAnswer::Unspecified => None,
            TripwireAnswer::Awaiting => Some("awaiting"),
            TripwireAnswer::Confirmed => Some("confirmed"),
            TripwireAnswer::Released => Some("released"),
        },
        "member": r.member,
    })
}

/// The validators of the latest set with the certificates each missed among the recent
/// blocks, most missed first.
pub fn validators_json(
    set: &[caspur_app::validators::Validator],
    missed: &std::collections::BTreeMap<[u8; 32], u32>,
) -> Vec<Value> {
    let mut rows: Vec<(u32, u64, String)> = set
        .iter()
        .map(|v| {
            (
                missed.get(&v.pub_key).copied().unwrap_or(0),
                v.power,
                address_of(&v.pub_key),
            )
        })
        .collect();
    rows.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    rows.into_iter()
        .map(|(missed, power, address)| json!({"address": address, "power": power, "missed": missed}))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use caspur_app::modules::circuit::state::BrokenRoute;
    use caspur_app::modules::dcert::heartbeat::MemberLiveness;
    use caspur_types::proto::dcert::v1::{BreakRecord, Ratification};

    fn route(route: &str, break_id: u64) -> BrokenRoute {
        BrokenRoute {
            route: route.into(),
            by: "caspur1member".into(),
            height: 7,
            time_ms: 1_000,
            reason: "drain".into(),
            break_id,
            safe_mode: false,
        }
    }

    #[test]
    fn a_broken_route_shows_its_break_record_and_an_adr_008_break_shows_none() {
        let mut h = ChainHealth {
            broken_routes: vec![
                route("/cosmos.bank.v1beta1.MsgSend", 3),
                route("/cosmos.bank.v1beta1.MsgMultiSend", 0),
            ],
            ..ChainHealth::default()
        };
        h.breaks.insert(
            3,
            BreakRecord {
                id: 3,
                incident_id: 2,
                ratification: Ratification::Pending as i32,
                proposal_id: 9,
                ratify_by_ms: 3_601_000,
                expires_height: 40,
                standing: true,
                ..Default::default()
            },
        );
        let v = chain_json(&h, 10, None);
        let b = &v["broken_routes"][0]["break"];
        assert_eq!(b["id"], 3);
        assert_eq!(b["incident"], 2);
        assert_eq!(b["ratification"], "pending");
        assert_eq!(b["proposal"], 9);
        assert_eq!(b["ratify_by"], view::time(3_601_000));
        assert_eq!(b["expires_height"], 40);
        assert!(b["tripwire"].is_null() && b["answer"].is_null());
        assert!(v["broken_routes"][1]["break"].is_null());
    }

    #[test]
    fn a_tripwire_break_shows_its_tripwire_and_the_answer_it_awaits() {
        use caspur_types::proto::dcert::v1::TripwireAnswer;
        let mut h = ChainHealth {
            broken_routes: vec![route("/cosmos.bank.v1beta1.MsgSend", 4)],
            ..ChainHealth::default()
        };
        h.breaks.insert(
            4,
            BreakRecord {
                id: 4,
                incident_id: 5,
                tripwire_id: 2,
                tripwire_answer: TripwireAnswer::Awaiting as i32,
                expires_height: 610,
                standing: true,
                ..Default::default()
            },
        );
        let v = chain_json(&h, 10, None);
        let b = &v["broken_routes"][0]["break"];
        assert_eq!(b["tripwire"], 2);
        assert_eq!(b["answer"], "awaiting");
        assert_eq!(b["expires_height"], 610);
    }

    #[test]
    fn members_show_their_heartbeats_only_when_required() {
        let mut h = ChainHealth::default();
        h.dcert.member_tallies = vec![("caspur1a".into(), 5), ("caspur1b".into(), 3)];
        h.dcert.liveness = vec![
            MemberLiveness {
                member: "caspur1a".into(),
                last_period: 4,
                misses: 0,
                live: true,
                suspension_vote_open: false,
            },
            MemberLiveness {
                member: "caspur1b".into(),
                last_period: 1,
                misses: 3,
                live: false,
                suspension_vote_open: true,
            },
        ];
        let v = chain_json(&h, 1, None);
        assert!(v["dcert"]["members"][0]["live"].is_null(), "not required");
        h.dcert.heartbeats_required = true;
        let v = chain_json(&h, 1, None);
        let m = &v["dcert"]["members"];
        assert_eq!(m[0]["live"], true);
        assert_eq!(m[1]["live"], false);
        assert_eq!(m[1]["misses"], 3);
        assert_eq!(m[1]["suspension_vote_open"], true);
    }
}
