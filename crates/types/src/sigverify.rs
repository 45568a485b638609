//! secp256k1 signature verification, the one rule every path uses (CheckTx, simulation, block
//! execution, the parallel verifier).
//!
//! The chain verifies with libsecp256k1 (the `secp256k1` crate: the C library Bitcoin Core
//! uses), about 2.6× faster here than k256. The rule is the Cosmos SDK's and it did not change
//! with the library: a 33-byte compressed key that is a point of the curve, a 64-byte `r||s`
//! signature with `0 < r, s < n`, `s` in its low half (the high form is malleable: anyone could
//! derive it and change the tx hash), over SHA-256 of the signed bytes. Each refusal is
//! decided here, in this order, with its own message, before the library's arithmetic runs,
//! so the outcome and the error never depend on which library answered.
//!
//! [`reference`] keeps the k256 implementation of the same rule: the differential test
//! (`tests/sigverify_differential.rs`) holds the two to the same answers, and `caspurd bench
//! tx-throughput` prints its figure beside libsecp256k1's.

use crate::error::TxError;
use secp256k1::{ecdsa, Message, PublicKey, Secp256k1, VerifyOnly};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// The group order n of secp256k1, big-endian.
const ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];
/// n / 2 (rounded down), big-endian: the largest low-S value.
const HALF_ORDER: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
];

/// The verification-only context, built once (it precomputes tables).
fn context() -> &'static Secp256k1<VerifyOnly> {
    static CONTEXT: OnceLock<Secp256k1<VerifyOnly>> = OnceLock::new();
    CONTEXT.get_or_init(Secp256k1::verification_only)
}

/// A scalar's 32 big-endian bytes are in `1..n`.
fn in_range(scalar: &[u8]) -> bool {
    scalar.iter().any(|b| *b != 0) && scalar < &ORDER[..]
}

/// The checks before any curve arithmetic: the signature's shape and range, then low S.
/// Returns the signature's 64 bytes.
fn check_form(sig: &[u8]) -> Result<&[u8; 64], TxError> {
    let sig: &[u8; 64] = sig
        .try_into()
        .map_err(|_| TxError::unauthorized("signature must be 64 bytes r||s"))?;
    let (r, s) = sig.split_at(32);
    if !in_range(r) || !in_range(s) {
        return Err(TxError::unauthorized("signature must be 64 bytes r||s"));
    }
    if s > &HALF_ORDER[..] {
        return Err(TxError::unauthorized(
            "signature is not in canonical low-S form",
        ));
    }
    Ok(sig)
}

/// Parsed keys kept: an account signs again and again, and parsing its compressed key (a
/// square root on the curve) was an eighth of each verification. A key past this many is
/// parsed again when it comes back.
pub const PARSED_KEYS: usize = 65_536;

/// The parsed keys kept, shared by every verifying thread.
fn parsed_keys() -> &'static quick_cache::sync::Cache<[u8; 33], PublicKey> {
    static KEYS: OnceLock<quick_cache::sync::Cache<[u8; 33], PublicKey>> = OnceLock::new();
    KEYS.get_or_init(|| quick_cache::sync::Cache::new(PARSED_KEYS))
}

/// `pubkey` as a curve point, parsed once while it stays among the last [`PARSED_KEYS`] keys
/// (a key that is not a point is never kept: it fails the same way each time).
fn parsed_key(pubkey: &[u8; 33]) -> Result<PublicKey, TxError> {
    let keys = parsed_keys();
    if let Some(key) = keys.get(pubkey) {
        return Ok(key);
    }
    let key = PublicKey::from_slice(pubkey).map_err(|_| invalid_pubkey())?;
    keys.insert(*pubkey, key);
    Ok(key)
}

fn invalid_pubkey() -> TxError {
    TxError::invalid_pubkey("pubkey is not a valid secp256k1 point")
}

fn failed() -> TxError {
    TxError::unauthorized("signature verification failed")
}

