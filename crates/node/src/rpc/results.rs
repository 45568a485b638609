//! `block_results`, `abci_info` and `validators`: a block's tx results, what the app last
//! committed, and who finalizes a height.

use super::types::ExecTxResult;
use super::{param_u64, requested_block, to_value, RpcContext, RpcError};
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
        "finalize_block_events": super::types::events(&stored.block_events),
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

/// Answers `validators` (latest height when none is given), paged as CometBFT pages it.
pub(crate) fn validators<S>(ctx: &RpcContext<S>, params: &Value) -> Result<Value, RpcError> {
    let height = param_u64(params, "height", 0)?.filter(|h| *h > 0);
    let (height, set) = crate::queries::validator_set(ctx, height)
        .map_err(|e| RpcError::invalid_params(e.message))?;
    let total = set.len();
    let shown = super::search::paginate(
        set,
        param_u64(params, "page", 1)?,
        param_u64(params, "per_page", 2)?,
    )?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let validators: Vec<Value> = shown
        .iter()
        .map(|m| {
            json!({
                "address": hex::encode_upper(m.address),
                "pub_key": {"type": "tendermint/PubKeyEd25519", "value": b64.encode(m.pub_key)},
                "voting_power": m.power.to_string(),
                "proposer_priority": "0",
            })
        })
        .collect();
    to_value(json!({
        "block_height": height.to_string(),
        "validators": validators,
        "count": validators.len().to_string(),
        "total": total.to_string(),
    }))
}
