//! Signature verification that runs beside block preparation and in-order execution.
//!
//! Block preparation hands its signatures over in chunks as it decodes the txs
//! ([`VerifyQueue::submit`]); worker threads take the chunks in order and verify each from its
//! last signature backwards, so verification starts while later txs are still being decoded.
//! The executor runs the txs one by one from the first: when it needs a signature no worker has
//! reached, it claims and verifies it itself; when a worker holds it, the executor waits for
//! that one result. Every signature is verified exactly once, by whoever gets there first, and
//! the outcome does not depend on who that was — so execution stays deterministic and no core
//! sits idle.

use caspur_types::tx::verify_secp256k1;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

const UNCLAIMED: u8 = 0;
const CLAIMED: u8 = 1;
const VALID: u8 = 2;
const INVALID: u8 = 3;

/// One signature to check.
pub struct Job {
    /// The compressed secp256k1 key.
    pub pubkey: [u8; 33],
    /// The signed bytes.
    pub doc: Vec<u8>,
    /// The signature.
    pub sig: Vec<u8>,
}

struct Shared {
    jobs: Vec<Job>,
    state: Vec<AtomicU8>,
}

impl Shared {
    /// Verifies job `i` if nobody has claimed it; returns whether this call did the work.
    fn try_run(&self, i: usize) -> bool {
        if self.state[i]
            .compare_exchange(UNCLAIMED, CLAIMED, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return false;
        }
        let job = &self.jobs[i];
        let ok = verify_secp256k1(&job.pubkey, &job.doc, &job.sig).is_ok();
        self.state[i].store(if ok { VALID } else { INVALID }, Ordering::Release);
        true
    }
}

/// Spins the executor waits for a worker's result before yielding its core (a few tens of
/// microseconds: about one verification).
const WAIT_SPINS: u32 = 512;

/// One chunk of a block's signature jobs, shared by the workers and the executor.
#[derive(Clone)]
pub struct Verifier(Arc<Shared>);

/// Below this many txs in a block, threads cost more than they save.
const PARALLEL_THRESHOLD: usize = 16;

/// Txs per chunk handed to the workers: small enough that a worker starts after the first
/// chunk is decoded (about a millisecond), large enough that the executor and a worker meet in
/// the middle of a chunk rather than contending for one signature.
pub const VERIFY_CHUNK_TXS: usize = 128;

/// The workers of one block: chunks submitted here are verified on background threads
/// (`available_parallelism - 1` of them, the executor thread being the last core's worker)
/// until the queue is dropped and every submitted chunk is done. The workers start with the
/// first chunk that has a signature to verify: a node's blocks usually carry only signatures
/// its CheckTx verified already, and then no thread is started at all.
pub struct VerifyQueue {
    /// Whether the block is large enough for workers.
    parallel: bool,
    sender: std::sync::OnceLock<std::sync::mpsc::Sender<Verifier>>,
}

impl VerifyQueue {
    /// A queue for a block of `txs` txs: with workers for a large block, without for a small
    /// one (the executor then verifies each signature itself when it needs it).
    pub fn for_block(txs: usize) -> Self {
        VerifyQueue {
            parallel: txs >= PARALLEL_THRESHOLD,
            sender: std::sync::OnceLock::new(),
        }
    }

    /// Starts the workers; returns the channel that feeds them.
    fn start_workers() -> std::sync::mpsc::Sender<Verifier> {
        let (sender, receiver) = std::sync::mpsc::channel::<Verifier>();
        let receiver = Arc::new(std::sync::Mutex::new(receiver));
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .saturating_sub(1)
            .max(1);
        for _ in 0..workers {
            let receiver = receiver.clone();
            std::thread::spawn(move || loop {
                // A poisoned lock or a closed queue ends the worker: the executor verifies
                // whatever is left itself.
                let next = match receiver.lock() {
                    Ok(r) => r.recv(),
                    Err(_) => return,
                };
                let Ok(chunk) = next else { return };
                // From the back: the executor verifies from the front as it goes, so the
                // two meet in the middle instead of contending for the same jobs.
                for i in (0..chunk.0.jobs.len()).rev() {
                    chunk.0.try_run(i);
                }
            });
        }
        sender
    }

