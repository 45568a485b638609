//! The evidence a block carries: what verifies becomes the report the app applies (who signed
//! the parent, who double-signed); anything that does not verify makes the block invalid.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use caspur_app::consensus_report::Fault;
use caspur_app::validators::Validator;
use caspur_consensus::block::{Block, Digest};
use caspur_consensus::engine::genesis_block;
use caspur_consensus::evidence::{self, Certificate, EvidencePool, Vote};
use caspur_consensus::validator_sets::EpochSets;
use commonware_codec::{DecodeExt as _, Encode as _};
use commonware_consensus::simplex::types::{Activity, ConflictingNotarize, Proposal};
use commonware_consensus::types::{Epoch, FixedEpocher, Height, Round, View};
use commonware_cryptography::{ed25519, Hasher as _, Sha256, Signer as _};
use commonware_parallel::Sequential;
use commonware_utils::NZU64;

const NAMESPACE: &[u8] = b"caspur-evidence-test";
const EPOCH_LENGTH: u64 = 10;

fn h(bytes: &[u8]) -> Digest {
    Sha256::hash(&[bytes])
}

fn keys() -> Vec<ed25519::PrivateKey> {
    (0..4).map(ed25519::PrivateKey::from_seed).collect()
}

fn set(keys: &[ed25519::PrivateKey]) -> Vec<Validator> {
    keys.iter()
        .map(|k| Validator {
            pub_key: k.public_key().as_ref().try_into().unwrap(),
            power: 1,
        })
        .collect()
}

/// Each key's signing view of epoch 0, and a verifier-only view.
fn sets() -> (Vec<EpochSets>, EpochSets) {
    let keys = keys();
    let signers = keys
        .iter()
        .map(|k| EpochSets::new(NAMESPACE, Some(k.clone()), set(&keys)).unwrap())
        .collect();
    (
        signers,
        EpochSets::new(NAMESPACE, None, set(&keys)).unwrap(),
    )
}

fn vote(sets: &EpochSets, view: u64, payload: Digest) -> Vote {
    let scheme = sets.scheme(Epoch::zero()).unwrap();
    let proposal = Proposal::new(
        Round::new(Epoch::zero(), View::new(view)),
        View::new(view - 1),
        payload,
    );
    Vote::sign(&scheme, proposal).unwrap()
}

fn certificate(signers: &[EpochSets], who: &[usize], payload: Digest) -> Certificate {
    let scheme = signers[0].scheme(Epoch::zero()).unwrap();
    let votes: Vec<Vote> = who.iter().map(|&i| vote(&signers[i], 5, payload)).collect();
    let votes = commonware_utils::iter::NonEmpty::try_new(votes.into_iter()).unwrap();
    Certificate::from_owned_notarizes(&scheme, votes, &Sequential).unwrap()
}

/// A block at height 5 on `parent`.
fn block(parent: Digest) -> Block {
    let mut b = genesis_block(0, [1; 32]);
    b.parent = parent;
    b.height = Height::new(5);
    b
}

fn report(b: &Block, sets: &EpochSets) -> Result<caspur_app::ConsensusReport, String> {
    let epocher = FixedEpocher::new(NZU64!(EPOCH_LENGTH));
    evidence::report(b, sets, &epocher, &mut commonware_utils::test_rng())
}

fn key_of(i: usize) -> [u8; 32] {
    keys()[i].public_key().as_ref().try_into().unwrap()
}

#[test]
fn the_parents_certificate_reports_signers_and_missing_members() {
    let (signers, verifier) = sets();
    let parent = h(b"parent");
    let mut b = block(parent);
    b.last_commit = Some(certificate(&signers, &[0, 2, 3], parent));
    let r = report(&b, &verifier).unwrap();
    let live = r.liveness.unwrap();
    let mut signed = vec![key_of(0), key_of(2), key_of(3)];
    signed.sort();
    let mut got = live.signed.clone();
    got.sort();
    assert_eq!(got, signed);
    assert_eq!(live.missed, vec![key_of(1)]);
    // The block round-trips through its codec with the evidence.
    assert_eq!(Block::decode(b.encode()).unwrap(), b);
    // No certificate: nobody is judged.
    b.last_commit = None;
    assert_eq!(report(&b, &verifier).unwrap().liveness, None);
}

