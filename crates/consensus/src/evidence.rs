//! Consensus evidence carried by blocks, for the slashing module.
//!
//! Simplex reports what it sees to its reporter: votes, certificates and, when a validator signs
//! two conflicting messages in one round, the pair as proof. [`EvidenceTap`] keeps them in an
//! [`EvidencePool`]. A proposer puts into its block a certificate that notarized the parent
//! (CometBFT's "last commit": who signed the previous block) and the faults not yet on chain.
//! Simplex forms its certificate from the first quorum of votes, which would always leave the
//! slowest third out; so, like CometBFT's proposer that keeps collecting precommits until it
//! proposes, ours assembles the certificate from every valid vote it received by then
//! ([`best_certificate`]).
//! every verifier checks them against the validator set of their epoch and rejects a block with
//! anything that does not verify. [`report`] turns a block's evidence into the
//! [`ConsensusReport`] the app applies — the same on every node, since it depends only on the
//! block and the chain's validator sets.

use crate::block::{Block, Digest};
use crate::seams::{CommitVote, LastCommit};
use crate::validator_sets::EpochSets;
use caspur_app::consensus_report::{ConsensusReport, Fault, Liveness};
use commonware_codec::Encode as _;
use commonware_consensus::simplex::scheme::ed25519::Scheme;
use commonware_consensus::simplex::types::{Activity, Attributable as _, Notarization, Notarize};
use commonware_consensus::types::{Epoch, Epocher as _, FixedEpocher, Height};
use commonware_consensus::{Epochable as _, Reporter};
use commonware_cryptography::certificate::Scheme as _;
use commonware_parallel::Sequential;
use rand_core::CryptoRng;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};

/// A notarization certificate over a block.
pub type Certificate = Notarization<Scheme, Digest>;
/// A piece of fault evidence (one of simplex's conflicting-message activities).
pub type FaultEvidence = Activity<Scheme, Digest>;

/// Most fault proofs in one block.
pub const MAX_FAULTS: usize = 16;
/// Upper bound of one encoded fault proof (two votes with their proposals).
pub const MAX_FAULT_BYTES: usize = 1024;
/// Certificates remembered, newest first out last (a proposer needs only its parent's).
const CERTS_KEPT: usize = 1024;
/// Fault proofs remembered until a finalized block includes them.
const FAULTS_KEPT: usize = 256;
/// Blocks whose individual votes are remembered.
const VOTED_BLOCKS_KEPT: usize = 256;
/// Votes remembered per block (two per member of the largest set).
const VOTES_PER_BLOCK_KEPT: usize = 2 * caspur_app::validators::MAX_VALIDATORS;

/// A notarize vote.
pub type Vote = Notarize<Scheme, Digest>;

/// Whether `activity` is fault evidence.
pub fn is_fault(activity: &FaultEvidence) -> bool {
    matches!(
        activity,
        Activity::ConflictingNotarize(_)
            | Activity::ConflictingFinalize(_)
            | Activity::NullifyFinalize(_)
    )
}

#[derive(Default)]
struct Pooled {
    certs: BTreeMap<Digest, Certificate>,
    order: VecDeque<Digest>,
    /// Block → encoded vote → vote (unverified: a bad copy must not displace a good one).
    votes: BTreeMap<Digest, BTreeMap<Vec<u8>, Vote>>,
    voted_order: VecDeque<Digest>,
    /// Encoded proof → proof, so the same fault is kept once.
    faults: BTreeMap<Vec<u8>, FaultEvidence>,
}

/// Certificates and fault proofs this node saw (shared: clones share it).
#[derive(Clone, Default)]
pub struct EvidencePool(Arc<Mutex<Pooled>>);

impl EvidencePool {
    fn lock(&self) -> std::sync::MutexGuard<'_, Pooled> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Remembers a certificate over its block.
    pub fn record_certificate(&self, cert: Certificate) {
        let mut pooled = self.lock();
        let digest = cert.proposal.payload;
        if pooled.certs.insert(digest, cert).is_none() {
            pooled.order.push_back(digest);
        }
        while pooled.order.len() > CERTS_KEPT {
            if let Some(old) = pooled.order.pop_front() {
                pooled.certs.remove(&old);
            }
        }
    }

    /// A certificate over `block`, if seen.
    pub fn certificate_of(&self, block: &Digest) -> Option<Certificate> {
        self.lock().certs.get(block).cloned()
    }

    /// Remembers a notarize vote (not verified yet: simplex reports votes as they arrive).
    pub fn record_vote(&self, vote: Vote) {
        let mut pooled = self.lock();
        let digest = vote.proposal.payload;
        let votes = pooled.votes.entry(digest).or_default();
        let fresh = votes.is_empty();
        if votes.len() < VOTES_PER_BLOCK_KEPT {
            votes.insert(vote.encode().to_vec(), vote);
        }
        if fresh {
            pooled.voted_order.push_back(digest);
        }
        while pooled.voted_order.len() > VOTED_BLOCKS_KEPT {
            if let Some(old) = pooled.voted_order.pop_front() {
                pooled.votes.remove(&old);
            }
        }
    }

