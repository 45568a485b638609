//! The electionator (SPEC §2.2): tallies that follow stake, and seat maintenance.
//!
//! A candidate's tally is Σ over voters of `floor(stake × weight)`, where `stake` is the voter's
//! stake as last recorded with its vote; each change subtracts exactly the part it added, so
//! the running tallies always equal a recount. Eligible non-members sit in a sorted index
//! ([`state::CHALLENGERS`]), so finding the best challenger reads one page, and a vote or a
//! delegation change costs O(preferences × log candidates) — never a scan of voters.

use super::state::{self, Candidate, Stabilization, CHALLENGERS, STABILIZATION_QUEUE};
use super::DcertParams;
use crate::context::{Ctx, Direct};
use crate::error::ExecError;
use crate::modules::staking::{self, delegation::mul_div};
use caspur_store::StateRead;
use caspur_types::{Address, Event};

/// Gas of one ranking-index update. The index pages are read and written without per-byte
/// gas: their size depends on how many candidates exist, not on the sender, and charging by
/// byte would make a vote cost over a million gas at 10,000 candidates for ~50 µs of work
/// (`caspurd bench dcert`).
pub const INDEX_GAS: u64 = 10_000;

/// Weights are decimals with 18 places (`Dec` atomics).
pub const WEIGHT_SCALE: u128 = 1_000_000_000_000_000_000;

/// What a voter with `stake` giving `weight` adds to a tally.
pub fn part(stake: u128, weight: u128) -> Result<u128, ExecError> {
    mul_div(stake, weight, WEIGHT_SCALE)
}

/// Applies `change` to `addr`'s record, keeping the challenger index in step (only eligible
/// non-members are in it) and removing at once a member that is no longer eligible.
pub async fn update_candidate<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    params: &DcertParams,
    addr: &Address,
    change: impl FnOnce(&mut Candidate) -> Result<(), ExecError>,
) -> Result<Candidate, ExecError> {
    let mut c = state::candidate(ctx, addr).await?;
    if !c.is_member() && c.eligible(params)? {
        ctx.gas.consume(INDEX_GAS, "dcert ranking")?;
        CHALLENGERS
            .remove(&mut Direct(ctx.state), &state::rank_entry(addr, c.tally))
            .await?;
    }
    change(&mut c)?;
    if c.is_member() && !c.eligible(params)? {
        let reason = if c.is_suspended() {
            "suspended"
        } else {
            "bond below minimum"
        };
        c = leave(ctx, addr, c, reason).await?;
    }
    if !c.is_member() && c.eligible(params)? {
        ctx.gas.consume(INDEX_GAS, "dcert ranking")?;
        CHALLENGERS
            .insert(&mut Direct(ctx.state), &state::rank_entry(addr, c.tally))
            .await?;
    }
    state::set_candidate(ctx, addr, &c)?;
    Ok(c)
}

/// Takes `addr` out of the group (its record is returned for the caller to store).
async fn leave<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    addr: &Address,
    mut c: Candidate,
    reason: &str,
) -> Result<Candidate, ExecError> {
    let mut members = state::members(ctx).await?;
    members.retain(|(m, _)| m != addr);
    state::set_members(ctx, &members)?;
    c.sequence = 0;
    drop_entry_targeting(ctx, addr).await?;
    ctx.emit(
        Event::new("dcert_member_removed")
            .attr("member", addr.to_string())
            .attr("reason", reason),
    );
    Ok(c)
}

/// Removes a member for `reason` (suspension, dissolution).
pub async fn remove_member<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    params: &DcertParams,
    addr: &Address,
    reason: &str,
) -> Result<(), ExecError> {
    let c = state::candidate(ctx, addr).await?;
    if !c.is_member() {
        return Ok(());
    }
    let c = leave(ctx, addr, c, reason).await?;
    state::set_candidate(ctx, addr, &c)?;
    // Back among the challengers if still eligible.
    update_candidate(ctx, params, addr, |_| Ok(())).await?;
    Ok(())
}

