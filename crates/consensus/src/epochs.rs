//! Epochs: one simplex engine per epoch, handed over at each epoch's final block.
//!
//! Marshal and the `Deferred` wrapper cut the chain into epochs of a fixed number of blocks
//! (`FixedEpocher`): the final block of an epoch is re-proposed rather than built upon, so
//! nothing is ever built past it. When marshal reports that final block finalized, the
//! orchestrator starts the next epoch's simplex engine on that block (its genesis), with the
//! next epoch's signing scheme, and stops the previous engine. Votes, certificates and the
//! simplex resolver run over one p2p channel each, multiplexed by epoch.
//!
//! Each epoch runs with the validator set the previous epoch's last block carries (see
//! [`crate::validator_sets`]); a node outside an epoch's set follows it without voting.
//!
//! A node that was down sees traffic from later epochs on the muxers' backup channels; it asks
//! marshal to fetch the final block of its own epoch from the sender, and once that block is
//! stored locally it learns the next set and moves on, epoch by epoch.

use crate::block::{Block, Digest};
use crate::engine::EngineDeferred;
use crate::validator_sets::{EpochSets, SetStore};
use caspur_app::validators::Validator;
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
use commonware_cryptography::{ed25519, Digestible as _, Sha256};
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

/// Told of each epoch's validator set as this node learns it (p2p peer tracking).
pub type SetObserver = Arc<dyn Fn(Epoch, &[Validator]) + Send + Sync>;

/// Whether `height` is the last block of its epoch (it carries the next epoch's set).
pub fn ends_epoch(epocher: &FixedEpocher, height: u64) -> bool {
    epocher
        .containing(Height::new(height))
        .is_some_and(|info| info.last().get() == height)
}

/// Everything a simplex engine needs besides its epoch, scheme and floor.
pub struct Orchestrator<E, B>
where
    E: Clock + CryptoRng + Spawner + Storage + Metrics + commonware_storage::Context,
{
    /// Runtime context (each engine runs in a child).
    pub context: E,
    /// Validator sets by epoch.
    pub sets: EpochSets,
    /// Where learned sets persist.
    pub set_store: SetStore<E>,
    /// Told of every newly learned set.
    pub on_new_set: Option<SetObserver>,
    /// Told of every epoch whose last block is final (its boundary proof is kept).
    pub ended: futures::channel::mpsc::UnboundedSender<Epoch>,
    /// Peer blocker.
    pub blocker: B,
    /// The marshal-backed automaton, relay and reporter.
    pub deferred: EngineDeferred<E>,
    /// Where simplex's certificates and fault proofs are kept for proposals.
    pub evidence: crate::evidence::EvidencePool,
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
    /// Told when the first engine runs (startup hellos begin).
    pub presence: crate::presence::Presence,
}

type Muxes<'a, S> = (
    &'a mut MuxHandle<S>,
    &'a mut MuxHandle<S>,
    &'a mut MuxHandle<S>,
);

struct Active {
    epoch: Epoch,
    handle: Handle<()>,
}

/// How often a node whose tip passed its epoch's end looks for the boundary block.
const BOUNDARY_POLL: Duration = Duration::from_millis(50);

