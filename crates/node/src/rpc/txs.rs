//! CometBFT's tx methods: `broadcast_tx_sync` / `_async` (admission), `broadcast_tx_commit`
//! (admission, then the block), `check_tx` (CheckTx without admitting), and the pending txs
//! (`unconfirmed_txs`, `num_unconfirmed_txs`).

use super::types::BroadcastTx;
use super::{param_str, param_u64, to_value, tx_response, RpcContext, RpcError};
use base64::Engine as _;
use caspur_store::{StateProve, StateScan};
use serde_json::{json, Value};

/// Longest `broadcast_tx_commit` waits for the block (CometBFT's `timeout_broadcast_tx_commit`),
/// and always a second less than the request may take.
pub const BROADCAST_COMMIT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// Most txs one `unconfirmed_txs` call lists (CometBFT's 100; 30 by default).
pub const MAX_UNCONFIRMED_LIST: u64 = 100;

fn raw_tx(params: &Value) -> Result<Vec<u8>, RpcError> {
    let tx =
        param_str(params, "tx", 0).ok_or_else(|| RpcError::invalid_params("tx is required"))?;
    base64::engine::general_purpose::STANDARD
        .decode(tx)
        .map_err(|e| RpcError::invalid_params(format!("tx must be base64: {e}")))
}

/// Admits `raw`; CometBFT's `ResponseCheckTx` of the admission.
async fn admit<S: StateScan + StateProve + Clone + 'static>(
    ctx: &RpcContext<S>,
    raw: Vec<u8>,
) -> BroadcastTx {
    let hash = caspur_types::tx::tx_hash_hex(&raw);
    let (code, log, codespace) = match ctx.mempool.submit(raw).await {
        Ok(_) => (0, String::new(), String::new()),
        Err(e) => (e.code.code(), e.log(), e.codespace().to_string()),
    };
    BroadcastTx {
        code,
        data: String::new(),
        log,
        codespace,
        hash,
    }
}

/// `broadcast_tx_sync` and `broadcast_tx_async`.
pub(crate) async fn broadcast<S: StateScan + StateProve + Clone + 'static>(
    ctx: &RpcContext<S>,
    params: &Value,
) -> Result<Value, RpcError> {
    to_value(admit(ctx, raw_tx(params)?).await)
}

/// `broadcast_tx_commit`: the admission, then the tx's result once a block holds it.
pub(crate) async fn broadcast_commit<S: StateScan + StateProve + Clone + 'static>(
    ctx: &RpcContext<S>,
    params: &Value,
) -> Result<Value, RpcError> {
    let raw = raw_tx(params)?;
    let hash = caspur_types::tx::tx_hash(&raw);
    // Subscribed before admission, so that the block cannot pass unseen.
    let mut blocks = ctx.feed.subscribe();
    let checked = admit(ctx, raw).await;
    if checked.code != 0 {
        return Ok(
            json!({"check_tx": checked, "tx_result": {}, "hash": checked.hash, "height": "0"}),
        );
    }
    let wait = BROADCAST_COMMIT_TIMEOUT.min(
        ctx.limits
            .request_timeout
            .saturating_sub(std::time::Duration::from_secs(1)),
    );
    let waited = tokio::time::timeout(wait, async {
        loop {
            match blocks.recv().await {
                Ok(b) => {
                    if let Some(i) = b
                        .raw_txs()
                        .iter()
                        .position(|t| caspur_types::tx::tx_hash(t) == hash)
                    {
                        return Some((b, i as u32));
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    // Blocks went by unseen: the index has them.
                    if let Ok(Some((b, i))) = ctx.index.tx(&hash) {
                        return Some((std::sync::Arc::new(b), i));
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
    .await;
    let Ok(Some((block, index))) = waited else {
        return Err(RpcError::internal(
            "timed out waiting for tx to be included in a block",
        ));
    };
    let tx = tx_response(&block, index)
        .ok_or_else(|| RpcError::internal("the tx's block holds no result for it"))?;
    Ok(json!({
        "check_tx": checked,
        "tx_result": tx.tx_result,
        "hash": checked.hash,
        "height": block.height.to_string(),
    }))
}

/// `check_tx`: CheckTx against the mempool's state, admitting nothing.
pub(crate) async fn check_tx<S: StateScan + StateProve + Clone + 'static>(
    ctx: &RpcContext<S>,
    params: &Value,
) -> Result<Value, RpcError> {
    let raw = raw_tx(params)?;
    Ok(match ctx.mempool.check_only(&raw).await {
        Ok(c) => json!({
            "code": 0, "data": null, "log": "", "info": "",
            "gas_wanted": c.gas_wanted.to_string(), "gas_used": "0",
            "events": [], "codespace": "",
        }),
        Err(e) => json!({
            "code": e.code.code(), "data": null, "log": e.log(), "info": "",
            "gas_wanted": "0", "gas_used": "0", "events": [], "codespace": e.codespace(),
        }),
    })
}

/// `unconfirmed_txs` (`limit`, default 30, at most 100) and `num_unconfirmed_txs`.
pub(crate) fn unconfirmed<S: StateScan + StateProve + Clone + 'static>(
    ctx: &RpcContext<S>,
    params: &Value,
    list: bool,
) -> Result<Value, RpcError> {
    let limit = if list {
        param_u64(params, "limit", 0)?
            .unwrap_or(30)
            .clamp(1, MAX_UNCONFIRMED_LIST)
    } else {
        0
    };
    let (txs, total, bytes) = ctx.mempool.pending_txs(limit as usize);
    let b64 = base64::engine::general_purpose::STANDARD;
    let txs: Option<Vec<String>> = list.then(|| txs.iter().map(|t| b64.encode(t)).collect());
    Ok(json!({
        "n_txs": txs.as_ref().map_or(0, Vec::len).to_string(),
        "total": total.to_string(),
        "total_bytes": bytes.to_string(),
        "txs": txs,
    }))
}
