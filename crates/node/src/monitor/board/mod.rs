//! The status board, served by the node at `/` of the monitoring endpoint: one page (HTML,
//! script, styles and the vendored uPlot, all embedded in the binary — no CDN) that draws
//! `/board/state.json` and then follows `/board/ws`, which pushes the document again after
//! every block and every alert change. Readable to a community member: network health
//! charts, validators' missed blocks, the dCERT group, broken routes, incidents, the upgrade
//! plan and firing alerts.

pub mod state;

use super::Monitor;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;

const INDEX: &str = include_str!("../../../assets/board/index.html");
const SCRIPT: &str = include_str!("../../../assets/board/board.js");
const STYLE: &str = include_str!("../../../assets/board/board.css");
const UPLOT_JS: &str = include_str!("../../../assets/board/vendor/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("../../../assets/board/vendor/uPlot.min.css");

/// Nothing but the node itself may be reached from the page.
const CSP: &str = "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'";

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The board's routes.
pub fn routes(monitor: Arc<Monitor>) -> Router {
    let state = monitor.clone();
    Router::new()
        .route(
            "/",
            get(|| async { asset("text/html; charset=utf-8", INDEX) }),
        )
        .route(
            "/board/board.js",
            get(|| async { asset("text/javascript", SCRIPT) }),
        )
        .route(
            "/board/board.css",
            get(|| async { asset("text/css", STYLE) }),
        )
        .route(
            "/board/uplot.js",
            get(|| async { asset("text/javascript", UPLOT_JS) }),
        )
        .route(
            "/board/uplot.css",
            get(|| async { asset("text/css", UPLOT_CSS) }),
        )
        .route(
            "/board/state.json",
            get(move || {
                let m = state.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        m.board_text().to_string(),
                    )
                        .into_response()
                }
            }),
        )
        .route(
            "/board/ws",
            get(move |ws: WebSocketUpgrade| {
                let m = monitor.clone();
                async move {
                    ws.max_message_size(1024)
                        .on_upgrade(move |socket| push(m, socket))
                }
            }),
        )
}

/// Sends the board now and after every change until the page goes away.
async fn push(monitor: Arc<Monitor>, mut socket: WebSocket) {
    let mut changes = monitor.subscribe_board();
    loop {
        let text = monitor.board_text();
        if socket
            .send(Message::Text(text.as_str().into()))
            .await
            .is_err()
        {
            return;
        }
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { return },
            incoming = socket.recv() => match incoming {
                // The page sends nothing but pings and the close.
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}
