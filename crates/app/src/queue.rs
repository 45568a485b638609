//! Time queues in state: entries that mature at a block time (unbondings, redelegations,
//! proposal deadlines). Block execution cannot iterate over state, so entries live in
//! one-minute buckets, `prefix ‖ minute → sorted list of (time, payload)`, and each block takes
//! what matured since the previous block's time by reading the buckets in between. The layout
//! depends only on the entries, never on the order they arrived in, so a state exported and
//! imported again has the same hash.

use crate::context::{KvRead, KvWrite};
use crate::error::ExecError;
use caspur_store::keys::key;

/// Bucket width in milliseconds.
const BUCKET_MS: u64 = 60_000;

/// A time queue under a module's key prefix (e.g. `[STAKING, 9]`).
#[derive(Clone, Copy, Debug)]
pub struct TimeQueue {
    prefix: [u8; 2],
}

/// A matured entry: when it was due and what it carries.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Due {
    /// Maturity time, ms since the Unix epoch.
    pub time_ms: u64,
    /// The module's payload.
    pub payload: Vec<u8>,
}

impl TimeQueue {
    /// The queue under `prefix`.
    pub const fn new(prefix: [u8; 2]) -> Self {
        TimeQueue { prefix }
    }

    fn bucket_key(&self, bucket: u64) -> Vec<u8> {
        key(&self.prefix, &[&bucket.to_be_bytes()])
    }

    async fn bucket(&self, kv: &mut impl KvRead, bucket: u64) -> Result<Vec<Due>, ExecError> {
        match kv.get(&self.bucket_key(bucket)).await? {
            None => Ok(Vec::new()),
            Some(bytes) => decode(&bytes),
        }
    }

    fn set_bucket(
        &self,
        kv: &mut impl KvWrite,
        bucket: u64,
        entries: &[Due],
    ) -> Result<(), ExecError> {
        if entries.is_empty() {
            kv.delete(self.bucket_key(bucket))
        } else {
            kv.put(self.bucket_key(bucket), encode(entries))
        }
    }

    /// Adds an entry due at `time_ms`; `now_ms` is the current block's time, the earliest an
    /// entry can mature (an earlier time is filed as due now).
    pub async fn push(
        &self,
        kv: &mut impl KvWrite,
        now_ms: u64,
        time_ms: u64,
        payload: Vec<u8>,
    ) -> Result<(), ExecError> {
        let time_ms = time_ms.max(now_ms);
        let bucket = time_ms / BUCKET_MS;
        let mut entries = self.bucket(kv, bucket).await?;
        let entry = Due { time_ms, payload };
        let at = entries.partition_point(|e| *e <= entry);
        entries.insert(at, entry);
        self.set_bucket(kv, bucket, &entries)
    }

    /// Removes one entry equal to (`time_ms`, `payload`), if queued (a cancelled unbonding).
    pub async fn remove(
        &self,
        kv: &mut impl KvWrite,
        time_ms: u64,
        payload: &[u8],
    ) -> Result<bool, ExecError> {
        let bucket = time_ms / BUCKET_MS;
        let mut entries = self.bucket(kv, bucket).await?;
        let Some(at) = entries
            .iter()
            .position(|e| e.time_ms == time_ms && e.payload == payload)
        else {
            return Ok(false);
        };
        entries.remove(at);
        self.set_bucket(kv, bucket, &entries)?;
        Ok(true)
    }

    /// Takes every entry due at or before `now_ms`, in (time, payload) order. `since_ms` is the
    /// previous block's time: every entry due by then was taken already.
    pub async fn pop_due(
        &self,
        kv: &mut impl KvWrite,
        since_ms: u64,
        now_ms: u64,
    ) -> Result<Vec<Due>, ExecError> {
        let mut due = Vec::new();
        for bucket in since_ms.min(now_ms) / BUCKET_MS..=now_ms / BUCKET_MS {
            let mut entries = self.bucket(kv, bucket).await?;
            let split = entries.partition_point(|e| e.time_ms <= now_ms);
            if split > 0 {
                let rest = entries.split_off(split);
                due.extend(entries);
                self.set_bucket(kv, bucket, &rest)?;
            }
        }
        Ok(due)
    }
}

