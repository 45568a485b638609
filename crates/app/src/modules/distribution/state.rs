//! `distribution` state. Rewards use one accumulator per validator — ucsp earned per share
//! since genesis, ×10³⁶ — and each delegation remembers the accumulator it was last paid at,
//! so paying a delegator is one subtraction, however many blocks passed.
//!
//! | key | value |
//! |---|---|
//! | `[DISTRIBUTION, 0]` | params (JSON) |
//! | `[DISTRIBUTION, 1]` | community pool (ucsp, u128 BE) |
//! | `[DISTRIBUTION, 2] ‖ operator` | the validator's accumulator (u128 BE) |
//! | `[DISTRIBUTION, 3] ‖ delegator ‖ operator` | the accumulator the delegation was paid at |
//! | `[DISTRIBUTION, 4] ‖ operator` | commission not yet withdrawn (ucsp) |

use super::params::DistributionParams;
use crate::context::{KvRead, KvWrite};
use crate::error::ExecError;
use crate::modules::ids::DISTRIBUTION;
use caspur_store::keys::key;
use caspur_types::Address;

const PARAMS: [u8; 2] = [DISTRIBUTION, 0];
const POOL: [u8; 2] = [DISTRIBUTION, 1];
const ACCUMULATOR: [u8; 2] = [DISTRIBUTION, 2];
const PAID_AT: [u8; 2] = [DISTRIBUTION, 3];
const COMMISSION: [u8; 2] = [DISTRIBUTION, 4];

/// The module account holding the community pool and undistributed rewards
/// (`sha256("distribution")[..20]`).
pub fn distribution_address() -> Address {
    use sha2::{Digest, Sha256};
    let mut a = [0u8; 20];
    a.copy_from_slice(&Sha256::digest(b"distribution")[..20]);
    Address(a)
}

/// The parameters (defaults if never set).
pub async fn get_params(kv: &mut impl KvRead) -> Result<DistributionParams, ExecError> {
    crate::params::read(kv, &PARAMS).await
}

/// Stores the parameters.
pub fn set_params(kv: &mut impl KvWrite, p: &DistributionParams) -> Result<(), ExecError> {
    crate::params::write(kv, &PARAMS, p)
}

async fn get_u128(kv: &mut impl KvRead, k: &[u8]) -> Result<u128, ExecError> {
    match kv.get(k).await? {
        None => Ok(0),
        Some(b) => {
            Ok(u128::from_be_bytes(b.as_slice().try_into().map_err(
                |_| ExecError::logic("corrupt distribution amount"),
            )?))
        }
    }
}

fn set_u128(kv: &mut impl KvWrite, k: Vec<u8>, v: u128) -> Result<(), ExecError> {
    if v == 0 {
        kv.delete(k)
    } else {
        kv.put(k, v.to_be_bytes().to_vec())
    }
}

/// The community pool, in ucsp.
pub async fn community_pool(kv: &mut impl KvRead) -> Result<u128, ExecError> {
    get_u128(kv, &POOL).await
}

/// Sets the community pool.
pub fn set_community_pool(kv: &mut impl KvWrite, amount: u128) -> Result<(), ExecError> {
    set_u128(kv, POOL.to_vec(), amount)
}

/// A validator's accumulator.
pub async fn accumulator(kv: &mut impl KvRead, op: &Address) -> Result<u128, ExecError> {
    get_u128(kv, &key(&ACCUMULATOR, &[&op.0])).await
}

/// Sets a validator's accumulator.
pub fn set_accumulator(kv: &mut impl KvWrite, op: &Address, v: u128) -> Result<(), ExecError> {
    set_u128(kv, key(&ACCUMULATOR, &[&op.0]), v)
}

/// The accumulator a delegation was last paid at.
pub async fn paid_at(
    kv: &mut impl KvRead,
    delegator: &Address,
    op: &Address,
) -> Result<u128, ExecError> {
    get_u128(kv, &key(&PAID_AT, &[&delegator.0, &op.0])).await
}

/// Records the accumulator a delegation was paid at.
pub fn set_paid_at(
    kv: &mut impl KvWrite,
    delegator: &Address,
    op: &Address,
    v: u128,
) -> Result<(), ExecError> {
    set_u128(kv, key(&PAID_AT, &[&delegator.0, &op.0]), v)
}

/// A validator's unwithdrawn commission.
pub async fn commission(kv: &mut impl KvRead, op: &Address) -> Result<u128, ExecError> {
    get_u128(kv, &key(&COMMISSION, &[&op.0])).await
}

/// Sets a validator's unwithdrawn commission.
pub fn set_commission(kv: &mut impl KvWrite, op: &Address, v: u128) -> Result<(), ExecError> {
    set_u128(kv, key(&COMMISSION, &[&op.0]), v)
}
