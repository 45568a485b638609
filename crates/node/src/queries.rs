//! The query router behind both `abci_query` and gRPC: the queries the node answers itself
//! (blocks, node info, txs, consensus parameters), then the app's state queries. Every query
//! has one implementation, whichever door it came through.

use crate::header::header_hashes;
use crate::index::StoredBlock;
use crate::rpc::types::rfc3339;
use crate::rpc::RpcContext;
use caspur_app::query::decode_request as decode;
use caspur_store::{StateProve, StateScan};
use caspur_types::{ErrorCode, TxError};
use cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxResponse;
use cosmos_sdk_proto::cosmos::base::tendermint::v1beta1 as base;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{GetTxRequest, GetTxResponse, Tx};
use cosmos_sdk_proto::tendermint::google::protobuf::{Duration, Timestamp};
use cosmos_sdk_proto::tendermint::{abci, p2p, types, version};
use cosmos_sdk_proto::Any;
use prost::Message as _;

/// `cosmos.base.tendermint.v1beta1.Service/GetLatestBlock`.
pub const GET_LATEST_BLOCK: &str = "/cosmos.base.tendermint.v1beta1.Service/GetLatestBlock";
/// `cosmos.base.tendermint.v1beta1.Service/GetBlockByHeight`.
pub const GET_BLOCK_BY_HEIGHT: &str = "/cosmos.base.tendermint.v1beta1.Service/GetBlockByHeight";
/// `cosmos.base.tendermint.v1beta1.Service/GetNodeInfo`.
pub const GET_NODE_INFO: &str = "/cosmos.base.tendermint.v1beta1.Service/GetNodeInfo";
/// `cosmos.base.tendermint.v1beta1.Service/GetSyncing`.
pub const GET_SYNCING: &str = "/cosmos.base.tendermint.v1beta1.Service/GetSyncing";
/// `cosmos.base.tendermint.v1beta1.Service/GetLatestValidatorSet`.
pub const GET_LATEST_VALIDATOR_SET: &str =
    "/cosmos.base.tendermint.v1beta1.Service/GetLatestValidatorSet";
/// `cosmos.base.tendermint.v1beta1.Service/GetValidatorSetByHeight`.
pub const GET_VALIDATOR_SET_BY_HEIGHT: &str =
    "/cosmos.base.tendermint.v1beta1.Service/GetValidatorSetByHeight";
/// `cosmos.tx.v1beta1.Service/GetTx`.
pub const GET_TX: &str = "/cosmos.tx.v1beta1.Service/GetTx";
/// `cosmos.consensus.v1.Query/Params`.
pub const CONSENSUS_PARAMS: &str = "/cosmos.consensus.v1.Query/Params";

/// The Cosmos SDK API level whose query and tx encodings this node serves; clients such as
/// cosmpy read it from `GetNodeInfo` to pick their code paths.
pub const SDK_API_VERSION: &str = "v0.50.0";

/// `cosmos.consensus.v1.QueryParamsResponse` (`cosmos-sdk-proto` ships the file but does not
/// export the module).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ConsensusParamsResponse {
    /// The chain's consensus parameters.
    #[prost(message, optional, tag = "1")]
    pub params: Option<types::ConsensusParams>,
}

/// Bech32 prefix of consensus (validator key) addresses.
const VALCONS_PREFIX: &str = "caspurvalcons";

