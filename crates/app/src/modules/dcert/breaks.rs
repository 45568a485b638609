//! Accountability of breaks (SPEC §2.7; docs/dcert.md, "Accountability"): with any
//! accountability parameter set (ratification, `max_break_blocks`, a blast-radius quorum), each
//! break that takes effect opens a break record. With ratification on it must name an open incident and opens an expedited
//! governance proposal carrying `MsgRatifyBreak`; not ratified by the period's end, its routes
//! reopen (the one live un-break the rules allow: by rule, never by a member) and the member's
//! bond is slashed by `unratified_break_slash`. Unratified, it also lapses after
//! `max_break_blocks`. An incident a break named must be disclosed by its post-mortem (before
//! the disclosure deadline), or the members who broke are slashed again.

use super::blast_radius::{self, Quorum};
use super::break_state::{self as store, EXPIRY_QUEUE, RATIFY_QUEUE};
use super::msgs::circuit_break::Msg as BreakMsg;
use super::{bonds, state, DcertParams};
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::gov::chain_proposal::{self, ChainProposal};
use crate::modules::incident;
use caspur_store::StateRead;
use caspur_types::proto::dcert::v1::{self as pb, Ratification, TripwireAnswer};
use caspur_types::{Address, Dec, Event};
use prost::Message as _;

/// Checks the incident a break names (it must exist and be open; required while ratification
/// is on); returns its sealed-report commitment ("" for none).
pub(super) async fn named_incident<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    params: &DcertParams,
    incident_id: u64,
) -> Result<String, ExecError> {
    if incident_id == 0 {
        if params.break_ratification_period_secs > 0 {
            return Err(ExecError::invalid_request(
                "breaks need ratification (break_ratification_period_secs): name the incident \
                 the break answers (incident_id)",
            ));
        }
        return Ok(String::new());
    }
    let i = incident::state::require(ctx, incident_id).await?;
    if !incident::state::is_open(&i) {
        return Err(ExecError::invalid_request(format!(
            "incident {incident_id} is {}: a break must answer an open incident",
            incident::query::state_name(&i)
        )));
    }
    Ok(i.commitment)
}

/// What a member's `MsgCircuitBreak` did.
pub enum Outcome {
    /// Its routes break now, held by this record (0: none, ADR 008's rules).
    Broken(u64),
    /// A vote toward a quorum break; nothing breaks yet.
    Voted,
}

/// Judges the break `msg` asks for and opens its record when it takes effect (before its
/// routes are broken): no rule on — it breaks at once, under ADR 008's rules (safe mode is not
/// available); otherwise its reach decides who must send it ([`blast_radius`]), and the record
/// gets its ratification proposal and lifetime.
pub async fn open<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    params: &DcertParams,
    msg: &BreakMsg,
) -> Result<Outcome, ExecError> {
    let commitment = named_incident(ctx, params, msg.incident_id).await?;
    if !params.breaks_accountable() {
        if msg
            .routes
            .iter()
            .any(|r| r == crate::modules::circuit::SAFE_MODE)
        {
            return Err(ExecError::unauthorized(
                "safe mode (\"*\") is not available: global_break_quorum is 0",
            ));
        }
        return Ok(Outcome::Broken(0));
    }
    // No extension: checked before any vote, on the routes as they will be stored.
    for route in &crate::modules::circuit::stored_routes(&msg.routes) {
        crate::modules::circuit::refuse_extension(ctx, route).await?;
    }
    let (level, quorum) = blast_radius::required(ctx, params, &msg.routes).await?;
    let members = match quorum {
        Quorum::One => vec![msg.member.clone()],
        Quorum::Share(share) => match blast_radius::vote(ctx, msg, level, share).await? {
            blast_radius::Vote::Reached(members) => members,
            blast_radius::Vote::Short => return Ok(Outcome::Voted),
        },
    };
    let id = store::next_id(ctx).await?;
    let (height, now) = (ctx.block.height, ctx.block.time_ms);
    let mut record = pb::BreakRecord {
        id,
        member: msg.member.clone(),
        members,
        level: level.into(),
        routes: msg.routes.clone(),
        reason: msg.reason.clone(),
        incident_id: msg.incident_id,
        incident_commitment: commitment,
        height,
        time_ms: now,
        standing: true,
        ..Default::default()
    };
    hold(ctx, params, &mut record).await?;
    if record.incident_id != 0 {
        store::add_to_incident(ctx, record.incident_id, id).await?;
        let text = format!(
            "break {id} of {}: {}",
            record.routes.join(", "),
            record.reason
        );
        incident_entry(
            ctx,
            record.incident_id,
            "circuit_break",
            &record.member,
            &text,
        )
        .await?;
    }
    store::set(ctx, &record)?;
    ctx.emit(
        Event::new("dcert_break")
            .attr("break_id", id.to_string())
            .attr("member", record.member.clone())
            .attr("members", record.members.join(","))
            .attr("level", level.to_string())
            .attr("incident_id", record.incident_id.to_string())
            .attr("proposal_id", record.proposal_id.to_string())
            .attr("ratify_by_ms", record.ratify_by_ms.to_string())
            .attr("expires_height", record.expires_height.to_string()),
    );
    Ok(Outcome::Broken(id))
}