/// Verifies a 64-byte `r||s` secp256k1 signature over SHA-256(`msg`) by `pubkey` (compressed),
/// refusing high-S forms.
pub fn verify_secp256k1(pubkey: &[u8; 33], msg: &[u8], sig: &[u8]) -> Result<(), TxError> {
    // A compressed key only: libsecp256k1 would also parse other lengths, never given here.
    if !matches!(pubkey[0], 0x02 | 0x03) {
        return Err(invalid_pubkey());
    }
    let key = parsed_key(pubkey)?;
    let sig = check_form(sig)?;
    let sig = ecdsa::Signature::from_compact(sig).map_err(|_| failed())?;
    let digest: [u8; 32] = Sha256::digest(msg).into();
    let msg = Message::from_slice(&digest).map_err(|_| failed())?;
    context()
        .verify_ecdsa(&msg, &sig, &key)
        .map_err(|_| failed())
}

/// The same rule on k256 (pure Rust): the reference the differential test compares against,
/// and the slower figure the throughput bench prints.
pub mod reference {
    use super::{check_form, failed, invalid_pubkey};
    use crate::error::TxError;
    use k256::ecdsa::signature::Verifier as _;
    use k256::ecdsa::{Signature, VerifyingKey};

    /// [`super::verify_secp256k1`], computed by k256.
    pub fn verify_k256(pubkey: &[u8; 33], msg: &[u8], sig: &[u8]) -> Result<(), TxError> {
        if !matches!(pubkey[0], 0x02 | 0x03) {
            return Err(invalid_pubkey());
        }
        let key = VerifyingKey::from_sec1_bytes(pubkey).map_err(|_| invalid_pubkey())?;
        let sig = check_form(sig)?;
        let sig = Signature::from_slice(sig).map_err(|_| failed())?;
        key.verify(msg, &sig).map_err(|_| failed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_constants_agree_with_k256() {
        use k256::elliptic_curve::bigint::Encoding as _;
        use k256::elliptic_curve::Curve as _;
        let n = k256::Secp256k1::ORDER.to_be_bytes();
        assert_eq!(n.as_slice(), &ORDER[..]);
        // n is odd: n / 2 rounded down, doubled, plus one, is n.
        let mut doubled = [0u8; 32];
        let mut carry = 1u16;
        for i in (0..32).rev() {
            let v = (HALF_ORDER[i] as u16) * 2 + carry;
            doubled[i] = v as u8;
            carry = v >> 8;
        }
        assert_eq!(doubled, ORDER);
    }

    #[test]
    fn a_kept_key_is_the_key_parsed_and_a_non_point_is_refused_every_time() {
        let mut compressed = [0u8; 33];
        compressed[0] = 0x02;
        // x = 5 is not the x-coordinate of a curve point (x^3 + 7 = 132 has no root mod p).
        compressed[32] = 5;
        for _ in 0..2 {
            assert_eq!(parsed_key(&compressed), Err(invalid_pubkey()));
        }
        assert!(parsed_keys().get(&compressed).is_none());
        // The generator's x-coordinate, even y: a point.
        let g: [u8; 33] =
            hex::decode("0279BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798")
                .unwrap()
                .try_into()
                .unwrap();
        let first = parsed_key(&g).unwrap();
        // Kept after the first parse, and what is kept is that key.
        assert_eq!(parsed_keys().get(&g), Some(first));
        assert_eq!(parsed_key(&g).unwrap().serialize(), g);
    }

    #[test]
    fn range_edges() {
        let mut sig = [0u8; 64];
        assert!(check_form(&sig).is_err(), "r = s = 0");
        sig[31] = 1;
        sig[63] = 1;
        assert!(check_form(&sig).is_ok(), "r = s = 1");
        sig[32..].copy_from_slice(&HALF_ORDER);
        assert!(check_form(&sig).is_ok(), "s = n/2 is low");
        sig[63] += 1;
        let high = check_form(&sig).unwrap_err();
        assert!(high.message.contains("low-S"), "{high:?}");
        sig[..32].copy_from_slice(&ORDER);
        assert!(check_form(&sig).unwrap_err().message.contains("64 bytes"));
        assert!(check_form(&[1u8; 63]).is_err());
    }
}
