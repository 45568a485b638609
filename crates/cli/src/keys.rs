//! Account keys: BIP-39 mnemonics derived at BIP-44 `m/44'/118'/0'/0/0` (the Cosmos path, so
//! the same words give the same address as in Keplr or CosmJS), kept in a keyring directory.
//! The `file` backend encrypts each secret with a passphrase (scrypt → ChaCha20-Poly1305);
//! the `test` backend stores it in the clear, for scripts and tests only.

use anyhow::{anyhow, bail, Context, Result};
use caspur_types::sign::AccountKey;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The Cosmos HD path.
pub const HD_PATH: &str = "m/44'/118'/0'/0/0";
/// Where the file backend reads a passphrase from when there is no terminal.
pub const PASSPHRASE_ENV: &str = "CASPUR_KEYRING_PASSPHRASE";

/// Keyring backends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// Passphrase-encrypted files.
    File,
    /// Unencrypted files (tests and scripts only).
    Test,
}

/// Which bech32 form of a key's address to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Bech {
    /// The account address (`caspur1…`).
    Acc,
    /// The validator operator address (`caspurvaloper1…`).
    Val,
}

impl Bech {
    /// `address` (an account address) in this form.
    pub fn show(self, address: &str) -> Result<String> {
        Ok(match self {
            Bech::Acc => address.to_string(),
            Bech::Val => {
                let a =
                    caspur_types::Address::parse_account(address).map_err(|e| anyhow!("{e}"))?;
                caspur_app::modules::staking::state::valoper(&a)
            }
        })
    }
}

/// The 32-byte secret of a mnemonic at the Cosmos HD path.
pub fn secret_from_mnemonic(words: &str) -> Result<[u8; 32]> {
    let mnemonic = bip39::Mnemonic::parse_normalized(words.trim())
        .map_err(|e| anyhow!("invalid mnemonic: {e}"))?;
    let seed = mnemonic.to_seed("");
    let path: bip32::DerivationPath = HD_PATH.parse().map_err(|e| anyhow!("{e}"))?;
    let xprv = bip32::XPrv::derive_from_path(seed, &path)
        .map_err(|e| anyhow!("key derivation failed: {e}"))?;
    Ok(xprv.private_key().to_bytes().into())
}

/// A new random 24-word mnemonic.
#[allow(clippy::expect_used, reason = "32 bytes is valid BIP-39 entropy")]
pub fn new_mnemonic() -> String {
    let mut entropy = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut entropy);
    bip39::Mnemonic::from_entropy(&entropy)
        .expect("32 bytes is valid entropy")
        .to_string()
}

/// An account key from a secret.
pub fn account_key(secret: &[u8; 32]) -> Result<AccountKey> {
    AccountKey::from_secret(secret).ok_or_else(|| anyhow!("secret is not a valid secp256k1 key"))
}

#[derive(Serialize, Deserialize)]
struct Record {
    name: String,
    address: String,
    pubkey: String,
    /// Hex secret (test backend).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    /// Encrypted secret (file backend).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sealed: Option<Sealed>,
}

#[derive(Serialize, Deserialize)]
struct Sealed {
    salt: String,
    nonce: String,
    ciphertext: String,
}

/// What `keys list/show` print.
#[derive(Serialize)]
pub struct KeyInfo {
    /// Name.
    pub name: String,
    /// Key type.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Bech32 address.
    pub address: String,
    /// Hex compressed public key.
    pub pubkey: String,
}

/// A keyring directory.
pub struct Keyring {
    dir: PathBuf,
    backend: Backend,
}

fn validate_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        bail!("key name {name:?} must be 1-64 letters, digits, '-' or '_'");
    }
    Ok(())
}

fn kdf(passphrase: &str, salt: &[u8]) -> Result<[u8; 32]> {
    let params = scrypt::Params::new(15, 8, 1, 32).map_err(|e| anyhow!("{e}"))?;
    let mut key = [0u8; 32];
    scrypt::scrypt(passphrase.as_bytes(), salt, &params, &mut key).map_err(|e| anyhow!("{e}"))?;
    Ok(key)
}

fn passphrase(confirm: bool) -> Result<String> {
    ask_passphrase("keyring passphrase", PASSPHRASE_ENV, confirm)
}

/// A passphrase (`what`): from the environment variable `env`, else asked on the terminal
/// (twice with `confirm`); at least 8 characters.
pub fn ask_passphrase(what: &str, env: &str, confirm: bool) -> Result<String> {
    if let Ok(p) = std::env::var(env) {
        return Ok(p);
    }
    let p = rpassword::prompt_password(format!("Enter {what}: "))
        .with_context(|| format!("no terminal to ask for the {what}; set {env}"))?;
    if confirm {
        let again = rpassword::prompt_password(format!("Re-enter {what}: "))?;
        if again != p {
            bail!("passphrases do not match");
        }
    }
    if p.len() < 8 {
        bail!("the {what} must have at least 8 characters");
    }
    Ok(p)
}

