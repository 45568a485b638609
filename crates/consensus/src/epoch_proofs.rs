//! Boundary proofs: how a fresh node learns the validator sets of the epochs it skips.
//!
//! A node that state-syncs jumps to a recent floor without executing the blocks before it, so
//! it never sees the epoch boundary blocks that carry each new set; yet it must know the floor
//! epoch's set to verify anything. Before it probes for a floor it walks the boundaries from
//! genesis: for the latest epoch `e` whose set it knows, it asks peers for the last block of
//! `e` with that block's finalization, checks the finalization against the set of `e`, and
//! learns the set of `e + 1` from the block — until no peer has the next boundary (the epoch
//! has not ended). Every node keeps the proofs it learned from (captured from marshal as its
//! epochs end, or received during its own walk) and serves them on one p2p channel:
//!
//! ```text
//! request: 0u8 | epoch u64
//! proof:   1u8 | epoch u64 | block (length-prefixed) | finalization
//! unknown: 2u8 | epoch u64
//! ```

use crate::block::{Block, Digest};
use crate::epochs::SetObserver;
use crate::statesync::frame;
use crate::validator_sets::{public_key, EpochSets, SetStore};
use commonware_codec::{Decode as _, Encode as _, RangeCfg, Read as _};
use commonware_consensus::marshal::core::Mailbox as MarshalMailbox;
use commonware_consensus::marshal::standard::Standard;
use commonware_consensus::simplex::{scheme::ed25519::Scheme, types::Finalization};
use commonware_consensus::types::{Epoch, Epocher, FixedEpocher, Height};
use commonware_consensus::Epochable as _;
use commonware_cryptography::certificate::Verifier as _;
use commonware_cryptography::{ed25519::PublicKey, Digestible as _};
use commonware_p2p::{Receiver, Recipients, Sender};
use commonware_parallel::Sequential;
use commonware_runtime::{Clock, Handle, Metrics, Spawner, Storage};
use commonware_storage::metadata::{self, Metadata};
use commonware_utils::sequence::U64;
use futures::channel::mpsc::UnboundedReceiver;
use futures::StreamExt as _;
use rand_core::CryptoRng;
use std::time::Duration;

/// The p2p channel of boundary proofs.
pub const CH_EPOCH_PROOFS: u64 = 8;
/// Largest proof: a block and its finalization.
pub const MAX_PROOF_BYTES: usize = 10 << 20;
/// How long one peer has to answer during the walk.
const ASK_TIMEOUT: Duration = Duration::from_secs(2);
/// How often a boundary whose finalization marshal does not hold yet is looked for again.
const CAPTURE_RETRY: Duration = Duration::from_secs(1);

const TAG_REQUEST: u8 = 0;
const TAG_PROOF: u8 = 1;
const TAG_UNKNOWN: u8 = 2;

/// The proofs this node can serve, by epoch (persisted).
pub struct ProofStore<E: Clock + Storage + Metrics> {
    store: Option<Metadata<E, U64, Vec<u8>>>,
}

impl<E: Clock + Storage + Metrics> ProofStore<E> {
    /// Opens the store under `prefix`.
    pub async fn open(context: E, prefix: &str) -> Result<Self, String> {
        let store = Metadata::init(
            context,
            metadata::Config {
                partition: format!("{prefix}-epoch-proofs"),
                codec_config: (RangeCfg::from(0..=MAX_PROOF_BYTES), ()),
            },
        )
        .await
        .map_err(|e| format!("cannot open the epoch proof store: {e}"))?;
        Ok(ProofStore { store: Some(store) })
    }

    fn get(&self, epoch: u64) -> Option<Vec<u8>> {
        self.store.as_ref()?.get(&U64::new(epoch)).cloned()
    }

    #[allow(
        clippy::expect_used,
        clippy::panic,
        reason = "a disk fault persisting consensus data stops the node (the write did not complete, nothing committed is lost)"
    )]
    async fn put(&mut self, epoch: u64, proof: Vec<u8>) {
        let store = self
            .store
            .take()
            .expect("store is put back after every write");
        match store.put_sync(U64::new(epoch), proof).await {
            Ok(store) => self.store = Some(store),
            Err(e) => panic!("persisting the boundary proof of epoch {epoch}: {e}"),
        }
    }
}

