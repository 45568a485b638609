//! CometBFT's chain-reading methods that explorers and relayers call besides `block`:
//! `header`, `header_by_hash`, `block_by_hash`, `blockchain`, `consensus_params`, `genesis`
//! and `genesis_chunked`, in CometBFT 0.38's shapes.

use super::types::block_response;
use super::{param_str, param_u64, parse_hash, requested_block, RpcContext, RpcError};
use crate::index::StoredBlock;
use base64::Engine as _;
use serde_json::{json, Value};

/// Most block metas one `blockchain` call returns (CometBFT's 20).
pub const MAX_BLOCKCHAIN_METAS: u64 = 20;
/// Bytes of one `genesis_chunked` chunk, and the largest genesis `genesis` returns whole
/// (CometBFT's 16 MiB).
pub const GENESIS_CHUNK_BYTES: usize = 16 << 20;

fn internal(e: crate::index::IndexError) -> RpcError {
    RpcError::internal(e.to_string())
}

/// The block with hash `hash` (hex, `0x`-hex or base64).
fn by_hash<S>(ctx: &RpcContext<S>, params: &Value) -> Result<StoredBlock, RpcError> {
    let hash =
        param_str(params, "hash", 0).ok_or_else(|| RpcError::invalid_params("hash is required"))?;
    let hash = parse_hash(hash)?;
    let height = ctx.index.height_of(&hash).map_err(internal)?;
    height
        .map(|h| ctx.index.block(h))
        .transpose()
        .map_err(internal)?
        .flatten()
        .ok_or_else(|| {
            RpcError::invalid_params(format!("no block with hash {}", hex::encode_upper(hash)))
        })
}

fn header_of(facts: &super::NodeFacts, b: &StoredBlock) -> Result<Value, RpcError> {
    let r = block_response(facts, b);
    super::to_value(r.block.header)
}

/// `header`: the header at `height` (latest when absent).
pub(crate) fn header<S>(ctx: &RpcContext<S>, params: &Value) -> Result<Value, RpcError> {
    let b = requested_block(ctx, params)?;
    Ok(json!({ "header": header_of(&ctx.facts, &b)? }))
}

/// `header_by_hash`.
pub(crate) fn header_by_hash<S>(ctx: &RpcContext<S>, params: &Value) -> Result<Value, RpcError> {
    let b = by_hash(ctx, params)?;
    Ok(json!({ "header": header_of(&ctx.facts, &b)? }))
}

/// `block_by_hash`: the same answer as `block`.
pub(crate) fn block_by_hash<S>(ctx: &RpcContext<S>, params: &Value) -> Result<Value, RpcError> {
    super::to_value(block_response(&ctx.facts, &by_hash(ctx, params)?))
}

/// `blockchain`: block metas from `maxHeight` down to `minHeight`, at most 20, newest first.
pub(crate) fn blockchain<S>(ctx: &RpcContext<S>, params: &Value) -> Result<Value, RpcError> {
    let (base, last) = ctx
        .index
        .bounds()
        .map_err(internal)?
        .ok_or_else(|| RpcError::internal("no block is stored yet"))?;
    let min = param_u64(params, "minHeight", 0)?
        .filter(|h| *h > 0)
        .unwrap_or(base);
    let max = param_u64(params, "maxHeight", 1)?
        .filter(|h| *h > 0)
        .unwrap_or(last)
        .min(last);
    if min > max {
        return Err(RpcError::invalid_params(format!(
            "min height {min} can't be greater than max height {max}"
        )));
    }
    let min = min
        .max(max.saturating_sub(MAX_BLOCKCHAIN_METAS - 1))
        .max(base);
    let mut metas = Vec::new();
    for h in (min..=max).rev() {
        let Some(b) = ctx.index.block(h).map_err(internal)? else {
            continue;
        };
        let r = block_response(&ctx.facts, &b);
        metas.push(json!({
            "block_id": r.block_id,
            "block_size": b.size_bytes.to_string(),
            "header": r.block.header,
            "num_txs": b.txs.len().to_string(),
        }));
    }
    Ok(json!({"last_height": last.to_string(), "block_metas": metas}))
}

