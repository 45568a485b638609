//! Blast radius of a break (SPEC §2.7; docs/dcert.md, "Accountability"): one member may break
//! exact routes; a module prefix needs `module_break_quorum` of the active members; safe mode
//! (`*`) needs `global_break_quorum`. A route whose accountable break lapsed is broken again
//! only at the next level up that has a quorum of its own — never by the same reach again.
//! Members reach a quorum by sending the same break (the same routes and incident) within
//! [`BREAK_VOTE_WINDOW_SECS`]; a vote counts while its author is an active member.
//!
//! State: `[DCERT, 25] ‖ sha256(routes, incident)` → the pending break's votes (JSON);
//! `[DCERT, 26] …` time queue of their windows' ends (payload: the hash).

use super::members;
use super::msgs::circuit_break::Msg as BreakMsg;
use super::DcertParams;
use crate::context::{Ctx, KvRead};
use crate::error::ExecError;
use crate::modules::circuit::{self, SAFE_MODE};
use crate::modules::ids::DCERT;
use crate::queue::TimeQueue;
use caspur_store::keys::key;
use caspur_store::StateRead;
use caspur_types::{Dec, Event};
use serde::{Deserialize, Serialize};

/// How long members have to complete a quorum break once its first vote is cast.
pub const BREAK_VOTE_WINDOW_SECS: u64 = 3_600;

const PENDING: [u8; 2] = [DCERT, 25];
/// Ends of pending breaks' vote windows.
pub const VOTE_QUEUE: TimeQueue = TimeQueue::new([DCERT, 26]);

/// Levels of reach: one exact route, a module prefix, safe mode.
pub const ROUTE: u8 = 0;
/// See [`ROUTE`].
pub const MODULE: u8 = 1;
/// See [`ROUTE`].
pub const GLOBAL: u8 = 2;

/// Who must send a break for it to take effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quorum {
    /// The one member who sends it.
    One,
    /// This share of the active members.
    Share(Dec),
}

fn level_of(route: &str) -> u8 {
    if route == SAFE_MODE {
        GLOBAL
    } else if route.ends_with('.') {
        MODULE
    } else {
        ROUTE
    }
}

/// The level and quorum a break of `routes` needs now: its widest route's, raised above the
/// level of any lapsed break of one of them to a level with a quorum of its own.
pub async fn required<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    params: &DcertParams,
    routes: &[String],
) -> Result<(u8, Quorum), ExecError> {
    let (module_q, global_q) = params.break_quorums()?;
    let mut level = routes.iter().map(|r| level_of(r)).max().unwrap_or(ROUTE);
    let mut lapse = None;
    for route in &circuit::stored_routes(routes) {
        if let Some(l) = circuit::state::lapsed(ctx, route).await? {
            if l.level.saturating_add(1) > level {
                level = l.level.saturating_add(1);
                lapse = Some((route.clone(), l.height));
            }
        }
    }
    let refuse = |why: String| Err(ExecError::unauthorized(why));
    loop {
        match level {
            ROUTE => return Ok((ROUTE, Quorum::One)),
            MODULE if module_q > Dec::ZERO => return Ok((MODULE, Quorum::Share(module_q))),
            // No module quorum: one member breaks a prefix, as under ADR 008 — unless a lapse
            // raised the level, when one member would revive what lapsed.
            MODULE if lapse.is_none() => return Ok((MODULE, Quorum::One)),
            MODULE => level = GLOBAL,
            GLOBAL if global_q > Dec::ZERO => return Ok((GLOBAL, Quorum::Share(global_q))),
            _ => {
                return match &lapse {
                    Some((route, height)) => refuse(format!(
                        "a break of route {route:?} lapsed at height {height}: breaking it \
                         again needs a wider quorum than the one that lapsed, and none is set \
                         (module_break_quorum, global_break_quorum)"
                    )),
                    None => refuse(
                        "safe mode (\"*\") is not available: global_break_quorum is 0".into(),
                    ),
                }
            }
        }
    }
}