fn encode_proof(block: &Block, finalization: &Finalization<Scheme, Digest>) -> Vec<u8> {
    let mut body = block.encode().to_vec().encode().to_vec();
    body.extend_from_slice(&finalization.encode());
    body
}

/// Checks a proof for the end of `epoch` against that epoch's scheme; returns the block.
fn verify_proof<R: CryptoRng>(
    rng: &mut R,
    body: &[u8],
    epoch: Epoch,
    scheme: &Scheme,
    epocher: &FixedEpocher,
) -> Option<Block> {
    let mut buf = bytes::Bytes::copy_from_slice(body);
    let block_bytes = Vec::<u8>::read_cfg(&mut buf, &((0..=MAX_PROOF_BYTES).into(), ())).ok()?;
    let block = Block::decode_cfg(block_bytes, &()).ok()?;
    let finalization =
        Finalization::<Scheme, Digest>::decode_cfg(buf, &scheme.certificate_codec_config()).ok()?;
    let last = epocher.last(epoch)?;
    (block.height == last
        && finalization.epoch() == epoch
        && finalization.proposal.payload == block.digest()
        && finalization.verify(rng, scheme, &Sequential))
    .then_some(block)
}

fn parse(message: &[u8]) -> Option<(u8, u64, &[u8])> {
    let tag = *message.first()?;
    let epoch = u64::from_be_bytes(message.get(1..9)?.try_into().ok()?);
    Some((tag, epoch, &message[9..]))
}

/// What a walk needs.
pub struct Walk<'a, E: Clock + Storage + Metrics> {
    /// Known sets (extended by the walk).
    pub sets: &'a EpochSets,
    /// Where learned sets persist.
    pub set_store: &'a mut SetStore<E>,
    /// Where received proofs persist (to serve them on).
    pub proofs: &'a mut ProofStore<E>,
    /// Told of every learned set.
    pub on_new_set: Option<&'a SetObserver>,
    /// Epoch boundaries.
    pub epocher: &'a FixedEpocher,
    /// Our key (never asked).
    pub me: &'a PublicKey,
}

/// What one round of asking produced.
enum Round {
    /// A verified proof: the boundary block and the proof bytes.
    Proof(Box<Block>, Vec<u8>),
    /// Peers answered, none with a valid proof: the epoch has not ended.
    NotEnded,
    /// Nobody answered (connections may still be coming up).
    Silent,
}

/// Rounds of silence after which a walk gives up.
const SILENT_ROUNDS: usize = 5;

