//! The chain's signature rule computed by libsecp256k1 (what nodes run) and by k256 (what they
//! ran before) must give the same answer — accepted, or refused with the same code and
//! message — for every input: valid signatures, their high-S twins, out-of-range and malformed
//! signatures, wrong keys and messages, invalid keys, and thousands of random bit flips of
//! each. A difference would be a consensus split between old and new binaries.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use caspur_types::sigverify::{reference::verify_k256, verify_secp256k1};
use k256::ecdsa::signature::Signer as _;
use k256::ecdsa::{Signature, SigningKey};
use sha2::{Digest, Sha256};

/// Keys, messages and flips per run (each case runs both libraries).
const CASES: u64 = 400;

/// A small deterministic generator (SplitMix64): the same inputs on every run.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn key(seed: u64) -> (SigningKey, [u8; 33]) {
    let secret = Sha256::digest(seed.to_be_bytes());
    let sk = SigningKey::from_slice(&secret).unwrap();
    let pk = sk
        .verifying_key()
        .to_encoded_point(true)
        .as_bytes()
        .try_into()
        .unwrap();
    (sk, pk)
}

fn low_s(sk: &SigningKey, msg: &[u8]) -> [u8; 64] {
    let sig: Signature = sk.sign(msg);
    sig.normalize_s().unwrap_or(sig).to_bytes().into()
}

/// Both libraries, one input: the same outcome. Returns it.
fn same(pk: &[u8; 33], msg: &[u8], sig: &[u8]) -> Result<(), String> {
    let new = verify_secp256k1(pk, msg, sig);
    let old = verify_k256(pk, msg, sig);
    assert_eq!(
        new,
        old,
        "libsecp256k1 and k256 disagree on key {} msg {} sig {}",
        hex::encode(pk),
        hex::encode(msg),
        hex::encode(sig)
    );
    new.map_err(|e| e.message)
}

#[test]
fn valid_signatures_pass_and_their_high_s_twins_fail_in_both() {
    let mut g = Gen(1);
    for i in 0..CASES {
        let (sk, pk) = key(i);
        let len = (g.next() % 300) as usize;
        let msg = g.bytes(len);
        let sig = low_s(&sk, &msg);
        assert_eq!(same(&pk, &msg, &sig), Ok(()));
        let parsed = Signature::from_slice(&sig).unwrap();
        let (r, s) = parsed.split_scalars();
        let high = Signature::from_scalars(r, -*s).unwrap().to_bytes();
        assert!(same(&pk, &msg, &high).unwrap_err().contains("low-S"));
        // Another key, another message.
        let (_, other) = key(i + 1_000_000);
        assert!(same(&other, &msg, &sig).is_err());
        let mut tampered = msg.clone();
        tampered.push(0);
        assert!(same(&pk, &tampered, &sig).is_err());
    }
}

#[test]
fn random_bit_flips_of_signatures_keys_and_messages_agree() {
    let mut g = Gen(2);
    let mut accepted = 0;
    for i in 0..CASES {
        let (sk, pk) = key(i);
        let msg = g.bytes(64);
        let sig = low_s(&sk, &msg);
        for _ in 0..8 {
            let mut s = sig;
            let bit = (g.next() % 512) as usize;
            s[bit / 8] ^= 1 << (bit % 8);
            accepted += u32::from(same(&pk, &msg, &s).is_ok());
            let mut k = pk;
            let bit = (g.next() % 264) as usize;
            k[bit / 8] ^= 1 << (bit % 8);
            accepted += u32::from(same(&k, &msg, &sig).is_ok());
            let mut m = msg.clone();
            let bit = (g.next() % 512) as usize;
            m[bit / 8] ^= 1 << (bit % 8);
            accepted += u32::from(same(&pk, &m, &sig).is_ok());
        }
    }
    assert_eq!(accepted, 0, "a flipped bit made a signature valid");
}

#[test]
fn malformed_signatures_and_keys_are_refused_alike() {
    let (sk, pk) = key(7);
    let msg = b"caspur".to_vec();
    let sig = low_s(&sk, &msg);
    let order =
        hex::decode("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141").unwrap();
    let mut cases: Vec<Vec<u8>> = vec![
        vec![],
        sig[..63].to_vec(),
        [&sig[..], &[0]].concat(),
        [0u8; 64].to_vec(),
        [[0u8; 32].as_slice(), &sig[32..]].concat(),
        [&sig[..32], [0u8; 32].as_slice()].concat(),
        [&order[..], &sig[32..]].concat(),
        [&sig[..32], &order[..]].concat(),
        [0xffu8; 64].to_vec(),
    ];
    let mut g = Gen(3);
    cases.extend((0..CASES).map(|_| g.bytes(64)));
    for s in &cases {
        assert!(same(&pk, &msg, s).is_err(), "{}", hex::encode(s));
    }
    // Keys: other prefixes, an x with no point on the curve, x ≥ p, random bytes.
    let mut keys: Vec<[u8; 33]> = Vec::new();
    for prefix in [0x00, 0x01, 0x04, 0x05, 0x06, 0x07, 0xff] {
        let mut k = pk;
        k[0] = prefix;
        keys.push(k);
    }
    let mut x_max = [0xffu8; 33];
    x_max[0] = 0x02;
    keys.push(x_max);
    let mut no_point = [0u8; 33];
    no_point[0] = 0x02;
    no_point[32] = 5; // x = 5: 125 + 7 is not a square mod p
    keys.push(no_point);
    for _ in 0..CASES {
        let mut k = [0u8; 33];
        k.copy_from_slice(&g.bytes(33));
        k[0] = 0x02 | (k[0] & 1);
        keys.push(k);
    }
    for k in &keys {
        assert!(same(k, &msg, &sig).is_err(), "{}", hex::encode(k));
    }
}