/// Answers `path` with protobuf `data` against the latest committed block and state.
pub async fn query<S: StateScan + StateProve + Clone + 'static>(
    ctx: &RpcContext<S>,
    path: &str,
    data: &[u8],
) -> Result<Vec<u8>, TxError> {
    match path {
        // The two block responses, and the two validator-set responses below, share their
        // fields and numbers, so one encoding serves both methods.
        GET_LATEST_BLOCK => Ok(block_response(ctx, &latest(ctx)?)),
        GET_BLOCK_BY_HEIGHT => {
            let height = positive(decode::<base::GetBlockByHeightRequest>(data)?.height)?;
            let b = ctx.index.block(height).map_err(io)?.ok_or_else(|| {
                TxError::invalid_height(format!(
                    "block {height} is not available: not committed yet or not retained"
                ))
            })?;
            Ok(block_response(ctx, &b))
        }
        GET_NODE_INFO => Ok(node_info(ctx).encode_to_vec()),
        GET_SYNCING => {
            let height = ctx.index.bounds().map_err(io)?.map_or(0, |(_, l)| l);
            Ok(base::GetSyncingResponse {
                syncing: ctx.tip.catching_up(height),
            }
            .encode_to_vec())
        }
        GET_LATEST_VALIDATOR_SET => validator_set_response(ctx, None),
        GET_VALIDATOR_SET_BY_HEIGHT => {
            let request = decode::<base::GetValidatorSetByHeightRequest>(data)?;
            validator_set_response(ctx, Some(positive(request.height)?))
        }
        GET_TX => get_tx(ctx, &decode::<GetTxRequest>(data)?.hash),
        CONSENSUS_PARAMS => Ok(consensus_params(ctx).encode_to_vec()),
        _ => {
            let next_block = match latest(ctx) {
                Ok(b) => caspur_app::BlockInfo {
                    height: b.height + 1,
                    time_ms: b.time_ms,
                },
                Err(_) => caspur_app::BlockInfo {
                    height: 1,
                    time_ms: 0,
                },
            };
            caspur_app::query::query(&ctx.app, &ctx.state, path, data, &next_block).await
        }
    }
}

fn positive(height: i64) -> Result<u64, TxError> {
    u64::try_from(height)
        .ok()
        .filter(|h| *h > 0)
        .ok_or_else(|| TxError::invalid_height("height must be positive"))
}

/// `GetBlockByHeightResponse` (wire-identical to `GetLatestBlockResponse`).
fn block_response<S>(ctx: &RpcContext<S>, b: &StoredBlock) -> Vec<u8> {
    let (block_id, block, sdk_block) = proto_block(&ctx.facts, b);
    base::GetBlockByHeightResponse {
        block_id: Some(block_id),
        block: Some(block),
        sdk_block: Some(sdk_block),
    }
    .encode_to_vec()
}

/// `GetValidatorSetByHeightResponse` (wire-identical to `GetLatestValidatorSetResponse`).
fn validator_set_response<S>(ctx: &RpcContext<S>, height: Option<u64>) -> Result<Vec<u8>, TxError> {
    let (height, set) = validator_set(ctx, height)?;
    Ok(base::GetValidatorSetByHeightResponse {
        block_height: height as i64,
        validators: set.iter().map(sdk_validator).collect(),
        pagination: None,
    }
    .encode_to_vec())
}

fn io(e: crate::index::IndexError) -> TxError {
    TxError::io(e.to_string())
}

fn latest<S>(ctx: &RpcContext<S>) -> Result<StoredBlock, TxError> {
    ctx.index
        .latest()
        .map_err(io)?
        .ok_or_else(|| TxError::invalid_height("no block has been committed yet"))
}

fn timestamp(ms: u64) -> Timestamp {
    Timestamp {
        seconds: (ms / 1000) as i64,
        nanos: ((ms % 1000) * 1_000_000) as i32,
    }
}

fn hash_bytes(hex_hash: &str) -> Vec<u8> {
    hex::decode(hex_hash).unwrap_or_default()
}

fn block_id(hex_hash: &str) -> types::BlockId {
    types::BlockId {
        hash: hash_bytes(hex_hash),
        part_set_header: Some(types::PartSetHeader {
            total: 1,
            hash: hash_bytes(hex_hash),
        }),
    }
}