/// The votes for one pending quorum break.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Pending {
    routes: Vec<String>,
    incident_id: u64,
    level: u8,
    voters: Vec<String>,
    opened_ms: u64,
}

/// What a member's vote for a quorum break did.
pub enum Vote {
    /// The quorum is reached: these active members make the break.
    Reached(Vec<String>),
    /// Still short of the quorum (the `dcert_break_vote` event has the count).
    Short,
}

fn pending_key(routes: &[String], incident_id: u64) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut sorted = routes.to_vec();
    sorted.sort();
    let mut h = Sha256::new();
    for r in &sorted {
        h.update((r.len() as u32).to_be_bytes());
        h.update(r.as_bytes());
    }
    h.update(incident_id.to_be_bytes());
    let digest: [u8; 32] = h.finalize().into();
    key(&PENDING, &[&digest])
}

async fn get_pending(kv: &mut impl KvRead, k: &[u8]) -> Result<Option<Pending>, ExecError> {
    kv.get(k)
        .await?
        .map(|b| {
            serde_json::from_slice(&b)
                .map_err(|e| ExecError::logic(format!("corrupt pending break: {e}")))
        })
        .transpose()
}

/// Records `msg`'s member's vote for the break of `msg.routes` answering `msg.incident_id` at
/// `level`, which needs `share` of the active members.
pub async fn vote<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    msg: &BreakMsg,
    level: u8,
    share: Dec,
) -> Result<Vote, ExecError> {
    let k = pending_key(&msg.routes, msg.incident_id);
    let now = ctx.block.time_ms;
    let mut p = match get_pending(ctx, &k).await? {
        Some(p) => p,
        None => {
            let window_end = now.saturating_add(BREAK_VOTE_WINDOW_SECS * 1000);
            let payload = k[PENDING.len()..].to_vec();
            VOTE_QUEUE.push(ctx, now, window_end, payload).await?;
            let mut routes = msg.routes.clone();
            routes.sort();
            Pending {
                routes,
                incident_id: msg.incident_id,
                level,
                voters: Vec::new(),
                opened_ms: now,
            }
        }
    };
    if p.voters.contains(&msg.member) {
        return Err(ExecError::invalid_request(format!(
            "{} already voted for this break; it takes the votes of {share} of the active \
             members",
            msg.member
        )));
    }
    p.voters.push(msg.member.clone());
    let (votes, reached) = members::quorum(ctx, &p.voters, share).await?;
    if reached {
        ctx.delete(k)?;
        let active: Vec<String> = members::active_among(ctx, &p.voters).await?;
        return Ok(Vote::Reached(active));
    }
    let bytes = serde_json::to_vec(&p).map_err(|e| ExecError::logic(e.to_string()))?;
    ctx.put(k, bytes)?;
    ctx.emit(
        Event::new("dcert_break_vote")
            .attr("member", msg.member.clone())
            .attr("routes", p.routes.join(","))
            .attr("incident_id", p.incident_id.to_string())
            .attr("level", level.to_string())
            .attr("votes", votes.to_string())
            .attr("quorum", share.to_string()),
    );
    Ok(Vote::Short)
}

/// End of block: pending breaks whose vote window ended are forgotten.
pub async fn end_block<B: StateRead>(ctx: &mut Ctx<'_, B>, since_ms: u64) -> Result<(), ExecError> {
    let now = ctx.block.time_ms;
    for due in VOTE_QUEUE.pop_due(ctx, since_ms, now).await? {
        let k = [&PENDING[..], &due.payload].concat();
        let Some(p) = get_pending(ctx, &k).await? else {
            continue;
        };
        // A newer pending break under the same hash has its own window.
        if p.opened_ms.saturating_add(BREAK_VOTE_WINDOW_SECS * 1000) == due.time_ms {
            ctx.delete(k)?;
            ctx.emit(
                Event::new("dcert_break_vote_expired")
                    .attr("routes", p.routes.join(","))
                    .attr("votes", p.voters.len().to_string()),
            );
        }
    }
    Ok(())
}
