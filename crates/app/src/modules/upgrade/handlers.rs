//! The upgrade handler registry: the plans a binary knows how to run. At a plan's height a
//! binary with its handler runs the migration (and the plan's routes reopen); a binary
//! without it halts (see `App::pending_upgrade`). Handlers are compiled into the binary that
//! carries them, so they see state through the object-safe [`MigrationState`].

use crate::context::{Ctx, KvRead, KvWrite};
use crate::error::ExecError;
use caspur_store::StateRead;
use caspur_types::Event;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed future a migration step returns.
pub type BoxFut<'a, T> = Pin<Box<dyn Future<Output = Result<T, ExecError>> + Send + 'a>>;

/// State as a migration sees it: reads, writes, events and the height it runs at.
pub trait MigrationState: Send {
    /// Reads a key.
    fn read(&mut self, key: Vec<u8>) -> BoxFut<'_, Option<Vec<u8>>>;
    /// Writes a key.
    fn write(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<(), ExecError>;
    /// Deletes a key.
    fn remove(&mut self, key: Vec<u8>) -> Result<(), ExecError>;
    /// Emits an event into the block's events.
    fn event(&mut self, event: Event);
    /// The height the migration runs at.
    fn height(&self) -> u64;
}

impl<B: StateRead> MigrationState for Ctx<'_, B> {
    fn read(&mut self, key: Vec<u8>) -> BoxFut<'_, Option<Vec<u8>>> {
        Box::pin(async move { Ctx::get(self, &key).await })
    }
    fn write(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<(), ExecError> {
        Ctx::put(self, key, value)
    }
    fn remove(&mut self, key: Vec<u8>) -> Result<(), ExecError> {
        Ctx::delete(self, key)
    }
    fn event(&mut self, event: Event) {
        self.emit(event)
    }
    fn height(&self) -> u64 {
        self.block.height
    }
}

/// [`MigrationState`] as the modules' typed state accessors take it (`KvRead` + `KvWrite`).
pub struct Migrating<'a>(pub &'a mut dyn MigrationState);

impl<'m> KvRead for Migrating<'m> {
    fn get(
        &mut self,
        key: &[u8],
    ) -> impl Future<Output = Result<Option<Vec<u8>>, ExecError>> + Send {
        self.0.read(key.to_vec())
    }
}

impl KvWrite for Migrating<'_> {
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<(), ExecError> {
        self.0.write(key, value)
    }
    fn delete(&mut self, key: Vec<u8>) -> Result<(), ExecError> {
        self.0.remove(key)
    }
}

/// An upgrade handler: the migration a plan runs on the new binary.
pub type UpgradeHandler =
    Arc<dyn for<'a> Fn(&'a mut dyn MigrationState) -> BoxFut<'a, ()> + Send + Sync>;

/// Handlers by plan name.
#[derive(Clone, Default)]
pub struct UpgradeHandlers(BTreeMap<String, UpgradeHandler>);

impl UpgradeHandlers {
    /// These handlers and `handler` for the plan named `name`.
    pub fn with(mut self, name: &str, handler: UpgradeHandler) -> Self {
        self.0.insert(name.to_string(), handler);
        self
    }

    /// The handler for `name`.
    pub fn get(&self, name: &str) -> Option<&UpgradeHandler> {
        self.0.get(name)
    }

    /// The plan names handled, in order.
    pub fn names(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

impl std::fmt::Debug for UpgradeHandlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}
