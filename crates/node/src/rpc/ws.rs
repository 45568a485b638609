//! CometBFT's WebSocket endpoint (`/websocket`): every JSON-RPC method, plus `subscribe`,
//! `unsubscribe` and `unsubscribe_all` for `tm.event='NewBlock'` and `tm.event='Tx'` (the
//! latter optionally narrowed by `tx.height` and conditions on the tx's events, in CometBFT's
//! query language: [`super::query_lang`]), and Caspur's `tm.event='Incident'`: one message per
//! incident step or overdue flag of a committed block (narrowed by conditions such as
//! `incident.id='3'`). Events carry the subscribe
//! request's id and the `query`, as CometBFT sends them.

use super::query_lang::Attr;
use super::types::{ExecTxResult, TxResponse};
use super::{
    block_response, bounded, dispatch, envelope, param_str, tx_response, RpcContext, RpcError,
};
use crate::index::StoredBlock;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use caspur_store::{StateProve, StateScan};
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::sync::broadcast;

/// Most subscriptions one connection may hold.
const MAX_SUBSCRIPTIONS: usize = 100;
/// Largest message a client may send.
const MAX_MESSAGE_BYTES: usize = 1 << 20;
/// How often the server pings a connection: a quiet subscriber stays well inside the RPC idle
/// timeout (at least 10 s), and a dead one is noticed (CometBFT pings every ~27 s).
pub const PING_PERIOD: std::time::Duration = std::time::Duration::from_secs(5);

/// Committed blocks as the index stored them (converted once, shared by every connection).
pub type BlockFeed = broadcast::Sender<Arc<StoredBlock>>;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    NewBlock,
    Tx,
    Incident,
}

struct Subscription {
    id: Value,
    query: String,
    kind: Kind,
    /// Conditions a tx's (or an incident step's) event attributes must all satisfy.
    conditions: Vec<Attr>,
    /// The heights a tx subscription follows.
    heights: std::ops::RangeInclusive<u64>,
}

/// A subscription's query: what it follows, at which heights, under which conditions.
pub(crate) type SubscriptionQuery = (Kind, std::ops::RangeInclusive<u64>, Vec<Attr>);

pub(crate) fn parse_subscription(query: &str) -> Result<SubscriptionQuery, RpcError> {
    let q = super::query_lang::parse(query, "tx.height")?;
    let kind = match q.event.as_deref() {
        Some("NewBlock") => Kind::NewBlock,
        Some("Tx") => Kind::Tx,
        Some("Incident") => Kind::Incident,
        Some(other) => {
            return Err(RpcError::invalid_params(format!(
                "unsupported event {other:?}: NewBlock, Tx or Incident"
            )))
        }
        None => return Err(RpcError::invalid_params("query must name tm.event")),
    };
    let narrowed = !q.attrs.is_empty() || q.hash.is_some() || q.heights != (0..=u64::MAX);
    if kind == Kind::NewBlock && narrowed {
        return Err(RpcError::invalid_params(
            "NewBlock takes no further conditions",
        ));
    }
    if q.hash.is_some() {
        return Err(RpcError::invalid_params(
            "a subscription follows future txs: tx.hash is for tx_search",
        ));
    }
    Ok((kind, q.heights, q.attrs))
}

/// Upgrades `GET /websocket`.
pub(crate) async fn upgrade<S: StateScan + StateProve + Clone + 'static>(
    State(ctx): State<Arc<RpcContext<S>>>,
    ws: WebSocketUpgrade,
) -> Response {
    ws.max_message_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| serve(ctx, socket))
}

