//! State of the breaks under accountability (records are protobuf):
//!
//! | key | value |
//! |---|---|
//! | `[DCERT, 20]` | the next break id (u64 BE) |
//! | `[DCERT, 21] ‖ id` | the break's record (`BreakRecord`) |
//! | `[DCERT, 22] …` | time queue of ratification deadlines (payload id) |
//! | `[DCERT, 23] …` | height queue of `max_break_blocks` expiries (payload id) |
//! | `[DCERT, 24] ‖ incident id` | ids of the breaks that named the incident (u64 BE each) |
//!
//! Ids in keys are little-endian, as the incident module's: the store indexes a key by its
//! first eight bytes, and the low bytes of an id are the ones that differ.

use crate::context::{KvRead, KvWrite};
use crate::error::ExecError;
use crate::modules::ids::DCERT;
use crate::queue::TimeQueue;
use caspur_store::keys::key;
use caspur_types::proto::dcert::v1 as pb;
use prost::Message as _;

const NEXT_ID: [u8; 2] = [DCERT, 20];
const RECORD: [u8; 2] = [DCERT, 21];
const BY_INCIDENT: [u8; 2] = [DCERT, 24];

/// Ratification deadlines (block time).
pub const RATIFY_QUEUE: TimeQueue = TimeQueue::new([DCERT, 22]);
/// `max_break_blocks` expiries: the queue's "time" is a block height.
pub const EXPIRY_QUEUE: TimeQueue = TimeQueue::new([DCERT, 23]);

/// Most breaks that may name one incident (each is a record the incident's disclosure
/// deadline walks).
pub const MAX_BREAKS_PER_INCIDENT: usize = 64;

fn corrupt(what: &str) -> ExecError {
    ExecError::logic(format!("corrupt dCERT break {what}"))
}

/// Takes the next break id (ids start at 1).
pub async fn next_id(kv: &mut impl KvWrite) -> Result<u64, ExecError> {
    let id = match kv.get(&NEXT_ID).await? {
        None => 1,
        Some(b) => u64::from_be_bytes(b.as_slice().try_into().map_err(|_| corrupt("counter"))?),
    };
    kv.put(NEXT_ID.to_vec(), (id + 1).to_be_bytes().to_vec())?;
    Ok(id)
}

/// A break's record.
pub async fn get(kv: &mut impl KvRead, id: u64) -> Result<Option<pb::BreakRecord>, ExecError> {
    kv.get(&key(&RECORD, &[&id.to_le_bytes()]))
        .await?
        .map(|b| pb::BreakRecord::decode(b.as_slice()).map_err(|_| corrupt("record")))
        .transpose()
}

/// A break's record, or a not-found error naming the id.
pub async fn require(kv: &mut impl KvRead, id: u64) -> Result<pb::BreakRecord, ExecError> {
    get(kv, id).await?.ok_or_else(|| {
        ExecError::Tx(caspur_types::TxError {
            code: caspur_types::ErrorCode::KeyNotFound,
            message: format!("dCERT break {id} does not exist"),
        })
    })
}

/// Stores a break's record.
pub fn set(kv: &mut impl KvWrite, r: &pb::BreakRecord) -> Result<(), ExecError> {
    kv.put(key(&RECORD, &[&r.id.to_le_bytes()]), r.encode_to_vec())
}

/// The ids of the breaks that named `incident`, in the order they were made.
pub async fn by_incident(kv: &mut impl KvRead, incident: u64) -> Result<Vec<u64>, ExecError> {
    let bytes = kv
        .get(&key(&BY_INCIDENT, &[&incident.to_le_bytes()]))
        .await?
        .unwrap_or_default();
    if !bytes.len().is_multiple_of(8) {
        return Err(corrupt("incident list"));
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| {
            let mut id = [0u8; 8];
            id.copy_from_slice(c);
            u64::from_be_bytes(id)
        })
        .collect())
}

/// Adds break `id` to `incident`'s list; refused when the list holds
/// [`MAX_BREAKS_PER_INCIDENT`] already.
pub async fn add_to_incident(
    kv: &mut impl KvWrite,
    incident: u64,
    id: u64,
) -> Result<(), ExecError> {
    let mut ids = by_incident(kv, incident).await?;
    if ids.len() >= MAX_BREAKS_PER_INCIDENT {
        return Err(ExecError::invalid_request(format!(
            "incident {incident} has been named by {MAX_BREAKS_PER_INCIDENT} breaks, the most \
             one incident may answer"
        )));
    }
    ids.push(id);
    kv.put(
        key(&BY_INCIDENT, &[&incident.to_le_bytes()]),
        ids.iter().flat_map(|i| i.to_be_bytes()).collect(),
    )
}