    /// Hands `jobs` to the workers (when there are any) and returns their shared record.
    pub fn submit(&self, jobs: Vec<Job>) -> Verifier {
        let state = (0..jobs.len()).map(|_| AtomicU8::new(UNCLAIMED)).collect();
        let verifier = Verifier(Arc::new(Shared { jobs, state }));
        if self.parallel && !verifier.0.jobs.is_empty() {
            let sender = self.sender.get_or_init(Self::start_workers);
            // A worker gone (it cannot be, short of a panic) only means the executor verifies.
            let _ = sender.send(verifier.clone());
        }
        verifier
    }
}

impl Verifier {
    /// Whether job `i`'s signature is valid, verifying it here if no worker has started it.
    pub fn is_valid(&self, i: usize) -> bool {
        let shared = &self.0;
        shared.try_run(i);
        let mut spins = 0u32;
        loop {
            match shared.state[i].load(Ordering::Acquire) {
                VALID => return true,
                INVALID => return false,
                // A worker is on it: one verification takes tens of microseconds. Past that,
                // the worker has likely lost its core (several nodes on one machine, or a
                // busy one): give the core up instead of spinning through the time slice.
                _ if spins < WAIT_SPINS => {
                    spins += 1;
                    std::hint::spin_loop();
                }
                _ => std::thread::yield_now(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use caspur_types::sign::AccountKey;

    fn job(key: &AccountKey, doc: &[u8], valid: bool) -> Job {
        let mut sig = key.sign(doc).to_vec();
        if !valid {
            sig[10] ^= 1;
        }
        Job {
            pubkey: key.public_key(),
            doc: doc.to_vec(),
            sig,
        }
    }

    fn chunk(key: &AccountKey, n: usize) -> Vec<Job> {
        (0..n)
            .map(|i| job(key, &i.to_be_bytes(), i % 3 != 1))
            .collect()
    }

    /// Every outcome is the signature's own, whichever thread verified it, in a block with
    /// workers and in one without.
    #[test]
    fn outcomes_do_not_depend_on_who_verifies() {
        let key = AccountKey::from_secret(&[7; 32]).unwrap();
        for txs in [1, PARALLEL_THRESHOLD, 4 * VERIFY_CHUNK_TXS] {
            let queue = VerifyQueue::for_block(txs);
            let chunks: Vec<Verifier> = (0..3).map(|_| queue.submit(chunk(&key, 40))).collect();
            assert_eq!(queue.sender.get().is_some(), txs >= PARALLEL_THRESHOLD);
            drop(queue);
            for verifier in &chunks {
                for i in 0..40 {
                    assert_eq!(
                        verifier.is_valid(i),
                        i % 3 != 1,
                        "job {i} of a {txs}-tx block"
                    );
                }
            }
        }
    }

    /// The workers finish every submitted chunk on their own, then stop.
    #[test]
    fn workers_finish_every_chunk_without_the_executor() {
        let key = AccountKey::from_secret(&[8; 32]).unwrap();
        let queue = VerifyQueue::for_block(VERIFY_CHUNK_TXS);
        let verifier = queue.submit(chunk(&key, 30));
        drop(queue);
        let done = |v: &Verifier| v.0.state.iter().all(|s| s.load(Ordering::Acquire) >= VALID);
        // Up to a minute in 1 ms naps (no clock in this crate, even in tests).
        let mut naps = 0;
        while !done(&verifier) {
            naps += 1;
            assert!(naps < 60_000, "a worker left a job unverified");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    #[test]
    fn workers_start_only_for_a_signature_to_verify() {
        let key = AccountKey::from_secret(&[9; 32]).unwrap();
        let queue = VerifyQueue::for_block(VERIFY_CHUNK_TXS);
        // Every signature known from CheckTx: empty chunks start nothing.
        queue.submit(Vec::new());
        queue.submit(Vec::new());
        assert!(queue.sender.get().is_none());
        queue.submit(chunk(&key, 2));
        assert!(queue.sender.get().is_some());
        // A small block never starts workers.
        let small = VerifyQueue::for_block(PARALLEL_THRESHOLD - 1);
        small.submit(chunk(&key, 2));
        assert!(small.sender.get().is_none());
    }
}
