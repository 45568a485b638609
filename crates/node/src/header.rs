//! The commitments a CometBFT header carries, computed for Caspur's blocks so explorers show
//! the truth: the validator sets' hashes (CometBFT's merkle of `SimpleValidator`s, by the
//! maintained `tendermint` crate), the consensus parameters' hash (`HashedParams`), the last
//! commit (the certificate over the parent each block carries) and its hash, the tx results
//! hash the block commits, the data hash and the proposer's address.
//!
//! Caspur executes a block before it is committed, so its header's `app_hash` is the state
//! after the block and `last_results_hash` is the hash of the block's own tx results (the one
//! its proposer committed to), where CometBFT's refer to the previous block.

use crate::index::StoredBlock;
use caspur_app::validators::Validator;
use cosmos_sdk_proto::tendermint::google::protobuf::Timestamp;
use cosmos_sdk_proto::tendermint::types::{BlockIdFlag, CommitSig, HashedParams};
use prost::Message as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The certificate a stored block carries over its parent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCommit {
    /// CometBFT's round of the parent.
    pub round: u64,
    /// Every member of the parent's set, in the set's order.
    pub votes: Vec<StoredVote>,
}

/// One member's part in a stored certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredVote {
    /// Upper-case hex of its ed25519 consensus key.
    pub pub_key: String,
    /// Base64 of its signature, when it signed.
    pub signature: Option<String>,
}

impl StoredCommit {
    /// From what consensus handed the node.
    pub fn from_consensus(c: &caspur_consensus::LastCommit) -> Self {
        let b64 = base64::engine::general_purpose::STANDARD;
        StoredCommit {
            round: c.round,
            votes: c
                .votes
                .iter()
                .map(|v| StoredVote {
                    pub_key: hex::encode_upper(v.pub_key),
                    signature: v
                        .signature
                        .as_ref()
                        .map(|s| base64::Engine::encode(&b64, s)),
                })
                .collect(),
        }
    }
}

/// CometBFT's address of an ed25519 key: the first 20 bytes of its SHA-256.
pub fn address_of(pub_key: &[u8]) -> [u8; 20] {
    let mut out = [0u8; 20];
    out.copy_from_slice(&Sha256::digest(pub_key)[..20]);
    out
}

/// CometBFT's hash of a validator set (sorted by power, then address; SHA-256 of nothing
/// for an empty or unreadable set).
pub fn validators_hash(set: &[Validator]) -> [u8; 32] {
    use tendermint::{validator, vote::Power, PublicKey};
    let infos: Option<Vec<validator::Info>> = set
        .iter()
        .map(|v| {
            let key = PublicKey::from_raw_ed25519(&v.pub_key)?;
            let power = Power::try_from(v.power).ok()?;
            Some(validator::Info::new(key, power))
        })
        .collect();
    match infos {
        Some(infos) => {
            let hash = validator::Set::without_proposer(infos).hash();
            hash.as_bytes()
                .try_into()
                .unwrap_or_else(|_| Sha256::digest([]).into())
        }
        None => Sha256::digest([]).into(),
    }
}

/// CometBFT's hash of the consensus parameters: SHA-256 of `HashedParams` (block max bytes and
/// max gas, -1 for unlimited).
pub fn consensus_hash(block_max_bytes: u64, block_max_gas: Option<u64>) -> [u8; 32] {
    let params = HashedParams {
        block_max_bytes: i64::try_from(block_max_bytes).unwrap_or(i64::MAX),
        block_max_gas: block_max_gas.map_or(-1, |g| i64::try_from(g).unwrap_or(i64::MAX)),
    };
    Sha256::digest(params.encode_to_vec()).into()
}

/// The commit signatures of `b`'s certificate over its parent as CometBFT's `CommitSig`s,
/// stamped with `b`'s time (simplex votes carry none); empty when the block carries none.
pub fn commit_sigs(b: &StoredBlock) -> Vec<CommitSig> {
    let Some(commit) = &b.last_commit else {
        return Vec::new();
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    let time = Timestamp {
        seconds: (b.time_ms / 1000) as i64,
        nanos: ((b.time_ms % 1000) * 1_000_000) as i32,
    };
    commit
        .votes
        .iter()
        .map(|v| {
            let key = hex::decode(&v.pub_key).unwrap_or_default();
            let signature = v
                .signature
                .as_ref()
                .and_then(|s| base64::Engine::decode(&b64, s).ok());
            match signature {
                Some(signature) => CommitSig {
                    block_id_flag: BlockIdFlag::Commit as i32,
                    validator_address: address_of(&key).to_vec(),
                    timestamp: Some(time),
                    signature,
                },
                None => CommitSig {
                    block_id_flag: BlockIdFlag::Absent as i32,
                    validator_address: Vec::new(),
                    timestamp: None,
                    signature: Vec::new(),
                },
            }
        })
        .collect()
}

/// CometBFT's hash of a commit: the merkle root of its encoded signatures.
pub fn commit_hash(sigs: &[CommitSig]) -> [u8; 32] {
    let leaves: Vec<Vec<u8>> = sigs.iter().map(|s| s.encode_to_vec()).collect();
    tendermint::merkle::simple_hash_from_byte_vectors::<tendermint::crypto::default::Sha256>(
        &leaves,
    )
}

/// The hashes a block header carries that the stored block does not hold directly.
pub struct HeaderHashes {
    /// SHA-256 of the empty string (the evidence hash: Caspur's evidence is in its blocks'
    /// own encoding, not CometBFT's).
    pub empty: [u8; 32],
    /// Hash of the tx hashes.
    pub data: [u8; 32],
    /// The proposer's CometBFT address.
    pub proposer: [u8; 20],
    /// Hash of the set that finalized the block.
    pub validators: [u8; 32],
    /// Hash of the next block's set.
    pub next_validators: [u8; 32],
    /// Hash of the consensus parameters.
    pub consensus: [u8; 32],
    /// Hash of the certificate over the parent.
    pub last_commit: [u8; 32],
    /// Hash of the block's tx results.
    pub last_results: [u8; 32],
    /// The certificate over the parent as CometBFT's signatures.
    pub commit_sigs: Vec<CommitSig>,
}

/// [`HeaderHashes`] of `b` on a chain with these consensus parameters.
pub fn header_hashes(
    b: &StoredBlock,
    block_max_bytes: u64,
    block_max_gas: Option<u64>,
) -> HeaderHashes {
    let empty: [u8; 32] = Sha256::digest([]).into();
    let mut data = Sha256::new();
    for t in b.raw_txs() {
        data.update(Sha256::digest(&t));
    }
    let stored = |hex_hash: &str| -> [u8; 32] {
        hex::decode(hex_hash)
            .ok()
            .and_then(|v| v.try_into().ok())
            .unwrap_or(empty)
    };
    let commit_sigs = commit_sigs(b);
    HeaderHashes {
        empty,
        data: data.finalize().into(),
        proposer: address_of(&hex::decode(&b.proposer).unwrap_or_default()),
        validators: stored(&b.validators_hash),
        next_validators: stored(&b.next_validators_hash),
        consensus: consensus_hash(block_max_bytes, block_max_gas),
        last_commit: commit_hash(&commit_sigs),
        last_results: stored(&b.results_hash),
        commit_sigs,
    }
}