fn encode(entries: &[Due]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        out.extend_from_slice(&e.time_ms.to_be_bytes());
        out.extend_from_slice(&(e.payload.len() as u32).to_be_bytes());
        out.extend_from_slice(&e.payload);
    }
    out
}

fn decode(mut bytes: &[u8]) -> Result<Vec<Due>, ExecError> {
    let corrupt = || ExecError::logic("corrupt queue bucket");
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (time, rest) = bytes.split_at_checked(8).ok_or_else(corrupt)?;
        let (len, rest) = rest.split_at_checked(4).ok_or_else(corrupt)?;
        let len = u32::from_be_bytes(len.try_into().map_err(|_| corrupt())?) as usize;
        let (payload, rest) = rest.split_at_checked(len).ok_or_else(corrupt)?;
        out.push(Due {
            time_ms: u64::from_be_bytes(time.try_into().map_err(|_| corrupt())?),
            payload: payload.to_vec(),
        });
        bytes = rest;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Direct;
    use caspur_store::memory::MemState;
    use caspur_store::Overlay;

    const Q: TimeQueue = TimeQueue::new([0xEE, 1]);

    #[test]
    fn entries_mature_exactly_at_their_time_in_order() {
        futures::executor::block_on(entries_mature());
    }

    async fn entries_mature() {
        let mut state = Overlay::new(MemState::default());
        let mut kv = Direct(&mut state);
        Q.push(&mut kv, 0, 125_000, b"b".to_vec()).await.unwrap();
        Q.push(&mut kv, 0, 61_000, b"a".to_vec()).await.unwrap();
        Q.push(&mut kv, 0, 125_000, b"a".to_vec()).await.unwrap();
        Q.push(&mut kv, 0, 3_600_000, b"late".to_vec())
            .await
            .unwrap();
        assert!(Q.pop_due(&mut kv, 0, 60_999).await.unwrap().is_empty());
        let first = Q.pop_due(&mut kv, 60_999, 61_000).await.unwrap();
        assert_eq!(
            first,
            vec![Due {
                time_ms: 61_000,
                payload: b"a".to_vec()
            }]
        );
        assert!(Q
            .pop_due(&mut kv, 61_000, 124_999)
            .await
            .unwrap()
            .is_empty());
        let both: Vec<_> = Q.pop_due(&mut kv, 124_999, 200_000).await.unwrap();
        assert_eq!(
            both.iter()
                .map(|d| d.payload.as_slice())
                .collect::<Vec<_>>(),
            vec![b"a".as_slice(), b"b"]
        );
        // An entry due in the past is due now.
        Q.push(&mut kv, 200_000, 10, b"past".to_vec())
            .await
            .unwrap();
        assert!(Q.remove(&mut kv, 3_600_000, b"late").await.unwrap());
        assert!(!Q.remove(&mut kv, 3_600_000, b"late").await.unwrap());
        let rest = Q.pop_due(&mut kv, 200_000, 10_000_000).await.unwrap();
        assert_eq!(
            rest,
            vec![Due {
                time_ms: 200_000,
                payload: b"past".to_vec()
            }]
        );
    }

    #[test]
    fn the_layout_does_not_depend_on_arrival_order() {
        futures::executor::block_on(arrival_order());
    }

    async fn arrival_order() {
        let entries = [
            (90_000u64, b"x".to_vec()),
            (90_000, b"a".to_vec()),
            (200, b"z".to_vec()),
        ];
        let mut a = Overlay::new(MemState::default());
        let mut b = Overlay::new(MemState::default());
        for (t, p) in &entries {
            Q.push(&mut Direct(&mut a), 0, *t, p.clone()).await.unwrap();
        }
        for (t, p) in entries.iter().rev() {
            Q.push(&mut Direct(&mut b), 0, *t, p.clone()).await.unwrap();
        }
        a.commit_tx();
        b.commit_tx();
        assert_eq!(a.into_writes(), b.into_writes());
    }
}
