//! `authz` state: `[AUTHZ, 1] ‖ granter ‖ grantee ‖ type URL` → expiration (ms since the Unix
//! epoch, big-endian; 0 = none).

use crate::context::{KvRead, KvWrite};
use crate::error::ExecError;
use crate::modules::ids::AUTHZ;
use caspur_store::keys::key;
use caspur_types::Address;

const GRANT: [u8; 2] = [AUTHZ, 1];

fn grant_key(granter: &Address, grantee: &Address, type_url: &str) -> Vec<u8> {
    key(&GRANT, &[&granter.0, &grantee.0, type_url.as_bytes()])
}

/// The expiration of `granter`'s grant to `grantee` for `type_url` (`Some(0)`: no expiry).
pub async fn grant(
    kv: &mut impl KvRead,
    granter: &Address,
    grantee: &Address,
    type_url: &str,
) -> Result<Option<u64>, ExecError> {
    match kv.get(&grant_key(granter, grantee, type_url)).await? {
        None => Ok(None),
        Some(b) => Ok(Some(u64::from_be_bytes(
            b.as_slice()
                .try_into()
                .map_err(|_| ExecError::logic("corrupt authz grant"))?,
        ))),
    }
}

/// Stores a grant.
pub fn set_grant(
    kv: &mut impl KvWrite,
    granter: &Address,
    grantee: &Address,
    type_url: &str,
    expiration_ms: u64,
) -> Result<(), ExecError> {
    kv.put(
        grant_key(granter, grantee, type_url),
        expiration_ms.to_be_bytes().to_vec(),
    )
}

/// Removes a grant.
pub fn delete_grant(
    kv: &mut impl KvWrite,
    granter: &Address,
    grantee: &Address,
    type_url: &str,
) -> Result<(), ExecError> {
    kv.delete(grant_key(granter, grantee, type_url))
}
