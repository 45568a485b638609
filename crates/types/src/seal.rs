//! Sealed incident reports (SPEC §5): only the dCERT members can read a report until its
//! post-mortem discloses it.
//!
//! The envelope `salt ‖ report` is encrypted once with ChaCha20-Poly1305 under a random
//! content key (associated data: the commitment, so a ciphertext cannot be moved to another
//! incident), and the content key is sealed to each member with HPKE (RFC 9180, base mode,
//! DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305; associated data: commitment ‖
//! member address). A member who can read the report wraps the same key for a new member
//! ([`rewrap`]) — a few dozen bytes, not the report again. The public commitment is
//! SHA-256(salt ‖ report): the random salt makes a short report unguessable from it.
//!
//! Clients only: the state machine checks shapes and the commitment, never decrypts (and
//! the randomness here is the operating system's).

use crate::proto::incident::v1::{Disclosure, KeyWrap, SealedReport};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::ChaCha20Poly1305;
use hpke::aead::ChaCha20Poly1305 as HpkeChaCha;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem, OpModeR, OpModeS, Serializable};
use rand_core::{OsRng, RngCore, UnwrapErr};
use sha2::{Digest, Sha256};

/// Bytes of the random salt in front of the report.
pub const SALT_LEN: usize = 32;
/// Bytes of an X25519 key (public or secret) and of the content key.
pub const KEY_LEN: usize = 32;
/// Bytes of an HPKE encapsulated key (X25519).
pub const ENC_LEN: usize = 32;
/// Bytes of a wrapped content key (the key and its 16-byte tag).
pub const WRAPPED_KEY_LEN: usize = KEY_LEN + TAG_LEN;
const TAG_LEN: usize = 16;
/// Longest report (plaintext).
pub const MAX_REPORT_BYTES: usize = 48 << 10;
/// Longest sealed ciphertext: salt, the longest report, the tag.
pub const MAX_CIPHERTEXT_BYTES: usize = SALT_LEN + MAX_REPORT_BYTES + TAG_LEN;

const INFO: &[u8] = b"caspur incident report key v1";

/// Why sealing or opening failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    /// A key is not 32 bytes of hex.
    #[error("an encryption key is 64 hex characters (32 bytes of X25519), got {0:?}")]
    BadKey(String),
    /// No member can be sealed to.
    #[error("no active dCERT member has an encryption key: a report cannot be sealed to anyone")]
    NoRecipients,
    /// The report is too long.
    #[error("a report is at most {MAX_REPORT_BYTES} bytes, got {0}")]
    TooLarge(usize),
    /// The sealed report has no wrap for this member and key.
    #[error(
        "the report is not sealed to {0} with this key (ask a member who can read it to reseal it)"
    )]
    NotARecipient(String),
    /// Decryption failed: wrong key or tampered data.
    #[error("the sealed report does not decrypt: wrong key, or the ciphertext was tampered with")]
    Decrypt,
    /// The decrypted report does not match the public commitment.
    #[error("the report does not match its public commitment")]
    CommitmentMismatch,
    /// Randomness or encapsulation failed.
    #[error("sealing failed: {0}")]
    Seal(String),
}

/// A member's X25519 public key (its `encryption_key`, as hex).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKey(pub [u8; KEY_LEN]);

/// A member's X25519 secret key.
#[derive(Clone)]
pub struct SecretKey([u8; KEY_LEN]);

fn key_bytes(s: &str) -> Result<[u8; KEY_LEN], SealError> {
    let bytes = hex::decode(s.trim()).map_err(|_| SealError::BadKey(s.into()))?;
    bytes.try_into().map_err(|_| SealError::BadKey(s.into()))
}

impl PublicKey {
    /// Parses 64 hex characters; a key X25519 rejects (a low-order point) is refused too.
    pub fn parse(s: &str) -> Result<Self, SealError> {
        let bytes = key_bytes(s)?;
        Self::from_bytes(&bytes).map_err(|_| SealError::BadKey(s.into()))
    }

    /// From raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SealError> {
        let pk = <X25519HkdfSha256 as Kem>::PublicKey::from_bytes(bytes)
            .map_err(|_| SealError::BadKey(hex::encode(bytes)))?;
        let mut out = [0u8; KEY_LEN];
        out.copy_from_slice(&pk.to_bytes());
        Ok(PublicKey(out))
    }

    /// As hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    fn hpke(&self) -> Result<<X25519HkdfSha256 as Kem>::PublicKey, SealError> {
        <X25519HkdfSha256 as Kem>::PublicKey::from_bytes(&self.0)
            .map_err(|_| SealError::BadKey(self.to_hex()))
    }
}