async fn serve<S: StateScan + StateProve + Clone + 'static>(
    ctx: Arc<RpcContext<S>>,
    mut socket: WebSocket,
) {
    let mut blocks = ctx.feed.subscribe();
    let mut subscriptions: Vec<Subscription> = Vec::new();
    let mut ping = tokio::time::interval(PING_PERIOD);
    loop {
        tokio::select! {
            _ = ping.tick() => {
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    return;
                }
            }
            incoming = socket.recv() => {
                let Some(Ok(message)) = incoming else { return };
                let text = match message {
                    Message::Text(t) => t.to_string(),
                    Message::Binary(b) => String::from_utf8_lossy(&b).into_owned(),
                    Message::Close(_) => return,
                    _ => continue,
                };
                let reply = handle(&ctx, &mut subscriptions, &text).await;
                if socket.send(Message::Text(reply.to_string().into())).await.is_err() {
                    return;
                }
            }
            block = blocks.recv(), if !subscriptions.is_empty() => {
                let block = match block {
                    Ok(b) => b,
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        // A client too slow for the chain loses its subscriptions, as in CometBFT.
                        for s in subscriptions.drain(..) {
                            let e = RpcError::internal("subscription was cancelled: client is not pulling messages fast enough");
                            let _ = socket.send(Message::Text(envelope(s.id, Err(e)).to_string().into())).await;
                        }
                        continue;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                for event in events(&ctx.facts, &subscriptions, &block) {
                    if socket.send(Message::Text(event.to_string().into())).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

async fn handle<S: StateScan + StateProve + Clone + 'static>(
    ctx: &RpcContext<S>,
    subscriptions: &mut Vec<Subscription>,
    text: &str,
) -> Value {
    let call: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return envelope(Value::Null, Err(RpcError::parse(e.to_string()))),
    };
    let id = call.get("id").cloned().unwrap_or(Value::Null);
    let params = call.get("params").cloned().unwrap_or(Value::Null);
    let result = match call.get("method").and_then(Value::as_str) {
        None => Err(RpcError::invalid_request("missing method")),
        Some("subscribe") => subscribe(subscriptions, id.clone(), &params),
        Some("unsubscribe") => {
            let query = param_str(&params, "query", 0).unwrap_or_default();
            let before = subscriptions.len();
            subscriptions.retain(|s| s.query != query);
            if subscriptions.len() == before {
                Err(RpcError::invalid_params("subscription not found"))
            } else {
                Ok(json!({}))
            }
        }
        Some("unsubscribe_all") => {
            subscriptions.clear();
            Ok(json!({}))
        }
        Some(method) => dispatch(ctx, method, &params).await,
    };
    bounded(envelope(id, result), ctx.limits.max_response_bytes)
}

fn subscribe(
    subscriptions: &mut Vec<Subscription>,
    id: Value,
    params: &Value,
) -> Result<Value, RpcError> {
    let query = param_str(params, "query", 0)
        .ok_or_else(|| RpcError::invalid_params("query is required"))?;
    if subscriptions.iter().any(|s| s.query == query) {
        return Err(RpcError::invalid_params("already subscribed"));
    }
    if subscriptions.len() >= MAX_SUBSCRIPTIONS {
        return Err(RpcError::invalid_params(format!(
            "at most {MAX_SUBSCRIPTIONS} subscriptions per connection"
        )));
    }
    let (kind, heights, conditions) = parse_subscription(query)?;
    subscriptions.push(Subscription {
        id,
        query: query.to_string(),
        kind,
        conditions,
        heights,
    });
    Ok(json!({}))
}

/// The event messages `block` produces for `subscriptions`.
fn events(
    facts: &super::NodeFacts,
    subscriptions: &[Subscription],
    stored: &StoredBlock,
) -> Vec<Value> {
    let mut out = Vec::new();
    for s in subscriptions {
        match s.kind {
            Kind::NewBlock => {
                let b = block_response(facts, stored);
                let value = json!({"block": b.block, "block_id": b.block_id});
                out.push(event(s, "NewBlock", value));
            }
            Kind::Tx if !s.heights.contains(&stored.height) => {}
            Kind::Tx => {
                for index in 0..stored.txs.len() as u32 {
                    let Some(tx) = tx_response(stored, index) else {
                        continue;
                    };
                    if !s.conditions.iter().all(|c| has_condition(&tx.tx_result, c)) {
                        continue;
                    }
                    out.push(event(s, "Tx", json!({"TxResult": tx_result(&tx)})));
                }
            }
            Kind::Incident => {
                for e in crate::feeds::incident_events(stored) {
                    let matches = |c: &Attr| {
                        c.passes_any(
                            e.attributes
                                .iter()
                                .map(|a| (format!("{}.{}", e.kind, a.key), a.value.as_str())),
                        )
                    };
                    if s.conditions.iter().all(matches) {
                        let value = crate::feeds::event_json(stored.height, stored.time_ms, e);
                        out.push(event(s, "Incident", value));
                    }
                }
            }
        }
    }
    out
}

fn has_condition(result: &ExecTxResult<'_>, condition: &Attr) -> bool {
    result.events.iter().any(|e| {
        condition.passes_any(
            e.attributes
                .iter()
                .map(|a| (format!("{}.{}", e.kind, a.key), a.value)),
        )
    })
}

fn tx_result(tx: &TxResponse<'_>) -> Value {
    json!({"height": tx.height, "index": tx.index, "tx": tx.tx, "result": tx.tx_result})
}

fn event(s: &Subscription, name: &str, value: Value) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": s.id,
        "result": {
            "query": s.query,
            "data": {"type": format!("tendermint/event/{name}"), "value": value},
            "events": {"tm.event": [name]},
        }
    })
}