impl<E: Clock + Storage + Metrics + CryptoRng> Walk<'_, E> {
    /// Learns sets epoch by epoch from peers' proofs until none has the next boundary;
    /// returns how many it learned.
    pub async fn run<S, R>(&mut self, context: &mut E, net: &mut (S, R)) -> usize
    where
        S: Sender<PublicKey = PublicKey>,
        R: Receiver<PublicKey = PublicKey>,
    {
        let mut silent = 0;
        let mut learned = 0;
        loop {
            let (epoch, _) = self.sets.latest();
            let Some(scheme) = self.sets.scheme(epoch) else {
                return learned;
            };
            let peers = self.peers();
            if peers.is_empty() {
                return learned;
            }
            let (block, body) = match self.ask(context, net, &peers, epoch, &scheme).await {
                Round::Proof(block, body) => (block, body),
                Round::NotEnded => return learned,
                Round::Silent if silent + 1 < SILENT_ROUNDS => {
                    silent += 1;
                    continue;
                }
                Round::Silent => {
                    tracing::warn!(epoch = epoch.get(), "no peer answered for boundary proofs");
                    return learned;
                }
            };
            match self.sets.learn_next(epoch, &block.next_validators) {
                Ok(set) => {
                    self.set_store.record(epoch.next(), &set).await;
                    self.proofs.put(epoch.get(), body).await;
                    if let Some(observer) = self.on_new_set {
                        observer(epoch.next(), &set);
                    }
                    tracing::info!(
                        epoch = epoch.next().get(),
                        "learned a validator set from a peer's boundary proof"
                    );
                    learned += 1;
                }
                Err(e) => {
                    tracing::warn!(epoch = epoch.get(), error = %e, "unusable set in a boundary proof");
                    return learned;
                }
            }
        }
    }

    /// The members of the latest known set and of the one before (members that just left
    /// still hold the proofs), but ours.
    fn peers(&self) -> Vec<PublicKey> {
        let (latest, newest) = self.sets.latest();
        let previous = latest
            .get()
            .checked_sub(1)
            .and_then(|e| self.sets.validators(Epoch::new(e)))
            .unwrap_or_default();
        let mut peers: Vec<PublicKey> = Vec::new();
        for v in newest.iter().chain(&previous) {
            if let Ok(key) = public_key(v) {
                if key != *self.me && !peers.contains(&key) {
                    peers.push(key);
                }
            }
        }
        peers
    }

    /// Asks every peer for the proof of `epoch`'s end and waits for the first one that
    /// verifies, until all answered or the timeout passed. Requests from others meanwhile are
    /// told "unknown" (a walking node has nothing to serve yet).
    async fn ask<S, R>(
        &self,
        context: &mut E,
        (sender, receiver): &mut (S, R),
        peers: &[PublicKey],
        epoch: Epoch,
        scheme: &Scheme,
    ) -> Round
    where
        S: Sender<PublicKey = PublicKey>,
        R: Receiver<PublicKey = PublicKey>,
    {
        sender.send(
            Recipients::Some(peers.to_vec()),
            frame(TAG_REQUEST, epoch.get(), &[]),
            false,
        );
        let deadline = context.current() + ASK_TIMEOUT;
        let mut answered: Vec<PublicKey> = Vec::new();
        while answered.len() < peers.len() {
            let wait = deadline
                .duration_since(context.current())
                .unwrap_or_default();
            let message = futures::select! {
                m = futures::FutureExt::fuse(receiver.recv()) => m.ok(),
                _ = futures::FutureExt::fuse(context.sleep(wait)) => None,
            };
            let Some((from, payload)) = message else {
                break;
            };
            let Some((tag, asked, body)) = parse(payload.as_ref()) else {
                continue;
            };
            if tag == TAG_REQUEST {
                sender.send(Recipients::One(from), frame(TAG_UNKNOWN, asked, &[]), false);
                continue;
            }
            if asked != epoch.get() || !peers.contains(&from) || answered.contains(&from) {
                continue;
            }
            answered.push(from.clone());
            if tag == TAG_PROOF {
                match verify_proof(context, body, epoch, scheme, self.epocher) {
                    Some(block) => return Round::Proof(Box::new(block), body.to_vec()),
                    None => {
                        tracing::warn!(peer = ?from, epoch = epoch.get(), "invalid boundary proof")
                    }
                }
            }
        }
        if answered.is_empty() {
            Round::Silent
        } else {
            Round::NotEnded
        }
    }
}

/// Serves proofs for the rest of the node's life; `ended` names each epoch whose last block
/// was just finalized here (its proof is captured from marshal before blocks are pruned).
pub fn serve<E, S, R>(
    context: E,
    (mut sender, mut receiver): (S, R),
    mut proofs: ProofStore<E>,
    marshal: MarshalMailbox<Scheme, Standard<Block>>,
    epocher: FixedEpocher,
    mut ended: UnboundedReceiver<Epoch>,
) -> Handle<()>
where
    E: Clock + Storage + Metrics + Spawner,
    S: Sender<PublicKey = PublicKey>,
    R: Receiver<PublicKey = PublicKey>,
{
    context.spawn(move |ctx| async move {
        let mut uncaptured: Vec<Epoch> = Vec::new();
        loop {
            futures::select! {
                epoch = ended.next() => {
                    let Some(epoch) = epoch else { return };
                    uncaptured.push(epoch);
                }
                message = futures::FutureExt::fuse(receiver.recv()) => {
                    let Ok((peer, payload)) = message else { return };
                    let Some((TAG_REQUEST, epoch, _)) = parse(payload.as_ref()) else { continue };
                    let proof = match proofs.get(epoch) {
                        Some(p) => Some(p),
                        None => capture(&mut proofs, &marshal, &epocher, Epoch::new(epoch)).await,
                    };
                    let reply = match proof {
                        Some(p) => frame(TAG_PROOF, epoch, &p),
                        None => frame(TAG_UNKNOWN, epoch, &[]),
                    };
                    sender.send(Recipients::One(peer), reply, false);
                    continue;
                }
                _ = futures::FutureExt::fuse(ctx.sleep(CAPTURE_RETRY)) => {}
            }
            // A boundary finalized only through a descendant has no certificate of its own
            // here; give up on all but the newest few.
            let skip = uncaptured.len().saturating_sub(16);
            let mut still = Vec::new();
            for epoch in uncaptured.drain(..).skip(skip) {
                if proofs.get(epoch.get()).is_none()
                    && capture(&mut proofs, &marshal, &epocher, epoch)
                        .await
                        .is_none()
                {
                    still.push(epoch);
                }
            }
            uncaptured = still;
        }
    })
}

