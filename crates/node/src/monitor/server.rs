//! The monitoring endpoint (`[instrumentation] prometheus_listen_addr`, `--prometheus-laddr`):
//! `GET /metrics` (Prometheus), `GET /alerts` (the node's own alerts, JSON) and the status
//! board (`/`, [`super::board`]).

use super::exposition::CONTENT_TYPE;
use super::Monitor;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The routes.
pub fn router(monitor: Arc<Monitor>) -> Router {
    let alerts = monitor.clone();
    let board = super::board::routes(monitor.clone());
    Router::new()
        .route(
            "/metrics",
            get(move || {
                let monitor = monitor.clone();
                async move {
                    ([(header::CONTENT_TYPE, CONTENT_TYPE)], monitor.render()).into_response()
                }
            }),
        )
        .route(
            "/alerts",
            get(move || {
                let monitor = alerts.clone();
                async move { axum::Json(monitor.alerts_json()).into_response() }
            }),
        )
        .merge(board)
}

/// Most connections the monitoring endpoint holds at once (scrapers, dashboards).
pub const MAX_CONNECTIONS: usize = 32;

/// Serves the routes on `addr` until the node stops: at most [`MAX_CONNECTIONS`] at once,
/// each closed after `idle_timeout` without a request or `request_deadline` on one request.
pub async fn serve(
    monitor: Arc<Monitor>,
    addr: SocketAddr,
    idle_timeout: Duration,
    request_deadline: Duration,
) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen for Prometheus on {addr}: {e}"))?;
    tracing::info!(%addr, "Prometheus metrics listening");
    let listener =
        crate::rpc::LimitedListener::new(listener, MAX_CONNECTIONS, idle_timeout, request_deadline);
    axum::serve(listener, router(monitor))
        .await
        .map_err(|e| format!("Prometheus server failed: {e}"))
}
