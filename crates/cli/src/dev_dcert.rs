//! The dCERT group a new dev chain starts with (SPEC §6: a seeded dCERT): the dev account and
//! `--dcert-members` − 1 more funded keys in the test keyring, each bonded and seated from
//! block 1 with its own sealing key for confidential reports, and circuit breaking enabled —
//! on dev chains only, so that the emergency powers can be tried in the first minute. With
//! `--dcert-members 0` the group starts empty with breaking off, as on a real chain.

use crate::home::{write_secret, GenesisDoc, Home};
use crate::keys;
use anyhow::{bail, Result};
use caspur_app::modules::dcert::GenesisCandidate;
use caspur_types::seal::SecretKey;
use std::path::PathBuf;

/// Bond of each seeded member: the default minimum member stake (10,000 CSP).
const MEMBER_BOND: u128 = 10_000_000_000;
/// Genesis funds of each extra member key: its bond and as much again for fees and votes.
const MEMBER_FUNDS: u128 = 2 * MEMBER_BOND;

/// Who was seated, and where their sealing keys are.
pub struct SeededDcert {
    /// Key names, the dev key first.
    pub members: Vec<String>,
    /// The directory of the members' sealing secret keys (`<name>.key`, mode 0600).
    pub keys_dir: PathBuf,
}

/// The directory of a dev home's member sealing keys.
pub fn keys_dir(home: &Home) -> PathBuf {
    home.config_dir().join("dcert")
}

/// Seats `count` members in `g` (the dev key `dev`, then new keys `dcert2…`), writing each
/// sealing key to the home; `count` 0 leaves the group empty.
pub fn seed(home: &Home, g: &mut GenesisDoc, dev_address: &str, count: u32) -> Result<SeededDcert> {
    let dcert = &mut g.app_state.dcert;
    if count > dcert.params.max_members {
        bail!(
            "--dcert-members {count}: the dCERT has {} seats",
            dcert.params.max_members
        );
    }
    let dir = keys_dir(home);
    let mut members = Vec::new();
    let ring = keys::Keyring::open(&home.0, keys::Backend::Test);
    for k in 1..=count {
        let (name, address) = if k == 1 {
            ("dev".to_string(), dev_address.to_string())
        } else {
            let name = format!("dcert{k}");
            let info = ring.add(&name, &keys::new_mnemonic(), true)?;
            crate::node::push_genesis_account(g, &info.address, &format!("{MEMBER_FUNDS}ucsp"))?;
            (name, info.address)
        };
        seat(g, home, &name, &address, &format!("dev member {name}"))?;
        members.push(name);
    }
    g.app_state.dcert.params.circuit_break_enabled = count > 0;
    Ok(SeededDcert {
        members,
        keys_dir: dir,
    })
}

/// Seats `address` (key `name` of `home`) in `g`'s dCERT group with a bond of 10,000 CSP and a
/// new sealing key, whose secret goes to `home`'s `config/dcert/<name>.key` (mode 0600).
pub fn seat(
    g: &mut GenesisDoc,
    home: &Home,
    name: &str,
    address: &str,
    description: &str,
) -> Result<()> {
    let secret = SecretKey::generate();
    write_secret(
        &keys_dir(home).join(format!("{name}.key")),
        format!("{}\n", secret.to_hex()).as_bytes(),
    )?;
    let public = secret.public().map_err(|e| anyhow::anyhow!("{e}"))?;
    g.app_state.dcert.candidates.push(GenesisCandidate {
        address: address.to_string(),
        description: description.to_string(),
        encryption_key: public.to_hex(),
        bond: MEMBER_BOND.to_string(),
        member: true,
    });
    Ok(())
}
