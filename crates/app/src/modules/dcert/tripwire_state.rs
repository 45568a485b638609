//! State of the tripwires (docs/dcert.md, "Tripwires") and the bounds of one:
//!
//! | key | value |
//! |---|---|
//! | `[DCERT, 28]` | the registered tripwires (`Tripwires`, at most [`MAX_TRIPWIRES`]) |
//! | `[DCERT, 29]` | the next tripwire id (u64 BE) |
//! | `[DCERT, 30] ‖ id` | what the tripwire remembers between blocks (its kind's samples) |
//!
//! Nothing is stored while no tripwire is registered: the end of a block then reads one
//! absent key.

use super::msgs::accept_candidacy::MAX_TEXT;
use crate::context::{KvRead, KvWrite};
use crate::error::ExecError;
use crate::modules::circuit;
use crate::modules::ids::DCERT;
use caspur_store::keys::key;
use caspur_types::proto::dcert::v1::{self as pb, TripwireKind};
use caspur_types::Dec;
use prost::Message as _;

const SET: [u8; 2] = [DCERT, 28];
const NEXT_ID: [u8; 2] = [DCERT, 29];
const SAMPLES: [u8; 2] = [DCERT, 30];

/// Most tripwires registered at once (each is checked at the end of every block).
pub const MAX_TRIPWIRES: usize = 16;
/// Most routes one tripwire breaks (exact type URLs: a narrow set).
pub const MAX_TRIPWIRE_ROUTES: usize = 8;
/// Longest bonded-ratio window, in blocks (bounds the samples it keeps).
pub const MAX_TRIPWIRE_WINDOW_BLOCKS: u64 = 1_000;

fn corrupt(what: &str) -> ExecError {
    ExecError::logic(format!("corrupt dCERT tripwire {what}"))
}

/// The registered tripwires, in id order.
pub async fn all(kv: &mut impl KvRead) -> Result<Vec<pb::Tripwire>, ExecError> {
    match kv.get(&SET).await? {
        None => Ok(Vec::new()),
        Some(b) => Ok(pb::Tripwires::decode(b.as_slice())
            .map_err(|_| corrupt("set"))?
            .tripwires),
    }
}

/// Stores the registered tripwires (an empty set deletes the key).
pub fn set_all(kv: &mut impl KvWrite, tripwires: Vec<pb::Tripwire>) -> Result<(), ExecError> {
    if tripwires.is_empty() {
        return kv.delete(SET.to_vec());
    }
    kv.put(SET.to_vec(), pb::Tripwires { tripwires }.encode_to_vec())
}

/// Takes the next tripwire id (ids start at 1).
pub async fn next_id(kv: &mut impl KvWrite) -> Result<u64, ExecError> {
    let id = match kv.get(&NEXT_ID).await? {
        None => 1,
        Some(b) => u64::from_be_bytes(b.as_slice().try_into().map_err(|_| corrupt("counter"))?),
    };
    kv.put(NEXT_ID.to_vec(), (id + 1).to_be_bytes().to_vec())?;
    Ok(id)
}

fn samples_key(id: u64) -> Vec<u8> {
    key(&SAMPLES, &[&id.to_le_bytes()])
}

/// What tripwire `id` remembers (empty: nothing yet).
pub async fn samples(kv: &mut impl KvRead, id: u64) -> Result<Vec<u8>, ExecError> {
    Ok(kv.get(&samples_key(id)).await?.unwrap_or_default())
}

/// Stores what tripwire `id` remembers (empty deletes it).
pub fn set_samples(kv: &mut impl KvWrite, id: u64, bytes: Vec<u8>) -> Result<(), ExecError> {
    if bytes.is_empty() {
        return kv.delete(samples_key(id));
    }
    kv.put(samples_key(id), bytes)
}

/// The threshold of a kind that has one, a fraction in (0, 1].
pub fn threshold(t: &pb::Tripwire) -> Result<Dec, ExecError> {
    let d: Dec = t.threshold.parse().map_err(|_| {
        ExecError::invalid_request(format!(
            "tripwire threshold must be a decimal fraction, got {:?}",
            t.threshold
        ))
    })?;
    if d.is_zero() || d > Dec::ONE {
        return Err(ExecError::invalid_request(format!(
            "tripwire threshold must be within (0, 1], got {}",
            t.threshold
        )));
    }
    Ok(d)
}

/// The kind's name as users write it (`supply_change`).
pub fn kind_name(kind: i32) -> &'static str {
    match TripwireKind::try_from(kind).unwrap_or(TripwireKind::Unspecified) {
        TripwireKind::Unspecified => "unspecified",
        TripwireKind::SupplyChange => "supply_change",
        TripwireKind::BondedRatioDrop => "bonded_ratio_drop",
        TripwireKind::BlockInterval => "block_interval",
        TripwireKind::AccountOutflow => "account_outflow",
    }
}

/// Checks a tripwire governance asks to register: a known kind with the fields it needs,
/// 1..=[`MAX_TRIPWIRE_ROUTES`] exact, breakable, registered routes, a bounded description.
pub fn validate(t: &pb::Tripwire) -> Result<(), ExecError> {
    let kind = TripwireKind::try_from(t.kind).unwrap_or(TripwireKind::Unspecified);
    match kind {
        TripwireKind::Unspecified => {
            return Err(ExecError::invalid_request(
                "tripwire kind must be supply_change, bonded_ratio_drop, block_interval or \
                 account_outflow",
            ))
        }
        TripwireKind::SupplyChange | TripwireKind::AccountOutflow => {
            caspur_types::coin::validate_denom(&t.denom)?;
            threshold(t)?;
        }
        TripwireKind::BondedRatioDrop => {
            threshold(t)?;
            if t.window_blocks == 0 || t.window_blocks > MAX_TRIPWIRE_WINDOW_BLOCKS {
                return Err(ExecError::invalid_request(format!(
                    "a bonded-ratio tripwire needs window_blocks within \
                     1..={MAX_TRIPWIRE_WINDOW_BLOCKS}"
                )));
            }
        }
        TripwireKind::BlockInterval => {
            if t.max_interval_secs == 0 {
                return Err(ExecError::invalid_request(
                    "a block-interval tripwire needs a positive max_interval_secs",
                ));
            }
        }
    }
    if t.routes.is_empty() || t.routes.len() > MAX_TRIPWIRE_ROUTES {
        return Err(ExecError::invalid_request(format!(
            "a tripwire breaks between 1 and {MAX_TRIPWIRE_ROUTES} routes"
        )));
    }
    for (i, route) in t.routes.iter().enumerate() {
        if t.routes[..i].contains(route) {
            return Err(ExecError::invalid_request(format!(
                "route {route:?} is named twice"
            )));
        }
        if route == circuit::SAFE_MODE || route.ends_with('.') {
            return Err(ExecError::invalid_request(format!(
                "a tripwire breaks exact type URLs only, not {route:?}"
            )));
        }
        circuit::validate_route(route)?;
    }
    if t.description.len() > MAX_TEXT {
        return Err(ExecError::invalid_request(format!(
            "a tripwire's description is at most {MAX_TEXT} bytes"
        )));
    }
    Ok(())
}