#[test]
fn a_certificate_over_another_block_or_from_another_set_is_rejected() {
    let (signers, verifier) = sets();
    let parent = h(b"parent");
    let mut b = block(parent);
    b.last_commit = Some(certificate(&signers, &[0, 1, 2], h(b"other")));
    assert!(report(&b, &verifier)
        .unwrap_err()
        .contains("not over the parent"));
    // Signed by keys of another chain's set (another namespace): does not verify.
    let foreign: Vec<EpochSets> = keys()
        .iter()
        .map(|k| EpochSets::new(b"other-chain", Some(k.clone()), set(&keys())).unwrap())
        .collect();
    b.last_commit = Some(certificate(&foreign, &[0, 1, 2], parent));
    assert!(report(&b, &verifier)
        .unwrap_err()
        .contains("does not verify"));
    // A parent in epoch 1 certified in epoch 0.
    let mut late = b.clone();
    late.height = Height::new(EPOCH_LENGTH + 2);
    late.last_commit = Some(certificate(&signers, &[0, 1, 2], parent));
    assert!(report(&late, &verifier)
        .unwrap_err()
        .contains("another epoch"));
}

#[test]
fn conflicting_votes_prove_a_fault_and_forged_ones_reject_the_block() {
    let (signers, verifier) = sets();
    let a = vote(&signers[2], 7, h(b"a"));
    let b_vote = vote(&signers[2], 7, h(b"b"));
    let proof = Activity::ConflictingNotarize(ConflictingNotarize::new(a.clone(), b_vote));
    let mut b = block(h(b"parent"));
    b.faults = vec![proof.clone()];
    let r = report(&b, &verifier).unwrap();
    assert_eq!(
        r.faults,
        vec![Fault {
            pub_key: key_of(2),
            infraction_height: 0
        }]
    );
    // The same proof twice in one block is invalid.
    b.faults = vec![proof.clone(), proof];
    assert!(report(&b, &verifier).unwrap_err().contains("twice"));
    // A "proof" whose second vote is signed by someone else but claims signer 2.
    let mut forged = vote(&signers[1], 7, h(b"c"));
    forged.attestation.signer = a.attestation.signer;
    b.faults = vec![Activity::ConflictingNotarize(ConflictingNotarize::new(
        a, forged,
    ))];
    assert!(report(&b, &verifier)
        .unwrap_err()
        .contains("does not verify"));
}

#[test]
fn the_proposer_assembles_a_certificate_from_every_valid_vote() {
    let (signers, verifier) = sets();
    let parent = h(b"parent");
    let pool = EvidencePool::default();
    // Simplex formed its certificate from the first quorum...
    pool.record_certificate(certificate(&signers, &[0, 1, 2], parent));
    // ...and the fourth vote arrived later; a vote with a bad signature is ignored.
    let mut bad = vote(&signers[3], 5, parent);
    bad.attestation.signer = vote(&signers[1], 5, parent).attestation.signer;
    for signer in &signers {
        pool.record_vote(vote(signer, 5, parent));
    }
    pool.record_vote(bad);
    let cert =
        evidence::best_certificate(&pool, &parent, &verifier, &mut commonware_utils::test_rng())
            .unwrap();
    assert_eq!(cert.certificate.signers.count(), 4);
    // Fewer votes than the formed certificate: the formed one is kept.
    let pool = EvidencePool::default();
    pool.record_certificate(certificate(&signers, &[0, 1, 2], parent));
    pool.record_vote(vote(&signers[3], 5, parent));
    let cert =
        evidence::best_certificate(&pool, &parent, &verifier, &mut commonware_utils::test_rng())
            .unwrap();
    assert_eq!(cert.certificate.signers.count(), 3);
}
