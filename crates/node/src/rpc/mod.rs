//! CometBFT-compatible JSON-RPC 2.0 over HTTP POST (and the same methods as `GET /<method>`
//! with URI parameters, as CometBFT serves them).

mod chain;
mod endpoints;
pub use endpoints::METHODS;
mod limit;
pub mod net;
mod query_lang;
mod results;
mod search;
mod txs;
pub mod types;
mod ws;

use crate::index::BlockIndex;
use crate::mempool::Mempool;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use caspur_app::App;
use caspur_store::{StateProve, StateScan};
pub use limit::LimitedListener;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use types::*;
pub use ws::BlockFeed;

/// Facts about this node that `status` reports.
#[derive(Clone)]
pub struct NodeFacts {
    /// Chain id.
    pub chain_id: String,
    /// Moniker.
    pub moniker: String,
    /// Hex node id.
    pub node_id: String,
    /// p2p listen address.
    pub listen_addr: String,
    /// RPC address.
    pub rpc_addr: String,
    /// Validator info.
    pub validator: ValidatorInfo,
    /// Genesis consensus parameter: most bytes in a block.
    pub block_max_bytes: u64,
    /// Genesis consensus parameter: most gas in a block (`None`: unlimited).
    pub block_max_gas: Option<u64>,
    /// The genesis document as the node read it (`genesis`, `genesis_chunked`).
    pub genesis: Arc<Vec<u8>>,
}

/// Bounds on what one RPC client may ask (the `[rpc]` section of `config.toml`); CometBFT's
/// defaults are the anchor.
#[derive(Clone, Debug)]
pub struct RpcLimits {
    /// Most calls in one JSON-RPC batch (CometBFT `max_request_batch_size`, 10).
    pub max_batch: usize,
    /// Most bytes of one HTTP request body (CometBFT `max_body_bytes` is 1,000,000; ours
    /// admits a tx of the largest `max_tx_bytes`, base64 in JSON).
    pub max_body_bytes: usize,
    /// Most bytes of one response (a batch stops answering calls once its replies reach it).
    pub max_response_bytes: usize,
    /// Longest a request may take, body read and reply included (CometBFT's 10 s write
    /// timeout).
    pub request_timeout: std::time::Duration,
}

impl Default for RpcLimits {
    fn default() -> Self {
        RpcLimits {
            max_batch: 10,
            max_body_bytes: 2_000_000,
            max_response_bytes: 32 << 20,
            request_timeout: std::time::Duration::from_secs(10),
        }
    }
}

/// The CometBFT release whose RPC this node speaks; CosmJS picks its client by it.
pub const COMET_VERSION: &str = "0.38.17";

/// What the RPC handlers need.
pub struct RpcContext<S> {
    /// The state machine (queries).
    pub app: Arc<App>,
    /// Committed state.
    pub state: S,
    /// The mempool.
    pub mempool: Arc<Mempool<S>>,
    /// Blocks and txs.
    pub index: Arc<BlockIndex>,
    /// Node facts.
    pub facts: NodeFacts,
    /// The network's finalized height as this node has seen it.
    pub tip: caspur_consensus::ChainTip,
    /// Committed blocks, for WebSocket subscriptions.
    pub feed: BlockFeed,
    /// The validator set of each epoch this node knows.
    pub validator_sets: caspur_consensus::validator_sets::SetsByHeight,
    /// Per-request bounds.
    pub limits: RpcLimits,
    /// What the incident feeds say about this node's operators.
    pub feeds: crate::feeds::FeedConfig,
    /// The runtime's own metrics (p2p connections for `net_info`), when running.
    pub runtime_metrics: Option<caspur_consensus::launch::RuntimeMetrics>,
    /// The genesis validators (lower-case hex key, name, address), read from the genesis once
    /// for `net_info`.
    pub genesis_validators: std::sync::OnceLock<Vec<(String, String, String)>>,
}

/// Parses `query` in both RPC query grammars — `tx_search`'s and a WebSocket subscription's —
/// as the handlers do (the fuzz targets' door to them); whether each accepted it.
pub fn parse_queries(query: &str) -> (bool, bool) {
    (
        search::parse(query).is_ok(),
        ws::parse_subscription(query).is_ok(),
    )
}

/// A JSON-RPC error: code, message, data.
#[derive(Debug)]
pub struct RpcError {
    code: i64,
    message: &'static str,
    data: String,
}

