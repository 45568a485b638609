//! Caspur's state store.
//!
//! The state machine reads through [`StateRead`] and writes into an [`Overlay`]: a block layer
//! and a tx layer over a read-only base. A failed tx discards its layer (its fee and sequence
//! were written in an earlier, committed layer); a finished block hands its writes, sorted, to
//! the authenticated QMDB store ([`qmdb`]), whose root becomes the block's app hash.

pub mod keys;
pub mod memo;
pub mod memory;
pub mod overlay;
pub mod qmdb;

pub use memo::ReadMemo;
pub use memory::MemState;
pub use overlay::{Overlay, WriteSet};

use std::future::Future;

/// A storage failure. State machine code treats it as fatal for the block being executed.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("storage error: {0}")]
pub struct StoreError(pub String);

/// Read access to a state version.
pub trait StateRead: Send + Sync {
    /// The value stored under `key`, if any.
    fn get(&self, key: &[u8]) -> impl Future<Output = Result<Option<Vec<u8>>, StoreError>> + Send;
}

impl<T: StateRead> StateRead for &T {
    fn get(&self, key: &[u8]) -> impl Future<Output = Result<Option<Vec<u8>>, StoreError>> + Send {
        (**self).get(key)
    }
}

/// Key-value pairs in key order.
pub type Rows = Vec<(Vec<u8>, Vec<u8>)>;

/// Ordered iteration over committed state, for queries and genesis export (never used by block
/// execution, whose batches do not support it).
pub trait StateScan: StateRead {
    /// All `(key, value)` pairs whose key starts with `prefix`, in key order, at most `limit`.
    fn scan_prefix(
        &self,
        prefix: &[u8],
        limit: usize,
    ) -> impl Future<Output = Result<Rows, StoreError>> + Send;
}

/// A value read with a proof against the state root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proven {
    /// The value, or `None` if the key is absent.
    pub value: Option<Vec<u8>>,
    /// The encoded proof (see [`qmdb::verify_proof`]).
    pub proof: Vec<u8>,
    /// The root the proof verifies against (the app hash).
    pub root: [u8; 32],
}

/// Reads with inclusion/exclusion proofs.
pub trait StateProve: StateRead {
    /// `key`'s value (or absence) with its proof.
    fn prove(&self, key: &[u8]) -> impl Future<Output = Result<Proven, StoreError>> + Send;
}
