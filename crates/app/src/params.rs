//! Module parameters are stored as canonical JSON under each module's params key. serde_json
//! writes struct fields in declaration order, so the bytes are deterministic.

use crate::context::{KvRead, KvWrite};
use crate::error::ExecError;
use serde::{de::DeserializeOwned, Serialize};

/// Reads parameters, falling back to defaults when none are stored.
pub async fn read<P: DeserializeOwned + Default>(
    kv: &mut impl KvRead,
    key: &[u8],
) -> Result<P, ExecError> {
    match kv.get(key).await? {
        None => Ok(P::default()),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| ExecError::logic(format!("corrupt params: {e}"))),
    }
}

/// Writes parameters.
pub fn write<P: Serialize>(kv: &mut impl KvWrite, key: &[u8], p: &P) -> Result<(), ExecError> {
    let bytes = serde_json::to_vec(p).map_err(|e| ExecError::logic(e.to_string()))?;
    kv.put(key.to_vec(), bytes)
}
