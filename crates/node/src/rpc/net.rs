//! CometBFT's `commit`, `net_info` and `consensus_state`, mapped onto simplex.
//!
//! - `commit` at height H: H's header and the certificate over H that block H+1 carries
//!   (`canonical: true`); for the latest block, whose certificate no block carries yet, the
//!   header with no signatures and `canonical: false` (CometBFT's "seen commit" case).
//! - `net_info`: the peers the p2p tracker holds connections to (its
//!   `p2p_tracker_directory_connected` gauge family, one sample per peer key), named by the
//!   genesis validator that has the key.
//! - `consensus_state`: simplex has no prevote/precommit steps and no locked block; what maps
//!   is the height being decided (latest + 1), round 0, step 1 (`NewHeight`: waiting for the
//!   next proposal) and the time the last block was committed. Who signed is in each block's
//!   `last_commit`.

use super::types::{block_response, last_commit, BlockId, Commit};
use super::{requested_block, RpcContext, RpcError};
use crate::header::header_hashes;
use serde_json::{json, Value};

/// The p2p tracker's gauge family with one sample per connected peer (labelled by its key).
pub const CONNECTED_PEERS_FAMILY: &str = "p2p_tracker_directory_connected";

/// Most peers `net_info` lists (the p2p layer admits far fewer).
pub const MAX_NET_INFO_PEERS: usize = 1_000;

fn internal(e: crate::index::IndexError) -> RpcError {
    RpcError::internal(e.to_string())
}

/// `commit` at `height` (latest when absent).
pub(crate) fn commit<S>(ctx: &RpcContext<S>, params: &Value) -> Result<Value, RpcError> {
    let b = requested_block(ctx, params)?;
    let header = block_response(&ctx.facts, &b).block.header;
    let next = ctx.index.block(b.height + 1).map_err(internal)?;
    let (commit, canonical) = match next {
        Some(next) => {
            let hashes = header_hashes(&next, ctx.facts.block_max_bytes, ctx.facts.block_max_gas);
            (last_commit(&next, &hashes), true)
        }
        None => (
            Commit {
                height: b.height.to_string(),
                round: 0,
                block_id: BlockId::of(&b.hash),
                signatures: Vec::new(),
            },
            false,
        ),
    };
    Ok(json!({
        "signed_header": {"header": header, "commit": commit},
        "canonical": canonical,
    }))
}

/// `consensus_state`: see the module documentation for how simplex maps onto it.
pub(crate) fn consensus_state<S>(ctx: &RpcContext<S>) -> Result<Value, RpcError> {
    let latest = ctx.index.tips().map(|(_, last)| last);
    let (height, start) = match &latest {
        Some(b) => (b.height + 1, super::types::rfc3339(b.time_ms)),
        None => (1, String::new()),
    };
    Ok(json!({
        "round_state": {
            "height/round/step": format!("{height}/0/1"),
            "start_time": start,
            "proposal_block_hash": "",
            "locked_block_hash": "",
            "valid_block_hash": "",
            "height_vote_set": [],
            "proposer": {"address": "", "index": "-1"},
        }
    }))
}

/// The keys (hex) of the peers a runtime metrics exposition shows connections to.
pub fn connected_peers(exposition: &str) -> Vec<String> {
    exposition
        .lines()
        .filter_map(|l| l.strip_prefix(CONNECTED_PEERS_FAMILY)?.strip_prefix("{"))
        .filter_map(|labels| {
            let start = labels.find("peer=\"")? + "peer=\"".len();
            let end = labels[start..].find('"')? + start;
            Some(labels[start..end].to_string())
        })
        .take(MAX_NET_INFO_PEERS)
        .collect()
}

/// `net_info`: this node's listener and the peers it is connected to.
pub(crate) fn net_info<S>(ctx: &RpcContext<S>) -> Result<Value, RpcError> {
    let exposition = ctx
        .runtime_metrics
        .as_ref()
        .map(|f| f())
        .unwrap_or_default();
    let genesis: Value = serde_json::from_slice(&ctx.facts.genesis).unwrap_or_default();
    let validators = genesis["validators"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let peers: Vec<Value> = connected_peers(&exposition)
        .into_iter()
        .map(|key| {
            let known = validators.iter().find(|v| {
                v["pub_key"]
                    .as_str()
                    .is_some_and(|k| k.eq_ignore_ascii_case(&key))
            });
            let moniker = known.and_then(|v| v["name"].as_str()).unwrap_or("");
            let address = known.and_then(|v| v["address"].as_str()).unwrap_or("");
            let remote_ip = address.rsplit_once(':').map_or("", |(host, _)| host);
            json!({
                "node_info": {
                    "protocol_version": {"p2p": "8", "block": "11", "app": "0"},
                    "id": key.get(..40).unwrap_or(&key).to_lowercase(),
                    "listen_addr": address,
                    "network": ctx.facts.chain_id,
                    "version": "",
                    "channels": "",
                    "moniker": moniker,
                    "other": {"tx_index": "on", "rpc_address": ""},
                },
                "is_outbound": false,
                "connection_status": {},
                "remote_ip": remote_ip,
            })
        })
        .collect();
    Ok(json!({
        "listening": true,
        "listeners": [format!("Listener(@{})", ctx.facts.listen_addr)],
        "n_peers": peers.len().to_string(),
        "peers": peers,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connected_peers_are_read_from_the_tracker_family_only() {
        let text = "# HELP p2p_tracker_directory_connected x\n\
            p2p_tracker_directory_connected{peer=\"ab01\"} 17\n\
            p2p_tracker_directory_connected_total{peer=\"ff\"} 1\n\
            p2p_tracker_directory_connected{peer=\"cd02\",other=\"x\"} 18\n\
            other{peer=\"ee\"} 1\n";
        assert_eq!(connected_peers(text), vec!["ab01", "cd02"]);
    }
}