/// The block as the tendermint base service returns it: CometBFT's block and the SDK's (which
/// writes the proposer as a bech32 consensus address).
fn proto_block(
    facts: &crate::rpc::NodeFacts,
    b: &StoredBlock,
) -> (types::BlockId, types::Block, base::Block) {
    let hashes = header_hashes(b, facts.block_max_bytes, facts.block_max_gas);
    let header = types::Header {
        version: Some(version::Consensus { block: 11, app: 0 }),
        chain_id: facts.chain_id.clone(),
        height: b.height as i64,
        time: Some(timestamp(b.time_ms)),
        last_block_id: Some(block_id(&b.parent)),
        last_commit_hash: hashes.last_commit.to_vec(),
        data_hash: hashes.data.to_vec(),
        validators_hash: hashes.validators.to_vec(),
        next_validators_hash: hashes.next_validators.to_vec(),
        consensus_hash: hashes.consensus.to_vec(),
        app_hash: hash_bytes(&b.app_hash),
        last_results_hash: hashes.last_results.to_vec(),
        evidence_hash: hashes.empty.to_vec(),
        proposer_address: hashes.proposer.to_vec(),
    };
    let data = types::Data { txs: b.raw_txs() };
    let last_commit = types::Commit {
        height: b.height.saturating_sub(1) as i64,
        round: b.last_commit.as_ref().map_or(0, |c| c.round) as i32,
        block_id: Some(block_id(&b.parent)),
        signatures: hashes.commit_sigs.clone(),
    };
    let sdk_header = base::Header {
        version: header.version,
        chain_id: header.chain_id.clone(),
        height: header.height,
        time: header.time,
        last_block_id: header.last_block_id.clone(),
        last_commit_hash: header.last_commit_hash.clone(),
        data_hash: header.data_hash.clone(),
        validators_hash: header.validators_hash.clone(),
        next_validators_hash: header.next_validators_hash.clone(),
        consensus_hash: header.consensus_hash.clone(),
        app_hash: header.app_hash.clone(),
        last_results_hash: header.last_results_hash.clone(),
        evidence_hash: header.evidence_hash.clone(),
        proposer_address: caspur_types::Address(hashes.proposer).to_bech32(VALCONS_PREFIX),
    };
    let sdk_block = base::Block {
        header: Some(sdk_header),
        data: Some(data.clone()),
        evidence: Some(types::EvidenceList::default()),
        last_commit: Some(last_commit.clone()),
    };
    let block = types::Block {
        header: Some(header),
        data: Some(data),
        evidence: Some(types::EvidenceList::default()),
        last_commit: Some(last_commit),
    };
    (block_id(&b.hash), block, sdk_block)
}

/// A validator set member as RPC reports it: CometBFT address, ed25519 key, power.
pub struct SetMember {
    /// First 20 bytes of the SHA-256 of the key.
    pub address: [u8; 20],
    /// Ed25519 public key.
    pub pub_key: [u8; 32],
    /// Voting power.
    pub power: u64,
}

/// The set that finalizes block `height` (latest when `None`), ordered as CometBFT orders
/// sets: by voting power, highest first, then by address.
pub fn validator_set<S>(
    ctx: &RpcContext<S>,
    height: Option<u64>,
) -> Result<(u64, Vec<SetMember>), TxError> {
    let latest = ctx.index.bounds().map_err(io)?.map_or(0, |(_, l)| l);
    let height = height.unwrap_or(latest).max(1);
    if height > latest.max(1) {
        return Err(TxError::invalid_height(format!(
            "height {height} must be less than or equal to the current blockchain height {latest}"
        )));
    }
    let set = ctx.validator_sets.at(height).ok_or_else(|| {
        TxError::invalid_height(format!(
            "the validator set of height {height} is not known to this node"
        ))
    })?;
    let mut members: Vec<SetMember> = set
        .iter()
        .map(|v| SetMember {
            address: crate::header::address_of(&v.pub_key),
            pub_key: v.pub_key,
            power: v.power,
        })
        .collect();
    members.sort_by(|a, b| b.power.cmp(&a.power).then(a.address.cmp(&b.address)));
    Ok((height, members))
}

fn sdk_validator(m: &SetMember) -> base::Validator {
    base::Validator {
        address: caspur_types::Address(m.address).to_bech32(VALCONS_PREFIX),
        pub_key: Some(Any {
            type_url: "/cosmos.crypto.ed25519.PubKey".into(),
            value: cosmos_sdk_proto::cosmos::crypto::ed25519::PubKey {
                key: m.pub_key.to_vec(),
            }
            .encode_to_vec(),
        }),
        voting_power: m.power as i64,
        proposer_priority: 0,
    }
}

