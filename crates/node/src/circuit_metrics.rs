//! The circuit breaker's Prometheus metrics: the number of broken routes (refreshed from
//! committed state after each block) and the messages refused per route (counted where the
//! node refuses them: CheckTx and mempool re-checks).

use caspur_app::modules::circuit;
use caspur_consensus::launch::NodeMetrics;
use caspur_store::StateScan;
use caspur_types::{ErrorCode, TxError};

/// The route named in a circuit-breaker refusal ("… (route R, broken by …").
pub fn refused_route(err: &TxError) -> Option<&str> {
    if err.code != ErrorCode::RouteBroken {
        return None;
    }
    let rest = err.message.split_once("(route ")?.1;
    Some(rest.split_once(',').map_or(rest, |(route, _)| route))
}

/// Counts `err` if it is a circuit-breaker refusal.
pub fn count_refusal(metrics: &NodeMetrics, err: &TxError) {
    if let Some(route) = refused_route(err) {
        metrics
            .rejected_by_route
            .get_or_create(&vec![("route".to_string(), route.to_string())])
            .inc();
    }
}

/// Sets the broken-route gauge from committed state.
pub async fn refresh<S: StateScan>(metrics: &NodeMetrics, state: &S) {
    match circuit::query::broken_routes(state).await {
        Ok(routes) => {
            metrics.broken_routes.set(routes.len() as i64);
        }
        Err(e) => tracing::warn!(error = %e, "cannot count broken routes"),
    }
}
