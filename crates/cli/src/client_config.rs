//! `config/client.toml`: the command line's defaults for talking to a node, as in the Cosmos
//! SDK (`chain-id`, `keyring-backend`, `output`, `node`, `broadcast-mode`). Written by `init`,
//! `dev` and `testnet init`, read and changed with `caspurd config`. A value is taken from the
//! flag, else from its `CASPUR_*` environment variable (clap reads those), else from
//! client.toml, else the built-in default.

use crate::home::{read_toml, write_file, Home};
use crate::keys::Backend;
use crate::output::Format;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The file's keys, in the order they are written and listed.
pub const KEYS: &[&str] = &[
    "chain-id",
    "keyring-backend",
    "output",
    "node",
    "broadcast-mode",
];

/// `client.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct ClientConfig {
    /// Chain id for signing ("": asked from the node).
    pub chain_id: String,
    /// `file` or `test`.
    pub keyring_backend: String,
    /// `text` or `json`.
    pub output: String,
    /// The node's RPC, `tcp://host:port` or `http(s)://host:port`.
    pub node: String,
    /// `sync`, `async` or `block` (wait until committed).
    pub broadcast_mode: String,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            chain_id: String::new(),
            keyring_backend: "file".into(),
            output: "text".into(),
            node: "tcp://127.0.0.1:26657".into(),
            broadcast_mode: "block".into(),
        }
    }
}

fn path(home: &Home) -> PathBuf {
    home.config_dir().join("client.toml")
}

impl ClientConfig {
    /// The home's client.toml, or the defaults when it has none.
    pub fn load(home: &Home) -> Result<Self> {
        let path = path(home);
        if !path.exists() {
            return Ok(ClientConfig::default());
        }
        let c: ClientConfig = read_toml(&path)?;
        c.validate()
            .with_context(|| format!("in {}", path.display()))?;
        Ok(c)
    }

    /// The home's client.toml as far as it reads (the defaults where it does not parse), and
    /// what is wrong with it: `caspurd config` must work on a broken file, to repair it.
    pub fn load_lenient(home: &Home) -> (Self, Option<anyhow::Error>) {
        let path = path(home);
        if !path.exists() {
            return (ClientConfig::default(), None);
        }
        match read_toml::<ClientConfig>(&path) {
            Ok(c) => {
                let problem = c
                    .validate()
                    .with_context(|| format!("in {}", path.display()))
                    .err();
                (c, problem)
            }
            Err(e) => (ClientConfig::default(), Some(e)),
        }
    }

    /// Writes it to the home.
    pub fn save(&self, home: &Home) -> Result<()> {
        write_file(&path(home), toml::to_string(self)?.as_bytes())
    }

    /// Checks every value, naming the first one that is wrong.
    pub fn validate(&self) -> Result<()> {
        KEYS.iter().try_for_each(|k| self.check(k))
    }

    /// Checks the value of one key.
    fn check(&self, key: &str) -> Result<()> {
        match key {
            "keyring-backend" => self.keyring().map(drop),
            "output" => self.format().map(drop),
            "broadcast-mode" => broadcast_waits(&self.broadcast_mode).map(drop),
            "node"
                if !["tcp://", "http://", "https://"]
                    .iter()
                    .any(|p| self.node.starts_with(p)) =>
            {
                bail!(
                    "node must be tcp://host:port or http(s)://host:port, not {:?}",
                    self.node
                )
            }
            _ => Ok(()),
        }
    }

    /// The keyring backend.
    pub fn keyring(&self) -> Result<Backend> {
        use clap::ValueEnum as _;
        Backend::from_str(&self.keyring_backend, true).map_err(|_| {
            anyhow::anyhow!(
                "keyring-backend must be file or test, not {:?}",
                self.keyring_backend
            )
        })
    }

    /// The output format.
    pub fn format(&self) -> Result<Format> {
        use clap::ValueEnum as _;
        Format::from_str(&self.output, true)
            .map_err(|_| anyhow::anyhow!("output must be text or json, not {:?}", self.output))
    }

