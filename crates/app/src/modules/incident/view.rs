//! The public JSON of an incident, one shape for every door that shows it (the CLI's
//! `query incident show`, the node's `/incidents/{id}` and feeds): enums by name, times as
//! RFC 3339 and milliseconds, never sealed content (a disclosed report appears only once the
//! post-mortem published it).

use super::lifecycle::{name, state_of};
use super::msgs::review::kind_name;
use caspur_types::proto::incident::v1::{self as pb, ReviewKind, Severity, State};
use serde_json::{json, Value};

/// A severity's name (`critical`; `unspecified` before triage).
pub fn severity_name(s: i32) -> &'static str {
    match Severity::try_from(s).unwrap_or(Severity::Unspecified) {
        Severity::Unspecified => "unspecified",
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

/// RFC 3339 of a block time in milliseconds.
pub fn time(ms: u64) -> String {
    crate::modules::staking::rfc3339(ms)
}

fn entry(e: &pb::TimelineEntry) -> Value {
    json!({
        "seq": e.seq,
        "state": name(State::try_from(e.state).unwrap_or(State::Unspecified)),
        "action": e.action,
        "actor": e.actor,
        "height": e.height,
        "time": time(e.time_ms),
        "time_ms": e.time_ms,
        "text": e.text,
    })
}

/// An incident and its timeline as public JSON.
pub fn incident_json(i: &pb::Incident, timeline: &[pb::TimelineEntry]) -> Value {
    let deposit = i
        .deposit
        .as_ref()
        .map(|c| format!("{}{}", c.amount, c.denom))
        .unwrap_or_default();
    let plan = i.plan.as_ref().map(|p| {
        json!({
            "summary": p.summary, "plan_hash": p.plan_hash, "upgrade": p.upgrade,
            "proposer": p.proposer, "revision": p.revision,
        })
    });
    let reviews: Vec<Value> = i
        .reviews
        .iter()
        .map(|r| {
            json!({
                "reviewer": r.reviewer,
                "kind": kind_name(ReviewKind::try_from(r.kind).unwrap_or(ReviewKind::Unspecified)),
                "approve": r.approve, "notes_hash": r.notes_hash, "revision": r.revision,
            })
        })
        .collect();
    let announcement = i.announcement.as_ref().map(|a| {
        json!({
            "description": a.description, "temporary_measures": a.temporary_measures,
            "plan": a.plan, "user_advice": a.user_advice,
        })
    });
    let postmortem = i.postmortem.as_ref().map(|p| {
        let disclosed = p.disclosed_report.as_ref().map(|d| {
            json!({
                "salt": hex::encode(&d.salt),
                "report": String::from_utf8_lossy(&d.report),
            })
        });
        json!({"uri": p.uri, "hash": p.hash, "disclosed_report": disclosed})
    });
    json!({
        "id": i.id,
        "state": name(state_of(i)),
        "title": i.public_title,
        "severity_claim": severity_name(i.severity_claim),
        "severity": severity_name(i.severity),
        "commitment": i.commitment,
        "reporter": i.reporter,
        "tripwire_id": i.tripwire_id,
        "deposit": deposit,
        "reported": {"height": i.reported_height, "time": time(i.reported_time_ms), "time_ms": i.reported_time_ms},
        "updated": {"height": i.updated_height, "time": time(i.updated_time_ms), "time_ms": i.updated_time_ms},
        "declare_votes": i.declare_votes,
        "experts": i.experts,
        "plan": plan,
        "reviews": reviews,
        "announcement": announcement,
        "upgrade": i.upgrade_name,
        "checks_hash": i.checks_hash,
        "resolution": i.resolution,
        "resolved_time": (i.resolved_time_ms > 0).then(|| time(i.resolved_time_ms)),
        "postmortem": postmortem,
        "abort_reason": i.abort_reason,
        "sla_overdue": i.sla_overdue,
        "disclosure_overdue": i.disclosure_overdue,
        "timeline": timeline.iter().map(entry).collect::<Vec<_>>(),
    })
}