impl SecretKey {
    /// A new key pair.
    pub fn generate() -> Self {
        let (sk, _) = X25519HkdfSha256::gen_keypair(&mut rng());
        let mut out = [0u8; KEY_LEN];
        out.copy_from_slice(&sk.to_bytes());
        SecretKey(out)
    }

    /// Parses 64 hex characters.
    pub fn parse(s: &str) -> Result<Self, SealError> {
        let bytes = key_bytes(s)?;
        <X25519HkdfSha256 as Kem>::PrivateKey::from_bytes(&bytes)
            .map_err(|_| SealError::BadKey("(secret key)".into()))?;
        Ok(SecretKey(bytes))
    }

    /// As hex (for the key file).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    fn hpke(&self) -> Result<<X25519HkdfSha256 as Kem>::PrivateKey, SealError> {
        <X25519HkdfSha256 as Kem>::PrivateKey::from_bytes(&self.0)
            .map_err(|_| SealError::BadKey("(secret key)".into()))
    }

    /// Its public key.
    pub fn public(&self) -> Result<PublicKey, SealError> {
        let pk = X25519HkdfSha256::sk_to_pk(&self.hpke()?);
        PublicKey::from_bytes(&pk.to_bytes())
    }
}

/// SHA-256(salt ‖ report), as lower-case hex: the public commitment.
pub fn commitment(salt: &[u8], report: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(report);
    hex::encode(h.finalize())
}

fn wrap_aad(commitment: &str, member: &str) -> Vec<u8> {
    let mut aad = commitment.as_bytes().to_vec();
    aad.push(0);
    aad.extend_from_slice(member.as_bytes());
    aad
}

fn wrap(
    content_key: &[u8; KEY_LEN],
    commitment: &str,
    member: &str,
    key: &PublicKey,
) -> Result<KeyWrap, SealError> {
    let (enc, wrapped) = hpke::single_shot_seal::<HpkeChaCha, HkdfSha256, X25519HkdfSha256, _>(
        &OpModeS::Base,
        &key.hpke()?,
        INFO,
        content_key,
        &wrap_aad(commitment, member),
        &mut rng(),
    )
    .map_err(|e| SealError::Seal(e.to_string()))?;
    Ok(KeyWrap {
        member: member.into(),
        recipient_key: key.0.to_vec(),
        enc: enc.to_bytes().to_vec(),
        wrapped_key: wrapped,
    })
}

/// Seals `report` to `recipients` (member address, key). Returns the sealed report and the
/// disclosure (salt and report) the reporter keeps; its commitment is
/// `commitment(&d.salt, &d.report)`.
pub fn seal(
    report: &[u8],
    recipients: &[(String, PublicKey)],
) -> Result<(SealedReport, Disclosure), SealError> {
    if report.len() > MAX_REPORT_BYTES {
        return Err(SealError::TooLarge(report.len()));
    }
    if recipients.is_empty() {
        return Err(SealError::NoRecipients);
    }
    let mut salt = [0u8; SALT_LEN];
    rng().fill_bytes(&mut salt);
    let mut content_key = [0u8; KEY_LEN];
    rng().fill_bytes(&mut content_key);
    let commitment = commitment(&salt, report);
    let mut envelope = salt.to_vec();
    envelope.extend_from_slice(report);
    let ciphertext = cipher(&content_key)
        .encrypt(
            &NONCE.into(),
            Payload {
                msg: &envelope,
                aad: commitment.as_bytes(),
            },
        )
        .map_err(|_| SealError::Seal("content encryption".into()))?;
    let keys = recipients
        .iter()
        .map(|(member, key)| wrap(&content_key, &commitment, member, key))
        .collect::<Result<_, _>>()?;
    Ok((
        SealedReport { ciphertext, keys },
        Disclosure {
            salt: salt.to_vec(),
            report: report.to_vec(),
        },
    ))
}

/// The operating system's randomness (a failure to get it panics, as `getrandom` does).
fn rng() -> UnwrapErr<OsRng> {
    UnwrapErr(OsRng)
}

// Each content key encrypts exactly one envelope, so a fixed nonce never repeats under a key.
const NONCE: [u8; 12] = [0; 12];

fn cipher(key: &[u8; KEY_LEN]) -> ChaCha20Poly1305 {
    ChaCha20Poly1305::new(key.into())
}

/// The content key from a wrap made for `secret`'s public key, and the member it names.
fn content_key(
    sealed: &SealedReport,
    commitment: &str,
    secret: &SecretKey,
) -> Result<([u8; KEY_LEN], String), SealError> {
    let public = secret.public()?;
    let mut found = false;
    for w in sealed.keys.iter().filter(|w| w.recipient_key == public.0) {
        found = true;
        let Ok(enc) = <X25519HkdfSha256 as Kem>::EncappedKey::from_bytes(&w.enc) else {
            continue;
        };
        let opened = hpke::single_shot_open::<HpkeChaCha, HkdfSha256, X25519HkdfSha256>(
            &OpModeR::Base,
            &secret.hpke()?,
            &enc,
            INFO,
            &w.wrapped_key,
            &wrap_aad(commitment, &w.member),
        );
        if let Ok(Ok(key)) = opened.map(<[u8; KEY_LEN]>::try_from) {
            return Ok((key, w.member.clone()));
        }
    }
    if found {
        Err(SealError::Decrypt)
    } else {
        Err(SealError::NotARecipient(public.to_hex()))
    }
}