async fn drop_entry_targeting<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    target: &Address,
) -> Result<(), ExecError> {
    if let Some(entry) = state::stabilization(ctx, target).await? {
        STABILIZATION_QUEUE
            .remove(ctx, entry.matures_at_ms, &target.0)
            .await?;
        state::set_stabilization(ctx, target, None).await?;
    }
    Ok(())
}

/// The stake a voter's support carries: the tokens of its delegations.
pub async fn stake_of<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    voter: &Address,
) -> Result<u128, ExecError> {
    let mut total = 0u128;
    for op in staking::state::delegated_to(ctx, voter).await? {
        let Some(v) = staking::state::get_validator(ctx, &op).await? else {
            continue;
        };
        let shares = staking::state::get_shares(ctx, voter, &op).await?;
        total = total.saturating_add(staking::delegation::tokens_for(&v, shares)?);
    }
    Ok(total)
}

/// Moves each preference's part from `old` to `new`.
async fn retally<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    params: &DcertParams,
    old: &state::Vote,
    new: &state::Vote,
) -> Result<(), ExecError> {
    for (c, w) in &old.preferences {
        let p = part(old.stake, *w)?;
        update_candidate(ctx, params, c, |rec| {
            rec.tally = rec
                .tally
                .checked_sub(p)
                .ok_or_else(|| ExecError::logic("tally below a voter's part"))?;
            Ok(())
        })
        .await?;
    }
    for (c, w) in &new.preferences {
        let p = part(new.stake, *w)?;
        update_candidate(ctx, params, c, |rec| {
            rec.tally += p;
            Ok(())
        })
        .await?;
    }
    Ok(())
}

/// Replaces `voter`'s preferences (empty: withdraws its vote).
pub async fn set_vote<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    voter: &Address,
    preferences: Vec<(Address, u128)>,
) -> Result<(), ExecError> {
    let params = state::get_params(ctx).await?;
    let old = state::vote(ctx, voter).await?.unwrap_or_default();
    let new = if preferences.is_empty() {
        state::Vote::default()
    } else {
        state::Vote {
            preferences,
            stake: stake_of(ctx, voter).await?,
        }
    };
    retally(ctx, &params, &old, &new).await?;
    state::set_vote(ctx, voter, (!new.preferences.is_empty()).then_some(&new))
}

/// Staking hook: `voter`'s delegations changed; its support follows in the same block.
pub async fn stake_changed<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    voter: &Address,
) -> Result<(), ExecError> {
    let Some(old) = state::vote(ctx, voter).await? else {
        return Ok(());
    };
    let stake = stake_of(ctx, voter).await?;
    if stake == old.stake {
        return Ok(());
    }
    let params = state::get_params(ctx).await?;
    let new = state::Vote {
        preferences: old.preferences.clone(),
        stake,
    };
    retally(ctx, &params, &old, &new).await?;
    state::set_vote(ctx, voter, Some(&new))
}

/// Members from lowest to highest rank: by tally, and at equal tallies the larger sequence
/// number (the later admission) ranks lower.
async fn members_by_rank<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
) -> Result<Vec<(Address, u128, u64)>, ExecError> {
    let mut ranked = Vec::new();
    for (addr, seq) in state::members(ctx).await? {
        let c = state::candidate(ctx, &addr).await?;
        ranked.push((addr, c.tally, seq));
    }
    ranked.sort_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2)));
    Ok(ranked)
}

/// Seats `addr` with the next sequence number.
pub async fn admit<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    params: &DcertParams,
    addr: &Address,
) -> Result<(), ExecError> {
    let sequence = state::next_sequence(ctx).await?;
    update_candidate(ctx, params, addr, |c| {
        c.sequence = sequence;
        Ok(())
    })
    .await?;
    let mut members = state::members(ctx).await?;
    members.push((*addr, sequence));
    state::set_members(ctx, &members)?;
    ctx.emit(
        Event::new("dcert_member_admitted")
            .attr("member", addr.to_string())
            .attr("sequence", sequence.to_string()),
    );
    Ok(())
}

