//! The lifecycle (SPEC §5): which state allows which step, who may take it, and the one
//! function every step goes through to record itself ([`record`]: timeline entry, state,
//! event).

use super::{state, MAX_TIMELINE};
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::dcert;
use caspur_store::StateRead;
use caspur_types::proto::incident::v1::{self as pb, State};
use caspur_types::{Address, Event};

/// States from which an incident can still be aborted.
pub const ACTIVE: &[State] = &[
    State::Verified,
    State::EmergencyDeclared,
    State::PlanProposed,
    State::PlanApproved,
    State::Announced,
    State::UpgradeScheduled,
    State::Executing,
    State::FixVerified,
];

/// The states of an open incident, in lifecycle order: someone still has to act (every
/// state but rejected, closed and aborted).
pub fn open_states() -> impl Iterator<Item = State> {
    std::iter::once(State::Reported)
        .chain(ACTIVE.iter().copied())
        .chain(std::iter::once(State::Resolved))
}

/// States in which public updates may be posted (after the announcement, before closing).
pub const ANNOUNCED: &[State] = &[
    State::Announced,
    State::UpgradeScheduled,
    State::Executing,
    State::FixVerified,
    State::Resolved,
];

/// An incident's state (an unknown number reads as unspecified).
pub fn state_of(i: &pb::Incident) -> State {
    State::try_from(i.state).unwrap_or(State::Unspecified)
}

/// The deadline incident `i` is past now, if any: still reported after the verification SLA,
/// or resolved without a post-mortem after the disclosure deadline. (The stored flags record
/// that a deadline was missed; acting on the incident ends the overdue state.)
pub fn overdue_deadline(i: &pb::Incident) -> Option<&'static str> {
    match state_of(i) {
        State::Reported if i.sla_overdue => Some("verification SLA"),
        State::Resolved if i.disclosure_overdue => Some("disclosure deadline"),
        _ => None,
    }
}

/// The state's name as users see it (`plan_proposed`).
pub fn name(s: State) -> &'static str {
    match s {
        State::Unspecified => "unspecified",
        State::Reported => "reported",
        State::Verified => "verified",
        State::Rejected => "rejected",
        State::EmergencyDeclared => "emergency_declared",
        State::PlanProposed => "plan_proposed",
        State::PlanApproved => "plan_approved",
        State::Announced => "announced",
        State::UpgradeScheduled => "upgrade_scheduled",
        State::Executing => "executing",
        State::FixVerified => "fix_verified",
        State::Resolved => "resolved",
        State::Closed => "closed",
        State::Aborted => "aborted",
    }
}

/// Refuses `action` unless the incident is in one of `allowed`, naming where it is and what
/// the action needs.
pub fn require_state(i: &pb::Incident, allowed: &[State], action: &str) -> Result<(), ExecError> {
    let now = state_of(i);
    if allowed.contains(&now) {
        return Ok(());
    }
    let names: Vec<&str> = allowed.iter().map(|s| name(*s)).collect();
    Err(ExecError::invalid_request(format!(
        "incident {} is {}: {action} is allowed only when it is {}",
        i.id,
        name(now),
        names.join(" or ")
    )))
}

/// `sender` as an active dCERT member.
pub async fn require_member<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    sender: &str,
) -> Result<Address, ExecError> {
    let addr = Address::parse_account(sender)?;
    dcert::members::require_active(ctx, &addr).await?;
    Ok(addr)
}

/// `sender` as a member of the incident's response team: an active dCERT member, or an
/// expert the declaring members named.
pub async fn require_team<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    i: &pb::Incident,
    sender: &str,
) -> Result<(), ExecError> {
    let addr = Address::parse_account(sender)?;
    if i.experts.iter().any(|e| e == sender) {
        return Ok(());
    }
    dcert::members::require_active(ctx, &addr)
        .await
        .map(|_| ())
        .map_err(|e| {
            e.map_tx(|_| {
                caspur_types::TxError::unauthorized(format!(
                    "{sender} is neither an active dCERT member nor an expert on incident {}'s \
                     response team",
                    i.id
                ))
            })
        })
}

/// Opens `incident` (its id, height and time assigned here) in `REPORTED`: the verification
/// SLA (`sla_secs`) starts and the `reported` step is recorded by `actor` with `text`. Returns its id. Both
/// ways an incident begins — a reporter's sealed report, a tripwire's evidence — come here.
pub async fn open<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    mut incident: pb::Incident,
    sla_secs: u64,
    actor: &str,
    text: &str,
) -> Result<u64, ExecError> {
    let id = state::next_id(ctx).await?;
    state::set_next_id(ctx, id.saturating_add(1))?;
    incident.id = id;
    incident.reported_height = ctx.block.height;
    incident.reported_time_ms = ctx.block.time_ms;
    super::schedule_deadline(ctx, state::SLA_QUEUE, id, sla_secs).await?;
    record(
        ctx,
        &mut incident,
        Some(State::Reported),
        "reported",
        actor,
        text,
    )
    .await?;
    Ok(id)
}

/// Records one step: appends the timeline entry (refused when the timeline is full), moves
/// the incident to `to` (if given), stores it and emits the `incident` event.
pub async fn record<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    i: &mut pb::Incident,
    to: Option<State>,
    action: &str,
    actor: &str,
    text: &str,
) -> Result<(), ExecError> {
    if i.timeline_len as usize >= MAX_TIMELINE {
        // Not `limit_exceeded`: that code bars a block, and a full timeline is state.
        return Err(ExecError::invalid_request(format!(
            "incident {} has {MAX_TIMELINE} timeline entries, the most it may have",
            i.id
        )));
    }
    if let Some(to) = to {
        i.state = to as i32;
    }
    let entry = pb::TimelineEntry {
        seq: i.timeline_len,
        state: i.state,
        action: action.into(),
        actor: actor.into(),
        height: ctx.block.height,
        time_ms: ctx.block.time_ms,
        text: text.into(),
    };
    state::set_timeline_entry(ctx, i.id, &entry)?;
    i.timeline_len += 1;
    i.updated_height = ctx.block.height;
    i.updated_time_ms = ctx.block.time_ms;
    state::set_incident(ctx, i)?;
    ctx.emit(
        Event::new("incident")
            .attr("id", i.id.to_string())
            .attr("state", name(state_of(i)))
            .attr("action", action)
            .attr("actor", actor)
            .attr("seq", entry.seq.to_string()),
    );
    Ok(())
}