fn node_info<S>(ctx: &RpcContext<S>) -> base::GetNodeInfoResponse {
    let f = &ctx.facts;
    base::GetNodeInfoResponse {
        default_node_info: Some(p2p::DefaultNodeInfo {
            protocol_version: Some(p2p::ProtocolVersion {
                p2p: 8,
                block: 11,
                app: 0,
            }),
            default_node_id: f.node_id.clone(),
            listen_addr: f.listen_addr.clone(),
            network: f.chain_id.clone(),
            version: crate::rpc::COMET_VERSION.into(),
            channels: Vec::new(),
            moniker: f.moniker.clone(),
            other: Some(p2p::DefaultNodeInfoOther {
                tx_index: "on".into(),
                rpc_address: f.rpc_addr.clone(),
            }),
        }),
        application_version: Some(base::VersionInfo {
            name: "caspur".into(),
            app_name: "caspurd".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            git_commit: String::new(),
            build_tags: String::new(),
            go_version: String::new(),
            build_deps: Vec::new(),
            cosmos_sdk_version: SDK_API_VERSION.into(),
        }),
    }
}

pub(crate) fn consensus_params<S>(ctx: &RpcContext<S>) -> ConsensusParamsResponse {
    ConsensusParamsResponse {
        params: Some(types::ConsensusParams {
            block: Some(types::BlockParams {
                max_bytes: ctx.facts.block_max_bytes as i64,
                max_gas: ctx.facts.block_max_gas.map_or(-1, |g| g as i64),
            }),
            // Double-sign evidence is judged by the slashing module, not by age limits of the
            // consensus engine; these are CometBFT's defaults, reported for clients that read them.
            evidence: Some(types::EvidenceParams {
                max_age_num_blocks: 100_000,
                max_age_duration: Some(Duration {
                    seconds: 172_800,
                    nanos: 0,
                }),
                max_bytes: 1_048_576,
            }),
            validator: Some(types::ValidatorParams {
                pub_key_types: vec!["ed25519".into()],
            }),
            version: Some(types::VersionParams { app: 0 }),
            abci: Some(types::AbciParams {
                vote_extensions_enable_height: 0,
            }),
        }),
    }
}

/// A committed tx; a pending or unknown one is `NotFound` (clients poll until it lands).
fn get_tx<S>(ctx: &RpcContext<S>, hash: &str) -> Result<Vec<u8>, TxError> {
    let not_found = || TxError {
        code: ErrorCode::KeyNotFound,
        message: format!("tx not found: {hash}"),
    };
    let bytes: [u8; 32] = hex::decode(hash.trim_start_matches("0x"))
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| TxError::invalid_request(format!("tx hash {hash:?} is not 32 hex bytes")))?;
    let (b, index) = ctx.index.tx(&bytes).map_err(io)?.ok_or_else(not_found)?;
    let (raw, response) = tx_response(&b, index).ok_or_else(not_found)?;
    Ok(GetTxResponse {
        tx: Tx::decode(raw.as_slice()).ok(),
        tx_response: Some(response),
    }
    .encode_to_vec())
}

/// The SDK's `TxResponse` for the tx at `index` of `b`, with its raw bytes.
pub fn tx_response(b: &StoredBlock, index: u32) -> Option<(Vec<u8>, TxResponse)> {
    let raw = b.raw_txs().into_iter().nth(index as usize)?;
    let result = b.results.get(index as usize)?;
    let response = TxResponse {
        height: b.height as i64,
        txhash: caspur_types::tx::tx_hash_hex(&raw),
        codespace: result.codespace.clone(),
        code: result.code,
        data: hex::encode_upper(&result.data),
        raw_log: result.log.clone(),
        logs: Vec::new(),
        info: String::new(),
        gas_wanted: result.gas_wanted as i64,
        gas_used: result.gas_used as i64,
        tx: Some(Any {
            type_url: "/cosmos.tx.v1beta1.Tx".into(),
            value: raw.clone(),
        }),
        timestamp: rfc3339(b.time_ms),
        events: result
            .events
            .iter()
            .map(|e| abci::Event {
                r#type: e.kind.clone(),
                attributes: e
                    .attributes
                    .iter()
                    .map(|a| abci::EventAttribute {
                        key: a.key.clone(),
                        value: a.value.clone(),
                        index: a.index,
                    })
                    .collect(),
            })
            .collect(),
    };
    Some((raw, response))
}
