//! `gov` state; records are gov v1's protobuf messages:
//!
//! | key | value |
//! |---|---|
//! | `[GOV, 0]` | params (JSON) |
//! | `[GOV, 1]` | next proposal id (u64 BE) |
//! | `[GOV, 2] ‖ id` | `Proposal` |
//! | `[GOV, 3] ‖ id ‖ depositor` | `Deposit` |
//! | `[GOV, 4] ‖ id` | its depositors, sorted |
//! | `[GOV, 5] ‖ id ‖ voter` | `Vote` |
//! | `[GOV, 6] ‖ id` | its voters, sorted |
//! | `[GOV, 7]`, `[GOV, 8]` | time queues: deposit deadlines, voting deadlines (payload: id) |

use super::params::GovParams;
use crate::context::{KvRead, KvWrite};
use crate::error::ExecError;
use crate::modules::ids::GOV;
use crate::queue::TimeQueue;
use caspur_store::keys::key;
use caspur_types::{Address, Coins};
use cosmos_sdk_proto::cosmos::gov::v1 as pb;
use prost::Message as _;

const PARAMS: [u8; 2] = [GOV, 0];
const NEXT_ID: [u8; 2] = [GOV, 1];
/// Prefix of proposals.
pub const PROPOSAL: [u8; 2] = [GOV, 2];
/// Prefix of deposits.
pub const DEPOSIT: [u8; 2] = [GOV, 3];
const DEPOSITORS: [u8; 2] = [GOV, 4];
/// Prefix of votes.
pub const VOTE: [u8; 2] = [GOV, 5];
const VOTERS: [u8; 2] = [GOV, 6];
/// Proposals by deposit deadline.
pub const DEPOSIT_QUEUE: TimeQueue = TimeQueue::new([GOV, 7]);
/// Proposals by voting deadline.
pub const VOTING_QUEUE: TimeQueue = TimeQueue::new([GOV, 8]);

/// The module account holding deposits, and the `authority` of every `MsgUpdateParams`
/// (`sha256("gov")[..20]`, as in Cosmos).
pub fn gov_address() -> Address {
    use sha2::{Digest, Sha256};
    let mut a = [0u8; 20];
    a.copy_from_slice(&Sha256::digest(b"gov")[..20]);
    Address(a)
}

fn corrupt(what: &str) -> ExecError {
    ExecError::logic(format!("corrupt gov state: {what}"))
}

/// The parameters (defaults if never set).
pub async fn get_params(kv: &mut impl KvRead) -> Result<GovParams, ExecError> {
    crate::params::read(kv, &PARAMS).await
}

/// Stores the parameters.
pub fn set_params(kv: &mut impl KvWrite, p: &GovParams) -> Result<(), ExecError> {
    crate::params::write(kv, &PARAMS, p)
}

/// Takes the next proposal id.
pub async fn next_id(kv: &mut impl KvWrite) -> Result<u64, ExecError> {
    let id = match kv.get(&NEXT_ID).await? {
        None => 1,
        Some(b) => u64::from_be_bytes(b.as_slice().try_into().map_err(|_| corrupt("next id"))?),
    };
    kv.put(NEXT_ID.to_vec(), (id + 1).to_be_bytes().to_vec())?;
    Ok(id)
}

/// Sets the next proposal id (genesis).
pub fn set_next_id(kv: &mut impl KvWrite, id: u64) -> Result<(), ExecError> {
    kv.put(NEXT_ID.to_vec(), id.to_be_bytes().to_vec())
}

fn proposal_key(id: u64) -> Vec<u8> {
    key(&PROPOSAL, &[&id.to_be_bytes()])
}

/// A proposal, if it exists.
pub async fn get_proposal(
    kv: &mut impl KvRead,
    id: u64,
) -> Result<Option<pb::Proposal>, ExecError> {
    kv.get(&proposal_key(id))
        .await?
        .map(|b| pb::Proposal::decode(b.as_slice()).map_err(|_| corrupt("proposal")))
        .transpose()
}

/// A proposal, or an error naming it.
pub async fn require_proposal(kv: &mut impl KvRead, id: u64) -> Result<pb::Proposal, ExecError> {
    get_proposal(kv, id).await?.ok_or_else(|| {
        ExecError::Tx(caspur_types::TxError {
            code: caspur_types::ErrorCode::KeyNotFound,
            message: format!("proposal {id} does not exist"),
        })
    })
}

/// Stores a proposal.
pub fn set_proposal(kv: &mut impl KvWrite, p: &pb::Proposal) -> Result<(), ExecError> {
    kv.put(proposal_key(p.id), p.encode_to_vec())
}