/// Puts `record`, now a member's break, under the accountability rules: with ratification on,
/// its ratification proposal opens and its deadline is filed; with `max_break_blocks`, its
/// lifetime from this block is.
pub(super) async fn hold<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    params: &DcertParams,
    record: &mut pb::BreakRecord,
) -> Result<(), ExecError> {
    let (height, now) = (ctx.block.height, ctx.block.time_ms);
    let id = record.id;
    if params.break_ratification_period_secs > 0 {
        let deadline =
            now.saturating_add(params.break_ratification_period_secs.saturating_mul(1000));
        record.ratification = Ratification::Pending as i32;
        record.ratify_by_ms = deadline;
        record.proposal_id = chain_proposal::open(ctx, ratification_proposal(record)).await?;
        RATIFY_QUEUE
            .push(ctx, now, deadline, id.to_be_bytes().to_vec())
            .await?;
    }
    record.expires_height = 0;
    if params.max_break_blocks > 0 {
        expire_at(ctx, record, height.saturating_add(params.max_break_blocks)).await?;
    }
    Ok(())
}

/// Files `record`'s lapse at `height` (an entry the record no longer expects is skipped when
/// it comes due).
pub(super) async fn expire_at<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    record: &mut pb::BreakRecord,
    height: u64,
) -> Result<(), ExecError> {
    record.expires_height = height;
    EXPIRY_QUEUE
        .push(
            ctx,
            ctx.block.height,
            height,
            record.id.to_be_bytes().to_vec(),
        )
        .await
}

fn ratification_proposal(r: &pb::BreakRecord) -> ChainProposal {
    let ratify = pb::MsgRatifyBreak {
        authority: crate::modules::gov::state::gov_address().to_string(),
        break_id: r.id,
    };
    ChainProposal {
        messages: vec![cosmos_sdk_proto::Any {
            type_url: super::msgs::ratify_break::TYPE_URL.into(),
            value: ratify.encode_to_vec(),
        }],
        title: format!("Ratify dCERT circuit break {}", r.id),
        summary: format!(
            "dCERT members {} broke {} at height {} answering incident {} (report commitment \
             {}): {}. Unless this passes by the ratification deadline, the routes reopen and \
             the members' bonds are slashed.",
            r.members.join(", "),
            r.routes.join(", "),
            r.height,
            r.incident_id,
            r.incident_commitment,
            r.reason
        ),
        proposer: r.member.clone(),
        expedited: true,
        voting_end_ms: r.ratify_by_ms,
    }
}

/// `MsgRatifyBreak`: governance ratifies break `id`; it stands until an upgrade reopens it
/// (one that already lapsed after `max_break_blocks` stays reopened, unslashed).
pub async fn ratify<B: StateRead>(ctx: &mut Ctx<'_, B>, id: u64) -> Result<(), ExecError> {
    let mut r = store::require(ctx, id).await?;
    if r.ratification != Ratification::Pending as i32 {
        return Err(ExecError::invalid_request(format!(
            "dCERT break {id} is not awaiting ratification ({})",
            r.ratification().as_str_name()
        )));
    }
    r.ratification = Ratification::Ratified as i32;
    store::set(ctx, &r)?;
    ctx.emit(
        Event::new("dcert_break_ratified")
            .attr("break_id", id.to_string())
            .attr("member", r.member.clone()),
    );
    incident_entry(
        ctx,
        r.incident_id,
        "break_ratified",
        "gov",
        &format!("break {id}"),
    )
    .await
}

/// End of block: breaks whose ratification period ended unratified lapse and their members
/// are slashed; unratified breaks past `max_break_blocks` lapse.
pub async fn end_block<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    params: &DcertParams,
    since_ms: u64,
) -> Result<(), ExecError> {
    let now = ctx.block.time_ms;
    for due in RATIFY_QUEUE.pop_due(ctx, since_ms, now).await? {
        let Some(mut r) = store::get(ctx, id_of(&due.payload)?).await? else {
            continue;
        };
        if r.ratification != Ratification::Pending as i32 {
            continue;
        }
        r.ratification = Ratification::Unratified as i32;
        lapse(
            ctx,
            &mut r,
            "not ratified within break_ratification_period_secs",
        )
        .await?;
        let why = format!("break {} not ratified", r.id);
        r.slashed_unratified = slash_members(ctx, params, &r.members, &why).await?;
        store::set(ctx, &r)?;
    }
    let height = ctx.block.height;
    for due in EXPIRY_QUEUE
        .pop_due(ctx, height.saturating_sub(1), height)
        .await?
    {
        let Some(mut r) = store::get(ctx, id_of(&due.payload)?).await? else {
            continue;
        };
        // A confirmed tripwire break moved its lifetime: the old entry is stale.
        if r.expires_height != height || r.ratification == Ratification::Ratified as i32 {
            continue;
        }
        let why = if r.tripwire_answer == TripwireAnswer::Awaiting as i32 {
            "tripwire_blocks reached: no member confirmed or released it"
        } else {
            "max_break_blocks reached unratified"
        };
        lapse(ctx, &mut r, why).await?;
        store::set(ctx, &r)?;
    }
    Ok(())
}