    /// Votes seen for `block`, in encoded order.
    pub fn votes_for(&self, block: &Digest) -> Vec<Vote> {
        self.lock()
            .votes
            .get(block)
            .map(|v| v.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Remembers a fault proof (anything else is ignored).
    pub fn record_fault(&self, fault: FaultEvidence) {
        if !is_fault(&fault) {
            return;
        }
        let mut pooled = self.lock();
        if pooled.faults.len() < FAULTS_KEPT {
            pooled.faults.insert(fault.encode().to_vec(), fault);
        }
    }

    /// Up to [`MAX_FAULTS`] pooled proofs, leaving out `exclude` (encoded proofs already in
    /// unfinalized ancestors).
    pub fn faults(&self, exclude: &BTreeSet<Vec<u8>>) -> Vec<FaultEvidence> {
        self.lock()
            .faults
            .iter()
            .filter(|(k, _)| !exclude.contains(*k))
            .take(MAX_FAULTS)
            .map(|(_, f)| f.clone())
            .collect()
    }

    /// Forgets proofs a finalized block carried.
    pub fn forget(&self, included: &[FaultEvidence]) {
        let mut pooled = self.lock();
        for f in included {
            pooled.faults.remove(f.encode().as_ref());
        }
    }

    /// Proofs pooled now.
    pub fn pending_faults(&self) -> usize {
        self.lock().faults.len()
    }
}

/// Passes simplex's reports on, keeping certificates and fault proofs in the pool.
#[derive(Clone)]
pub struct EvidenceTap<R> {
    /// Where reports go next (marshal).
    pub inner: R,
    /// The pool.
    pub pool: EvidencePool,
}

impl<R: Reporter<Activity = FaultEvidence>> Reporter for EvidenceTap<R> {
    type Activity = FaultEvidence;

    fn report(&mut self, activity: FaultEvidence) -> commonware_actor::Feedback {
        match &activity {
            Activity::Notarization(n) | Activity::Certification(n) => {
                self.pool.record_certificate(n.clone());
            }
            Activity::Notarize(v) => self.pool.record_vote(v.clone()),
            a if is_fault(a) => {
                tracing::warn!(epoch = a.epoch().get(), "consensus fault observed");
                self.pool.record_fault(a.clone());
            }
            _ => {}
        }
        self.inner.report(activity)
    }
}

/// The certificate over `parent` with the most signers this node can show: simplex's own,
/// or one assembled from every vote for the same proposal that verifies.
pub fn best_certificate<R: CryptoRng>(
    pool: &EvidencePool,
    parent: &Digest,
    sets: &EpochSets,
    rng: &mut R,
) -> Option<Certificate> {
    let formed = pool.certificate_of(parent);
    let mut best_count = formed.as_ref().map_or(0, |c| c.certificate.signers.count());
    let mut best = formed;
    let mut by_proposal: BTreeMap<Vec<u8>, Vec<Vote>> = BTreeMap::new();
    for vote in pool.votes_for(parent) {
        by_proposal
            .entry(vote.proposal.encode().to_vec())
            .or_default()
            .push(vote);
    }
    for votes in by_proposal.into_values() {
        if votes.len() <= best_count {
            continue;
        }
        let Some(scheme) = sets.scheme(votes[0].epoch()) else {
            continue;
        };
        let mut signers = BTreeSet::new();
        let mut valid: Vec<Vote> = Vec::with_capacity(votes.len());
        for v in votes {
            if !signers.contains(&v.signer()) && v.verify(rng, &scheme, &Sequential) {
                signers.insert(v.signer());
                valid.push(v);
            }
        }
        if valid.len() <= best_count {
            continue;
        }
        let Some(votes) = commonware_utils::iter::NonEmpty::try_new(valid.into_iter()) else {
            continue;
        };
        if let Ok(cert) = Certificate::from_owned_notarizes(&scheme, votes, &Sequential) {
            if cert.verify(rng, &scheme, &Sequential) {
                best_count = cert.certificate.signers.count();
                best = Some(cert);
            }
        }
    }
    best
}

/// Turns the evidence `block` carries into the report the app applies, or says why the block
/// must be rejected: a certificate not over the parent, from the wrong epoch or not verifying;
/// a fault proof that repeats, is from an unknown epoch or does not verify.
pub fn report<R: CryptoRng>(
    block: &Block,
    sets: &EpochSets,
    epocher: &FixedEpocher,
    rng: &mut R,
) -> Result<ConsensusReport, String> {
    read_report(block, sets, epocher, Some(rng))
}

/// The report a finalized block carries, read without checking its signatures again (they
/// were checked before it was executed): for monitoring, which shows who signed and who did
/// not. `R` is any rng type; none is used.
pub fn carried<R: CryptoRng>(
    block: &Block,
    sets: &EpochSets,
    epocher: &FixedEpocher,
) -> Result<ConsensusReport, String> {
    read_report::<R>(block, sets, epocher, None)
}

/// [`report`], verifying signatures with `rng` when given.
fn read_report<R: CryptoRng>(
    block: &Block,
    sets: &EpochSets,
    epocher: &FixedEpocher,
    mut rng: Option<&mut R>,
) -> Result<ConsensusReport, String> {
    let liveness = match &block.last_commit {
        None => None,
        Some(cert) => Some(liveness(block, cert, sets, epocher, rng.as_deref_mut())?),
    };
    if block.faults.len() > MAX_FAULTS {
        return Err(format!("more than {MAX_FAULTS} fault proofs"));
    }
    let mut seen = BTreeSet::new();
    let mut faults = Vec::with_capacity(block.faults.len());
    for proof in &block.faults {
        if !is_fault(proof) {
            return Err("evidence that is not a fault proof".into());
        }
        if !seen.insert(proof.encode().to_vec()) {
            return Err("the same fault proof twice".into());
        }
        let epoch = proof.epoch();
        let scheme = scheme_of(sets, epoch)?;
        if rng
            .as_deref_mut()
            .is_some_and(|rng| !proof.verify(rng, &scheme, &Sequential))
        {
            return Err(format!(
                "fault proof of epoch {} does not verify",
                epoch.get()
            ));
        }
        let signer = match proof {
            Activity::ConflictingNotarize(c) => c.signer(),
            Activity::ConflictingFinalize(c) => c.signer(),
            Activity::NullifyFinalize(c) => c.signer(),
            _ => unreachable!("checked by is_fault"),
        };
        let pub_key = member_key(&scheme, signer.into())?;
        let infraction_height = epocher.first(epoch).map_or(0, Height::get);
        faults.push(Fault {
            pub_key,
            infraction_height,
        });
    }
    Ok(ConsensusReport { liveness, faults })
}

fn liveness<R: CryptoRng>(
    block: &Block,
    cert: &Certificate,
    sets: &EpochSets,
    epocher: &FixedEpocher,
    rng: Option<&mut R>,
) -> Result<Liveness, String> {
    if cert.proposal.payload != block.parent {
        return Err("the certificate is not over the parent block".into());
    }
    let parent_height = block.height.get().saturating_sub(1);
    let parent_epoch = epocher
        .containing(Height::new(parent_height))
        .map(|info| info.epoch());
    if parent_epoch != Some(cert.epoch()) {
        return Err("the parent's certificate is from another epoch".into());
    }
    let scheme = scheme_of(sets, cert.epoch())?;
    if rng.is_some_and(|rng| !cert.verify(rng, &scheme, &Sequential)) {
        return Err("the parent's certificate does not verify".into());
    }
    let participants = scheme.participants().len();
    let signers: BTreeSet<usize> = cert.certificate.signers.iter().map(usize::from).collect();
    let mut out = Liveness::default();
    for index in 0..participants {
        let key = member_key(&scheme, index)?;
        if signers.contains(&index) {
            out.signed.push(key);
        } else {
            out.missed.push(key);
        }
    }
    Ok(out)
}

/// The certificate `block` carries over its parent as explorers show it: every member of the
/// parent's epoch with its signature if it signed (`None`: no certificate, or its epoch's set
/// is unknown here). Read, not checked: the block was checked before it was executed.
pub fn last_commit(block: &Block, sets: &EpochSets) -> Option<LastCommit> {
    let cert = block.last_commit.as_ref()?;
    let scheme = sets.scheme(cert.epoch())?;
    let mut signed: BTreeMap<usize, Vec<u8>> = cert
        .certificate
        .signers
        .iter()
        .map(usize::from)
        .zip(
            cert.certificate
                .signatures
                .iter()
                .map(|s| s.encode().to_vec()),
        )
        .collect();
    let votes = (0..scheme.participants().len())
        .map(|index| {
            Ok(CommitVote {
                pub_key: member_key(&scheme, index)?,
                signature: signed.remove(&index),
            })
        })
        .collect::<Result<Vec<_>, String>>()
        .ok()?;
    let round = cert
        .proposal
        .round
        .view()
        .get()
        .saturating_sub(cert.proposal.parent.get())
        .saturating_sub(1);
    Some(LastCommit { round, votes })
}

fn scheme_of(sets: &EpochSets, epoch: Epoch) -> Result<Scheme, String> {
    sets.scheme(epoch)
        .ok_or_else(|| format!("evidence from epoch {} whose set is unknown", epoch.get()))
}

fn member_key(scheme: &Scheme, index: usize) -> Result<[u8; 32], String> {
    let key = scheme
        .participants()
        .get(index)
        .ok_or_else(|| format!("signer {index} is not a member"))?;
    key.as_ref()
        .try_into()
        .map_err(|_| "a member key is not 32 bytes".to_string())
}