/// Removes a proposal.
pub fn delete_proposal(kv: &mut impl KvWrite, id: u64) -> Result<(), ExecError> {
    kv.delete(proposal_key(id))
}

async fn address_list(kv: &mut impl KvRead, k: &[u8]) -> Result<Vec<Address>, ExecError> {
    let bytes = kv.get(k).await?.unwrap_or_default();
    if !bytes.len().is_multiple_of(20) {
        return Err(corrupt("address list"));
    }
    Ok(bytes
        .chunks_exact(20)
        .map(|c| {
            let mut a = [0u8; 20];
            a.copy_from_slice(c);
            Address(a)
        })
        .collect())
}

async fn add_to_list(kv: &mut impl KvWrite, k: Vec<u8>, a: &Address) -> Result<(), ExecError> {
    let mut list = address_list(kv, &k).await?;
    if let Err(at) = list.binary_search(a) {
        list.insert(at, *a);
        kv.put(k, list.iter().flat_map(|a| a.0).collect())?;
    }
    Ok(())
}

fn deposit_key(id: u64, depositor: &Address) -> Vec<u8> {
    key(&DEPOSIT, &[&id.to_be_bytes(), &depositor.0])
}

/// What `depositor` has deposited on proposal `id`.
pub async fn get_deposit(
    kv: &mut impl KvRead,
    id: u64,
    depositor: &Address,
) -> Result<Coins, ExecError> {
    match kv.get(&deposit_key(id, depositor)).await? {
        None => Ok(Coins::empty()),
        Some(b) => {
            let d = pb::Deposit::decode(b.as_slice()).map_err(|_| corrupt("deposit"))?;
            Ok(Coins::from_proto(&d.amount)?)
        }
    }
}

/// Records `depositor`'s total deposit on proposal `id`.
pub async fn set_deposit(
    kv: &mut impl KvWrite,
    id: u64,
    depositor: &Address,
    amount: &Coins,
) -> Result<(), ExecError> {
    let d = pb::Deposit {
        proposal_id: id,
        depositor: depositor.to_account_string(),
        amount: amount.to_proto(),
    };
    kv.put(deposit_key(id, depositor), d.encode_to_vec())?;
    add_to_list(kv, key(&DEPOSITORS, &[&id.to_be_bytes()]), depositor).await
}

/// The depositors of proposal `id`, sorted.
pub async fn depositors(kv: &mut impl KvRead, id: u64) -> Result<Vec<Address>, ExecError> {
    address_list(kv, &key(&DEPOSITORS, &[&id.to_be_bytes()])).await
}

/// Forgets every deposit record of proposal `id` (after refund or burn).
pub async fn clear_deposits(kv: &mut impl KvWrite, id: u64) -> Result<(), ExecError> {
    for d in depositors(kv, id).await? {
        kv.delete(deposit_key(id, &d))?;
    }
    kv.delete(key(&DEPOSITORS, &[&id.to_be_bytes()]))
}

fn vote_key(id: u64, voter: &Address) -> Vec<u8> {
    key(&VOTE, &[&id.to_be_bytes(), &voter.0])
}

/// `voter`'s vote on proposal `id`, if any.
pub async fn get_vote(
    kv: &mut impl KvRead,
    id: u64,
    voter: &Address,
) -> Result<Option<pb::Vote>, ExecError> {
    kv.get(&vote_key(id, voter))
        .await?
        .map(|b| pb::Vote::decode(b.as_slice()).map_err(|_| corrupt("vote")))
        .transpose()
}

/// Records (or replaces) a vote.
pub async fn set_vote(
    kv: &mut impl KvWrite,
    id: u64,
    voter: &Address,
    vote: &pb::Vote,
) -> Result<(), ExecError> {
    kv.put(vote_key(id, voter), vote.encode_to_vec())?;
    add_to_list(kv, key(&VOTERS, &[&id.to_be_bytes()]), voter).await
}

/// The voters of proposal `id`, sorted.
pub async fn voters(kv: &mut impl KvRead, id: u64) -> Result<Vec<Address>, ExecError> {
    address_list(kv, &key(&VOTERS, &[&id.to_be_bytes()])).await
}

/// Forgets every vote on proposal `id` (after its tally).
pub async fn clear_votes(kv: &mut impl KvWrite, id: u64) -> Result<(), ExecError> {
    for v in voters(kv, id).await? {
        kv.delete(vote_key(id, &v))?;
    }
    kv.delete(key(&VOTERS, &[&id.to_be_bytes()]))
}
