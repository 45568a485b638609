//! Member powers (SPEC §2.4): only active members act; suspension by a quorum of the other
//! active members, which frees the seat and opens a review during which the member's dCERT
//! bond cannot finish unbonding; the review closes on a governance slash or when its period
//! ends.

use super::election::{self, WEIGHT_SCALE};
use super::state::{self, Candidate, REVIEW_QUEUE, UNBONDING_QUEUE};
use super::DcertParams;
use crate::context::Ctx;
use crate::error::ExecError;
use caspur_store::StateRead;
use caspur_types::{Address, Event};

/// `addr`'s record if it is an active member (admitted and not suspended).
pub async fn require_active<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    addr: &Address,
) -> Result<Candidate, ExecError> {
    let c = state::candidate(ctx, addr).await?;
    if !c.is_member() {
        return Err(ExecError::unauthorized(format!(
            "{addr} is not an active dCERT member"
        )));
    }
    Ok(c)
}

/// How many of `voters` (addresses as strings) are active members now, and whether they reach
/// `quorum` of the active members (exactly: `count / active ≥ quorum`; an empty group never
/// does).
pub async fn quorum<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    voters: &[String],
    quorum: caspur_types::Dec,
) -> Result<(usize, bool), ExecError> {
    let active = active_addresses(ctx).await?;
    let count = voters.iter().filter(|v| active.contains(v)).count();
    let scale = caspur_types::Dec::ONE.atomics();
    let reached = !active.is_empty()
        && (count as u128).saturating_mul(scale)
            >= quorum.atomics().saturating_mul(active.len() as u128);
    Ok((count, reached))
}

async fn active_addresses<B: StateRead>(ctx: &mut Ctx<'_, B>) -> Result<Vec<String>, ExecError> {
    Ok(state::members(ctx)
        .await?
        .into_iter()
        .map(|(m, _)| m.to_string())
        .collect())
}

/// Those of `voters` (addresses as strings) who are active members now, in their order.
pub async fn active_among<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    voters: &[String],
) -> Result<Vec<String>, ExecError> {
    let active = active_addresses(ctx).await?;
    Ok(voters
        .iter()
        .filter(|v| active.contains(v))
        .cloned()
        .collect())
}

/// Whether `member` may circuit-break now: the privilege is enabled, no dissolution proposal
/// is pending, and it is an active member. Returns the parameters it read.
pub async fn authorize_circuit_break<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    member: &Address,
) -> Result<DcertParams, ExecError> {
    let params = state::get_params(ctx).await?;
    if !params.circuit_break_enabled {
        return Err(ExecError::unauthorized(
            "circuit breaking by the dCERT group is disabled (parameter circuit_break_enabled)",
        ));
    }
    if state::pending_dissolutions(ctx).await? > 0 {
        return Err(ExecError::unauthorized(
            "a dCERT dissolution proposal is pending: the group's circuit-breaking power is suspended",
        ));
    }
    require_active(ctx, member).await?;
    Ok(params)
}

/// Records `voter`'s vote to suspend `target`; suspends it when the votes of current active
/// members reach `suspension_quorum` of the active members other than the target. Returns
/// whether the target was suspended.
pub async fn vote_suspend<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    voter: &Address,
    target: &Address,
) -> Result<bool, ExecError> {
    if voter == target {
        return Err(ExecError::invalid_request(
            "a member cannot vote to suspend itself",
        ));
    }
    require_active(ctx, voter).await?;
    require_active(ctx, target).await.map_err(|_| {
        ExecError::invalid_request(format!("{target} is not an active dCERT member"))
    })?;
    let mut votes = state::suspend_votes(ctx, target).await?;
    match votes.binary_search(voter) {
        Ok(_) => {
            return Err(ExecError::invalid_request(format!(
                "{voter} already voted to suspend {target}"
            )))
        }
        Err(at) => votes.insert(at, *voter),
    }
    let members: Vec<Address> = state::members(ctx)
        .await?
        .into_iter()
        .map(|(m, _)| m)
        .collect();
    let counted = votes.iter().filter(|v| members.contains(v)).count() as u128;
    let others = members.len().saturating_sub(1) as u128;
    let params = state::get_params(ctx).await?;
    let needed = params.quorum()?.atomics().saturating_mul(others);
    ctx.emit(
        Event::new("dcert_suspend_vote")
            .attr("member", voter.to_string())
            .attr("target", target.to_string())
            .attr("votes", counted.to_string()),
    );
    if counted.saturating_mul(WEIGHT_SCALE) < needed {
        state::set_suspend_votes(ctx, target, &votes)?;
        return Ok(false);
    }
    state::set_suspend_votes(ctx, target, &[])?;
    suspend(ctx, &params, target).await?;
    Ok(true)
}

async fn suspend<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    params: &DcertParams,
    target: &Address,
) -> Result<(), ExecError> {
    let now = ctx.block.time_ms;
    let review_ends_ms = now
        .saturating_add(params.suspension_review_period_secs.saturating_mul(1000))
        .max(now + 1);
    election::update_candidate(ctx, params, target, |c| {
        c.review_ends_ms = review_ends_ms;
        Ok(())
    })
    .await?;
    REVIEW_QUEUE
        .push(ctx, now, review_ends_ms, target.0.to_vec())
        .await?;
    let mut list = state::suspended(ctx).await?;
    if let Err(at) = list.binary_search(target) {
        list.insert(at, *target);
    }
    state::set_suspended(ctx, &list)?;
    ctx.emit(
        Event::new("dcert_member_suspended")
            .attr("member", target.to_string())
            .attr("review_ends_ms", review_ends_ms.to_string()),
    );
    Ok(())
}

/// Closes `member`'s review (`outcome`: why): it is a candidate again and its frozen
/// unbondings resume (those already due pay out at the end of this block).
pub async fn close_review<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    member: &Address,
    outcome: &str,
) -> Result<(), ExecError> {
    let c = state::candidate(ctx, member).await?;
    if !c.is_suspended() {
        return Ok(());
    }
    REVIEW_QUEUE
        .remove(ctx, c.review_ends_ms, &member.0)
        .await?;
    let params = state::get_params(ctx).await?;
    election::update_candidate(ctx, &params, member, |c| {
        c.review_ends_ms = 0;
        Ok(())
    })
    .await?;
    let mut list = state::suspended(ctx).await?;
    list.retain(|m| m != member);
    state::set_suspended(ctx, &list)?;
    let now = ctx.block.time_ms;
    for staker in state::unbonding_stakers(ctx, member).await? {
        let payload = [staker.0.as_slice(), member.0.as_slice()].concat();
        UNBONDING_QUEUE.push(ctx, now, now, payload).await?;
    }
    ctx.emit(
        Event::new("dcert_review_closed")
            .attr("member", member.to_string())
            .attr("outcome", outcome),
    );
    Ok(())
}

/// End of block: reviews whose period ended without a decision close.
pub async fn end_reviews<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    since_ms: u64,
) -> Result<(), ExecError> {
    let now = ctx.block.time_ms;
    for due in REVIEW_QUEUE.pop_due(ctx, since_ms, now).await? {
        let member = Address(
            due.payload
                .as_slice()
                .try_into()
                .map_err(|_| ExecError::logic("corrupt review payload"))?,
        );
        if state::candidate(ctx, &member).await?.review_ends_ms == due.time_ms {
            // The queue entry is already gone; close_review's removal finds nothing.
            close_review(ctx, &member, "review period ended").await?;
        }
    }
    Ok(())
}