/// End of block: matured stabilization entries, then seats filled and challengers queued.
pub async fn maintain_seats<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    params: &DcertParams,
    since_ms: u64,
) -> Result<(), ExecError> {
    let now = ctx.block.time_ms;
    for due in STABILIZATION_QUEUE.pop_due(ctx, since_ms, now).await? {
        let target = Address(
            due.payload
                .as_slice()
                .try_into()
                .map_err(|_| ExecError::logic("corrupt stabilization payload"))?,
        );
        mature(ctx, params, &target).await?;
    }
    if !params.elections_enabled {
        return Ok(());
    }
    let max = params.max_members as usize;
    while state::members(ctx).await?.len() < max {
        let Some(best) = CHALLENGERS.last(ctx).await? else {
            break;
        };
        admit(ctx, params, &state::entry_address(&best)?).await?;
    }
    if state::members(ctx).await?.len() < max {
        return Ok(());
    }
    if params.stabilization_period_secs == 0 {
        // Each replacement raises the lowest tally, so this ends within `max` rounds.
        for _ in 0..=max {
            let (Some(best), Some(lowest)) = (
                CHALLENGERS.last(ctx).await?,
                members_by_rank(ctx).await?.first().cloned(),
            ) else {
                break;
            };
            if state::entry_tally(&best) <= lowest.1 {
                break;
            }
            remove_member(ctx, params, &lowest.0, "replaced").await?;
            admit(ctx, params, &state::entry_address(&best)?).await?;
        }
        return Ok(());
    }
    queue_challenges(ctx, params).await
}

/// Pairs the best free challengers with the lowest untargeted members they outrank.
async fn queue_challenges<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    params: &DcertParams,
) -> Result<(), ExecError> {
    let targeted = state::stabilization_targets(ctx).await?;
    let busy = state::queued_challengers(ctx).await?;
    let mut targets = members_by_rank(ctx)
        .await?
        .into_iter()
        .filter(|(m, _, _)| targeted.binary_search(m).is_err());
    let look = params.max_members as usize + targeted.len();
    let matures_at_ms = ctx
        .block
        .time_ms
        .saturating_add(params.stabilization_period_secs.saturating_mul(1000));
    for entry in CHALLENGERS.descending(ctx, look).await? {
        let challenger = state::entry_address(&entry)?;
        if busy.contains(&challenger) {
            continue;
        }
        let Some((target, tally, _)) = targets.next() else {
            break;
        };
        if state::entry_tally(&entry) <= tally {
            break;
        }
        let stab = Stabilization {
            challenger,
            matures_at_ms,
        };
        state::set_stabilization(ctx, &target, Some(&stab)).await?;
        STABILIZATION_QUEUE
            .push(ctx, ctx.block.time_ms, matures_at_ms, target.0.to_vec())
            .await?;
        ctx.emit(
            Event::new("dcert_challenge_queued")
                .attr("challenger", challenger.to_string())
                .attr("target", target.to_string())
                .attr("matures_at_ms", matures_at_ms.to_string()),
        );
    }
    Ok(())
}

/// A stabilization entry matured: the challenger takes the seat if it is still eligible and
/// still strictly outranks the member; otherwise the entry is dropped.
async fn mature<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    params: &DcertParams,
    target: &Address,
) -> Result<(), ExecError> {
    let Some(entry) = state::stabilization(ctx, target).await? else {
        return Ok(());
    };
    state::set_stabilization(ctx, target, None).await?;
    let c = state::candidate(ctx, &entry.challenger).await?;
    let member = state::candidate(ctx, target).await?;
    let wins = params.elections_enabled
        && member.is_member()
        && !c.is_member()
        && c.eligible(params)?
        && c.tally > member.tally;
    if wins {
        remove_member(ctx, params, target, "replaced").await?;
        admit(ctx, params, &entry.challenger).await?;
    } else {
        ctx.emit(
            Event::new("dcert_challenge_dropped")
                .attr("challenger", entry.challenger.to_string())
                .attr("target", target.to_string()),
        );
    }
    Ok(())
}
