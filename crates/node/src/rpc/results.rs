//! `block_results` and `abci_info`: a block's tx results, and what the app last committed.

use super::types::ExecTxResult;
use super::{requested_block, to_value, RpcContext, RpcError};
use base64::Engine as _;
use serde_json::{json, Value};

/// Answers `block_results` (latest block when no height is given).
pub(crate) fn block_results<S>(ctx: &RpcContext<S>, params: &Value) -> Result<Value, RpcError> {
    let stored = requested_block(ctx, params)?;
    let results: Vec<ExecTxResult<'_>> = stored.results.iter().map(ExecTxResult::from).collect();
    let app_hash = hex::decode(&stored.app_hash).unwrap_or_default();
    to_value(json!({
        "height": stored.height.to_string(),
        "txs_results": results,
        "finalize_block_events": [],
        "validator_updates": null,
        "consensus_param_updates": null,
        "app_hash": base64::engine::general_purpose::STANDARD.encode(app_hash),
    }))
}

/// Answers `abci_info`.
pub(crate) fn abci_info<S>(ctx: &RpcContext<S>) -> Result<Value, RpcError> {
    let latest = ctx
        .index
        .latest()
        .map_err(|e| RpcError::internal(e.to_string()))?;
    let (height, app_hash) = match latest {
        Some(b) => (b.height, hex::decode(&b.app_hash).unwrap_or_default()),
        None => (0, Vec::new()),
    };
    to_value(json!({
        "response": {
            "data": "caspur",
            "version": env!("CARGO_PKG_VERSION"),
            "app_version": "1",
            "last_block_height": height.to_string(),
            "last_block_app_hash": base64::engine::general_purpose::STANDARD.encode(app_hash),
        }
    }))
}