fn id_of(payload: &[u8]) -> Result<u64, ExecError> {
    Ok(u64::from_be_bytes(payload.try_into().map_err(|_| {
        ExecError::logic("corrupt dCERT break queue entry")
    })?))
}

/// Reopens the routes `r` still holds (if it stands) and records why.
pub(super) async fn lapse<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    r: &mut pb::BreakRecord,
    why: &str,
) -> Result<(), ExecError> {
    if !r.standing {
        return Ok(());
    }
    // A tripwire's break no member made or confirmed leaves no lapse to remember.
    let member_made = r.tripwire_id == 0 || r.tripwire_answer == TripwireAnswer::Confirmed as i32;
    let level = member_made.then(|| u8::try_from(r.level).unwrap_or(u8::MAX));
    let reopened = crate::modules::circuit::lapse_routes(ctx, r.id, &r.routes, level, why).await?;
    r.standing = false;
    r.lapse_reason = why.into();
    r.lapsed_height = ctx.block.height;
    ctx.emit(
        Event::new("dcert_break_lapsed")
            .attr("break_id", r.id.to_string())
            .attr("member", r.member.clone())
            .attr("reason", why)
            .attr("reopened", reopened.join(",")),
    );
    let text = format!(
        "break {} lapsed ({why}); reopened: {}",
        r.id,
        reopened.join(", ")
    );
    incident_entry(ctx, r.incident_id, "break_lapsed", "dcert", &text).await
}

/// Burns `unratified_break_slash` of each of `members`' dCERT bonds (nothing when it is 0 or a
/// member holds nothing); returns the amounts burned as coins text, comma-separated in the
/// members' order ("" for none).
async fn slash_members<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    params: &DcertParams,
    members: &[String],
    why: &str,
) -> Result<String, ExecError> {
    let fraction = params.unratified_slash()?;
    if fraction == Dec::ZERO {
        return Ok(String::new());
    }
    let denom = crate::modules::staking::state::get_params(ctx)
        .await?
        .bond_denom;
    let mut burned = Vec::with_capacity(members.len());
    for member in members {
        let addr = Address::parse_account(member)?;
        let amount = bonds::slash(ctx, &addr, fraction, why).await?;
        burned.push(format!("{amount}{denom}"));
    }
    Ok(burned.join(","))
}

/// The incident `incident_id` will not be disclosed (its deadline passed, or its post-mortem
/// closed it without the report): every member whose break named it is slashed once.
pub async fn on_undisclosed<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    incident_id: u64,
) -> Result<(), ExecError> {
    let params = state::get_params(ctx).await?;
    for id in store::by_incident(ctx, incident_id).await? {
        let Some(mut r) = store::get(ctx, id).await? else {
            continue;
        };
        if !r.slashed_undisclosed.is_empty() {
            continue;
        }
        let why = format!("incident {incident_id} of break {id} not disclosed");
        r.slashed_undisclosed = slash_members(ctx, &params, &r.members, &why).await?;
        store::set(ctx, &r)?;
    }
    Ok(())
}

/// An upgrade reopened `route`, held by break `id`: the record stops standing once none of its
/// routes is broken by it any more.
pub async fn on_reopened<B: StateRead>(ctx: &mut Ctx<'_, B>, id: u64) -> Result<(), ExecError> {
    let Some(mut r) = store::get(ctx, id).await? else {
        return Ok(());
    };
    for route in &r.routes {
        let held = crate::modules::circuit::state::get_broken(ctx, route)
            .await?
            .is_some_and(|b| b.break_id == id);
        if held {
            return Ok(());
        }
    }
    r.standing = false;
    r.lapse_reason = "reopened by an upgrade".into();
    r.lapsed_height = ctx.block.height;
    store::set(ctx, &r)
}

/// Appends a timeline entry to incident `id` (none for 0). A full timeline keeps the record
/// without the entry: the break's own record and events still say it.
pub(super) async fn incident_entry<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    id: u64,
    action: &str,
    actor: &str,
    text: &str,
) -> Result<(), ExecError> {
    if id == 0 {
        return Ok(());
    }
    let Some(mut i) = incident::state::incident(ctx, id).await? else {
        return Ok(());
    };
    if i.timeline_len as usize >= incident::MAX_TIMELINE {
        return Ok(());
    }
    incident::lifecycle::record(ctx, &mut i, None, action, actor, text).await
}
