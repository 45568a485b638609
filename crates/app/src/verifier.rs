//! Signature verification that runs beside in-order execution.
//!
//! Worker threads verify a block's signatures from the last tx backwards while the executor
//! runs the txs one by one from the first. When the executor needs a signature no worker has
//! reached, it claims and verifies it itself; when a worker holds it, the executor waits for
//! that one result. Every
//! signature is verified exactly once, by whoever gets there first, and the outcome does not
//! depend on who that was — so execution stays deterministic and no core sits idle.

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

/// A block's signature jobs and the threads working on them.
#[derive(Clone)]
pub struct Verifier(Arc<Shared>);

/// Below this many signatures, threads cost more than they save.
const PARALLEL_THRESHOLD: usize = 16;

impl Verifier {
    /// Starts verifying `jobs` on background threads (none for small blocks: the executor
    /// then verifies each signature itself when it needs it).
    pub fn start(jobs: Vec<Job>) -> Self {
        let state = (0..jobs.len()).map(|_| AtomicU8::new(UNCLAIMED)).collect();
        let shared = Arc::new(Shared { jobs, state });
        if shared.jobs.len() >= PARALLEL_THRESHOLD {
            // The executor thread is the remaining core's worker.
            let workers = std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .saturating_sub(1)
                .max(1);
            for w in 0..workers {
                let shared = shared.clone();
                std::thread::spawn(move || {
                    // From the back: the executor verifies from the front as it goes, so the two
                    // meet in the middle instead of contending for the same jobs.
                    let n = shared.jobs.len();
                    for i in (w..n).step_by(workers).map(|k| n - 1 - k) {
                        shared.try_run(i);
                    }
                });
            }
        }
        Verifier(shared)
    }

    /// Whether job `i`'s signature is valid, verifying it here if no worker has started it.
    pub fn is_valid(&self, i: usize) -> bool {
        let shared = &self.0;
        shared.try_run(i);
        loop {
            match shared.state[i].load(Ordering::Acquire) {
                VALID => return true,
                INVALID => return false,
                // A worker is on it: one verification takes tens of microseconds.
                _ => std::hint::spin_loop(),
            }
        }
    }
}
