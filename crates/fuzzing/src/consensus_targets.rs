//! Targets over what peers send: blocks (codec and the evidence they carry) and state-sync
//! messages.

use caspur_consensus::block::Block;
use caspur_consensus::evidence;
use caspur_consensus::statesync;
use caspur_consensus::validator_sets::EpochSets;
use commonware_codec::{DecodeExt as _, Encode as _};
use commonware_consensus::types::FixedEpocher;
use commonware_cryptography::{ed25519, Signer as _};
use std::sync::OnceLock;

/// Validators of the fuzzed blocks' epoch.
pub const VALIDATORS: u64 = 4;

/// The epoch sets blocks are checked against: four validators, keys seeded 0–3.
pub fn sets() -> &'static EpochSets {
    static SETS: OnceLock<EpochSets> = OnceLock::new();
    SETS.get_or_init(|| {
        let validators = (0..VALIDATORS)
            .map(|i| {
                let key = ed25519::PrivateKey::from_seed(i).public_key();
                let mut pub_key = [0u8; 32];
                pub_key.copy_from_slice(key.as_ref());
                caspur_app::validators::Validator { pub_key, power: 1 }
            })
            .collect();
        match EpochSets::new(b"caspur-fuzz", None, validators) {
            Ok(sets) => sets,
            Err(e) => panic!("fuzz validator set: {e}"),
        }
    })
}

/// Block bytes → decode under the codec's bounds → the evidence they carry checked; a block
/// that decodes encodes back to an equal block.
pub fn block_codec(data: &[u8]) {
    let Ok(block) = Block::decode(data.to_vec()) else {
        return;
    };
    let again = Block::decode(block.encode()).ok();
    assert!(
        again.as_ref() == Some(&block),
        "a decoded block does not round-trip"
    );
    let epocher = FixedEpocher::new(commonware_utils::NZU64!(100));
    let _ = evidence::report(&block, sets(), &epocher, &mut commonware_utils::test_rng());
}

/// A state-sync message → split → request or response decoded under the sync bounds.
pub fn statesync_messages(data: &[u8]) {
    let Some((tag, _, body)) = statesync::split(data) else {
        return;
    };
    let _ = statesync::decode_request(body);
    let max_ops = usize::from(tag % 64) + 1;
    let _ = statesync::decode_response(body, max_ops);
}