    /// One value by its key.
    pub fn get(&self, key: &str) -> Result<&str> {
        Ok(match key {
            "chain-id" => &self.chain_id,
            "keyring-backend" => &self.keyring_backend,
            "output" => &self.output,
            "node" => &self.node,
            "broadcast-mode" => &self.broadcast_mode,
            other => bail!("unknown client.toml key {other:?}; the keys are {KEYS:?}"),
        })
    }

    /// Sets one value by its key, checking it.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        let slot = match key {
            "chain-id" => &mut self.chain_id,
            "keyring-backend" => &mut self.keyring_backend,
            "output" => &mut self.output,
            "node" => &mut self.node,
            "broadcast-mode" => &mut self.broadcast_mode,
            other => bail!("unknown client.toml key {other:?}; the keys are {KEYS:?}"),
        };
        *slot = value.to_string();
        self.check(key)
    }
}

/// Writes the client.toml a new home starts with: this node's RPC (`laddr` as in
/// config.toml), its chain, and the keyring its keys are in.
pub fn write_for(home: &Home, chain_id: &str, rpc_laddr: &str, keyring: Backend) -> Result<()> {
    let node = match rpc_laddr.strip_prefix("tcp://") {
        // A wildcard listen address is reached on the loopback.
        Some(rest) => format!("tcp://{}", rest.replace("0.0.0.0", "127.0.0.1")),
        None => rpc_laddr.to_string(),
    };
    let c = ClientConfig {
        chain_id: chain_id.into(),
        keyring_backend: match keyring {
            Backend::File => "file",
            Backend::Test => "test",
        }
        .into(),
        node,
        ..ClientConfig::default()
    };
    c.validate()?;
    c.save(home)
}

/// Whether a broadcast mode waits for the commit (`block`) or returns on admission.
pub fn broadcast_waits(mode: &str) -> Result<bool> {
    match mode {
        "block" => Ok(true),
        "sync" | "async" => Ok(false),
        other => bail!("broadcast-mode must be sync, async or block, not {other:?}"),
    }
}

/// `caspurd config [KEY [VALUE]]`: every value, one value, or a new value written back.
pub fn command(
    home: &Home,
    key: Option<String>,
    value: Option<String>,
) -> Result<serde_json::Value> {
    let (mut c, problem) = ClientConfig::load_lenient(home);
    if let Some(problem) = &problem {
        eprintln!("warning: {problem:#}; `caspurd config KEY VALUE` repairs it");
    }
    match (key, value) {
        (None, _) => Ok(serde_json::to_value(&c)?),
        (Some(key), None) => Ok(serde_json::json!({ key.clone(): c.get(&key)? })),
        (Some(key), Some(value)) => {
            if !home.config_dir().exists() {
                bail!(
                    "{} has no config directory; run caspurd init first or pass --home",
                    home.0.display()
                );
            }
            c.set(&key, &value)?;
            c.save(home)?;
            Ok(serde_json::json!({ key: value }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_by_name_and_round_trip() {
        let mut c = ClientConfig::default();
        assert!(c.validate().is_ok());
        c.set("node", "tcp://10.0.0.1:26657")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.get("node").ok(), Some("tcp://10.0.0.1:26657"));
        for (key, bad) in [
            ("node", "10.0.0.1:26657"),
            ("output", "yaml"),
            ("broadcast-mode", "now"),
            ("keyring-backend", "os"),
            ("colour", "red"),
        ] {
            let mut c = ClientConfig::default();
            let e = c
                .set(key, bad)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains(key), "{key}: {e}");
        }
        let text = toml::to_string(&ClientConfig::default()).unwrap_or_default();
        assert!(text.contains("chain-id = \"\"") && text.contains("broadcast-mode = \"block\""));
        let back: ClientConfig = toml::from_str(&text).unwrap_or_default();
        assert_eq!(back, ClientConfig::default());
    }
}