/// The consensus parameters in CometBFT's JSON (they do not change: the genesis ones).
fn consensus_params_json<S>(ctx: &RpcContext<S>) -> Value {
    let p = crate::queries::consensus_params(ctx);
    let p = p.params.unwrap_or_default();
    let block = p.block.unwrap_or_default();
    let evidence = p.evidence.unwrap_or_default();
    let age = evidence.max_age_duration.unwrap_or_default();
    let age_ns = i128::from(age.seconds) * 1_000_000_000 + i128::from(age.nanos);
    json!({
        "block": {"max_bytes": block.max_bytes.to_string(), "max_gas": block.max_gas.to_string()},
        "evidence": {
            "max_age_num_blocks": evidence.max_age_num_blocks.to_string(),
            "max_age_duration": age_ns.to_string(),
            "max_bytes": evidence.max_bytes.to_string(),
        },
        "validator": {"pub_key_types": p.validator.unwrap_or_default().pub_key_types},
        "version": {"app": p.version.unwrap_or_default().app.to_string()},
        "abci": {"vote_extensions_enable_height": "0"},
    })
}

/// `consensus_params` at `height` (latest when absent).
pub(crate) fn consensus_params<S>(ctx: &RpcContext<S>, params: &Value) -> Result<Value, RpcError> {
    let b = requested_block(ctx, params)?;
    Ok(json!({
        "block_height": b.height.to_string(),
        "consensus_params": consensus_params_json(ctx),
    }))
}

/// The genesis document in CometBFT's shape: its consensus parameters as CometBFT names them,
/// the validators with CometBFT addresses and typed keys, and Caspur's own fields kept.
fn comet_genesis<S>(ctx: &RpcContext<S>) -> Result<Value, RpcError> {
    use sha2::{Digest, Sha256};
    let mut g: Value = serde_json::from_slice(&ctx.facts.genesis)
        .map_err(|e| RpcError::internal(format!("the genesis file is not JSON: {e}")))?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let validators: Vec<Value> = g["validators"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|v| {
            let key = hex::decode(v["pub_key"].as_str().unwrap_or_default()).unwrap_or_default();
            json!({
                "address": hex::encode_upper(&Sha256::digest(&key)[..20]),
                "pub_key": {"type": "tendermint/PubKeyEd25519", "value": b64.encode(&key)},
                "power": v["power"].as_u64().unwrap_or(0).to_string(),
                "name": v["name"],
            })
        })
        .collect();
    g["validators"] = Value::Array(validators);
    g["consensus_params"] = consensus_params_json(ctx);
    g["app_hash"] = json!("");
    if let Some(h) = g["initial_height"].as_u64() {
        g["initial_height"] = json!(h.to_string());
    }
    Ok(g)
}

/// `genesis`: the genesis document, when it fits one answer.
pub(crate) fn genesis<S>(ctx: &RpcContext<S>) -> Result<Value, RpcError> {
    let doc = comet_genesis(ctx)?;
    if ctx.facts.genesis.len() > GENESIS_CHUNK_BYTES {
        return Err(RpcError::internal(
            "genesis response is large, please use the genesis_chunked API instead",
        ));
    }
    Ok(json!({ "genesis": doc }))
}

/// `genesis_chunked`: chunk `chunk` (from 0) of the same document's JSON, base64.
pub(crate) fn genesis_chunked<S>(ctx: &RpcContext<S>, params: &Value) -> Result<Value, RpcError> {
    let doc =
        serde_json::to_vec(&comet_genesis(ctx)?).map_err(|e| RpcError::internal(e.to_string()))?;
    let chunks: Vec<&[u8]> = doc.chunks(GENESIS_CHUNK_BYTES).collect();
    let id = param_u64(params, "chunk", 0)?.unwrap_or(0);
    let chunk = chunks.get(id as usize).ok_or_else(|| {
        RpcError::invalid_params(format!(
            "there are {} chunks, {id} is invalid",
            chunks.len()
        ))
    })?;
    Ok(json!({
        "chunk": id.to_string(),
        "total": chunks.len().to_string(),
        "data": base64::engine::general_purpose::STANDARD.encode(chunk),
    }))
}
