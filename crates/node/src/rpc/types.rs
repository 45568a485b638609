//! CometBFT JSON-RPC response shapes, written by hand because clients such as CosmJS parse
//! CometBFT's exact encoding: 64-bit integers as strings, hashes as uppercase hex, tx bytes and
//! query values as base64, times as RFC 3339 with nanoseconds.

use crate::header::{header_hashes, HeaderHashes};
use crate::index::StoredBlock;
use caspur_app::TxResult;
use caspur_types::Event;
use serde::Serialize;

/// RFC 3339 with nanoseconds, as CometBFT prints block times.
pub fn rfc3339(ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(ms as i64)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// `status`.
#[derive(Serialize)]
pub struct Status {
    pub node_info: NodeInfo,
    pub sync_info: SyncInfo,
    pub validator_info: ValidatorInfo,
}

/// `status.node_info`.
#[derive(Serialize)]
pub struct NodeInfo {
    pub protocol_version: ProtocolVersion,
    pub id: String,
    pub listen_addr: String,
    pub network: String,
    pub version: String,
    pub channels: String,
    pub moniker: String,
    pub other: NodeOther,
}

/// `status.node_info.protocol_version`.
#[derive(Serialize)]
pub struct ProtocolVersion {
    pub p2p: String,
    pub block: String,
    pub app: String,
}

/// `status.node_info.other`.
#[derive(Serialize)]
pub struct NodeOther {
    pub tx_index: String,
    pub rpc_address: String,
    /// The Caspur release (`node_info.version` is the CometBFT RPC it speaks).
    pub caspur_version: String,
}

/// `status.sync_info`.
#[derive(Serialize)]
pub struct SyncInfo {
    pub latest_block_hash: String,
    pub latest_app_hash: String,
    pub latest_block_height: String,
    pub latest_block_time: String,
    pub earliest_block_hash: String,
    pub earliest_app_hash: String,
    pub earliest_block_height: String,
    pub earliest_block_time: String,
    pub catching_up: bool,
    /// Caspur's addition: the highest height this node has seen finalized by the network
    /// (the certificates of its peers), which `catching_up` compares with; the upgrade
    /// supervisor's canary reads it to tell a waiting node from a broken one.
    pub network_height: String,
}

/// `status.validator_info`.
#[derive(Serialize, Clone)]
pub struct ValidatorInfo {
    pub address: String,
    pub pub_key: PubKey,
    pub voting_power: String,
}

/// An amino-JSON public key.
#[derive(Serialize, Clone)]
pub struct PubKey {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

/// `abci_query`.
#[derive(Serialize)]
pub struct AbciQuery {
    pub response: AbciQueryResponse,
}

/// `abci_query.response`.
#[derive(Serialize)]
pub struct AbciQueryResponse {
    pub code: u32,
    pub log: String,
    pub info: String,
    pub index: String,
    pub key: Option<String>,
    pub value: Option<String>,
    #[serde(rename = "proofOps")]
    pub proof_ops: Option<ProofOps>,
    pub height: String,
    pub codespace: String,
}

/// Proof operations of a query.
#[derive(Serialize)]
pub struct ProofOps {
    pub ops: Vec<ProofOp>,
}

/// One proof operation.
#[derive(Serialize)]
pub struct ProofOp {
    #[serde(rename = "type")]
    pub kind: String,
    pub key: String,
    pub data: String,
}

/// `broadcast_tx_sync`.
#[derive(Serialize)]
pub struct BroadcastTx {
    pub code: u32,
    pub data: String,
    pub log: String,
    pub codespace: String,
    pub hash: String,
}

/// An ABCI event with plain-string attributes (CometBFT ≥ 0.37).
#[derive(Serialize)]
pub struct AbciEvent<'a> {
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub attributes: Vec<AbciAttribute<'a>>,
}

/// One event attribute.
#[derive(Serialize)]
pub struct AbciAttribute<'a> {
    pub key: &'a str,
    pub value: &'a str,
    pub index: bool,
}

/// Events in CometBFT's JSON form.
pub fn events(evs: &[Event]) -> Vec<AbciEvent<'_>> {
    evs.iter()
        .map(|e| AbciEvent {
            kind: &e.kind,
            attributes: e
                .attributes
                .iter()
                .map(|a| AbciAttribute {
                    key: &a.key,
                    value: &a.value,
                    index: a.index,
                })
                .collect(),
        })
        .collect()
}

/// `ExecTxResult`.
#[derive(Serialize)]
pub struct ExecTxResult<'a> {
    pub code: u32,
    pub data: Option<String>,
    pub log: &'a str,
    pub info: &'a str,
    pub gas_wanted: String,
    pub gas_used: String,
    pub events: Vec<AbciEvent<'a>>,
    pub codespace: &'a str,
}

impl<'a> ExecTxResult<'a> {
    /// From a tx result.
    pub fn from(r: &'a TxResult) -> Self {
        ExecTxResult {
            code: r.code,
            // CometBFT omits empty data; CosmJS decodes present data as base64 `TxMsgData`.
            data: (!r.data.is_empty()).then(|| {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD.encode(&r.data)
            }),
            log: &r.log,
            info: "",
            gas_wanted: r.gas_wanted.to_string(),
            gas_used: r.gas_used.to_string(),
            events: events(&r.events),
            codespace: &r.codespace,
        }
    }
}

