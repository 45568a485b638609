//! `incident`: a vulnerability from a sealed report to a published post-mortem (SPEC §5).
//! Anyone reports (sealed to the dCERT members, with a refundable deposit); a member triages;
//! a quorum declares the emergency and forms the response team (the active members and the
//! experts they name); the team proposes a plan, reviews it (technical, risk, legal),
//! announces, posts updates, links the upgrade that ships the fix (the upgrade module moves
//! the incident to executing when it runs, or aborts it when the plan is cancelled), confirms
//! and resolves it, and publishes the post-mortem, which may disclose the report against its
//! commitment. Every step is a message, a timeline entry and an event. See
//! `docs/incidents.md`.

pub mod lifecycle;
pub mod msgs;
pub mod params;
pub mod query;
pub mod sealing;
pub mod state;
pub mod view;

use crate::context::Ctx;
use crate::error::ExecError;
use caspur_store::StateRead;
use caspur_types::proto::incident::v1::State;
use caspur_types::{Address, Event};
use serde::{Deserialize, Serialize};

pub use params::IncidentParams;

/// Longest public title.
pub const MAX_TITLE: usize = 200;
/// Longest public text (an announcement field, an update, a summary, a reason).
pub const MAX_TEXT: usize = 4096;
/// Longest post-mortem URI.
pub const MAX_URI: usize = 1024;
/// Most experts on one incident's response team.
pub const MAX_EXPERTS: usize = 16;
/// Most timeline entries of one incident (updates are refused beyond it).
pub const MAX_TIMELINE: usize = 512;
/// Most key wraps of one sealed report.
pub const MAX_KEY_WRAPS: usize = 128;
/// Most plan revisions of one incident.
pub const MAX_PLAN_REVISIONS: u32 = 16;

/// Genesis state of `incident`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentGenesis {
    /// Parameters.
    #[serde(default)]
    pub params: IncidentParams,
    /// An exported chain's incidents as hex pairs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exported_state: Vec<(String, String)>,
}

/// Writes `incident`'s genesis.
pub async fn init_genesis<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    g: &IncidentGenesis,
) -> Result<(), ExecError> {
    g.params.validate()?;
    state::set_params(ctx, &g.params)?;
    crate::genesis::write_exported(ctx, crate::modules::ids::INCIDENT, &g.exported_state).await
}

/// Reads `incident` back into genesis form.
pub async fn export_genesis<S: caspur_store::StateScan>(
    s: &S,
) -> Result<IncidentGenesis, ExecError> {
    Ok(IncidentGenesis {
        params: state::get_params(&mut crate::context::Unmetered(s)).await?,
        exported_state: crate::genesis::read_exported(s, crate::modules::ids::INCIDENT, &[1])
            .await?,
    })
}

/// The account holding report deposits until triage (`sha256("incident")`).
pub fn escrow_address() -> Address {
    use sha2::{Digest, Sha256};
    let mut a = [0u8; 20];
    a.copy_from_slice(&Sha256::digest(b"incident")[..20]);
    Address(a)
}

/// Refuses text longer than `max` bytes, naming the field.
pub fn check_text(field: &str, text: &str, max: usize) -> Result<(), ExecError> {
    if text.len() > max {
        return Err(ExecError::invalid_request(format!(
            "{field} is at most {max} bytes, got {}",
            text.len()
        )));
    }
    Ok(())
}

/// Refuses anything but a lower-case hex SHA-256 (64 characters), naming the field; an empty
/// value passes when `optional`.
pub fn check_hash(field: &str, hash: &str, optional: bool) -> Result<(), ExecError> {
    if optional && hash.is_empty() {
        return Ok(());
    }
    if hash.len() != 64 || !hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(ExecError::invalid_request(format!(
            "{field} must be a SHA-256 as 64 lower-case hex characters, got {hash:?}"
        )));
    }
    Ok(())
}

