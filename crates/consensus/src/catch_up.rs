//! How a node that is behind catches up, and how a fresh node finds where to start.
//!
//! A node that was down backfills blocks through marshal. A *fresh* node may instead state-sync
//! to a recent finalized floor: it first learns every skipped epoch's validator set from
//! peers' boundary proofs ([`crate::epoch_proofs`]), then asks the latest set for its latest
//! finalization (glue's probe). The network keeps moving meanwhile: a floor from an epoch that
//! began after the walk cannot be verified yet, so when the probe finds nothing the node walks
//! again and retries, until a walk learns nothing new.

use crate::block::{Block, Digest};
use crate::epoch_proofs::Walk;
use commonware_consensus::marshal::standard::Standard;
use commonware_consensus::simplex::{scheme::ed25519::Scheme, types::Finalization};
use commonware_consensus::types::Epocher as _;
use commonware_cryptography::ed25519::PublicKey;
use commonware_glue::stateful::probe::Mailbox as ProbeMailbox;
use commonware_p2p::{Receiver, Sender};
use commonware_runtime::{Clock, Metrics, Storage};
use rand_core::CryptoRng;
use std::time::Duration;

/// How a node that is behind catches up.
#[derive(Clone, Debug)]
pub struct CatchUp {
    /// Whether a fresh node may state-sync instead of replaying every block.
    pub state_sync: bool,
    /// A fresh node state-syncs only if the network's latest finalization is at least this many
    /// views past genesis; closer than that, replaying blocks is cheaper.
    pub min_distance_views: u64,
    /// How long a fresh node asks peers for a finalized floor before starting from genesis (on
    /// a brand-new network nobody has one).
    pub probe_timeout: Duration,
    /// Finalized blocks kept for peers to backfill from (`None`: all). A node down for longer
    /// than this many blocks cannot catch up by blocks.
    pub retained_blocks: Option<usize>,
}

impl Default for CatchUp {
    fn default() -> Self {
        CatchUp {
            state_sync: true,
            min_distance_views: 1000,
            probe_timeout: Duration::from_secs(3),
            retained_blocks: None,
        }
    }
}

/// Probe attempts a fresh node makes (each after a walk that learned a new set).
const FLOOR_ATTEMPTS: usize = 5;

/// A fresh node's start: the walk over epoch boundaries and the search for a floor.
pub struct FreshStart<'a, E: Clock + Storage + Metrics, S, R> {
    /// Runtime context of the walk.
    pub context: E,
    /// What the walk reads and extends.
    pub walk: Walk<'a, E>,
    /// The boundary proof channel.
    pub net: &'a mut (S, R),
}

impl<E, S, R> FreshStart<'_, E, S, R>
where
    E: Clock + Storage + Metrics + CryptoRng,
    S: Sender<PublicKey = PublicKey>,
    R: Receiver<PublicKey = PublicKey>,
{
    /// Learns the sets of ended epochs from peers; returns how many were new.
    pub async fn walk(&mut self) -> usize {
        self.walk.run(&mut self.context, self.net).await
    }

    /// A floor to state-sync to, if the network is far enough along to make it worthwhile.
    pub async fn floor(
        &mut self,
        probe: &ProbeMailbox<Scheme, Standard<Block>>,
        catch_up: &CatchUp,
    ) -> Option<Finalization<Scheme, Digest>> {
        for _ in 0..FLOOR_ATTEMPTS {
            let found = futures::select! {
                f = futures::FutureExt::fuse(probe.subscribe()) => f.ok(),
                _ = futures::FutureExt::fuse(self.context.sleep(catch_up.probe_timeout)) => None,
            };
            let Some(floor) = found else {
                if self.walk().await == 0 {
                    break;
                }
                continue;
            };
            // Views restart each epoch; the epoch's first height + view bounds the floor's height.
            let round = floor.round();
            let distance = self
                .walk
                .epocher
                .first(round.epoch())
                .map_or(u64::MAX, |h| h.get())
                .saturating_add(round.view().get());
            if distance < catch_up.min_distance_views {
                tracing::info!(
                    distance,
                    "network is close to genesis; catching up by blocks"
                );
                return None;
            }
            tracing::info!(distance, "state syncing to a finalized floor");
            return Some(floor);
        }
        tracing::info!("no finalized floor from peers; starting from genesis");
        None
    }
}