impl<E, B> Orchestrator<E, B>
where
    E: Clock + CryptoRng + Spawner + Storage + Metrics + commonware_storage::Context,
    B: Blocker<PublicKey = ed25519::PublicKey> + Sync,
{
    /// Runs the engines over the vote, certificate and resolver channels; `tips` carries
    /// every finalized (height, digest) marshal reports.
    pub async fn run<S, R>(
        mut self,
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
        let mut muxes = (&mut votes_mux, &mut certs_mux, &mut resolver_mux);

        let Some((epoch, floor, mut tip)) = self.starting_point().await else {
            tracing::error!("the validator set of this node's epoch is unknown and its boundary block is not stored; wipe the data directory to state-sync again");
            return;
        };
        let Some(mut active) = self.enter(epoch, floor, &mut muxes).await else {
            return;
        };
        let validators: Vec<ed25519::PublicKey> = self
            .sets
            .validators(epoch)
            .unwrap_or_default()
            .iter()
            .filter_map(|v| crate::validator_sets::public_key(v).ok())
            .collect();
        self.presence
            .engine_started(self.context.current(), &validators);
        loop {
            futures::select! {
                reported = tips.next() => {
                    let Some((height, _)) = reported else { return };
                    tip = tip.max(height);
                }
                backup = futures::FutureExt::fuse(votes_backup.recv()) => {
                    let Some((epoch, (peer, _))) = backup else { return };
                    self.hint(active.epoch, epoch, peer);
                    continue;
                }
                backup = futures::FutureExt::fuse(certs_backup.recv()) => {
                    let Some((epoch, (peer, _))) = backup else { return };
                    self.hint(active.epoch, epoch, peer);
                    continue;
                }
                _ = futures::FutureExt::fuse(self.context.sleep(BOUNDARY_POLL)) => {}
            }
            // The final block of our epoch (or a later one) is final: move on, one epoch at a
            // time (each set is learned from the previous epoch's last block), or straight to
            // the tip's epoch when its set is already known.
            while tip >= self.last(active.epoch) {
                let Some((next, floor)) = self.next_engine(active.epoch, tip).await else {
                    break;
                };
                let Some(entered) = self.enter(next, floor, &mut muxes).await else {
                    return;
                };
                active.handle.abort();
                active = entered;
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

    /// The engine after `current`'s, given a finalized tip past `current`'s end; `None` while
    /// the blocks it needs are not stored yet.
    async fn next_engine(
        &mut self,
        current: Epoch,
        tip: u64,
    ) -> Option<(Epoch, Floor<Scheme, Digest>)> {
        let containing = self.epoch_of(tip);
        let known = self.sets.validators(containing).is_some();
        if known && containing > current.next() && tip != self.last(containing) {
            if let Some(f) = self.marshal.get_finalization(Height::new(tip)).await {
                return Some((containing, Floor::Finalized(f)));
            }
        }
        let boundary = self.learn_stored(current).await?;
        Some((current.next(), Floor::Genesis(boundary)))
    }

    /// Learns the set after `epoch` from its last block in marshal's store; returns that
    /// block's digest (`None`: not stored yet, or its set is unusable).
    async fn learn_stored(&mut self, epoch: Epoch) -> Option<Digest> {
        let boundary = self
            .marshal
            .get_block(Height::new(self.last(epoch)))
            .await?;
        self.learn(epoch, boundary.inner())
            .await
            .then(|| boundary.digest())
    }

    /// Learns (and persists) the set of `epoch + 1` from `epoch`'s last block.
    async fn learn(&mut self, epoch: Epoch, boundary: &Block) -> bool {
        let _ = self.ended.unbounded_send(epoch);
        if self.sets.validators(epoch.next()).is_some() {
            return true;
        }
        match self.sets.learn_next(epoch, &boundary.next_validators) {
            Ok(set) => {
                self.set_store.record(epoch.next(), &set).await;
                tracing::info!(
                    epoch = epoch.next().get(),
                    validators = set.len(),
                    "learned the next epoch's validator set"
                );
                if let Some(observer) = &self.on_new_set {
                    observer(epoch.next(), &set);
                }
                true
            }
            Err(e) => {
                tracing::error!(epoch = epoch.get(), error = %e, "cannot use the next validator set");
                false
            }
        }
    }

    /// A peer speaks in a later epoch: fetch the final block of ours from it.
    fn hint(&self, ours: Epoch, theirs: u64, peer: ed25519::PublicKey) {
        if theirs <= ours.get() {
            return;
        }
        let last = Height::new(self.last(ours));
        self.marshal.hint_finalized(last, NonEmptyVec::new(peer));
    }

    /// Where to start after a (re)start, and the finalized tip: the epoch after the latest
    /// finalized block's if that block ends its epoch, else that block's epoch from its
    /// finalization. `None` if that epoch's set cannot be learned from local data.
    async fn starting_point(&mut self) -> Option<(Epoch, Floor<Scheme, Digest>, u64)> {
        let Some((height, digest)) = self.marshal.get_info(Identifier::Latest).await else {
            return Some((Epoch::zero(), Floor::Genesis(self.genesis), 0));
        };
        let height = height.get();
        let epoch = self.epoch_of(height);
        // Sets persist as they are learned; after a crash between finalizing a boundary
        // block and persisting its set, learn it again from the stored block.
        let (known, _) = self.sets.latest();
        let mut learning = known;
        while learning < epoch || (learning == epoch && height == self.last(epoch)) {
            self.learn_stored(learning).await?;
            learning = learning.next();
        }
        if height == self.last(epoch) {
            return Some((epoch.next(), Floor::Genesis(digest), height));
        }
        if epoch == Epoch::zero() {
            return Some((epoch, Floor::Genesis(self.genesis), height));
        }
        match self.marshal.get_finalization(Height::new(height)).await {
            Some(f) => Some((epoch, Floor::Finalized(f), height)),
            None => Some((epoch, Floor::Genesis(self.genesis), height)),
        }
    }

    async fn enter<S: Sender<PublicKey = ed25519::PublicKey>>(
        &self,
        epoch: Epoch,
        floor: Floor<Scheme, Digest>,
        (votes, certs, resolver): &mut Muxes<'_, S>,
    ) -> Option<Active> {
        let scheme = self.sets.scheme(epoch)?;
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
                scheme,
                elector: RoundRobin::<Sha256>::default(),
                blocker: self.blocker.clone(),
                automaton: self.deferred.clone(),
                relay: self.deferred.clone(),
                reporter: crate::evidence::EvidenceTap {
                    inner: self.deferred.clone(),
                    pool: self.evidence.clone(),
                },
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
        tracing::info!(
            epoch = epoch.get(),
            voting = self.sets.votes_in(epoch),
            "entering epoch"
        );
        Some(Active {
            epoch,
            handle: engine.start(v, c, r),
        })
    }
}
