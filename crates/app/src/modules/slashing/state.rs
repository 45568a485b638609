//! `slashing` state:
//!
//! | key | value |
//! |---|---|
//! | `[SLASHING, 0]` | params (JSON) |
//! | `[SLASHING, 1] ‖ operator` | signing info (JSON) |
//! | `[SLASHING, 2] ‖ operator` | the window's missed-block bitmap |

use super::params::SlashingParams;
use crate::context::{KvRead, KvWrite};
use crate::error::ExecError;
use crate::modules::ids::SLASHING;
use caspur_store::keys::key;
use caspur_types::Address;
use serde::{Deserialize, Serialize};

const PARAMS: [u8; 2] = [SLASHING, 0];
const INFO: [u8; 2] = [SLASHING, 1];
const MISSED: [u8; 2] = [SLASHING, 2];

/// A validator's liveness record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningInfo {
    /// Height its record started at.
    pub start_height: u64,
    /// Blocks counted so far (the bitmap position is this modulo the window).
    pub index_offset: u64,
    /// Jailed until this block time (ms).
    pub jailed_until_ms: u64,
    /// Double-signed: never unjailed.
    pub tombstoned: bool,
    /// Blocks missed in the current window.
    pub missed_blocks_counter: u64,
}

/// The parameters (defaults if never set).
pub async fn get_params(kv: &mut impl KvRead) -> Result<SlashingParams, ExecError> {
    crate::params::read(kv, &PARAMS).await
}

/// Stores the parameters.
pub fn set_params(kv: &mut impl KvWrite, p: &SlashingParams) -> Result<(), ExecError> {
    crate::params::write(kv, &PARAMS, p)
}

/// `op`'s signing info (a fresh record starting at `height` when it has none).
pub async fn signing_info(
    kv: &mut impl KvRead,
    op: &Address,
    height: u64,
) -> Result<SigningInfo, ExecError> {
    match kv.get(&key(&INFO, &[&op.0])).await? {
        None => Ok(SigningInfo {
            start_height: height,
            ..SigningInfo::default()
        }),
        Some(b) => serde_json::from_slice(&b).map_err(|_| ExecError::logic("corrupt signing info")),
    }
}

/// Stores `op`'s signing info.
pub fn set_signing_info(
    kv: &mut impl KvWrite,
    op: &Address,
    info: &SigningInfo,
) -> Result<(), ExecError> {
    let bytes = serde_json::to_vec(info).map_err(|e| ExecError::logic(e.to_string()))?;
    kv.put(key(&INFO, &[&op.0]), bytes)
}

/// Whether `op` missed the block at bitmap position `index`.
pub async fn missed_bit(kv: &mut impl KvRead, op: &Address, index: u64) -> Result<bool, ExecError> {
    let bytes = kv.get(&key(&MISSED, &[&op.0])).await?.unwrap_or_default();
    Ok(bytes
        .get((index / 8) as usize)
        .is_some_and(|b| b & (1 << (index % 8)) != 0))
}

/// Sets bit `index` of `op`'s bitmap (of `window` bits).
pub async fn set_missed_bit(
    kv: &mut impl KvWrite,
    op: &Address,
    index: u64,
    window: u64,
    missed: bool,
) -> Result<(), ExecError> {
    let k = key(&MISSED, &[&op.0]);
    let mut bytes = kv.get(&k).await?.unwrap_or_default();
    bytes.resize(window.div_ceil(8) as usize, 0);
    let (byte, bit) = ((index / 8) as usize, 1u8 << (index % 8));
    if missed {
        bytes[byte] |= bit;
    } else {
        bytes[byte] &= !bit;
    }
    kv.put(k, bytes)
}

/// Forgets `op`'s missed blocks (after it was jailed for them).
pub fn clear_missed(kv: &mut impl KvWrite, op: &Address) -> Result<(), ExecError> {
    kv.delete(key(&MISSED, &[&op.0]))
}
