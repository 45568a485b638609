//! Public incident feeds served next to the JSON-RPC (SPEC §5): `GET /incidents` and
//! `/incidents/{id}` (JSON: public fields and the timeline, never sealed content),
//! `/incidents.atom` (RFC 4287), `/api/v2/summary.json` (Statuspage's summary shape) and
//! `/.well-known/security.txt` (RFC 9116, from the node's config). They read committed state
//! through the incident module's own accessors and views, so they show what `query incident`
//! shows. Every answer is bounded: pages of at most [`MAX_PAGE`] incidents, feeds of the
//! newest [`FEED_INCIDENTS`] with their latest [`FEED_STEPS`] steps.

mod atom;
mod summary;

use crate::rpc::RpcContext;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use caspur_app::context::Unmetered;
use caspur_app::modules::incident::{query, state, view};
use caspur_store::{StateProve, StateScan};
use caspur_types::proto::incident::v1 as pb;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

/// Most incidents one `/incidents` page returns.
pub const MAX_PAGE: u32 = query::MAX_PAGE;
/// Incidents in the Atom feed and the status summary.
pub const FEED_INCIDENTS: u32 = 50;
/// Latest timeline steps of each incident in the Atom feed and the summary.
pub const FEED_STEPS: usize = 20;

/// What the feeds say about this node's operators (`[incidents]` in `config.toml`).
#[derive(Clone, Debug, Default)]
pub struct FeedConfig {
    /// The node's public base URL (links in feeds); empty: the request's own host.
    pub public_url: String,
    /// RFC 9116 `Contact:` values (`mailto:…`, `https://…`); none: no security.txt.
    pub security_contacts: Vec<String>,
    /// RFC 9116 `Policy:` URL (optional).
    pub security_policy: String,
    /// RFC 9116 `Expires:`, RFC 3339 (empty: a year from each request).
    pub security_expires: String,
}

/// The feed routes (merged into the RPC router, which adds its body, timeout and CORS limits).
pub fn routes<S: StateScan + StateProve + Clone + 'static>() -> Router<Arc<RpcContext<S>>> {
    Router::new()
        .route("/incidents", get(list::<S>))
        .route("/incidents.atom", get(atom_feed::<S>))
        .route("/incidents/{id}", get(one::<S>))
        .route("/api/v2/summary.json", get(status_summary::<S>))
        .route("/.well-known/security.txt", get(security_txt::<S>))
}

/// Event types the incident module emits (`incident` for every step, `incident_overdue`).
pub const INCIDENT_EVENTS: [&str; 2] = ["incident", "incident_overdue"];

/// A committed block's incident events in order: successful txs' first, then the block's own
/// (upgrade-driven steps at its start, overdue flags at its end).
pub fn incident_events(block: &crate::index::StoredBlock) -> Vec<&caspur_types::Event> {
    let txs = block
        .results
        .iter()
        .filter(|r| r.code == 0)
        .flat_map(|r| r.events.iter());
    txs.chain(block.block_events.iter())
        .filter(|e| INCIDENT_EVENTS.contains(&e.kind.as_str()))
        .collect()
}

/// An incident event as JSON: its type and attributes by key.
pub fn event_json(height: u64, time_ms: u64, e: &caspur_types::Event) -> Value {
    let attributes: serde_json::Map<String, Value> = e
        .attributes
        .iter()
        .map(|a| (a.key.clone(), Value::String(a.value.clone())))
        .collect();
    json!({"type": e.kind, "height": height, "time": view::time(time_ms), "attributes": attributes})
}

/// An error answer: status and a JSON body saying what to do.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

fn internal(e: impl std::fmt::Display) -> Response {
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("reading state: {e}"),
    )
}

/// An incident with (the latest `steps` of) its timeline.
async fn with_timeline<S: StateScan>(
    s: &S,
    i: pb::Incident,
    steps: usize,
) -> Result<(pb::Incident, Vec<pb::TimelineEntry>), Response> {
    let mut kv = Unmetered(s);
    let first = i.timeline_len.saturating_sub(steps as u32);
    let mut out = Vec::new();
    for seq in first..i.timeline_len {
        out.push(
            state::timeline_entry(&mut kv, i.id, seq)
                .await
                .map_err(internal)?,
        );
    }
    Ok((i, out))
}