impl RpcError {
    fn parse(data: impl Into<String>) -> Self {
        RpcError {
            code: -32700,
            message: "Parse error",
            data: data.into(),
        }
    }
    fn invalid_request(data: impl Into<String>) -> Self {
        RpcError {
            code: -32600,
            message: "Invalid Request",
            data: data.into(),
        }
    }
    fn invalid_params(data: impl Into<String>) -> Self {
        RpcError {
            code: -32602,
            message: "Invalid params",
            data: data.into(),
        }
    }
    fn internal(data: impl Into<String>) -> Self {
        RpcError {
            code: -32603,
            message: "Internal error",
            data: data.into(),
        }
    }
    fn not_found(method: &str) -> Self {
        RpcError {
            code: -32601,
            message: "Method not found",
            data: format!("unknown method {method:?}"),
        }
    }
}

/// The RPC router.
pub fn router<S: StateScan + StateProve + Clone + 'static>(ctx: Arc<RpcContext<S>>) -> Router {
    let limits = ctx.limits.clone();
    Router::new()
        .route("/", post(post_rpc::<S>).get(endpoints::page))
        .route("/websocket", get(ws::upgrade::<S>))
        .route("/{method}", get(get_rpc::<S>))
        .merge(crate::feeds::routes::<S>())
        .with_state(ctx)
        .layer(axum::extract::DefaultBodyLimit::max(limits.max_body_bytes))
        // A slow client (a half-sent body) or a slow call gives up its slot after the timeout.
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        // Browser dapps call the node from their own origin (CometBFT's `cors_allowed_origins`
        // set to "*"); the RPC is read-only plus tx submission, which needs no credentials.
        .layer(
            tower_http::cors::CorsLayer::new()
                .allow_origin(tower_http::cors::Any)
                .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
                .allow_headers(tower_http::cors::Any),
        )
}

async fn post_rpc<S: StateScan + StateProve + Clone + 'static>(
    State(ctx): State<Arc<RpcContext<S>>>,
    body: axum::body::Bytes,
) -> Json<Value> {
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return Json(envelope(Value::Null, Err(RpcError::parse(e.to_string())))),
    };
    match request {
        Value::Array(calls) => Json(batch(&ctx, calls).await),
        call => {
            let reply = one_call(&ctx, call).await;
            Json(bounded(reply, ctx.limits.max_response_bytes))
        }
    }
}

/// Answers a batch: refused whole when empty or over `max_batch` calls (JSON-RPC 2.0 answers an
/// empty batch with one error); once the replies reach `max_response_bytes`, each further
/// call is answered with an error instead of being run.
async fn batch<S: StateScan + StateProve + Clone + 'static>(
    ctx: &RpcContext<S>,
    calls: Vec<Value>,
) -> Value {
    let max = ctx.limits.max_batch;
    if calls.is_empty() {
        return envelope(Value::Null, Err(RpcError::invalid_request("empty batch")));
    }
    if calls.len() > max {
        return envelope(
            Value::Null,
            Err(RpcError::invalid_request(format!(
                "batch of {} calls; the limit is {max} (max_request_batch_size)",
                calls.len()
            ))),
        );
    }
    let mut out = Vec::with_capacity(calls.len());
    let mut left = ctx.limits.max_response_bytes;
    for call in calls {
        let id = call.get("id").cloned().unwrap_or(Value::Null);
        let mut reply = if left == 0 {
            envelope(
                id.clone(),
                Err(response_too_large(ctx.limits.max_response_bytes)),
            )
        } else {
            one_call(ctx, call).await
        };
        let mut len = json_len(&reply);
        if len > left {
            reply = envelope(id, Err(response_too_large(ctx.limits.max_response_bytes)));
            len = json_len(&reply);
        }
        left = left.saturating_sub(len);
        out.push(reply);
    }
    Value::Array(out)
}

/// `reply`, or an error in its place when it is larger than `max` bytes.
fn bounded(reply: Value, max: usize) -> Value {
    if json_len(&reply) <= max {
        return reply;
    }
    let id = reply.get("id").cloned().unwrap_or(Value::Null);
    envelope(id, Err(response_too_large(max)))
}

fn json_len(v: &Value) -> usize {
    serde_json::to_vec(v).map_or(usize::MAX, |b| b.len())
}

