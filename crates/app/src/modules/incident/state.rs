//! `incident` state (records are protobuf, params JSON):
//!
//! | key | value |
//! |---|---|
//! | `[INCIDENT, 1]` | params (JSON) |
//! | `[INCIDENT, 2]` | the next incident id (u64 BE) |
//! | `[INCIDENT, 3] ‖ id` | the incident's public record |
//! | `[INCIDENT, 4] ‖ id` | its sealed report |
//! | `[INCIDENT, 5] ‖ id ‖ seq` | timeline entry `seq` |
//! | `[INCIDENT, 6] …` | time queue of verification-SLA deadlines (payload id) |
//! | `[INCIDENT, 7] …` | time queue of disclosure deadlines (payload id) |
//! | `[INCIDENT, 8] ‖ plan name` | the incident linked to an upgrade plan (id) |
//! | `[INCIDENT, 9] ‖ id` | present while the incident is open (not rejected, closed or aborted) |
//!
//! Ids in keys are little-endian: the store's index keeps a key's first 8 bytes, and the low
//! bytes of an id are the ones that differ.

use super::params::IncidentParams;
use crate::context::{KvRead, KvWrite};
use crate::error::ExecError;
use crate::modules::ids::INCIDENT;
use crate::queue::TimeQueue;
use caspur_store::keys::key;
use caspur_types::proto::incident::v1 as pb;
use prost::Message;

const PARAMS: [u8; 2] = [INCIDENT, 1];
const NEXT_ID: [u8; 2] = [INCIDENT, 2];
const RECORD: [u8; 2] = [INCIDENT, 3];
const SEALED: [u8; 2] = [INCIDENT, 4];
const TIMELINE: [u8; 2] = [INCIDENT, 5];
const PLAN_LINK: [u8; 2] = [INCIDENT, 8];
const OPEN: [u8; 2] = [INCIDENT, 9];

/// Verification-SLA deadlines of reports.
pub const SLA_QUEUE: TimeQueue = TimeQueue::new([INCIDENT, 6]);
/// Disclosure deadlines of resolved incidents.
pub const DISCLOSURE_QUEUE: TimeQueue = TimeQueue::new([INCIDENT, 7]);

fn corrupt(what: &str) -> ExecError {
    ExecError::logic(format!("corrupt incident {what}"))
}

fn id_key(prefix: &[u8; 2], id: u64) -> Vec<u8> {
    key(prefix, &[&id.to_le_bytes()])
}

/// The parameters.
pub async fn get_params(kv: &mut impl KvRead) -> Result<IncidentParams, ExecError> {
    crate::params::read(kv, &PARAMS).await
}

/// Stores the parameters.
pub fn set_params(kv: &mut impl KvWrite, p: &IncidentParams) -> Result<(), ExecError> {
    crate::params::write(kv, &PARAMS, p)
}

/// The id the next report gets (ids start at 1).
pub async fn next_id(kv: &mut impl KvRead) -> Result<u64, ExecError> {
    match kv.get(&NEXT_ID).await? {
        None => Ok(1),
        Some(b) => Ok(u64::from_be_bytes(
            b.as_slice().try_into().map_err(|_| corrupt("next id"))?,
        )),
    }
}

/// Stores the next id.
pub fn set_next_id(kv: &mut impl KvWrite, id: u64) -> Result<(), ExecError> {
    kv.put(NEXT_ID.to_vec(), id.to_be_bytes().to_vec())
}

/// An incident's record.
pub async fn incident(kv: &mut impl KvRead, id: u64) -> Result<Option<pb::Incident>, ExecError> {
    crate::records::read(kv, &id_key(&RECORD, id), "incident record").await
}

/// An incident's record, or a not-found error naming the id.
pub async fn require(kv: &mut impl KvRead, id: u64) -> Result<pb::Incident, ExecError> {
    incident(kv, id)
        .await?
        .ok_or_else(|| ExecError::not_found(format!("incident {id} does not exist")))
}

/// Stores an incident's record and keeps the open-incident index with it (the one place a
/// record is written, so the index cannot drift from the records).
pub fn set_incident(kv: &mut impl KvWrite, i: &pb::Incident) -> Result<(), ExecError> {
    if is_open(i) {
        kv.put(id_key(&OPEN, i.id), Vec::new())?;
    } else {
        kv.delete(id_key(&OPEN, i.id))?;
    }
    kv.put(id_key(&RECORD, i.id), i.encode_to_vec())
}

/// Whether an incident is open ([`super::lifecycle::open_states`]).
pub fn is_open(i: &pb::Incident) -> bool {
    let s = super::lifecycle::state_of(i);
    super::lifecycle::open_states().any(|o| o == s)
}

/// The key prefix of the open-incident index (monitoring scans it).
pub fn open_prefix() -> Vec<u8> {
    OPEN.to_vec()
}

/// The incident id of an open-index key.
pub fn open_id(key: &[u8]) -> Option<u64> {
    match caspur_store::keys::parts(&OPEN, key)?.as_slice() {
        [id] => Some(u64::from_le_bytes((*id).try_into().ok()?)),
        _ => None,
    }
}

/// An incident's sealed report.
pub async fn sealed(kv: &mut impl KvRead, id: u64) -> Result<pb::SealedReport, ExecError> {
    crate::records::read(kv, &id_key(&SEALED, id), "incident sealed report")
        .await?
        .ok_or_else(|| corrupt("sealed report (missing)"))
}

/// Stores an incident's sealed report.
pub fn set_sealed(kv: &mut impl KvWrite, id: u64, s: &pb::SealedReport) -> Result<(), ExecError> {
    kv.put(id_key(&SEALED, id), s.encode_to_vec())
}

fn timeline_key(id: u64, seq: u32) -> Vec<u8> {
    key(&TIMELINE, &[&id.to_le_bytes(), &seq.to_be_bytes()])
}

/// Timeline entry `seq` of incident `id`.
pub async fn timeline_entry(
    kv: &mut impl KvRead,
    id: u64,
    seq: u32,
) -> Result<pb::TimelineEntry, ExecError> {
    crate::records::read(kv, &timeline_key(id, seq), "incident timeline")
        .await?
        .ok_or_else(|| corrupt("timeline (missing entry)"))
}

/// Stores a timeline entry.
pub fn set_timeline_entry(
    kv: &mut impl KvWrite,
    id: u64,
    e: &pb::TimelineEntry,
) -> Result<(), ExecError> {
    kv.put(timeline_key(id, e.seq), e.encode_to_vec())
}

/// The incident linked to upgrade plan `name`.
pub async fn linked(kv: &mut impl KvRead, name: &str) -> Result<Option<u64>, ExecError> {
    match kv.get(&key(&PLAN_LINK, &[name.as_bytes()])).await? {
        None => Ok(None),
        Some(b) => Ok(Some(u64::from_be_bytes(
            b.as_slice().try_into().map_err(|_| corrupt("plan link"))?,
        ))),
    }
}

/// Links upgrade plan `name` to incident `id`.
pub fn set_link(kv: &mut impl KvWrite, name: &str, id: u64) -> Result<(), ExecError> {
    kv.put(
        key(&PLAN_LINK, &[name.as_bytes()]),
        id.to_be_bytes().to_vec(),
    )
}

/// Removes the link of upgrade plan `name`.
pub fn remove_link(kv: &mut impl KvWrite, name: &str) -> Result<(), ExecError> {
    kv.delete(key(&PLAN_LINK, &[name.as_bytes()]))
}
