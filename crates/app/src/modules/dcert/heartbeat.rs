//! Heartbeats (SPEC §2.7; docs/dcert.md, "Accountability"): every stipend period each active
//! member sends `MsgHeartbeat`. With `heartbeat_misses` > 0, a member that sent none during a
//! period is not paid that period's stipend, and `heartbeat_misses` missed periods in a row
//! open a suspension vote on it (the members finish it with `MsgVoteSuspend`, as any other).
//! The first period a member is seen in is a grace period: it may have been seated after it
//! began.
//!
//! State: `[DCERT, 27] ‖ member` → its liveness (JSON).

use super::{state, DcertParams};
use crate::context::{Ctx, KvRead, KvWrite};
use crate::error::ExecError;
use crate::modules::ids::DCERT;
use caspur_store::keys::key;
use caspur_store::StateRead;
use caspur_types::proto::dcert::v1 as pb;
use caspur_types::{Address, Event};
use serde::{Deserialize, Serialize};

const LIVENESS: [u8; 2] = [DCERT, 27];

/// A member's heartbeats as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Liveness {
    /// The period of its last heartbeat (or of its grace period).
    pub last_period: u64,
    /// Periods missed in a row.
    pub misses: u32,
    /// Whether its misses opened a suspension vote on it (cleared by its next heartbeat).
    #[serde(default)]
    pub suspension_vote_open: bool,
    /// Whether it ever sent a heartbeat (a grace period is not one).
    #[serde(default)]
    pub sent: bool,
}

fn liveness_key(member: &Address) -> Vec<u8> {
    key(&LIVENESS, &[&member.0])
}

/// `member`'s liveness, if it was ever seen.
pub async fn get(kv: &mut impl KvRead, member: &Address) -> Result<Option<Liveness>, ExecError> {
    match kv.get(&liveness_key(member)).await? {
        None => Ok(None),
        Some(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| ExecError::logic(format!("corrupt liveness: {e}"))),
    }
}

fn set(kv: &mut impl KvWrite, member: &Address, l: &Liveness) -> Result<(), ExecError> {
    let bytes = serde_json::to_vec(l).map_err(|e| ExecError::logic(e.to_string()))?;
    kv.put(liveness_key(member), bytes)
}

/// `MsgHeartbeat`: `member` (active) is alive in the current period.
pub async fn beat<B: StateRead>(ctx: &mut Ctx<'_, B>, member: &Address) -> Result<(), ExecError> {
    super::members::require_active(ctx, member).await?;
    let params = state::get_params(ctx).await?;
    let period = params.period_of(ctx.block.time_ms);
    let mut l = get(ctx, member).await?.unwrap_or_default();
    l.last_period = period;
    l.misses = 0;
    l.suspension_vote_open = false;
    l.sent = true;
    set(ctx, member, &l)?;
    ctx.emit(
        Event::new("dcert_heartbeat")
            .attr("member", member.to_string())
            .attr("period", period.to_string()),
    );
    Ok(())
}

/// At the start of a stipend period, for the period `ended`: which of `members` are paid.
/// With `heartbeat_misses` off every member is; otherwise a member without a heartbeat in
/// `ended` (after its grace period) is not, its misses grow, and reaching `heartbeat_misses`
/// opens a suspension vote on it.
pub async fn settle_period<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    params: &DcertParams,
    ended: u64,
    members: &[Address],
) -> Result<Vec<Address>, ExecError> {
    if params.heartbeat_misses == 0 {
        return Ok(members.to_vec());
    }
    let mut paid = Vec::with_capacity(members.len());
    for member in members {
        let Some(mut l) = get(ctx, member).await? else {
            // First seen: its grace period.
            let grace = Liveness {
                last_period: ended,
                ..Liveness::default()
            };
            set(ctx, member, &grace)?;
            paid.push(*member);
            continue;
        };
        if l.last_period >= ended {
            paid.push(*member);
            continue;
        }
        l.misses = l.misses.saturating_add(1);
        let mut event = Event::new("dcert_heartbeat_missed")
            .attr("member", member.to_string())
            .attr("period", ended.to_string())
            .attr("misses", l.misses.to_string());
        if l.misses >= params.heartbeat_misses && !l.suspension_vote_open {
            l.suspension_vote_open = true;
            event = event.attr("suspension_vote", "opened");
        }
        set(ctx, member, &l)?;
        ctx.emit(event);
    }
    Ok(paid)
}

/// One member's liveness as queries and monitoring show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberLiveness {
    /// The member (bech32).
    pub member: String,
    /// The period of its last heartbeat.
    pub last_period: u64,
    /// Periods missed in a row.
    pub misses: u32,
    /// A heartbeat in this period or the last.
    pub live: bool,
    /// Its misses opened a suspension vote on it.
    pub suspension_vote_open: bool,
}

impl MemberLiveness {
    /// The query record.
    pub fn to_proto(&self) -> pb::Liveness {
        pb::Liveness {
            member: self.member.clone(),
            last_period: self.last_period,
            misses: self.misses,
            live: self.live,
            suspension_vote_open: self.suspension_vote_open,
        }
    }
}

/// Every active member's liveness at `time_ms` (live: a heartbeat in this period or the last).
pub async fn report(
    kv: &mut impl KvRead,
    params: &DcertParams,
    members: &[Address],
    time_ms: u64,
) -> Result<Vec<MemberLiveness>, ExecError> {
    let now = params.period_of(time_ms);
    let mut out = Vec::with_capacity(members.len());
    for m in members {
        let l = get(kv, m).await?.unwrap_or_default();
        out.push(MemberLiveness {
            member: m.to_string(),
            last_period: l.last_period,
            misses: l.misses,
            live: l.sent && l.last_period.saturating_add(1) >= now,
            suspension_vote_open: l.suspension_vote_open,
        });
    }
    Ok(out)
}
