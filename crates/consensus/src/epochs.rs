//! Epochs: one simplex engine per epoch, handed over at each epoch's final block.
//!
//! Marshal and the `Deferred` wrapper cut the chain into epochs of a fixed number of blocks
//! (`FixedEpocher`): the final block of an epoch is re-proposed rather than built upon, so
//! nothing is ever built past it. When marshal reports that final block finalized, the
//! orchestrator starts the next epoch's simplex engine on that block (its genesis), with the
//! next epoch's signing scheme, and stops the previous engine. Votes, certificates and the
//! simplex resolver run over one p2p channel each, multiplexed by epoch.
//!
//! A node that was down sees traffic from later epochs on the muxers' backup channels; it asks
//! marshal to fetch the final block of its own epoch from the sender, and once that block is
//! finalized locally it moves on, epoch by epoch.

use crate::block::{Block, Digest};
use crate::engine::EngineDeferred;
use commonware_consensus::marshal::core::Mailbox as MarshalMailbox;
use commonware_consensus::marshal::standard::Standard;
use commonware_consensus::marshal::Identifier;
use commonware_consensus::simplex::{
    self,
    config::{Floor, ForwardPolicy, SkipPolicy},
    elector::RoundRobin,
    scheme::ed25519::Scheme,
};
use commonware_consensus::types::{Epoch, Epocher, FixedEpocher, Height, ViewDelta};
use commonware_cryptography::{ed25519, Sha256};
use commonware_p2p::utils::mux::{Builder as _, MuxHandle, Muxer};
use commonware_p2p::{Blocker, Receiver, Sender};
use commonware_parallel::Sequential;
use commonware_runtime::{buffer::paged::CacheRef, Clock, Handle, Metrics, Spawner, Storage};
use commonware_utils::{vec::NonEmptyVec, NZDuration, NZUsize};
use futures::channel::mpsc::UnboundedReceiver;
use futures::StreamExt as _;
use rand_core::CryptoRng;
use std::sync::Arc;
use std::time::Duration;

/// The signing scheme of each epoch (the validator set the app chose for it).
pub type EpochSchemes = Arc<dyn Fn(Epoch) -> Scheme + Send + Sync>;

/// Everything a simplex engine needs besides its epoch, scheme and floor.
pub struct Orchestrator<E, B>
where
    E: Clock + CryptoRng + Spawner + Storage + Metrics + commonware_storage::Context,
{
    /// Runtime context (each engine runs in a child).
    pub context: E,
    /// Schemes by epoch.
    pub schemes: EpochSchemes,
    /// Peer blocker.
    pub blocker: B,
    /// The marshal-backed automaton, relay and reporter.
    pub deferred: EngineDeferred<E>,
    /// Marshal (finalized tips, boundary blocks, hints).
    pub marshal: MarshalMailbox<Scheme, Standard<Block>>,
    /// Epoch boundaries.
    pub epocher: FixedEpocher,
    /// Digest of the chain's genesis block (epoch 0's floor).
    pub genesis: Digest,
    /// Storage partition prefix.
    pub partition_prefix: String,
    /// Page cache shared with the other stores.
    pub page_cache: CacheRef,
    /// Leader timeout.
    pub leader_timeout: Duration,
}

struct Active {
    epoch: Epoch,
    handle: Handle<()>,
}

