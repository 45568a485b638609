//! `keys export` / `keys import`: a private key as the Cosmos SDK armors it, so keys move
//! between `caspurd` and `gaiad`/`simd` keyrings.
//!
//! ```text
//! -----BEGIN TENDERMINT PRIVATE KEY-----
//! kdf: scrypt
//! kdfparams: n=32768,r=8,p=1,dklen=32
//! salt: <16 random bytes, upper hex>
//! type: secp256k1
//!
//! <base64 of: 24-byte nonce ‖ XSalsa20-Poly1305(scrypt(passphrase, salt), amino(private key))>
//! =<CRC-24 of the bytes, base64>
//! -----END TENDERMINT PRIVATE KEY-----
//! ```
//!
//! The amino form of a secp256k1 private key is its registered prefix `e1 b0 f7 9b`, the length
//! 32, then the 32 bytes. The armor is OpenPGP's (RFC 4880 §6.2), written here in a few lines:
//! the crates that implement it are whole OpenPGP stacks. `keys import` also reads the
//! `kdf: bcrypt` armors the SDK wrote through v0.50 (key: SHA-256 of the bcrypt hash string,
//! cost 12) — what `gaiad keys export` prints today.

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine as _;
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::XSalsa20Poly1305;
use rand::RngCore;

const BLOCK_TYPE: &str = "TENDERMINT PRIVATE KEY";
const AMINO_SECP256K1_PRIVKEY: [u8; 4] = [0xe1, 0xb0, 0xf7, 0x9b];
/// The SDK's scrypt parameters: N = 2^15, r = 8, p = 1, 32-byte key.
const SCRYPT_LOG_N: u8 = 15;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;
/// The SDK's bcrypt cost (`BcryptSecurityParameter`).
const BCRYPT_COST: u32 = 12;
/// Most work an imported armor may ask of scrypt (N ≤ 2^20, r ≤ 16, p ≤ 4): an armor is
/// untrusted input and its parameters set the CPU and memory the import spends.
const MAX_SCRYPT_LOG_N: u8 = 20;
const MAX_SCRYPT_R: u32 = 16;
const MAX_SCRYPT_P: u32 = 4;
/// Where `keys export` / `keys import` read the armor's passphrase when there is no terminal.
pub const PASSPHRASE_ENV: &str = "CASPUR_EXPORT_PASSPHRASE";
/// Largest armor `keys import` reads.
pub const MAX_ARMOR_BYTES: usize = 16 << 10;

fn scrypt_key(passphrase: &str, salt: &[u8], log_n: u8, r: u32, p: u32) -> Result<[u8; 32]> {
    let params = scrypt::Params::new(log_n, r, p, 32).map_err(|e| anyhow!("scrypt: {e}"))?;
    let mut key = [0u8; 32];
    scrypt::scrypt(passphrase.as_bytes(), salt, &params, &mut key)
        .map_err(|e| anyhow!("scrypt: {e}"))?;
    Ok(key)
}

/// The SDK's bcrypt key: SHA-256 of the `$2a$12$…` hash string of `passphrase` with `salt`.
fn bcrypt_key(passphrase: &str, salt: &[u8]) -> Result<[u8; 32]> {
    bcrypt_key_cost(passphrase, salt, BCRYPT_COST)
}

fn bcrypt_key_cost(passphrase: &str, salt: &[u8], cost: u32) -> Result<[u8; 32]> {
    use sha2::{Digest, Sha256};
    let salt: [u8; 16] = salt
        .try_into()
        .map_err(|_| anyhow!("a bcrypt salt is 16 bytes"))?;
    let hash = bcrypt::hash_with_salt(passphrase, cost, salt)
        .map_err(|e| anyhow!("bcrypt: {e}"))?
        .format_for_version(bcrypt::Version::TwoA);
    Ok(Sha256::digest(hash.as_bytes()).into())
}

/// OpenPGP's CRC-24 (RFC 4880 §6.1).
fn crc24(data: &[u8]) -> u32 {
    let mut crc: u32 = 0x00B7_04CE;
    for byte in data {
        crc ^= u32::from(*byte) << 16;
        for _ in 0..8 {
            crc <<= 1;
            if crc & 0x0100_0000 != 0 {
                crc ^= 0x0186_4CFB;
            }
        }
    }
    crc & 0x00FF_FFFF
}