/// End of block: flags reports past the verification SLA and resolved incidents past the
/// disclosure deadline (once each, with an `incident_overdue` event).
pub async fn end_block<B: StateRead>(ctx: &mut Ctx<'_, B>, since_ms: u64) -> Result<(), ExecError> {
    let now = ctx.block.time_ms;
    for due in state::SLA_QUEUE.pop_due(ctx, since_ms, now).await? {
        flag_overdue(ctx, &due.payload, State::Reported, "verification_sla").await?;
    }
    for due in state::DISCLOSURE_QUEUE.pop_due(ctx, since_ms, now).await? {
        flag_overdue(ctx, &due.payload, State::Resolved, "disclosure").await?;
    }
    Ok(())
}

async fn flag_overdue<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    payload: &[u8],
    still: State,
    kind: &str,
) -> Result<(), ExecError> {
    let id = u64::from_be_bytes(
        payload
            .try_into()
            .map_err(|_| ExecError::logic("corrupt incident deadline entry"))?,
    );
    // A deadline outlives nothing but its incident; an entry without one is skipped rather
    // than stopping the chain at the end of a block.
    let Some(mut i) = state::incident(ctx, id).await? else {
        return Ok(());
    };
    if lifecycle::state_of(&i) != still {
        return Ok(());
    }
    if still == State::Reported {
        i.sla_overdue = true;
    } else {
        i.disclosure_overdue = true;
    }
    state::set_incident(ctx, &i)?;
    if still == State::Resolved {
        crate::modules::dcert::breaks::on_undisclosed(ctx, id).await?;
    }
    ctx.emit(
        Event::new("incident_overdue")
            .attr("id", id.to_string())
            .attr("state", lifecycle::name(still))
            .attr("deadline", kind),
    );
    Ok(())
}

/// Files incident `id`'s deadline in `queue`, `secs` of block time from now.
pub async fn schedule_deadline<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    queue: crate::queue::TimeQueue,
    id: u64,
    secs: u64,
) -> Result<(), ExecError> {
    let now = ctx.block.time_ms;
    let at = now.saturating_add(secs.saturating_mul(1000));
    queue.push(ctx, now, at, id.to_be_bytes().to_vec()).await
}

/// The upgrade module ran (or skipped) plan `name`: a linked incident executes (or aborts).
pub async fn on_upgrade_applied<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    name: &str,
    skipped: bool,
) -> Result<(), ExecError> {
    let Some(mut i) = take_linked(ctx, name).await? else {
        return Ok(());
    };
    if skipped {
        let reason = format!(
            "upgrade plan {name:?} was skipped at height {}",
            ctx.block.height
        );
        return abort_by_upgrade(ctx, i, reason).await;
    }
    let text = format!(
        "upgrade plan {name:?} applied at height {}",
        ctx.block.height
    );
    lifecycle::record(
        ctx,
        &mut i,
        Some(State::Executing),
        "executing",
        "upgrade",
        &text,
    )
    .await
}

/// The upgrade module cancelled plan `name` (governance, the dCERT quorum, readiness past its
/// postponements, or a replacing plan): a linked incident aborts with the reason.
pub async fn on_plan_cancelled<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    name: &str,
    why: &str,
) -> Result<(), ExecError> {
    let Some(i) = take_linked(ctx, name).await? else {
        return Ok(());
    };
    abort_by_upgrade(ctx, i, format!("upgrade plan {name:?} cancelled: {why}")).await
}

async fn abort_by_upgrade<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    mut i: caspur_types::proto::incident::v1::Incident,
    reason: String,
) -> Result<(), ExecError> {
    i.abort_reason = reason.clone();
    let to = Some(State::Aborted);
    lifecycle::record(ctx, &mut i, to, "aborted", "upgrade", &reason).await
}

/// The incident still waiting on plan `name` (link removed either way).
async fn take_linked<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    name: &str,
) -> Result<Option<caspur_types::proto::incident::v1::Incident>, ExecError> {
    let Some(id) = state::linked(ctx, name).await? else {
        return Ok(None);
    };
    state::remove_link(ctx, name)?;
    let i = state::incident(ctx, id).await?;
    Ok(i.filter(|i| lifecycle::state_of(i) == State::UpgradeScheduled))
}