impl<E, B> Orchestrator<E, B>
where
    E: Clock + CryptoRng + Spawner + Storage + Metrics + commonware_storage::Context,
    B: Blocker<PublicKey = ed25519::PublicKey> + Sync,
{
    /// Runs the engines over the vote, certificate and resolver channels; `tips` carries
    /// every finalized (height, digest) marshal reports.
    pub async fn run<S, R>(
        self,
        votes: (S, R),
        certs: (S, R),
        resolver: (S, R),
        mut tips: UnboundedReceiver<(u64, Digest)>,
    ) where
        S: Sender<PublicKey = ed25519::PublicKey>,
        R: Receiver<PublicKey = ed25519::PublicKey>,
    {
        let (mux, mut votes_mux, mut votes_backup) =
            Muxer::builder(self.context.child("votes_mux"), votes.0, votes.1)
                .with_backup()
                .build();
        mux.start();
        let (mux, mut certs_mux, mut certs_backup) =
            Muxer::builder(self.context.child("certs_mux"), certs.0, certs.1)
                .with_backup()
                .build();
        mux.start();
        let (mux, mut resolver_mux) =
            Muxer::new(self.context.child("resolver_mux"), resolver.0, resolver.1);
        mux.start();

        let (epoch, floor) = self.starting_point().await;
        let Some(mut active) = self
            .enter(
                epoch,
                floor,
                &mut votes_mux,
                &mut certs_mux,
                &mut resolver_mux,
            )
            .await
        else {
            return;
        };
        loop {
            futures::select! {
                tip = tips.next() => {
                    let Some((height, digest)) = tip else { return };
                    let last = self.last(active.epoch);
                    if height < last {
                        continue;
                    }
                    // The final block of our epoch (or, after a gap, a later one) is final:
                    // move to the epoch after the one containing it.
                    let containing = self.epoch_of(height);
                    let (next, floor) = if height == self.last(containing) {
                        (containing.next(), Floor::Genesis(digest))
                    } else {
                        match self.marshal.get_finalization(Height::new(height)).await {
                            Some(f) => (containing, Floor::Finalized(f)),
                            None => continue,
                        }
                    };
                    if next <= active.epoch {
                        continue;
                    }
                    let Some(entered) = self
                        .enter(next, floor, &mut votes_mux, &mut certs_mux, &mut resolver_mux)
                        .await
                    else {
                        return;
                    };
                    active.handle.abort();
                    active = entered;
                }
                backup = futures::FutureExt::fuse(votes_backup.recv()) => {
                    let Some((epoch, (peer, _))) = backup else { return };
                    self.hint(active.epoch, epoch, peer);
                }
                backup = futures::FutureExt::fuse(certs_backup.recv()) => {
                    let Some((epoch, (peer, _))) = backup else { return };
                    self.hint(active.epoch, epoch, peer);
                }
            }
        }
    }

    fn last(&self, epoch: Epoch) -> u64 {
        self.epocher.last(epoch).map_or(u64::MAX, |h| h.get())
    }

    fn epoch_of(&self, height: u64) -> Epoch {
        self.epocher
            .containing(Height::new(height))
            .map_or(Epoch::zero(), |info| info.epoch())
    }

    /// A peer speaks in a later epoch: fetch the final block of ours from it.
    fn hint(&self, ours: Epoch, theirs: u64, peer: ed25519::PublicKey) {
        if theirs <= ours.get() {
            return;
        }
        let last = Height::new(self.last(ours));
        self.marshal.hint_finalized(last, NonEmptyVec::new(peer));
    }

    /// Where to start after a (re)start: the epoch after the latest finalized block's if that
    /// block ends its epoch, else that block's epoch from its finalization.
    async fn starting_point(&self) -> (Epoch, Floor<Scheme, Digest>) {
        let Some((height, digest)) = self.marshal.get_info(Identifier::Latest).await else {
            return (Epoch::zero(), Floor::Genesis(self.genesis));
        };
        let height = height.get();
        let epoch = self.epoch_of(height);
        if height == self.last(epoch) {
            return (epoch.next(), Floor::Genesis(digest));
        }
        if epoch == Epoch::zero() {
            return (epoch, Floor::Genesis(self.genesis));
        }
        match self.marshal.get_finalization(Height::new(height)).await {
            Some(f) => (epoch, Floor::Finalized(f)),
            None => (epoch, Floor::Genesis(self.genesis)),
        }
    }

    async fn enter<S: Sender<PublicKey = ed25519::PublicKey>>(
        &self,
        epoch: Epoch,
        floor: Floor<Scheme, Digest>,
        votes: &mut MuxHandle<S>,
        certs: &mut MuxHandle<S>,
        resolver: &mut MuxHandle<S>,
    ) -> Option<Active> {
        let (Ok(v), Ok(c), Ok(r)) = (
            votes.register(epoch.get()).await,
            certs.register(epoch.get()).await,
            resolver.register(epoch.get()).await,
        ) else {
            return None;
        };
        let leader_timeout = self.leader_timeout;
        let engine = simplex::Engine::new(
            self.context.child("simplex").with_attribute("epoch", epoch),
            simplex::Config {
                scheme: (self.schemes)(epoch),
                elector: RoundRobin::<Sha256>::default(),
                blocker: self.blocker.clone(),
                automaton: self.deferred.clone(),
                relay: self.deferred.clone(),
                reporter: self.deferred.clone(),
                strategy: Sequential,
                partition: format!("{}-simplex-{}", self.partition_prefix, epoch.get()),
                mailbox_size: NZUsize!(1024),
                epoch,
                floor,
                replay_buffer: NZUsize!(1 << 16),
                write_buffer: NZUsize!(1 << 16),
                page_cache: self.page_cache.clone(),
                leader_timeout,
                certification_timeout: leader_timeout * 2,
                timeout_retry: Duration::from_millis(500),
                view_retention: ViewDelta::new(64),
                skip: SkipPolicy::Enabled {
                    timeout: leader_timeout * 5,
                    budget: simplex::SkipBudget::Participants,
                },
                fetch_timeout: NZDuration!(Duration::from_secs(2)),
                fetch_retry_delay: Duration::from_secs(1),
                forward: ForwardPolicy::Disabled,
                track_historical_votes: false,
            },
        );
        tracing::info!(epoch = epoch.get(), "entering epoch");
        Some(Active {
            epoch,
            handle: engine.start(v, c, r),
        })
    }
}