/// Stores the proof of `epoch`'s end from marshal, if it holds the block and its finalization.
async fn capture<E: Clock + Storage + Metrics>(
    proofs: &mut ProofStore<E>,
    marshal: &MarshalMailbox<Scheme, Standard<Block>>,
    epocher: &FixedEpocher,
    epoch: Epoch,
) -> Option<Vec<u8>> {
    let last = epocher.last(epoch)?;
    let block = marshal.get_block(Height::new(last.get())).await?;
    let finalization = marshal.get_finalization(last).await?;
    let proof = encode_proof(block.inner(), &finalization);
    proofs.put(epoch.get(), proof.clone()).await;
    Some(proof)
}

#[cfg(test)]
mod tests {
    use super::*;
    use caspur_app::validators::Validator;
    use commonware_consensus::simplex::types::{Finalize, Proposal};
    use commonware_consensus::types::{Round as ConsensusRound, View};
    use commonware_cryptography::{ed25519, Signer as _};
    use commonware_runtime::{deterministic, Runner as _};
    use commonware_utils::{non_empty, ordered::Set};

    fn schemes(seeds: std::ops::Range<u64>) -> Vec<Scheme> {
        let keys: Vec<ed25519::PrivateKey> = seeds.map(ed25519::PrivateKey::from_seed).collect();
        let set = Set::try_from(keys.iter().map(|k| k.public_key()).collect::<Vec<_>>()).unwrap();
        keys.into_iter()
            .map(|k| Scheme::signer(b"ns", set.clone(), k).unwrap())
            .collect()
    }

    fn finalize(schemes: &[Scheme], epoch: Epoch, block: &Block) -> Finalization<Scheme, Digest> {
        let proposal = Proposal::new(
            ConsensusRound::new(epoch, View::new(9)),
            View::new(8),
            block.digest(),
        );
        let votes: Vec<_> = schemes
            .iter()
            .map(|s| Finalize::sign(s, proposal.clone()).unwrap())
            .collect();
        Finalization::from_finalizes(&schemes[0], non_empty![@&votes], &Sequential).unwrap()
    }

    #[test]
    fn a_proof_verifies_only_for_its_set_epoch_and_block() {
        deterministic::Runner::default().start(|mut ctx| async move {
            let epocher = FixedEpocher::new(commonware_utils::NZU64!(5));
            let set = schemes(0..4);
            let mut block = crate::engine::genesis_block(0, [1; 32]);
            block.height = Height::new(9);
            block.next_validators = vec![Validator {
                pub_key: [9; 32],
                power: 3,
            }];
            let proof = encode_proof(&block, &finalize(&set, Epoch::new(1), &block));
            let verified = verify_proof(&mut ctx, &proof, Epoch::new(1), &set[0], &epocher);
            assert_eq!(verified, Some(block.clone()));
            // Another set, another epoch, a block that is not the epoch's last, a tampered
            // block, a truncated proof: all refused.
            let others = schemes(4..8);
            assert!(verify_proof(&mut ctx, &proof, Epoch::new(1), &others[0], &epocher).is_none());
            assert!(verify_proof(&mut ctx, &proof, Epoch::new(2), &set[0], &epocher).is_none());
            let mut early = block.clone();
            early.height = Height::new(8);
            let proof_early = encode_proof(&early, &finalize(&set, Epoch::new(1), &early));
            assert!(
                verify_proof(&mut ctx, &proof_early, Epoch::new(1), &set[0], &epocher).is_none()
            );
            let mut forged = block.clone();
            forged.next_validators[0].power = 4;
            let proof_forged = encode_proof(&forged, &finalize(&set, Epoch::new(1), &block));
            assert!(
                verify_proof(&mut ctx, &proof_forged, Epoch::new(1), &set[0], &epocher).is_none()
            );
            assert!(verify_proof(
                &mut ctx,
                &proof[..proof.len() - 3],
                Epoch::new(1),
                &set[0],
                &epocher
            )
            .is_none());
        });
    }
}