/// `secret` encrypted under `passphrase` and armored as the SDK's `keys export` writes it.
pub fn export(secret: &[u8; 32], passphrase: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let key = scrypt_key(passphrase, &salt, SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P)?;
    let mut plain = AMINO_SECP256K1_PRIVKEY.to_vec();
    plain.push(32);
    plain.extend_from_slice(secret);
    let sealed = XSalsa20Poly1305::new(&key.into())
        .encrypt(&nonce.into(), plain.as_slice())
        .map_err(|_| anyhow!("encryption failed"))?;
    let mut data = nonce.to_vec();
    data.extend_from_slice(&sealed);
    let b64 = base64::engine::general_purpose::STANDARD;
    let body = b64.encode(&data);
    let mut out = format!(
        "-----BEGIN {BLOCK_TYPE}-----\nkdf: scrypt\nkdfparams: n={},r={SCRYPT_R},p={SCRYPT_P},dklen=32\nsalt: {}\ntype: secp256k1\n\n",
        1u64 << SCRYPT_LOG_N,
        hex::encode_upper(salt)
    );
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    let crc = crc24(&data).to_be_bytes();
    out.push('=');
    out.push_str(&b64.encode(&crc[1..]));
    out.push_str(&format!("\n-----END {BLOCK_TYPE}-----\n"));
    Ok(out)
}

/// An armor's `key: value` header lines.
type Headers = Vec<(String, String)>;

