//! `circuit`: the set of broken message routes, consulted by the router for every message.
//! Members' `MsgCircuitBreak` and the upgrade path that reopens routes arrive with the dCERT
//! and circuit-breaker work; the enforcement point and the state it reads are here now.

pub mod state;

use crate::context::KvRead;
use caspur_types::TxError;

/// Routes that can never be broken (SPEC §3): the dissolution path and upgrade cancel/readiness.
/// Empty until those messages exist; `check_route` consults it first.
pub const UNBREAKABLE: &[&str] = &[];

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

fn broken(type_url: &str, route: &str) -> TxError {
    TxError::route_broken(format!(
        "message {type_url} is disabled by the circuit breaker (route {route})"
    ))
}
