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
    let chunks: Vec<&[u8]> = bytes.chunks(RESULT_CHUNK_BYTES).collect();
    let count = u32::try_from(chunks.len())
        .ok()
        .filter(|c| *c <= MAX_RESULT_CHUNKS)
        .ok_or_else(|| StoreError(format!("a blob of {} bytes is too large", bytes.len())))?;
    // Leftovers of a longer blob follow on from `count` (a blob's chunks are always
    // contiguous): probe them rather than read the old head. The store indexes a key by its
    // first eight bytes, zero-padded, so the head shares its index slot with chunk 0 and
    // reading it reads chunk 0's megabyte too (measured: 50 ms of a 2,000-tx block).
    let mut leftover = count;
    while leftover < MAX_RESULT_CHUNKS && state.get(&chunk_key(key, leftover)).await?.is_some() {
        state.delete(chunk_key(key, leftover));
        leftover += 1;
    }
    for (i, chunk) in (0u32..).zip(&chunks) {
        state.put(chunk_key(key, i), chunk.to_vec());
    }
    state.put(key.to_vec(), count.to_be_bytes().to_vec());
    Ok(())
}

/// Reads the blob under `key` (`None`: never written). Chunks are read until the first
/// missing one (a blob's chunks are contiguous); the head only when there is no chunk 0, to
/// tell an empty blob from none — reading it beside a chunk 0 would read that chunk twice
/// (see [`put`]).
pub async fn get<S: StateRead>(state: &S, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
    let mut out = Vec::new();
    let mut index = 0u32;
    while let Some(chunk) = state.get(&chunk_key(key, index)).await? {
        if index == MAX_RESULT_CHUNKS {
            return Err(StoreError(format!(
                "blob under {} has more than {MAX_RESULT_CHUNKS} chunks",
                hex::encode(key)
            )));
        }
        out.extend_from_slice(&chunk);
        index += 1;
    }
    if index > 0 {
        return Ok(Some(out));
    }
    match chunk_count(state, key).await? {
        None => Ok(None),
        Some(0) => Ok(Some(out)),
        Some(count) => Err(StoreError(format!(
            "blob under {} lacks chunk 0 of {count}",
            hex::encode(key)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use caspur_store::MemState;

    fn stored(state: &MemState, key: &[u8]) -> Vec<Vec<u8>> {
        state
            .0
            .keys()
            .filter(|k| k.starts_with(key))
            .cloned()
            .collect()
    }

    #[test]
    fn a_shorter_blob_removes_the_chunks_a_longer_one_left_and_reads_back() {
        futures::executor::block_on(async {
            let key = [0x00, 0x01];
            let mut state = MemState::default();
            for len in [
                3 * RESULT_CHUNK_BYTES + 5,
                RESULT_CHUNK_BYTES,
                0,
                2 * RESULT_CHUNK_BYTES,
            ] {
                let bytes: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let mut o = Overlay::new(&state);
                put(&mut o, &key, &bytes).await.unwrap();
                o.commit_tx();
                let writes = o.into_writes();
                state.apply(&writes);
                let back = get(&state, &key).await.unwrap();
                assert!(back.as_ref() == Some(&bytes), "{len} bytes read back");
                // The head and exactly the chunks of this blob.
                assert_eq!(
                    stored(&state, &key).len(),
                    1 + len.div_ceil(RESULT_CHUNK_BYTES)
                );
            }
        });
    }
}