fn response_too_large(max: usize) -> RpcError {
    RpcError::invalid_request(format!(
        "response would exceed {max} bytes (max_response_bytes): ask for less per call or per batch"
    ))
}

async fn one_call<S: StateScan + StateProve + Clone + 'static>(
    ctx: &RpcContext<S>,
    call: Value,
) -> Value {
    let id = call.get("id").cloned().unwrap_or(Value::Null);
    let Some(method) = call.get("method").and_then(Value::as_str) else {
        return envelope(id, Err(RpcError::invalid_request("missing method")));
    };
    let params = call.get("params").cloned().unwrap_or(Value::Null);
    envelope(id, dispatch(ctx, method, &params).await)
}

async fn get_rpc<S: StateScan + StateProve + Clone + 'static>(
    State(ctx): State<Arc<RpcContext<S>>>,
    Path(method): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Json<Value> {
    // URI parameters arrive quoted for strings (`?path="/x"`), as CometBFT expects.
    let params: serde_json::Map<String, Value> = query
        .into_iter()
        .map(|(k, v)| (k, Value::String(v.trim_matches('"').to_string())))
        .collect();
    let reply = envelope(
        json!(-1),
        dispatch(&ctx, &method, &Value::Object(params)).await,
    );
    Json(bounded(reply, ctx.limits.max_response_bytes))
}

pub(crate) fn envelope(id: Value, result: Result<Value, RpcError>) -> Value {
    match result {
        Ok(r) => json!({"jsonrpc": "2.0", "id": id, "result": r}),
        Err(e) => {
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": e.code, "message": e.message, "data": e.data}})
        }
    }
}

/// A named or positional parameter.
fn param<'a>(params: &'a Value, name: &str, position: usize) -> Option<&'a Value> {
    match params {
        Value::Object(m) => m.get(name),
        Value::Array(a) => a.get(position),
        _ => None,
    }
    .filter(|v| !v.is_null())
}

pub(crate) fn param_str<'a>(params: &'a Value, name: &str, position: usize) -> Option<&'a str> {
    param(params, name, position).and_then(Value::as_str)
}

pub(crate) fn param_u64(
    params: &Value,
    name: &str,
    position: usize,
) -> Result<Option<u64>, RpcError> {
    match param(params, name, position) {
        None => Ok(None),
        Some(Value::Number(n)) => n.as_u64().map(Some).ok_or_else(|| {
            RpcError::invalid_params(format!("{name} must be a non-negative integer"))
        }),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| RpcError::invalid_params(format!("{name} must be an integer, got {s:?}"))),
        Some(_) => Err(RpcError::invalid_params(format!(
            "{name} must be an integer"
        ))),
    }
}

pub(crate) fn to_value(v: impl serde::Serialize) -> Result<Value, RpcError> {
    serde_json::to_value(v).map_err(|e| RpcError::internal(e.to_string()))
}

pub(crate) async fn dispatch<S: StateScan + StateProve + Clone + 'static>(
    ctx: &RpcContext<S>,
    method: &str,
    params: &Value,
) -> Result<Value, RpcError> {
    match method {
        "health" => Ok(json!({})),
        "status" => status(ctx),
        "abci_query" => abci_query(ctx, params).await,
        "broadcast_tx_sync" | "broadcast_tx_async" => txs::broadcast(ctx, params).await,
        "broadcast_tx_commit" => txs::broadcast_commit(ctx, params).await,
        "check_tx" => txs::check_tx(ctx, params).await,
        "unconfirmed_txs" => txs::unconfirmed(ctx, params, true),
        "num_unconfirmed_txs" => txs::unconfirmed(ctx, params, false),
        "tx_search" => search::tx_search(ctx, params),
        "block_search" => search::block_search(ctx, params),
        "tx" => tx(ctx, params),
        "block" => block(ctx, params),
        "block_by_hash" => chain::block_by_hash(ctx, params),
        "header" => chain::header(ctx, params),
        "header_by_hash" => chain::header_by_hash(ctx, params),
        "blockchain" => chain::blockchain(ctx, params),
        "consensus_params" => chain::consensus_params(ctx, params),
        "genesis" => chain::genesis(ctx),
        "genesis_chunked" => chain::genesis_chunked(ctx, params),
        "block_results" => results::block_results(ctx, params),
        "abci_info" => results::abci_info(ctx),
        "validators" => results::validators(ctx, params),
        "commit" => net::commit(ctx, params),
        "consensus_state" => net::consensus_state(ctx),
        "net_info" => net::net_info(ctx),
        other => Err(RpcError::not_found(other)),
    }
}