/// Opens the report with a member's secret key and checks it against `commitment`; returns
/// the disclosure and the member the report was sealed to under that key.
pub fn open(
    sealed: &SealedReport,
    commitment_hex: &str,
    secret: &SecretKey,
) -> Result<(Disclosure, String), SealError> {
    let (key, member) = content_key(sealed, commitment_hex, secret)?;
    let envelope = cipher(&key)
        .decrypt(
            &NONCE.into(),
            Payload {
                msg: &sealed.ciphertext,
                aad: commitment_hex.as_bytes(),
            },
        )
        .map_err(|_| SealError::Decrypt)?;
    if envelope.len() < SALT_LEN {
        return Err(SealError::Decrypt);
    }
    let (salt, report) = envelope.split_at(SALT_LEN);
    if commitment(salt, report) != commitment_hex {
        return Err(SealError::CommitmentMismatch);
    }
    let d = Disclosure {
        salt: salt.to_vec(),
        report: report.to_vec(),
    };
    Ok((d, member))
}

/// Wraps the report's content key (readable with `secret`) for `recipients`.
pub fn rewrap(
    sealed: &SealedReport,
    commitment_hex: &str,
    secret: &SecretKey,
    recipients: &[(String, PublicKey)],
) -> Result<Vec<KeyWrap>, SealError> {
    // Opening first proves the key is the report's, not just a key that unwraps.
    open(sealed, commitment_hex, secret)?;
    let (key, _) = content_key(sealed, commitment_hex, secret)?;
    recipients
        .iter()
        .map(|(m, k)| wrap(&key, commitment_hex, m, k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(n: u8) -> (String, SecretKey) {
        (format!("caspur1member{n}"), SecretKey::generate())
    }

    #[test]
    fn members_open_outsiders_and_tampering_do_not() {
        let (a, sa) = member(1);
        let (b, sb) = member(2);
        let (c, sc) = member(3);
        let to = vec![
            (a.clone(), sa.public().unwrap()),
            (b.clone(), sb.public().unwrap()),
        ];
        let (sealed, d) = seal(b"overflow in MsgSend", &to).unwrap();
        let com = commitment(&d.salt, &d.report);
        assert_eq!(open(&sealed, &com, &sa).unwrap(), (d.clone(), a.clone()));
        assert_eq!(open(&sealed, &com, &sb).unwrap().0.report, d.report);
        assert!(matches!(
            open(&sealed, &com, &sc),
            Err(SealError::NotARecipient(_))
        ));
        // A flipped ciphertext bit, a flipped wrap bit, another commitment.
        let mut bad = sealed.clone();
        bad.ciphertext[40] ^= 1;
        assert_eq!(open(&bad, &com, &sa), Err(SealError::Decrypt));
        let mut bad = sealed.clone();
        bad.keys[0].wrapped_key[3] ^= 1;
        assert_eq!(open(&bad, &com, &sa), Err(SealError::Decrypt));
        assert_eq!(
            open(&sealed, &commitment(b"x", b"y"), &sa),
            Err(SealError::Decrypt)
        );
        // A reseal lets a new member in; the same key unwraps the same report.
        let more = rewrap(&sealed, &com, &sa, &[(c.clone(), sc.public().unwrap())]).unwrap();
        let mut resealed = sealed.clone();
        resealed.keys.extend(more);
        assert_eq!(open(&resealed, &com, &sc).unwrap(), (d, c));
    }

    #[test]
    fn keys_round_trip_and_bad_keys_are_refused() {
        let s = SecretKey::generate();
        let p = s.public().unwrap();
        assert_eq!(PublicKey::parse(&p.to_hex()).unwrap(), p);
        assert_eq!(SecretKey::parse(&s.to_hex()).unwrap().public().unwrap(), p);
        assert!(PublicKey::parse("age1devkey").is_err());
        assert!(PublicKey::parse(&"ab".repeat(31)).is_err());
        assert_eq!(seal(b"x", &[]).unwrap_err(), SealError::NoRecipients);
        let long = vec![0u8; MAX_REPORT_BYTES + 1];
        assert!(matches!(
            seal(&long, &[("m".into(), p)]),
            Err(SealError::TooLarge(_))
        ));
    }
}
