//! A fired tripwire's break and the dCERT's answer to it (docs/dcert.md, "Tripwires"). Firing
//! opens an incident with the evidence and breaks those of the tripwire's routes no other break
//! holds, for `tripwire_blocks` (with every route held already, it only reports); an active
//! member then confirms it (`MsgConfirmTripwire`: it becomes that member's break, under
//! ratification and `max_break_blocks`) or releases it (`MsgReleaseTripwire`: its routes
//! reopen now). Unanswered, it lapses by rule.

use super::blast_radius::{self, Quorum, ROUTE};
use super::break_state as records;
use super::breaks::{self, expire_at, incident_entry};
use super::tripwire_state::kind_name;
use super::DcertParams;
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::{circuit, incident};
use caspur_store::StateRead;
use caspur_types::proto::dcert::v1::{self as pb, TripwireAnswer};
use caspur_types::proto::incident::v1::{self as incident_pb, Severity};
use caspur_types::Event;

/// Who a tripwire's break and incident are recorded as made by.
fn actor(t: &pb::Tripwire) -> String {
    format!("tripwire {}", t.id)
}

/// Fires `t` with `evidence` at the end of this block: the incident, the break of its free
/// routes, the counters; returns whether it fired. Routes already broken stay with their break
/// (one an upgrade unregistered is skipped); with none left to break the emergency is already
/// held, so no incident opens — the `dcert_tripwire` event still reports the evidence.
pub async fn fire<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    params: &DcertParams,
    t: &mut pb::Tripwire,
    evidence: &str,
) -> Result<bool, ExecError> {
    let mut routes = Vec::with_capacity(t.routes.len());
    for route in &t.routes {
        // Free: no break refuses it now — its own, a package prefix's or safe mode's.
        let free = circuit::covering(ctx, route).await?.is_none();
        if free && circuit::validate_route(route).is_ok() {
            routes.push(route.clone());
        }
    }
    let (incident_id, break_id) = if routes.is_empty() {
        (0, 0)
    } else {
        let incident_id = open_incident(ctx, t, evidence).await?;
        let break_id = hold_routes(ctx, params, t, incident_id, routes, evidence).await?;
        t.break_id = break_id;
        t.fired = t.fired.saturating_add(1);
        t.last_fired_height = ctx.block.height;
        (incident_id, break_id)
    };
    ctx.emit(
        Event::new("dcert_tripwire")
            .attr("tripwire_id", t.id.to_string())
            .attr("kind", kind_name(t.kind))
            .attr("incident_id", incident_id.to_string())
            .attr("break_id", break_id.to_string())
            .attr("evidence", evidence),
    );
    Ok(break_id != 0)
}

/// Opens the incident of `t`'s firing: `reported`, no sealed report, the evidence first.
async fn open_incident<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    t: &pb::Tripwire,
    evidence: &str,
) -> Result<u64, ExecError> {
    let report = incident_pb::Incident {
        severity_claim: Severity::High as i32,
        public_title: format!(
            "Tripwire {} ({}) fired at height {}",
            t.id,
            kind_name(t.kind),
            ctx.block.height
        ),
        tripwire_id: t.id,
        ..Default::default()
    };
    let sla = incident::state::get_params(ctx)
        .await?
        .verification_sla_secs;
    incident::lifecycle::open(ctx, report, sla, &actor(t), evidence).await
}

/// Breaks `routes` under a new record awaiting the dCERT's answer; returns its id.
async fn hold_routes<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    params: &DcertParams,
    t: &pb::Tripwire,
    incident_id: u64,
    routes: Vec<String>,
    evidence: &str,
) -> Result<u64, ExecError> {
    let id = records::next_id(ctx).await?;
    let height = ctx.block.height;
    let mut record = pb::BreakRecord {
        id,
        level: ROUTE.into(),
        routes,
        reason: evidence.to_string(),
        incident_id,
        height,
        time_ms: ctx.block.time_ms,
        standing: true,
        tripwire_id: t.id,
        tripwire_answer: TripwireAnswer::Awaiting as i32,
        ..Default::default()
    };
    expire_at(
        ctx,
        &mut record,
        height.saturating_add(params.tripwire_blocks),
    )
    .await?;
    records::add_to_incident(ctx, incident_id, id).await?;
    records::set(ctx, &record)?;
    circuit::break_routes(ctx, &actor(t), &record.routes, evidence, id).await?;
    let text = format!(
        "break {id} of {}, until height {} unless a dCERT member confirms or releases it",
        record.routes.join(", "),
        record.expires_height
    );
    incident_entry(ctx, incident_id, "circuit_break", &actor(t), &text).await?;
    Ok(id)
}

/// The tripwire break `id`, standing and awaiting an answer.
async fn awaiting<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    id: u64,
) -> Result<pb::BreakRecord, ExecError> {
    let r = records::require(ctx, id).await?;
    if r.tripwire_id == 0 {
        return Err(ExecError::invalid_request(format!(
            "dCERT break {id} was made by a member, not a tripwire"
        )));
    }
    if r.tripwire_answer != TripwireAnswer::Awaiting as i32 || !r.standing {
        return Err(ExecError::invalid_request(format!(
            "tripwire break {id} is not awaiting an answer ({}{})",
            r.tripwire_answer().as_str_name(),
            if r.standing { "" } else { ", lapsed" }
        )));
    }
    Ok(r)
}

/// `MsgConfirmTripwire`: `member` (authorized to break, as for `MsgCircuitBreak`) makes break
/// `id` its own; ratification and `max_break_blocks` apply from now, as to a break it sent.
pub async fn confirm<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    params: &DcertParams,
    member: &str,
    id: u64,
    reason: &str,
) -> Result<(), ExecError> {
    let mut r = awaiting(ctx, id).await?;
    // As for any member's break: the incident it answers must still be open, and one member
    // may not revive a route whose earlier break lapsed (that needs a wider quorum).
    breaks::named_incident(ctx, params, r.incident_id).await?;
    if blast_radius::required(ctx, params, &r.routes).await?.1 != Quorum::One {
        return Err(ExecError::unauthorized(format!(
            "a break of {} lapsed before: one member cannot confirm it; let the tripwire's \
             break run out and break the route again with the quorum it needs",
            r.routes.join(", ")
        )));
    }
    r.member = member.to_string();
    r.members = vec![member.to_string()];
    r.tripwire_answer = TripwireAnswer::Confirmed as i32;
    if !reason.is_empty() {
        r.reason = format!("{reason} (tripwire: {})", r.reason);
    }
    breaks::hold(ctx, params, &mut r).await?;
    records::set(ctx, &r)?;
    ctx.emit(
        Event::new("dcert_tripwire_confirmed")
            .attr("break_id", id.to_string())
            .attr("tripwire_id", r.tripwire_id.to_string())
            .attr("member", member)
            .attr("proposal_id", r.proposal_id.to_string())
            .attr("expires_height", r.expires_height.to_string()),
    );
    let text = format!("break {id} confirmed: {reason}");
    incident_entry(ctx, r.incident_id, "tripwire_confirmed", member, &text).await
}

/// `MsgReleaseTripwire`: an active `member` releases break `id`: its routes reopen now.
pub async fn release<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    member: &str,
    id: u64,
    reason: &str,
) -> Result<(), ExecError> {
    let mut r = awaiting(ctx, id).await?;
    r.tripwire_answer = TripwireAnswer::Released as i32;
    let why = format!("released by {member}: {reason}");
    breaks::lapse(ctx, &mut r, &why).await?;
    records::set(ctx, &r)
}
