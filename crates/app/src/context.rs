//! The execution context handed to message handlers: metered state access, events, block info.

use crate::error::ExecError;
use crate::gas::{GasCosts, GasMeter};
use caspur_store::{Overlay, StateRead, StoreError};
use caspur_types::Event;

/// Facts about the block being executed (or, in CheckTx, the next one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockInfo {
    /// Height of the block.
    pub height: u64,
    /// Block time in milliseconds since the Unix epoch, from the block header.
    pub time_ms: u64,
}

/// A storage failure in the error channel: [`ExecError::Fatal`], which no catch site can record
/// as a tx failure (see [`crate::error`]); the block stops instead, since a local disk error
/// must never become a state difference between nodes.
pub fn store_err(e: StoreError) -> ExecError {
    ExecError::Fatal(e)
}

/// State access for one tx (or one block hook), charging gas for every read and write.
pub struct Ctx<'a, B> {
    /// The layered state.
    pub state: &'a mut Overlay<B>,
    /// The tx's gas meter.
    pub gas: GasMeter,
    /// Events emitted so far.
    pub events: Vec<Event>,
    /// The block.
    pub block: &'a BlockInfo,
    /// The chain id.
    pub chain_id: &'a str,
    /// Whether events are kept: not in the mempool's re-check, which runs the ante handler
    /// only to see whether the tx is still valid. Events cost no gas, so dropping them changes
    /// no outcome.
    pub keeps_events: bool,
    costs: GasCosts,
}

impl<'a, B: StateRead> Ctx<'a, B> {
    /// A context with a gas limit.
    pub fn new(
        state: &'a mut Overlay<B>,
        block: &'a BlockInfo,
        chain_id: &'a str,
        gas_limit: u64,
        costs: GasCosts,
    ) -> Self {
        Ctx {
            state,
            gas: GasMeter::new(gas_limit),
            events: Vec::new(),
            block,
            chain_id,
            keeps_events: true,
            costs,
        }
    }

    /// The gas costs in force.
    pub fn costs(&self) -> GasCosts {
        self.costs
    }

    /// Reads a key, charging read gas.
    pub async fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, ExecError> {
        let value = self.state.get(key).await.map_err(store_err)?;
        let bytes = key.len() + value.as_ref().map_or(0, Vec::len);
        let cost = self.costs.read_flat + self.costs.read_per_byte * bytes as u64;
        self.gas.consume(cost, "ReadFlat")?;
        Ok(value)
    }

    /// Writes a key, charging write gas.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<(), ExecError> {
        let cost =
            self.costs.write_flat + self.costs.write_per_byte * (key.len() + value.len()) as u64;
        self.gas.consume(cost, "WriteFlat")?;
        self.state.put(key, value);
        Ok(())
    }

    /// Deletes a key, charging delete gas.
    pub fn delete(&mut self, key: Vec<u8>) -> Result<(), ExecError> {
        self.gas.consume(self.costs.delete, "Delete")?;
        self.state.delete(key);
        Ok(())
    }

    /// Emits an event.
    pub fn emit(&mut self, event: Event) {
        if self.keeps_events {
            self.events.push(event);
        }
    }

    /// Emits the event `build` makes, building it only when events are kept.
    pub fn emit_with(&mut self, build: impl FnOnce() -> Event) {
        if self.keeps_events {
            self.events.push(build());
        }
    }
}

/// Key-value reads as module accessors see them: metered inside a tx, free in queries.
pub trait KvRead: Send {
    /// Reads a key.
    fn get(
        &mut self,
        key: &[u8],
    ) -> impl std::future::Future<Output = Result<Option<Vec<u8>>, ExecError>> + Send;
}

/// Key-value writes as module accessors see them.
pub trait KvWrite: KvRead {
    /// Writes a key.
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<(), ExecError>;
    /// Deletes a key.
    fn delete(&mut self, key: Vec<u8>) -> Result<(), ExecError>;
}

impl<B: StateRead> KvRead for Ctx<'_, B> {
    fn get(
        &mut self,
        key: &[u8],
    ) -> impl std::future::Future<Output = Result<Option<Vec<u8>>, ExecError>> + Send {
        Ctx::get(self, key)
    }
}

impl<B: StateRead> KvWrite for Ctx<'_, B> {
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<(), ExecError> {
        Ctx::put(self, key, value)
    }
    fn delete(&mut self, key: Vec<u8>) -> Result<(), ExecError> {
        Ctx::delete(self, key)
    }
}

/// Unmetered reads of a state version, for queries.
pub struct Unmetered<S>(pub S);

impl<S: StateRead> KvRead for Unmetered<S> {
    async fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, ExecError> {
        self.0.get(key).await.map_err(store_err)
    }
}

/// Unmetered writes straight into an overlay's tx layer, for genesis.
pub struct Direct<'a, B>(pub &'a mut Overlay<B>);

impl<B: StateRead> KvRead for Direct<'_, B> {
    async fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, ExecError> {
        self.0.get(key).await.map_err(store_err)
    }
}

impl<B: StateRead> KvWrite for Direct<'_, B> {
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<(), ExecError> {
        self.0.put(key, value);
        Ok(())
    }
    fn delete(&mut self, key: Vec<u8>) -> Result<(), ExecError> {
        self.0.delete(key);
        Ok(())
    }
}
