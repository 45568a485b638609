//! Seed inputs each target's corpus starts from: valid inputs deep enough that mutation reaches
//! the interesting code (a signed tx; a block carrying a real certificate).

use crate::consensus_targets::VALIDATORS;
use crate::gen;
use caspur_consensus::block::Digest;
use caspur_consensus::engine::genesis_block;
use caspur_consensus::evidence::{Certificate, Vote};
use caspur_consensus::validator_sets::EpochSets;
use caspur_types::sign::{msg_send, sign_tx, TxParams};
use commonware_codec::Encode as _;
use commonware_consensus::simplex::types::Proposal;
use commonware_consensus::types::{Epoch, Height, Round, View};
use commonware_cryptography::{ed25519, Digestible as _, Signer as _};

/// The seeds of target `name`.
pub fn seeds(name: &str) -> Vec<Vec<u8>> {
    match name {
        "tx_decode" => vec![signed_tx()],
        "block_codec" => vec![
            genesis_block(0, [1; 32]).encode().to_vec(),
            certified_block(),
        ],
        "statesync_messages" => vec![vec![0; 9], [vec![1], 7u64.to_be_bytes().to_vec()].concat()],
        _ => vec![Vec::new(), (0u8..=255).collect(), b"tx.height=1".to_vec()],
    }
}

fn signed_tx() -> Vec<u8> {
    let one =
        caspur_types::Coins::normalize([caspur_types::Coin::new("ucsp", 1)]).unwrap_or_default();
    sign_tx(
        &gen::key(1),
        vec![msg_send(&gen::addr(1), &gen::addr(2), &one)],
        &TxParams {
            chain_id: "caspur-fuzz-1".into(),
            account_number: 0,
            sequence: 0,
            fee: caspur_types::Coins::default(),
            gas_limit: 200_000,
            memo: "seed".into(),
            include_pubkey: true,
        },
    )
}

/// A block at height 2 whose `last_commit` is a certificate by three of the four fuzz
/// validators over its parent (the genesis block).
fn certified_block() -> Vec<u8> {
    let keys: Vec<ed25519::PrivateKey> = (0..VALIDATORS)
        .map(ed25519::PrivateKey::from_seed)
        .collect();
    let validators: Vec<_> = crate::consensus_targets::sets()
        .validators(Epoch::zero())
        .unwrap_or_default();
    let parent = genesis_block(0, [1; 32]);
    let payload: Digest = parent.digest();
    let proposal = Proposal::new(
        Round::new(Epoch::zero(), View::new(1)),
        View::new(0),
        payload,
    );
    let votes: Vec<Vote> = keys
        .iter()
        .take(3)
        .filter_map(|k| {
            let sets = EpochSets::new(b"caspur-fuzz", Some(k.clone()), validators.clone()).ok()?;
            Vote::sign(&sets.scheme(Epoch::zero())?, proposal.clone())
        })
        .collect();
    let Some(scheme) = crate::consensus_targets::sets().scheme(Epoch::zero()) else {
        return Vec::new();
    };
    let Some(votes) = commonware_utils::iter::NonEmpty::try_new(votes.into_iter()) else {
        return Vec::new();
    };
    let mut block = genesis_block(0, [1; 32]);
    block.parent = payload;
    block.height = Height::new(2);
    block.last_commit =
        Certificate::from_owned_notarizes(&scheme, votes, &commonware_parallel::Sequential).ok();
    block.encode().to_vec()
}
