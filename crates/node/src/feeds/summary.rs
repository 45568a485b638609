//! The Statuspage v2 `summary.json` shape, so status-page tooling and bots that read
//! Statuspage can follow the chain's incidents: `status.indicator` is the worst impact among
//! open emergencies; `incidents` are the open emergencies (declared, not yet resolved), each
//! with its updates. Reports still in triage are not incidents for users yet: they are
//! counted under `caspur.reports_in_triage`.

use caspur_app::modules::incident::{lifecycle, view};
use caspur_types::proto::incident::v1::{self as pb, Severity, State};
use serde_json::{json, Value};

/// Statuspage's status of an incident in `state`.
pub fn status(state: State) -> &'static str {
    match state {
        State::Unspecified | State::Reported | State::Verified => "investigating",
        State::EmergencyDeclared | State::PlanProposed | State::PlanApproved => "identified",
        State::Announced | State::UpgradeScheduled => "identified",
        State::Executing | State::FixVerified => "monitoring",
        State::Resolved | State::Rejected | State::Aborted => "resolved",
        State::Closed => "postmortem",
    }
}

/// Statuspage's impact of a severity.
pub fn impact(severity: i32) -> &'static str {
    match Severity::try_from(severity).unwrap_or(Severity::Unspecified) {
        Severity::Unspecified => "none",
        Severity::Low | Severity::Medium => "minor",
        Severity::High => "major",
        Severity::Critical => "critical",
    }
}

fn rank(impact: &str) -> u8 {
    match impact {
        "critical" => 3,
        "major" => 2,
        "minor" => 1,
        _ => 0,
    }
}

/// Whether users should see it as an open incident.
pub fn is_open_emergency(state: State) -> bool {
    matches!(
        state,
        State::EmergencyDeclared
            | State::PlanProposed
            | State::PlanApproved
            | State::Announced
            | State::UpgradeScheduled
            | State::Executing
            | State::FixVerified
    )
}

fn incident(base: &str, page: &str, i: &pb::Incident, steps: &[pb::TimelineEntry]) -> Value {
    let id = i.id.to_string();
    let updates: Vec<Value> = steps
        .iter()
        .rev()
        .map(|s| {
            let at = view::time(s.time_ms);
            let st = State::try_from(s.state).unwrap_or(State::Unspecified);
            json!({
                "id": format!("{id}-{}", s.seq), "incident_id": id, "status": status(st),
                "body": if s.text.is_empty() { s.action.clone() } else { format!("{}: {}", s.action, s.text) },
                "created_at": at, "updated_at": at, "display_at": at, "affected_components": [],
            })
        })
        .collect();
    let state = lifecycle::state_of(i);
    json!({
        "id": id, "name": super::atom::title(i), "status": status(state),
        "impact": impact(i.severity),
        "created_at": view::time(i.reported_time_ms), "started_at": view::time(i.reported_time_ms),
        "updated_at": view::time(i.updated_time_ms), "monitoring_at": null,
        "resolved_at": (i.resolved_time_ms > 0).then(|| view::time(i.resolved_time_ms)),
        "shortlink": format!("{base}/incidents/{id}"), "page_id": page,
        "incident_updates": updates, "components": [],
    })
}

/// The summary of the newest incidents.
pub fn summary(
    chain_id: &str,
    base: &str,
    incidents: &[(pb::Incident, Vec<pb::TimelineEntry>)],
) -> Value {
    let open: Vec<&(pb::Incident, Vec<pb::TimelineEntry>)> = incidents
        .iter()
        .filter(|(i, _)| is_open_emergency(lifecycle::state_of(i)))
        .collect();
    let in_triage = incidents
        .iter()
        .filter(|(i, _)| matches!(lifecycle::state_of(i), State::Reported | State::Verified))
        .count();
    let worst = open
        .iter()
        .map(|(i, _)| impact(i.severity))
        .max_by_key(|i| rank(i))
        .unwrap_or("none");
    let description = match worst {
        "none" if open.is_empty() => "All Systems Operational",
        "critical" => "Major System Outage",
        "major" => "Partial System Outage",
        _ => "Minor Service Outage",
    };
    let updated = incidents
        .iter()
        .map(|(i, _)| i.updated_time_ms)
        .max()
        .unwrap_or(0);
    json!({
        "page": {
            "id": chain_id, "name": format!("{chain_id} status"), "url": base,
            "time_zone": "Etc/UTC", "updated_at": view::time(updated),
        },
        "components": [],
        "incidents": open.iter().map(|(i, s)| incident(base, chain_id, i, s)).collect::<Vec<_>>(),
        "scheduled_maintenances": [],
        "status": {"indicator": worst, "description": description},
        "caspur": {"reports_in_triage": in_triage},
    })
}