/// An armor's headers and decoded body (its checksum verified when present).
fn unarmor(text: &str) -> Result<(Headers, Vec<u8>)> {
    let begin = format!("-----BEGIN {BLOCK_TYPE}-----");
    let end = format!("-----END {BLOCK_TYPE}-----");
    let inner = text
        .split_once(&begin)
        .and_then(|(_, rest)| rest.split_once(&end))
        .map(|(inner, _)| inner)
        .ok_or_else(|| anyhow!("not an armored private key (no {begin} … {end} block)"))?;
    let mut headers = Vec::new();
    let mut body = String::new();
    let mut checksum = None;
    let mut in_body = false;
    for line in inner.lines().map(str::trim) {
        if !in_body {
            match line.split_once(": ") {
                Some((k, v)) => headers.push((k.to_string(), v.to_string())),
                None if line.is_empty() => in_body = !headers.is_empty() || in_body,
                None => {
                    in_body = true;
                    body.push_str(line);
                }
            }
            continue;
        }
        match line.strip_prefix('=') {
            Some(sum) => checksum = Some(sum.to_string()),
            None => body.push_str(line),
        }
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let data = b64
        .decode(&body)
        .context("the armor's body is not base64")?;
    if let Some(sum) = checksum {
        let expected = crc24(&data).to_be_bytes();
        if b64.decode(sum).ok().as_deref() != Some(&expected[1..]) {
            bail!("the armor's checksum does not match its body");
        }
    }
    Ok((headers, data))
}

fn scrypt_params(text: &str) -> Result<(u8, u32, u32)> {
    let mut n = None;
    let (mut r, mut p, mut dklen) = (None, None, None);
    for part in text.split(',') {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let v: u64 = v.parse().map_err(|_| anyhow!("bad kdfparams {text:?}"))?;
        match k {
            "n" => n = Some(v),
            "r" => r = u32::try_from(v).ok(),
            "p" => p = u32::try_from(v).ok(),
            "dklen" => dklen = Some(v),
            _ => bail!("bad kdfparams {text:?}"),
        }
    }
    let (Some(n), Some(r), Some(p), Some(32)) = (n, r, p, dklen) else {
        bail!("kdfparams must give n, r, p and dklen=32, not {text:?}");
    };
    if !n.is_power_of_two() || n < 2 {
        bail!("scrypt n must be a power of two, not {n}");
    }
    let log_n = n.trailing_zeros() as u8;
    if log_n > MAX_SCRYPT_LOG_N || r > MAX_SCRYPT_R || p > MAX_SCRYPT_P || r == 0 || p == 0 {
        bail!("scrypt parameters {text:?} ask for more work than a key import allows");
    }
    Ok((log_n, r, p))
}

/// The secret of a key armored by [`export`] or the SDK's `keys export`.
pub fn import(text: &str, passphrase: &str) -> Result<[u8; 32]> {
    if text.len() > MAX_ARMOR_BYTES {
        bail!("an armored key is at most {MAX_ARMOR_BYTES} bytes");
    }
    let (headers, data) = unarmor(text)?;
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if let Some(kind) = header("type").filter(|t| *t != "secp256k1") {
        bail!("only secp256k1 keys can be imported, not {kind}");
    }
    let salt = hex::decode(header("salt").unwrap_or_default()).context("the salt is not hex")?;
    let key = match header("kdf") {
        Some("scrypt") => {
            let (log_n, r, p) = scrypt_params(header("kdfparams").unwrap_or_default())?;
            scrypt_key(passphrase, &salt, log_n, r, p)?
        }
        Some("bcrypt") => bcrypt_key(passphrase, &salt)?,
        other => bail!("unknown key derivation {other:?}"),
    };
    open_sealed(&data, &key)
}

/// The secret in an armor's body (nonce ‖ sealed amino key) under `key`.
fn open_sealed(data: &[u8], key: &[u8; 32]) -> Result<[u8; 32]> {
    if data.len() < 24 {
        bail!("the armored key is too short");
    }
    let (nonce, sealed) = data.split_at(24);
    let nonce: [u8; 24] = nonce.try_into().map_err(|_| anyhow!("bad nonce"))?;
    let plain = XSalsa20Poly1305::new(key.into())
        .decrypt(&nonce.into(), sealed)
        .map_err(|_| anyhow!("wrong passphrase, or the armored key is damaged"))?;
    match plain.split_at_checked(5) {
        Some((prefix, secret)) if prefix[..4] == AMINO_SECP256K1_PRIVKEY && prefix[4] == 32 => {
            secret
                .try_into()
                .map_err(|_| anyhow!("the key is not 32 bytes"))
        }
        _ => bail!("the armored key is not a secp256k1 private key"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_round_trips_and_a_wrong_passphrase_or_damage_is_refused() {
        let secret = [7u8; 32];
        let armor = export(&secret, "correct horse").unwrap_or_else(|e| panic!("{e}"));
        assert!(armor.starts_with("-----BEGIN TENDERMINT PRIVATE KEY-----\nkdf: scrypt\n"));
        assert_eq!(import(&armor, "correct horse").ok(), Some(secret));
        let wrong = import(&armor, "wrong horse").err().map(|e| e.to_string());
        assert!(wrong.unwrap_or_default().contains("wrong passphrase"));
        let damaged = armor.replacen("\n\n", "\n\nAAAA", 1);
        assert!(import(&damaged, "correct horse").is_err());
        let greedy = armor.replace("n=32768", "n=1073741824");
        let e = import(&greedy, "correct horse")
            .err()
            .map(|e| e.to_string());
        assert!(e.unwrap_or_default().contains("more work"));
    }

    #[test]
    fn crc24_matches_openpgp_and_the_sdks_armor() {
        // The CRC-24/OPENPGP check value.
        assert_eq!(crc24(b"123456789"), 0x21CF02);
        // The Cosmos SDK's armor test vector: these bytes armor with checksum `=EoPN`.
        let crc = crc24(b"representative public key bytes").to_be_bytes();
        let b64 = base64::engine::general_purpose::STANDARD;
        assert_eq!(b64.encode(&crc[1..]), "EoPN");
    }

    #[test]
    fn the_sdks_bcrypt_armor_opens_with_the_sdks_derivation() {
        // The Cosmos SDK keyring tests' armored key (`TestImportPrivKey`) and passphrase. The
        // SDK's tests lower the bcrypt cost to 1, which its bcrypt raises to the default 10;
        // exports made by a real node use 12. The MAC only verifies if the derivation (SHA-256
        // of the `$2a$` hash string) is the SDK's.
        let armor = "-----BEGIN TENDERMINT PRIVATE KEY-----\nkdf: bcrypt\nsalt: 6BC5D5187F9DF241E1A1243EECFF9C17\ntype: secp256k1\n\nGDPpPfrSVZloiwufbal19fmd75QeiqwToZ949SwmnxxM03qL75xXVf3tTD/BrF4l\nFs14HuhwntDBM2xgZvymTBk2edHlEI20Phv6oC0=\n=/zZh\n-----END TENDERMINT PRIVATE KEY-----";
        let (_, data) = unarmor(armor).unwrap_or_else(|e| panic!("{e}"));
        let salt = hex::decode("6BC5D5187F9DF241E1A1243EECFF9C17").unwrap_or_default();
        let pass = "this passphrase has been used for all test vectors";
        let key = bcrypt_key_cost(pass, &salt, 10).unwrap_or_else(|e| panic!("{e}"));
        assert!(open_sealed(&data, &key).is_ok());
        let other =
            bcrypt_key_cost("another passphrase", &salt, 10).unwrap_or_else(|e| panic!("{e}"));
        assert!(open_sealed(&data, &other).is_err());
        // At the production cost the same armor does not open (as in the SDK).
        assert!(import(armor, pass).is_err());
    }
}
