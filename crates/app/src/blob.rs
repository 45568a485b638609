//! Values that may outgrow one store value: a block's tx results and end-of-block events. A
//! blob under `key` is a chunk count (u32 big-endian) at `key` and its bytes in chunks of at
//! most [`RESULT_CHUNK_BYTES`] at `key ‖ index (u32 BE)`, so any block that fits the byte and
//! gas limits stores its results and reads them back (a single value once outgrew the store's
//! 4 MiB value limit and made the block unreadable on every restart).

use crate::limits::{MAX_RESULT_CHUNKS, RESULT_CHUNK_BYTES};
use caspur_store::{Overlay, StateRead, StoreError};

fn chunk_key(key: &[u8], index: u32) -> Vec<u8> {
    let mut k = key.to_vec();
    k.extend_from_slice(&index.to_be_bytes());
    k
}

async fn chunk_count<S: StateRead>(state: &S, key: &[u8]) -> Result<Option<u32>, StoreError> {
    let Some(head) = state.get(key).await? else {
        return Ok(None);
    };
    let count = <[u8; 4]>::try_from(head.as_slice())
        .map(u32::from_be_bytes)
        .map_err(|_| StoreError(format!("corrupt blob head under {}", hex::encode(key))))?;
    if count > MAX_RESULT_CHUNKS {
        return Err(StoreError(format!(
            "blob under {} claims {count} chunks, more than {MAX_RESULT_CHUNKS}",
            hex::encode(key)
        )));
    }
    Ok(Some(count))
}

/// Writes `bytes` under `key`, removing chunks an earlier, longer blob left behind.
pub async fn put<B: StateRead>(
    state: &mut Overlay<B>,
    key: &[u8],
    bytes: &[u8],
) -> Result<(), StoreError> {
    let old = chunk_count(&*state, key).await?.unwrap_or(0);
    let chunks: Vec<&[u8]> = bytes.chunks(RESULT_CHUNK_BYTES).collect();
    let count = u32::try_from(chunks.len())
        .ok()
        .filter(|c| *c <= MAX_RESULT_CHUNKS)
        .ok_or_else(|| StoreError(format!("a blob of {} bytes is too large", bytes.len())))?;
    for (i, chunk) in (0u32..).zip(&chunks) {
        state.put(chunk_key(key, i), chunk.to_vec());
    }
    for i in count..old {
        state.delete(chunk_key(key, i));
    }
    state.put(key.to_vec(), count.to_be_bytes().to_vec());
    Ok(())
}

/// Reads the blob under `key` (`None`: never written).
pub async fn get<S: StateRead>(state: &S, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
    let Some(count) = chunk_count(state, key).await? else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for i in 0..count {
        let chunk = state.get(&chunk_key(key, i)).await?.ok_or_else(|| {
            StoreError(format!(
                "blob under {} lacks chunk {i} of {count}",
                hex::encode(key)
            ))
        })?;
        out.extend_from_slice(&chunk);
    }
    Ok(Some(out))
}