impl Keyring {
    /// The keyring of `home` for `backend`.
    pub fn open(home: &Path, backend: Backend) -> Self {
        let dir = home.join(match backend {
            Backend::File => "keyring-file",
            Backend::Test => "keyring-test",
        });
        Keyring { dir, backend }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    /// Stores a key derived from `mnemonic` under `name`.
    pub fn add(&self, name: &str, mnemonic: &str, overwrite: bool) -> Result<KeyInfo> {
        self.add_secret(name, &secret_from_mnemonic(mnemonic)?, overwrite)
    }

    /// Stores the key with this secret under `name`.
    pub fn add_secret(&self, name: &str, secret: &[u8; 32], overwrite: bool) -> Result<KeyInfo> {
        validate_name(name)?;
        if self.path(name).exists() && !overwrite {
            bail!("a key named {name:?} already exists; delete it first or pick another name");
        }
        let key = account_key(secret)?;
        let (secret_hex, sealed) = match self.backend {
            Backend::Test => (Some(hex::encode(secret)), None),
            Backend::File => {
                let pass = passphrase(true)?;
                let mut salt = [0u8; 16];
                let mut nonce = [0u8; 12];
                rand::rngs::OsRng.fill_bytes(&mut salt);
                rand::rngs::OsRng.fill_bytes(&mut nonce);
                let cipher = ChaCha20Poly1305::new(&Key::from(kdf(&pass, &salt)?));
                let ciphertext = cipher
                    .encrypt(&Nonce::from(nonce), secret.as_slice())
                    .map_err(|_| anyhow!("encryption failed"))?;
                (
                    None,
                    Some(Sealed {
                        salt: hex::encode(salt),
                        nonce: hex::encode(nonce),
                        ciphertext: hex::encode(ciphertext),
                    }),
                )
            }
        };
        let record = Record {
            name: name.to_string(),
            address: key.address().to_string(),
            pubkey: hex::encode(key.public_key()),
            secret: secret_hex,
            sealed,
        };
        crate::home::write_file(&self.path(name), &serde_json::to_vec_pretty(&record)?)?;
        Ok(info(&record))
    }

    fn record(&self, name: &str) -> Result<Record> {
        validate_name(name)?;
        let path = self.path(name);
        if !path.exists() {
            bail!("key {name:?} not found in {}", self.dir.display());
        }
        crate::home::read_json(&path)
    }

    /// Public information about a key.
    pub fn show(&self, name: &str) -> Result<KeyInfo> {
        Ok(info(&self.record(name)?))
    }

    /// Every key, by name.
    pub fn list(&self) -> Result<Vec<KeyInfo>> {
        let mut out = Vec::new();
        if !self.dir.exists() {
            return Ok(out);
        }
        let mut names: Vec<String> = std::fs::read_dir(&self.dir)?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_suffix(".json"))
                    .map(String::from)
            })
            .collect();
        names.sort();
        for n in names {
            out.push(self.show(&n)?);
        }
        Ok(out)
    }

    /// Deletes a key.
    pub fn delete(&self, name: &str) -> Result<()> {
        self.record(name)?;
        std::fs::remove_file(self.path(name)).with_context(|| format!("cannot delete key {name:?}"))
    }

    /// The signing key (asks for the passphrase with the file backend).
    pub fn signer(&self, name: &str) -> Result<AccountKey> {
        account_key(&self.secret(name)?)
    }

    /// The key's secret (asks for the passphrase with the file backend).
    pub fn secret(&self, name: &str) -> Result<[u8; 32]> {
        let r = self.record(name)?;
        let secret: Vec<u8> = match (&r.secret, &r.sealed) {
            (Some(h), _) => hex::decode(h).context("corrupt test key")?,
            (None, Some(s)) => {
                let pass = passphrase(false)?;
                let cipher = ChaCha20Poly1305::new(&Key::from(kdf(&pass, &hex::decode(&s.salt)?)?));
                let nonce: [u8; 12] = hex::decode(&s.nonce)?
                    .try_into()
                    .map_err(|_| anyhow!("corrupt key {name:?}"))?;
                cipher
                    .decrypt(&Nonce::from(nonce), hex::decode(&s.ciphertext)?.as_slice())
                    .map_err(|_| anyhow!("wrong keyring passphrase for key {name:?}"))?
            }
            (None, None) => bail!("key {name:?} has no secret"),
        };
        secret
            .try_into()
            .map_err(|_| anyhow!("corrupt key {name:?}"))
    }
}

fn info(r: &Record) -> KeyInfo {
    KeyInfo {
        name: r.name.clone(),
        kind: "local",
        address: r.address.clone(),
        pubkey: r.pubkey.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mnemonic_matches_cosmjs() {
        // Address computed by @cosmjs/proto-signing DirectSecp256k1HdWallet (prefix caspur).
        let m = "economy stock theory fatal elder harbor betray wasp final emotion task crumble siren bottom lizard educate guess current outdoor pair theory focus wife stone";
        let key = account_key(&secret_from_mnemonic(m).unwrap()).unwrap();
        assert_eq!(
            key.address().to_string(),
            "caspur1pkptre7fdkl6gfrzlesjjvhxhlc3r4gm7hng47"
        );
        assert!(secret_from_mnemonic("not a mnemonic").is_err());
    }

    #[test]
    fn file_backend_encrypts() {
        let dir = tempfile::tempdir().unwrap();
        std::env::set_var(PASSPHRASE_ENV, "correct horse battery");
        let ring = Keyring::open(dir.path(), Backend::File);
        let m = new_mnemonic();
        let info = ring.add("alice", &m, false).unwrap();
        let stored = std::fs::read_to_string(dir.path().join("keyring-file/alice.json")).unwrap();
        assert!(!stored.contains(&hex::encode(secret_from_mnemonic(&m).unwrap())));
        assert_eq!(
            ring.signer("alice").unwrap().address().to_string(),
            info.address
        );
        std::env::set_var(PASSPHRASE_ENV, "wrong passphrase!");
        assert!(ring.signer("alice").is_err());
        assert!(ring.add("alice", &m, false).is_err());
        ring.delete("alice").unwrap();
        assert!(ring.list().unwrap().is_empty());
    }
}
