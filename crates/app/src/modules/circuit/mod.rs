//! `circuit`: the set of broken message routes (SPEC §3). One rule, [`check_message`], is
//! consulted by the router for every message it dispatches, at every depth (CheckTx, Simulate
//! and block execution all run messages through it), and by the message walker
//! (`msg_tree::check_breaker`) for every message a proposal carries, nested ones included, at
//! submission. A route is an identity: every spelling
//! of it (gov `v1beta1` aliases of `v1` messages) is covered by a break of any spelling.
//! Routes are broken by active dCERT members (`MsgCircuitBreak`, authorized by `dcert`) and
//! reopened only by an upgrade handler ([`reopen_routes`]). The exemption of unbreakable
//! messages belongs to each such message alone: governance messages about a proposal pass a
//! broken gov route only when every message of the proposal is unbreakable.

pub mod query;
pub mod state;

use crate::context::KvRead;
use crate::error::ExecError;
use crate::modules::gov;
use cosmos_sdk_proto::Any;

/// Routes that can never be broken (SPEC §3): the dissolution path, governance's ratification
/// of a break, the release of a tripwire's break, and the upgrade module's cancel and
/// readiness messages (a break must never stop the way out of it, nor the check on it);
/// `check_route` consults it first.
pub const UNBREAKABLE: &[&str] = &[
    crate::modules::dcert::dissolution::DISSOLVE_TYPE_URL,
    crate::modules::dcert::msgs::ratify_break::TYPE_URL,
    crate::modules::dcert::msgs::release_tripwire::TYPE_URL,
    crate::modules::upgrade::msgs::cancel_upgrade::TYPE_URL,
    crate::modules::upgrade::msgs::cancel_emergency::TYPE_URL,
    crate::modules::upgrade::msgs::signal_ready::TYPE_URL,
];

/// Fails with [`caspur_types::ErrorCode::RouteBroken`] when `type_url` is covered by a broken
/// route: the exact URL, or a broken prefix ending in `.` (a whole package).
/// Every spelling of the message's route is checked, so a break of a legacy alias and of its
/// canonical URL refuse both.
pub async fn check_route(kv: &mut impl KvRead, type_url: &str) -> Result<(), ExecError> {
    if is_unbreakable(type_url) {
        return Ok(());
    }
    for spelling in crate::router::spellings(type_url) {
        if let Some(b) = covering(kv, spelling).await? {
            return Err(broken(type_url, &b));
        }
    }
    Ok(())
}

/// Whether the route `type_url` executes as can never be broken.
pub fn is_unbreakable(type_url: &str) -> bool {
    let route = crate::router::route_of(type_url).unwrap_or(type_url);
    UNBREAKABLE.contains(&route)
}

/// The routes whose break covers `type_url`: the exact URL, then its package prefixes
/// ("/cosmos.bank.v1beta1.MsgSend" is covered by "/cosmos.bank.v1beta1.", "/cosmos.bank." and
/// "/cosmos."). One per dot, so checking them all is O(depth).
pub fn covering_keys(type_url: &str) -> impl Iterator<Item = &str> {
    std::iter::once(type_url).chain(type_url.match_indices('.').map(|(i, _)| &type_url[..=i]))
}

/// The broken route covering `type_url`, if any: the exact URL, or a broken prefix — passing
/// over a safe-mode break that spares it ([`refuses`]).
pub async fn covering(
    kv: &mut impl KvRead,
    type_url: &str,
) -> Result<Option<state::BrokenRoute>, ExecError> {
    for key in covering_keys(type_url) {
        if let Some(b) = state::get_broken(kv, key).await? {
            if refuses(&b, type_url) {
                return Ok(Some(b));
            }
        }
    }
    Ok(None)
}

/// The route a member names to put the chain in safe mode.
pub const SAFE_MODE: &str = "*";

/// What safe mode spares: governance, the dCERT (ratification among it), upgrades and
/// incidents — the ways to decide on the emergency and out of it.
pub const SAFE_MODE_ALLOWED: &[&str] = &[
    "/cosmos.gov.",
    "/caspur.dcert.",
    "/caspur.upgrade.",
    "/caspur.incident.",
];

/// Whether break `b`, found under one of `type_url`'s covering keys, refuses it: a safe-mode
/// break spares the modules of [`SAFE_MODE_ALLOWED`].
pub fn refuses(b: &state::BrokenRoute, type_url: &str) -> bool {
    !(b.safe_mode && SAFE_MODE_ALLOWED.iter().any(|m| type_url.starts_with(m)))
}

