//! The mempool: admits txs through the app's CheckTx against a check-state (committed state
//! plus the ante writes of txs already admitted, so one account can queue consecutive
//! sequences), bounds itself by count and bytes, offers txs to proposals without removing
//! them, and after every finalized block drops included txs and re-checks the rest, evicting
//! any that can no longer be valid.

use caspur_app::{App, BlockInfo, CheckedTx};
use caspur_consensus::{FinalizedBlock, PeerTxSink, TxPublisher, TxSource};
use caspur_store::{Overlay, ReadMemo, StateRead};
use caspur_types::{Dec, TxError};
use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex};

/// Mempool bounds and the node's fee floor.
#[derive(Clone, Debug)]
pub struct MempoolConfig {
    /// Most txs held.
    pub max_txs: usize,
    /// Most bytes held.
    pub max_bytes: usize,
    /// The node-local minimum gas price (CheckTx only, as in Cosmos).
    pub min_gas_price: Option<Dec>,
}

impl Default for MempoolConfig {
    fn default() -> Self {
        MempoolConfig {
            max_txs: 5000,
            max_bytes: 64 << 20,
            min_gas_price: None,
        }
    }
}

/// A pending tx: its bytes and what its admission (or its last re-check) learned — its
/// hash, gas, verified signatures and decoding.
#[derive(Clone)]
struct Entry {
    raw: Vec<u8>,
    checked: CheckedTx,
}

#[derive(Default)]
struct Pending {
    entries: Vec<Entry>,
    hashes: HashSet<[u8; 32]>,
    bytes: usize,
}

impl Pending {
    fn push(&mut self, e: Entry) {
        self.bytes += e.raw.len();
        self.hashes.insert(e.checked.hash);
        self.entries.push(e);
    }
}

/// The mempool over a committed-state handle `S`.
pub struct Mempool<S> {
    app: Arc<App>,
    config: MempoolConfig,
    committed: S,
    /// Txs in admission order; read synchronously by proposals.
    pending: Mutex<Pending>,
    /// The check-state and the next block's info; held across CheckTx so admissions serialize.
    /// Its reads of the committed state are remembered until the next block (a new memo with
    /// each re-check): the re-check reads the same keys for every pending tx.
    check: tokio::sync::Mutex<(Overlay<ReadMemo<S>>, BlockInfo)>,
    /// Where admitted client txs are sent on to peers.
    publisher: Option<Arc<dyn TxPublisher>>,
    /// Refusals, evictions and the size are counted here.
    monitor: Option<Arc<crate::monitor::Monitor>>,
}

impl<S> Mempool<S> {
    /// The pending txs (a panic elsewhere while holding the lock leaves them consistent:
    /// every update is a single assignment or push).
    fn lock_pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<S: StateRead + Clone + 'static> Mempool<S> {
    /// An empty mempool whose next block is `next`.
    pub fn new(app: Arc<App>, config: MempoolConfig, committed: S, next: BlockInfo) -> Self {
        let check = Overlay::new(ReadMemo::new(committed.clone()));
        Mempool {
            app,
            config,
            committed,
            pending: Mutex::new(Pending::default()),
            check: tokio::sync::Mutex::new((check, next)),
            publisher: None,
            monitor: None,
        }
    }

    /// Counts refusals, evictions and the size in `monitor`.
    pub fn with_monitor(mut self, monitor: Arc<crate::monitor::Monitor>) -> Self {
        self.monitor = Some(monitor);
        self
    }

    /// The committed state it checks against.
    pub fn committed(&self) -> &S {
        &self.committed
    }

    fn refused(&self, err: &TxError) {
        if let Some(m) = &self.monitor {
            m.tx_refused(err);
        }
    }

    fn report_size(&self, pending: &Pending) {
        if let Some(m) = &self.monitor {
            m.mempool_size(pending.entries.len(), pending.bytes);
        }
    }

    /// Gossips txs admitted through [`Mempool::submit`] with `publisher`.
    pub fn with_publisher(mut self, publisher: Arc<dyn TxPublisher>) -> Self {
        self.publisher = Some(publisher);
        self
    }

    /// Admits a client's tx and, once admitted, gossips it to peers.
    pub async fn submit(&self, raw: Vec<u8>) -> Result<[u8; 32], TxError> {
        let hash = self.add(raw.clone()).await?;
        if let Some(p) = &self.publisher {
            p.publish(&raw);
        }
        Ok(hash)
    }

    /// Number of txs and bytes held.
    pub fn size(&self) -> (usize, usize) {
        let p = self.lock_pending();
        (p.entries.len(), p.bytes)
    }

