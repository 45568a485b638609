//! Targets over the JSON-RPC door: whole requests (methods and their params, batches) through
//! the real axum router on a node context, and the two query grammars (`tx_search`, WebSocket
//! subscriptions) also run against an index holding blocks.

use crate::gen;
use arbitrary::Unstructured;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use caspur_app::{BlockInfo, TxResult};
use caspur_consensus::validator_sets::SetsByHeight;
use caspur_consensus::{ChainTip, FinalizedBlock};
use caspur_node::index::BlockIndex;
use caspur_node::mempool::{Mempool, MempoolConfig};
use caspur_node::rpc::types::{PubKey, ValidatorInfo};
use caspur_node::rpc::{self, NodeFacts, RpcContext, RpcLimits};
use caspur_store::MemState;
use caspur_types::Event;
use serde_json::{json, Value};
use std::sync::{Arc, OnceLock};
use tower::ServiceExt as _;

const METHODS: &[&str] = &[
    "health",
    "status",
    "abci_query",
    "broadcast_tx_sync",
    "broadcast_tx_async",
    "tx_search",
    "tx",
    "block",
    "block_results",
    "abci_info",
    "validators",
];
const PARAMS: &[&str] = &[
    "height", "hash", "query", "page", "per_page", "order_by", "tx", "path", "data", "prove",
    "prove",
];

struct Node {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
}

fn node() -> &'static Node {
    static NODE: OnceLock<Node> = OnceLock::new();
    NODE.get_or_init(|| {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(r) => r,
            Err(e) => panic!("tokio runtime: {e}"),
        };
        let router = runtime.block_on(async { rpc::router(Arc::new(context())) });
        Node { runtime, router }
    })
}