/// One `tx_search` / `tx` result.
#[derive(Serialize)]
pub struct TxResponse<'a> {
    pub hash: String,
    pub height: String,
    pub index: u32,
    pub tx_result: ExecTxResult<'a>,
    pub tx: &'a str,
}

/// `tx_search`.
#[derive(Serialize)]
pub struct TxSearch<'a> {
    pub txs: Vec<TxResponse<'a>>,
    pub total_count: String,
}

/// A block id.
#[derive(Serialize)]
pub struct BlockId {
    pub hash: String,
    pub parts: PartSetHeader,
}

/// A part set header (one part: blocks travel whole here).
#[derive(Serialize)]
pub struct PartSetHeader {
    pub total: u32,
    pub hash: String,
}

impl BlockId {
    /// A block id for a hex hash.
    pub fn of(hash: &str) -> Self {
        BlockId {
            hash: hash.to_string(),
            parts: PartSetHeader {
                total: 1,
                hash: hash.to_string(),
            },
        }
    }
}

/// `block`.
#[derive(Serialize)]
pub struct BlockResponse {
    pub block_id: BlockId,
    pub block: Block,
}

/// A block.
#[derive(Serialize)]
pub struct Block {
    pub header: Header,
    pub data: BlockData,
    pub evidence: Evidence,
    pub last_commit: Commit,
}

/// A header.
#[derive(Serialize)]
pub struct Header {
    pub version: HeaderVersion,
    pub chain_id: String,
    pub height: String,
    pub time: String,
    pub last_block_id: BlockId,
    pub last_commit_hash: String,
    pub data_hash: String,
    pub validators_hash: String,
    pub next_validators_hash: String,
    pub consensus_hash: String,
    pub app_hash: String,
    pub last_results_hash: String,
    pub evidence_hash: String,
    pub proposer_address: String,
}

/// Header version.
#[derive(Serialize)]
pub struct HeaderVersion {
    pub block: String,
    pub app: String,
}

/// Block txs.
#[derive(Serialize)]
pub struct BlockData {
    pub txs: Vec<String>,
}

/// Evidence (none: double signing is handled by the slashing module's own evidence).
#[derive(Serialize)]
pub struct Evidence {
    pub evidence: Vec<()>,
}

/// The previous block's commit.
#[derive(Serialize)]
pub struct Commit {
    pub height: String,
    pub round: u64,
    pub block_id: BlockId,
    pub signatures: Vec<CommitSignature>,
}

/// One validator's part in a commit, as CometBFT writes it (`block_id_flag` 2: signed, 1:
/// absent).
#[derive(Serialize)]
pub struct CommitSignature {
    pub block_id_flag: i32,
    pub validator_address: String,
    pub timestamp: String,
    pub signature: Option<String>,
}

/// CometBFT's zero time, which absent signatures carry.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

impl CommitSignature {
    /// The JSON form of a protobuf `CommitSig`.
    pub fn of(sig: &cosmos_sdk_proto::tendermint::types::CommitSig) -> Self {
        let b64 = base64::engine::general_purpose::STANDARD;
        let signed = !sig.signature.is_empty();
        CommitSignature {
            block_id_flag: sig.block_id_flag,
            validator_address: hex::encode_upper(&sig.validator_address),
            timestamp: sig
                .timestamp
                .filter(|_| signed)
                .map_or(ZERO_TIME.to_string(), |t| {
                    rfc3339((t.seconds as u64) * 1000 + (t.nanos as u64) / 1_000_000)
                }),
            signature: signed.then(|| base64::Engine::encode(&b64, &sig.signature)),
        }
    }
}

/// The commit `b` carries over its parent.
pub fn last_commit(b: &StoredBlock, hashes: &HeaderHashes) -> Commit {
    Commit {
        height: b.height.saturating_sub(1).to_string(),
        round: b.last_commit.as_ref().map_or(0, |c| c.round),
        block_id: BlockId::of(&b.parent),
        signatures: hashes.commit_sigs.iter().map(CommitSignature::of).collect(),
    }
}

/// Builds the `block` response for a stored block of the chain `facts` describes.
pub fn block_response(facts: &super::NodeFacts, b: &StoredBlock) -> BlockResponse {
    let hashes = header_hashes(b, facts.block_max_bytes, facts.block_max_gas);
    let hex = hex::encode_upper;
    BlockResponse {
        block_id: BlockId::of(&b.hash),
        block: Block {
            header: Header {
                version: HeaderVersion {
                    block: "11".into(),
                    app: "0".into(),
                },
                chain_id: facts.chain_id.clone(),
                height: b.height.to_string(),
                time: rfc3339(b.time_ms),
                last_block_id: BlockId::of(&b.parent),
                last_commit_hash: hex(hashes.last_commit),
                data_hash: hex(hashes.data),
                validators_hash: hex(hashes.validators),
                next_validators_hash: hex(hashes.next_validators),
                consensus_hash: hex(hashes.consensus),
                app_hash: b.app_hash.clone(),
                last_results_hash: hex(hashes.last_results),
                evidence_hash: hex(hashes.empty),
                proposer_address: hex::encode_upper(hashes.proposer),
            },
            data: BlockData { txs: b.txs.clone() },
            evidence: Evidence {
                evidence: Vec::new(),
            },
            last_commit: last_commit(b, &hashes),
        },
    }
}