fn status<S>(ctx: &RpcContext<S>) -> Result<Value, RpcError> {
    let f = &ctx.facts;
    let tips = ctx.index.tips();
    let earliest = tips.as_ref().map(|(first, _)| first);
    let latest = tips.as_ref().map(|(_, last)| last);
    let fields = |b: Option<&crate::index::BlockSummary>| match b {
        Some(b) => (
            b.hash.clone(),
            b.app_hash.clone(),
            b.height.to_string(),
            rfc3339(b.time_ms),
        ),
        None => (String::new(), String::new(), "0".into(), rfc3339(0)),
    };
    let latest_height = latest.map_or(0, |b| b.height);
    let (lh, la, lheight, ltime) = fields(latest);
    let (eh, ea, eheight, etime) = fields(earliest);
    to_value(Status {
        node_info: NodeInfo {
            protocol_version: ProtocolVersion {
                p2p: "8".into(),
                block: "11".into(),
                app: "0".into(),
            },
            id: f.node_id.clone(),
            listen_addr: f.listen_addr.clone(),
            network: f.chain_id.clone(),
            version: COMET_VERSION.into(),
            channels: "40202122233038606100".into(),
            moniker: f.moniker.clone(),
            other: NodeOther {
                tx_index: "on".into(),
                rpc_address: f.rpc_addr.clone(),
                caspur_version: env!("CARGO_PKG_VERSION").into(),
            },
        },
        sync_info: SyncInfo {
            latest_block_hash: lh,
            latest_app_hash: la,
            latest_block_height: lheight,
            latest_block_time: ltime,
            earliest_block_hash: eh,
            earliest_app_hash: ea,
            earliest_block_height: eheight,
            earliest_block_time: etime,
            catching_up: ctx.tip.catching_up(latest_height),
            network_height: ctx.tip.get().max(latest_height).to_string(),
        },
        validator_info: f.validator.clone(),
    })
}

async fn abci_query<S: StateScan + StateProve + Clone + 'static>(
    ctx: &RpcContext<S>,
    params: &Value,
) -> Result<Value, RpcError> {
    let path =
        param_str(params, "path", 0).ok_or_else(|| RpcError::invalid_params("path is required"))?;
    let data = match param_str(params, "data", 1) {
        None => Vec::new(),
        Some(h) => hex::decode(h)
            .map_err(|e| RpcError::invalid_params(format!("data must be hex: {e}")))?,
    };
    // Before block 1 the answer comes from the genesis state; it is reported at height 1
    // because clients (CosmJS) reject a query answer without a height.
    let latest = ctx
        .index
        .bounds()
        .map_err(|e| RpcError::internal(e.to_string()))?
        .map_or(0, |(_, l)| l)
        .max(1);
    if let Some(h) = param_u64(params, "height", 2)? {
        if h != 0 && h != latest {
            return to_value(AbciQuery { response: query_error(&caspur_types::TxError::invalid_height(format!(
                "queries at height {h} are not served: only the latest height ({latest}) is kept for queries"
            )), latest) });
        }
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    if path == RAW_STORE_PATH {
        return raw_store_query(
            ctx,
            &data,
            param(params, "prove", 3)
                .and_then(Value::as_bool)
                .unwrap_or(false),
            latest,
        )
        .await;
    }
    let response = match crate::queries::query(ctx, path, &data).await {
        Ok(value) => AbciQueryResponse {
            code: 0,
            log: String::new(),
            info: String::new(),
            index: "0".into(),
            key: None,
            value: Some(b64.encode(value)),
            proof_ops: None,
            height: latest.to_string(),
            codespace: String::new(),
        },
        Err(e) => query_error(&e, latest),
    };
    to_value(AbciQuery { response })
}

/// The raw-store query path (like Cosmos `/store/<name>/key`): `data` is the state key.
pub const RAW_STORE_PATH: &str = "/store/state/key";

/// A raw state read; with `prove`, an inclusion or exclusion proof against the app hash
/// (reported in `info`) rides in `proofOps` (type `qmdb:current`).
async fn raw_store_query<S: StateScan + StateProve + Clone + 'static>(
    ctx: &RpcContext<S>,
    key: &[u8],
    prove: bool,
    latest: u64,
) -> Result<Value, RpcError> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let (value, proof_ops, info) = if prove {
        match ctx.state.prove(key).await {
            Ok(p) => (
                p.value,
                Some(ProofOps {
                    ops: vec![ProofOp {
                        kind: "qmdb:current".into(),
                        key: b64.encode(key),
                        data: b64.encode(&p.proof),
                    }],
                }),
                hex::encode_upper(p.root),
            ),
            Err(e) => {
                return to_value(AbciQuery {
                    response: query_error(&caspur_types::TxError::io(e.to_string()), latest),
                })
            }
        }
    } else {
        match ctx.state.get(key).await {
            Ok(v) => (v, None, String::new()),
            Err(e) => {
                return to_value(AbciQuery {
                    response: query_error(&caspur_types::TxError::io(e.to_string()), latest),
                })
            }
        }
    };
    to_value(AbciQuery {
        response: AbciQueryResponse {
            code: 0,
            log: if value.is_some() {
                String::new()
            } else {
                "key not found".into()
            },
            info,
            index: "0".into(),
            key: Some(b64.encode(key)),
            value: value.map(|v| b64.encode(v)),
            proof_ops,
            height: latest.to_string(),
            codespace: String::new(),
        },
    })
}

