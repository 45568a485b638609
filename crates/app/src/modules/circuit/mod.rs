//! `circuit`: the set of broken message routes, consulted by the router for every message.
//! Members' `MsgCircuitBreak` and the upgrade path that reopens routes arrive with the dCERT
//! and circuit-breaker work; the enforcement point and the state it reads are here now.

pub mod state;

use crate::context::KvRead;
use caspur_types::TxError;

/// Routes that can never be broken (SPEC §3): the dissolution path (and, with the upgrade
/// module, its cancel and readiness messages); `check_route` consults it first.
pub const UNBREAKABLE: &[&str] = &[crate::modules::dcert::dissolution::DISSOLVE_TYPE_URL];

/// Fails with [`caspur_types::ErrorCode::RouteBroken`] when `type_url` is covered by a broken
/// route: the exact URL, or a broken prefix ending in `.` (a whole package).
pub async fn check_route(kv: &mut impl KvRead, type_url: &str) -> Result<(), TxError> {
    if UNBREAKABLE.contains(&type_url) {
        return Ok(());
    }
    if let Some(b) = state::get_broken(kv, type_url).await? {
        return Err(broken(type_url, &b.route));
    }
    // Package prefixes: "/cosmos.bank.v1beta1.MsgSend" is covered by "/cosmos.bank.v1beta1."
    // and "/cosmos.bank." and "/cosmos.". One read per dot keeps the check O(depth).
    for (i, _) in type_url.match_indices('.') {
        let prefix = &type_url[..=i];
        if let Some(b) = state::get_broken(kv, prefix).await? {
            return Err(broken(type_url, &b.route));
        }
    }
    Ok(())
}

/// Breaks `routes` on behalf of `by` for `reason`. Each route must be a registered type URL or
/// a prefix ending in `.` that covers at least one; a route that is or covers an unbreakable
/// one is refused. All or nothing: one bad route breaks none.
pub async fn break_routes<B: caspur_store::StateRead>(
    ctx: &mut crate::context::Ctx<'_, B>,
    by: &str,
    routes: &[String],
    reason: &str,
) -> Result<(), TxError> {
    for route in routes {
        validate_route(route)?;
    }
    for route in routes {
        state::set_broken(
            ctx,
            &state::BrokenRoute {
                route: route.clone(),
                by: by.to_string(),
                height: ctx.block.height,
                time_ms: ctx.block.time_ms,
                reason: reason.to_string(),
            },
        )?;
        ctx.emit(
            caspur_types::Event::new("circuit_break")
                .attr("route", route.clone())
                .attr("member", by.to_string())
                .attr("reason", reason.to_string()),
        );
    }
    Ok(())
}

/// Checks that `route` names registered messages and no unbreakable one.
pub fn validate_route(route: &str) -> Result<(), TxError> {
    let covered = |url: &str| {
        if route.ends_with('.') {
            url.starts_with(route)
        } else {
            url == route
        }
    };
    if !crate::router::ROUTES.iter().any(|url| covered(url)) {
        return Err(TxError::invalid_request(format!(
            "route {route:?} matches no registered message (an exact type URL, or a prefix ending in \".\")"
        )));
    }
    if let Some(url) = UNBREAKABLE.iter().find(|url| covered(url)) {
        return Err(TxError::invalid_request(format!(
            "route {route:?} covers {url}, which can never be broken"
        )));
    }
    Ok(())
}

fn broken(type_url: &str, route: &str) -> TxError {
    TxError::route_broken(format!(
        "message {type_url} is disabled by the circuit breaker (route {route})"
    ))
}