/// The newest `limit` incidents (below `before`), each with its latest `steps` steps.
async fn newest<S: StateScan>(
    s: &S,
    before: u64,
    limit: u32,
    steps: usize,
) -> Result<(Vec<(pb::Incident, Vec<pb::TimelineEntry>)>, u64), Response> {
    let req = pb::QueryIncidentsRequest {
        state: 0,
        before,
        limit,
    };
    let page = query::incidents(&mut Unmetered(s), &req)
        .await
        .map_err(internal)?;
    let mut out = Vec::with_capacity(page.incidents.len());
    for i in page.incidents {
        out.push(with_timeline(s, i, steps).await?);
    }
    Ok((out, page.next_before))
}

#[derive(Deserialize)]
struct ListParams {
    #[serde(default)]
    before: u64,
    #[serde(default)]
    limit: u32,
}

async fn list<S: StateScan + StateProve + Clone + 'static>(
    State(ctx): State<Arc<RpcContext<S>>>,
    Query(p): Query<ListParams>,
) -> Response {
    let limit = if p.limit == 0 {
        20
    } else {
        p.limit.min(MAX_PAGE)
    };
    match newest(&ctx.state, p.before, limit, 0).await {
        Ok((list, next_before)) => {
            let incidents: Vec<Value> = list
                .iter()
                .map(|(i, _)| view::incident_json(i, &[]))
                .collect();
            Json(json!({"incidents": incidents, "next_before": next_before})).into_response()
        }
        Err(r) => r,
    }
}

async fn one<S: StateScan + StateProve + Clone + 'static>(
    State(ctx): State<Arc<RpcContext<S>>>,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<u64>() else {
        return error(
            StatusCode::BAD_REQUEST,
            format!("{id:?} is not an incident id"),
        );
    };
    let found = state::incident(&mut Unmetered(&ctx.state), id).await;
    match found {
        Err(e) => internal(e),
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            format!("incident {id} does not exist"),
        ),
        Ok(Some(i)) => {
            let steps = i.timeline_len as usize;
            match with_timeline(&ctx.state, i, steps).await {
                Ok((i, t)) => Json(view::incident_json(&i, &t)).into_response(),
                Err(r) => r,
            }
        }
    }
}

/// The base URL links in feeds start with.
fn base_url<S>(ctx: &RpcContext<S>, headers: &axum::http::HeaderMap) -> String {
    if !ctx.feeds.public_url.is_empty() {
        return ctx.feeds.public_url.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| h.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or("localhost");
    format!("http://{host}")
}

async fn atom_feed<S: StateScan + StateProve + Clone + 'static>(
    State(ctx): State<Arc<RpcContext<S>>>,
    headers: axum::http::HeaderMap,
) -> Response {
    match newest(&ctx.state, 0, FEED_INCIDENTS, FEED_STEPS).await {
        Ok((list, _)) => {
            let xml = atom::feed(&ctx.facts.chain_id, &base_url(&ctx, &headers), &list);
            (
                [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
                xml,
            )
                .into_response()
        }
        Err(r) => r,
    }
}

async fn status_summary<S: StateScan + StateProve + Clone + 'static>(
    State(ctx): State<Arc<RpcContext<S>>>,
    headers: axum::http::HeaderMap,
) -> Response {
    match newest(&ctx.state, 0, FEED_INCIDENTS, FEED_STEPS).await {
        Ok((list, _)) => {
            let base = base_url(&ctx, &headers);
            Json(summary::summary(&ctx.facts.chain_id, &base, &list)).into_response()
        }
        Err(r) => r,
    }
}

async fn security_txt<S: StateScan + StateProve + Clone + 'static>(
    State(ctx): State<Arc<RpcContext<S>>>,
    headers: axum::http::HeaderMap,
) -> Response {
    let f = &ctx.feeds;
    if f.security_contacts.is_empty() {
        return (
            StatusCode::NOT_FOUND,
            "no security contact is configured: set [incidents] security_contacts in config.toml\n",
        )
            .into_response();
    }
    let expires = if f.security_expires.is_empty() {
        let year = chrono::Utc::now() + chrono::Duration::days(365);
        year.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    } else {
        f.security_expires.clone()
    };
    let base = base_url(&ctx, &headers);
    let mut body = String::new();
    for c in &f.security_contacts {
        body.push_str(&format!("Contact: {c}\n"));
    }
    body.push_str(&format!("Expires: {expires}\n"));
    if !f.security_policy.is_empty() {
        body.push_str(&format!("Policy: {}\n", f.security_policy));
    }
    body.push_str("Preferred-Languages: en\n");
    body.push_str(&format!("Canonical: {base}/.well-known/security.txt\n"));
    body.push_str(&format!(
        "# Sealed on-chain reports: `caspurd tx incident report`; public timelines: {base}/incidents\n"
    ));
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}