/// The routes safe mode breaks: the top-level namespaces (`/cosmos.`, `/caspur.`) of every
/// registered message, sorted; the allowlist is spared where they are checked.
pub fn safe_mode_routes() -> Vec<String> {
    let mut out: Vec<String> = crate::router::ROUTES
        .iter()
        .filter_map(|url| url.find('.').map(|i| url[..=i].to_string()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// [`check_route`] for a message, knowing its content: governance messages about a proposal
/// whose messages are all unbreakable — a dCERT dissolution, an upgrade cancellation —
/// (submitting it, voting or depositing on it) are never blocked. A proposal that also carries
/// any other message gets no exemption.
pub async fn check_message(kv: &mut impl KvRead, any: &Any) -> Result<(), ExecError> {
    if about_unbreakable(kv, any).await? {
        return Ok(());
    }
    check_route(kv, &any.type_url).await
}

/// Whether a proposal carries only unbreakable messages (and at least one).
fn only_unbreakable(messages: &[Any]) -> bool {
    !messages.is_empty() && messages.iter().all(|m| is_unbreakable(&m.type_url))
}

async fn about_unbreakable(kv: &mut impl KvRead, any: &Any) -> Result<bool, ExecError> {
    use cosmos_sdk_proto::cosmos::gov::{v1, v1beta1};
    use prost::Message as _;
    let id = match any.type_url.as_str() {
        "/cosmos.gov.v1.MsgSubmitProposal" => {
            return Ok(v1::MsgSubmitProposal::decode(any.value.as_slice())
                .is_ok_and(|m| only_unbreakable(&m.messages)))
        }
        "/cosmos.gov.v1.MsgVote" => {
            v1::MsgVote::decode(any.value.as_slice()).map(|m| m.proposal_id)
        }
        "/cosmos.gov.v1.MsgVoteWeighted" => {
            v1::MsgVoteWeighted::decode(any.value.as_slice()).map(|m| m.proposal_id)
        }
        "/cosmos.gov.v1.MsgDeposit" => {
            v1::MsgDeposit::decode(any.value.as_slice()).map(|m| m.proposal_id)
        }
        "/cosmos.gov.v1beta1.MsgVote" => {
            v1beta1::MsgVote::decode(any.value.as_slice()).map(|m| m.proposal_id)
        }
        "/cosmos.gov.v1beta1.MsgVoteWeighted" => {
            v1beta1::MsgVoteWeighted::decode(any.value.as_slice()).map(|m| m.proposal_id)
        }
        "/cosmos.gov.v1beta1.MsgDeposit" => {
            v1beta1::MsgDeposit::decode(any.value.as_slice()).map(|m| m.proposal_id)
        }
        _ => return Ok(false),
    };
    let Ok(id) = id else {
        return Ok(false);
    };
    Ok(gov::state::get_proposal(kv, id)
        .await?
        .is_some_and(|p| only_unbreakable(&p.messages)))
}

/// Reopens `routes` (the upgrade handler's `routes_to_reopen`): each must be broken now;
/// returns the records removed.
pub async fn reopen_routes<B: caspur_store::StateRead>(
    ctx: &mut crate::context::Ctx<'_, B>,
    routes: &[String],
) -> Result<Vec<state::BrokenRoute>, ExecError> {
    let mut reopened = Vec::with_capacity(routes.len());
    for route in routes {
        let b = state::get_broken(ctx, route)
            .await?
            .ok_or_else(|| ExecError::invalid_request(format!("route {route:?} is not broken")))?;
        state::remove_broken(ctx, route)?;
        ctx.emit(
            caspur_types::Event::new("circuit_reopen")
                .attr("route", route.clone())
                .attr("broken_by", b.by.clone()),
        );
        if b.break_id != 0 {
            crate::modules::dcert::breaks::on_reopened(ctx, b.break_id).await?;
        }
        reopened.push(b);
    }
    Ok(reopened)
}

/// Breaks `routes` on behalf of `by` for `reason`, held by dCERT break record `break_id` (0:
/// none, the break stands until an upgrade). Each route must be a registered type URL or a
/// prefix ending in `.` that covers at least one; a route that is or covers an unbreakable one
/// is refused; all or nothing: one bad route breaks none. (The accountability rules — no
/// extension, no revival, quorums — are judged before, by `dcert::breaks::open`.)
pub async fn break_routes<B: caspur_store::StateRead>(
    ctx: &mut crate::context::Ctx<'_, B>,
    by: &str,
    routes: &[String],
    reason: &str,
    break_id: u64,
) -> Result<(), ExecError> {
    let safe_mode = routes.iter().any(|r| r == SAFE_MODE);
    let routes = stored_routes(routes);
    if !safe_mode {
        for route in &routes {
            validate_route(route)?;
        }
    }
    for route in &routes {
        state::set_broken(
            ctx,
            &state::BrokenRoute {
                route: route.clone(),
                by: by.to_string(),
                height: ctx.block.height,
                time_ms: ctx.block.time_ms,
                reason: reason.to_string(),
                break_id,
                safe_mode,
            },
        )?;
        let mut event = caspur_types::Event::new("circuit_break")
            .attr("route", route.clone())
            .attr("member", by.to_string())
            .attr("reason", reason.to_string());
        if break_id != 0 {
            event = event.attr("break_id", break_id.to_string());
        }
        ctx.emit(event);
    }
    Ok(())
}

/// The routes a break of `routes` stores: safe mode's namespaces for `*`, else the routes.
pub fn stored_routes(routes: &[String]) -> Vec<String> {
    if routes.iter().any(|r| r == SAFE_MODE) {
        safe_mode_routes()
    } else {
        routes.to_vec()
    }
}

/// Refuses to break `route` again while a break of it stands (an accountable break may not
/// extend another).
pub async fn refuse_extension(kv: &mut impl KvRead, route: &str) -> Result<(), ExecError> {
    if let Some(b) = state::get_broken(kv, route).await? {
        return Err(ExecError::invalid_request(format!(
            "route {route:?} is already broken (by {} at height {}): a standing break is not \
             extended by breaking it again",
            b.by, b.height
        )));
    }
    Ok(())
}

/// Reopens those of `routes` still held by break record `break_id` (a lapse: not ratified in
/// time, past `max_break_blocks`, a tripwire's break unanswered or released); a member's
/// break of blast-radius `level` is remembered (`None`: a tripwire's, which no member made, is
/// not). Returns the routes reopened.
pub async fn lapse_routes<B: caspur_store::StateRead>(
    ctx: &mut crate::context::Ctx<'_, B>,
    break_id: u64,
    routes: &[String],
    level: Option<u8>,
    why: &str,
) -> Result<Vec<String>, ExecError> {
    let mut reopened = Vec::new();
    for route in &stored_routes(routes) {
        let held = state::get_broken(ctx, route)
            .await?
            .is_some_and(|b| b.break_id == break_id);
        if !held {
            continue;
        }
        state::remove_broken(ctx, route)?;
        if let Some(level) = level {
            let height = ctx.block.height;
            state::set_lapsed(ctx, route, state::Lapse { height, level })?;
        }
        ctx.emit(
            caspur_types::Event::new("circuit_lapse")
                .attr("route", route.clone())
                .attr("break_id", break_id.to_string())
                .attr("reason", why.to_string()),
        );
        reopened.push(route.clone());
    }
    Ok(reopened)
}

/// Checks that `route` names registered messages and no unbreakable one ([`SAFE_MODE`]
/// passes: it breaks namespaces, sparing the allowlist and every unbreakable message).
pub fn validate_route(route: &str) -> Result<(), ExecError> {
    if route == SAFE_MODE {
        return Ok(());
    }
    let covered = |url: &str| {
        if route.ends_with('.') {
            url.starts_with(route)
        } else {
            url == route
        }
    };
    if !crate::router::ROUTES.iter().any(|url| covered(url)) {
        return Err(ExecError::invalid_request(format!(
            "route {route:?} matches no registered message (an exact type URL, or a prefix ending in \".\")"
        )));
    }
    if let Some(url) = crate::router::ROUTES
        .iter()
        .find(|url| is_unbreakable(url) && covered(url))
    {
        return Err(ExecError::invalid_request(format!(
            "route {route:?} covers {url}, which can never be broken"
        )));
    }
    Ok(())
}

fn broken(type_url: &str, b: &state::BrokenRoute) -> ExecError {
    ExecError::route_broken(format!(
        "message {type_url} is disabled by the circuit breaker (route {}, broken by {} at height {}: {})",
        b.route, b.by, b.height, b.reason
    ))
}