    /// CheckTx without admitting: what [`Mempool::add`] would answer for `raw` now (after
    /// the txs already pending), changing nothing.
    pub async fn check_only(&self, raw: &[u8]) -> Result<CheckedTx, TxError> {
        let check = self.check.lock().await;
        let (overlay, next) = &*check;
        let mut scratch = overlay.clone();
        self.app
            .check_tx(&mut scratch, raw, next, self.config.min_gas_price)
            .await
    }

    /// Up to `limit` pending txs in admission order, with the count and bytes of all.
    pub fn pending_txs(&self, limit: usize) -> (Vec<Vec<u8>>, usize, usize) {
        let p = self.lock_pending();
        let txs = p
            .entries
            .iter()
            .take(limit)
            .map(|e| e.raw.clone())
            .collect();
        (txs, p.entries.len(), p.bytes)
    }

    /// Admits a tx or says why not. Returns its hash.
    pub async fn add(&self, raw: Vec<u8>) -> Result<[u8; 32], TxError> {
        let hash = caspur_types::tx::tx_hash(&raw);
        let mut check = self.check.lock().await;
        {
            let p = self.lock_pending();
            if p.hashes.contains(&hash) {
                return Err(TxError::tx_in_mempool("tx already in mempool"));
            }
            if p.entries.len() >= self.config.max_txs || p.bytes + raw.len() > self.config.max_bytes
            {
                return Err(TxError::mempool_full(format!(
                    "mempool is full: {} txs, {} bytes",
                    p.entries.len(),
                    p.bytes
                )));
            }
        }
        let (overlay, next) = &mut *check;
        let checked = self
            .app
            .check_tx(overlay, &raw, next, self.config.min_gas_price)
            .await
            .inspect_err(|e| self.refused(e))?;
        let mut pending = self.lock_pending();
        pending.push(Entry { raw, checked });
        self.report_size(&pending);
        Ok(hash)
    }

    /// After a finalized block: drop its txs, rebuild the check-state on the new committed
    /// state and re-check every remaining tx in order, evicting those now invalid.
    pub async fn on_finalized(&self, block: &FinalizedBlock) {
        let mut check = self.check.lock().await;
        let included: HashSet<[u8; 32]> = block
            .txs
            .iter()
            .map(|t| caspur_types::tx::tx_hash(t))
            .collect();
        let remaining: Vec<Entry> = {
            let mut p = self.lock_pending();
            let all = std::mem::take(&mut *p);
            all.entries
                .into_iter()
                .filter(|e| !included.contains(&e.checked.hash))
                .collect()
        };
        let next = BlockInfo {
            height: block.height + 1,
            time_ms: block.time_ms,
        };
        let mut overlay = Overlay::new(ReadMemo::new(self.committed.clone()));
        let mut kept = Pending::default();
        let rechecked = remaining.len();
        let mut evicted = Vec::new();
        for e in remaining {
            match self
                .app
                .recheck_tx(
                    &mut overlay,
                    &e.raw,
                    &next,
                    self.config.min_gas_price,
                    &e.checked,
                )
                .await
            {
                Ok(checked) => kept.push(Entry {
                    raw: e.raw,
                    checked,
                }),
                Err(err) => {
                    let hash = hex::encode_upper(e.checked.hash);
                    tracing::debug!(%hash, %err, "evicted on recheck");
                    evicted.push(err);
                }
            }
        }
        if let Some(m) = &self.monitor {
            m.rechecked(rechecked, &evicted);
        }
        self.report_size(&kept);
        *self.lock_pending() = kept;
        *check = (overlay, next);
    }
}

impl<S: StateRead + Clone + 'static> TxSource for Mempool<S> {
    fn select(
        &self,
        max_bytes: usize,
        max_gas: Option<u64>,
        exclude: &BTreeSet<[u8; 32]>,
    ) -> Vec<Vec<u8>> {
        let p = self.lock_pending();
        let (mut bytes, mut gas) = (0usize, 0u64);
        let mut out = Vec::new();
        for e in p
            .entries
            .iter()
            .filter(|e| !exclude.contains(&e.checked.hash))
        {
            let next_gas = gas.saturating_add(e.checked.gas_wanted);
            if bytes + e.raw.len() > max_bytes || max_gas.is_some_and(|m| next_gas > m) {
                // Later txs of the same account would be out of sequence: stop here.
                break;
            }
            bytes += e.raw.len();
            gas = next_gas;
            out.push(e.raw.clone());
        }
        out
    }
}

impl<S: StateRead + Clone + Send + Sync + 'static> PeerTxSink for Mempool<S> {
    fn received(
        &self,
        tx: Vec<u8>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            // A peer's tx gets the same CheckTx; a refusal (often: already held) is routine.
            if let Err(e) = self.add(tx).await {
                tracing::trace!("gossiped tx not admitted: {}", e.message);
            }
        })
    }
}