fn context() -> RpcContext<MemState> {
    // The small chain the message handlers run on: funded accounts, a validator.
    let (app, state) = crate::app_targets::chain();
    let (app, state) = (Arc::new(app.clone()), state.clone());
    let next = BlockInfo {
        height: 3,
        time_ms: 1_700_000_003_000,
    };
    let mempool = Arc::new(Mempool::new(
        app.clone(),
        MempoolConfig::default(),
        state.clone(),
        next,
    ));
    // The index lives as long as the process: the temporary directory is kept.
    let dir = tempfile::tempdir()
        .map(|d| d.keep())
        .unwrap_or_else(|e| panic!("tempdir: {e}"));
    let index = BlockIndex::open(&dir.join("index.redb")).unwrap_or_else(|e| panic!("index: {e}"));
    for height in 1..=3 {
        if let Err(e) = index.insert(&block(height)) {
            panic!("index insert: {e}");
        }
    }
    let (feed, _) = tokio::sync::broadcast::channel(4);
    let sets = crate::consensus_targets::sets().clone();
    RpcContext {
        app,
        state,
        mempool,
        index: Arc::new(index),
        facts: NodeFacts {
            chain_id: "caspur-fuzz-1".into(),
            moniker: "fuzz".into(),
            node_id: "00".repeat(20),
            listen_addr: "127.0.0.1:1".into(),
            rpc_addr: "127.0.0.1:2".into(),
            validator: ValidatorInfo {
                address: String::new(),
                pub_key: PubKey {
                    kind: "tendermint/PubKeyEd25519".into(),
                    value: String::new(),
                },
                voting_power: "0".into(),
            },
            block_max_bytes: 1 << 20,
            block_max_gas: None,
            genesis: Arc::new(br#"{"chain_id":"caspur-fuzz-1"}"#.to_vec()),
        },
        tip: ChainTip::default(),
        feed,
        validator_sets: SetsByHeight::new(sets, commonware_utils::NZU64!(100)),
        limits: RpcLimits::default(),
        feeds: Default::default(),
        runtime_metrics: None,
        genesis_validators: Default::default(),
    }
}

/// A block with two txs whose results carry indexed events.
fn block(height: u64) -> FinalizedBlock {
    let result = |i: u64| TxResult {
        code: (i % 2) as u32 * 5,
        codespace: "sdk".into(),
        log: String::new(),
        gas_wanted: 100,
        gas_used: 50,
        events: vec![
            Event::new("message").attr("sender", gen::addr(1 + (i % 4) as u8).to_string()),
            Event::new("transfer").attr("amount", format!("{i}ucsp")),
        ],
        data: Vec::new(),
    };
    FinalizedBlock {
        height,
        hash: [height as u8; 32],
        parent: [height as u8 - 1; 32],
        proposer: [1; 32],
        time_ms: 1_700_000_000_000 + height * 1000,
        txs: vec![vec![height as u8, 1], vec![height as u8, 2]],
        results: vec![result(height * 2), result(height * 2 + 1)],
        block_events: Vec::new(),
        app_hash: [7; 32],
        state_size: 10,
        consensus: Default::default(),
        ..Default::default()
    }
}

fn value(u: &mut Unstructured<'_>, depth: u32) -> arbitrary::Result<Value> {
    Ok(match u.int_in_range(0..=8)? {
        0 => Value::Null,
        1 => json!(u.arbitrary::<bool>()?),
        2 => json!(u.arbitrary::<i64>()?),
        3 => json!(u.int_in_range(0u64..=5)?.to_string()),
        4 => json!(u.arbitrary::<String>()?),
        5 => json!(format!("{:064x}", u.arbitrary::<u128>()?)),
        6 => {
            json!("tx.height=2 AND message.sender='".to_string() + &gen::addr(1).to_string() + "'")
        }
        7 if depth > 0 => {
            let n = u.int_in_range(0..=3)?;
            Value::Array(
                (0..n)
                    .map(|_| value(u, depth - 1))
                    .collect::<Result<_, _>>()?,
            )
        }
        _ if depth > 0 => params(u, depth - 1)?,
        _ => json!(u.arbitrary::<f64>()?),
    })
}

fn params(u: &mut Unstructured<'_>, depth: u32) -> arbitrary::Result<Value> {
    let mut map = serde_json::Map::new();
    for _ in 0..u.int_in_range(0..=4)? {
        let key = if u.ratio(1, 8)? {
            u.arbitrary()?
        } else {
            u.choose(PARAMS)?.to_string()
        };
        map.insert(key, value(u, depth)?);
    }
    Ok(Value::Object(map))
}

fn call(u: &mut Unstructured<'_>, id: usize) -> arbitrary::Result<Value> {
    let method = if u.ratio(1, 10)? {
        u.arbitrary()?
    } else {
        u.choose(METHODS)?.to_string()
    };
    let params = if u.ratio(1, 4)? {
        value(u, 2)?
    } else {
        params(u, 2)?
    };
    Ok(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
}

fn post(body: Vec<u8>) -> (StatusCode, Vec<u8>) {
    let request = Request::post("/")
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap_or_else(|e| panic!("request: {e}"));
    send(request)
}

/// The public incident feeds' paths, with generated ids and paging.
fn feed_path(u: &mut Unstructured<'_>) -> arbitrary::Result<String> {
    Ok(match u.int_in_range(0..=6u8)? {
        0 => format!(
            "/incidents?limit={}&before={}",
            u.arbitrary::<u32>()?,
            u.arbitrary::<u64>()?
        ),
        1 => format!("/incidents/{}", u.arbitrary::<u64>()?),
        2 => "/incidents.atom".into(),
        3 => "/api/v2/summary.json".into(),
        4 => "/.well-known/security.txt".into(),
        5 => format!("/incidents/{}", u.arbitrary::<String>()?),
        _ => format!("/incidents?{}", u.arbitrary::<String>()?),
    })
}

fn send(request: Request<Body>) -> (StatusCode, Vec<u8>) {
    let node = node();
    node.runtime.block_on(async {
        let response = match node.router.clone().oneshot(request).await {
            Ok(r) => r,
            Err(e) => match e {},
        };
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .map(|b| b.to_vec())
            .unwrap_or_default();
        (status, bytes)
    })
}

/// A generated request — one call or a batch, or raw bytes, or a GET of an incident feed —
/// through the router: every JSON-RPC answer is JSON (an envelope, or a list of them), and
/// the feeds answer without panicking (their JSON pages are JSON).
pub fn rpc_requests(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let body = match u.int_in_range(0..=6u8) {
        Ok(6) => {
            let Ok(path) = feed_path(&mut u) else { return };
            // A path the HTTP layer refuses to parse never reaches the router.
            let Ok(request) = Request::get(path.as_str()).body(Body::empty()) else {
                return;
            };
            let (status, reply) = send(request);
            if status == StatusCode::OK && path.starts_with("/incidents") && !path.contains(".atom")
            {
                assert!(
                    serde_json::from_slice::<Value>(&reply).is_ok(),
                    "{path}: a 200 feed page that is not JSON"
                );
            }
            return;
        }
        Ok(0) => u.take_rest().to_vec(),
        Ok(1) => {
            let n = u.int_in_range(0..=12usize).unwrap_or(0);
            let calls: Vec<Value> = (0..n).filter_map(|i| call(&mut u, i).ok()).collect();
            serde_json::to_vec(&calls).unwrap_or_default()
        }
        _ => match call(&mut u, 1) {
            Ok(c) => serde_json::to_vec(&c).unwrap_or_default(),
            Err(_) => return,
        },
    };
    let (status, reply) = post(body);
    if status == StatusCode::OK {
        assert!(
            serde_json::from_slice::<Value>(&reply).is_ok(),
            "a 200 reply that is not JSON: {}",
            String::from_utf8_lossy(&reply)
        );
    }
}

/// A query string → both grammars, then `tx_search` with it (and generated paging) against
/// the indexed blocks.
pub fn tx_search(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(query) = u.arbitrary::<String>() else {
        return;
    };
    let (as_search, _) = rpc::parse_queries(&query);
    let page = u.int_in_range(0..=4i64).unwrap_or(1);
    let per_page = u.int_in_range(0..=120i64).unwrap_or(30);
    let order = if u.ratio(1, 2).unwrap_or(true) {
        "asc"
    } else {
        "desc"
    };
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tx_search",
        "params": {"query": query, "page": page.to_string(), "per_page": per_page.to_string(), "order_by": order}});
    let (status, reply) = post(serde_json::to_vec(&call).unwrap_or_default());
    assert_eq!(status, StatusCode::OK);
    let reply: Value = serde_json::from_slice(&reply).unwrap_or(Value::Null);
    if !as_search {
        assert!(
            reply.get("error").is_some(),
            "a query the grammar refuses was answered: {reply}"
        );
    }
}