fn query_error(e: &caspur_types::TxError, height: u64) -> AbciQueryResponse {
    AbciQueryResponse {
        code: e.code.code(),
        log: e.message.clone(),
        info: String::new(),
        index: "0".into(),
        key: None,
        value: None,
        proof_ops: None,
        height: height.to_string(),
        codespace: e.codespace().to_string(),
    }
}

pub(crate) fn parse_hash(s: &str) -> Result<[u8; 32], RpcError> {
    // CometBFT's URI form writes hashes as 0x-prefixed hex.
    let bare = s.strip_prefix("0x").unwrap_or(s);
    let bytes = hex::decode(bare)
        .or_else(|_| base64::engine::general_purpose::STANDARD.decode(s))
        .map_err(|_| RpcError::invalid_params(format!("hash {s:?} is neither hex nor base64")))?;
    bytes
        .try_into()
        .map_err(|_| RpcError::invalid_params("hash must be 32 bytes"))
}

pub(crate) fn tx_response<'a>(
    b: &'a crate::index::StoredBlock,
    index: u32,
) -> Option<TxResponse<'a>> {
    let tx = b.txs.get(index as usize)?;
    let result = b.results.get(index as usize)?;
    let raw = base64::engine::general_purpose::STANDARD.decode(tx).ok()?;
    Some(TxResponse {
        hash: caspur_types::tx::tx_hash_hex(&raw),
        height: b.height.to_string(),
        index,
        tx_result: ExecTxResult::from(result),
        tx,
    })
}

fn tx<S>(ctx: &RpcContext<S>, params: &Value) -> Result<Value, RpcError> {
    let hash = parse_hash(
        param_str(params, "hash", 0).ok_or_else(|| RpcError::invalid_params("hash is required"))?,
    )?;
    let found = ctx
        .index
        .tx(&hash)
        .map_err(|e| RpcError::internal(e.to_string()))?;
    let (b, i) = found
        .ok_or_else(|| RpcError::internal(format!("tx ({}) not found", hex::encode_upper(hash))))?;
    to_value(
        tx_response(&b, i)
            .ok_or_else(|| RpcError::internal("indexed tx missing from its block"))?,
    )
}

/// `tx_search` supports `tx.hash='…'` and `tx.height=N` (joined by AND).
/// The block at the `height` parameter, or the latest one when it is absent or 0.
pub(crate) fn requested_block<S>(
    ctx: &RpcContext<S>,
    params: &Value,
) -> Result<crate::index::StoredBlock, RpcError> {
    match param_u64(params, "height", 0)? {
        Some(h) if h > 0 => ctx.index.block(h),
        _ => ctx.index.latest(),
    }
    .map_err(|e| RpcError::internal(e.to_string()))?
    .ok_or_else(|| {
        RpcError::internal(
            "height is not available: the block is not committed yet or not retained",
        )
    })
}

fn block<S>(ctx: &RpcContext<S>, params: &Value) -> Result<Value, RpcError> {
    to_value(block_response(&ctx.facts, &requested_block(ctx, params)?))
}
