//! The node home directory: `config/config.toml`, `config/app.toml`, `config/genesis.json`,
//! `config/priv_validator_key.json`, and `data/` (consensus, state and index storage).

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine as _;
use caspur_app::AppGenesis;
use caspur_consensus::{ConsensusGenesis, GenesisValidator};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// A node home.
#[derive(Clone, Debug)]
pub struct Home(pub PathBuf);

impl Home {
    /// `visor/status.json`: what a visor running this node reports (the visor's layout).
    pub fn visor_status(&self) -> PathBuf {
        self.0.join("visor").join("status.json")
    }

    /// `config/`.
    pub fn config_dir(&self) -> PathBuf {
        self.0.join("config")
    }
    /// `data/`.
    pub fn data_dir(&self) -> PathBuf {
        self.0.join("data")
    }
    /// `config/config.toml`.
    pub fn config_toml(&self) -> PathBuf {
        self.config_dir().join("config.toml")
    }
    /// `config/app.toml`.
    pub fn app_toml(&self) -> PathBuf {
        self.config_dir().join("app.toml")
    }
    /// `config/genesis.json`.
    pub fn genesis(&self) -> PathBuf {
        self.config_dir().join("genesis.json")
    }
    /// `config/priv_validator_key.json`.
    pub fn validator_key(&self) -> PathBuf {
        self.config_dir().join("priv_validator_key.json")
    }
    /// The block index file.
    pub fn index(&self) -> PathBuf {
        self.data_dir().join("index.redb")
    }
    /// Whether this home was initialised.
    pub fn is_initialized(&self) -> bool {
        self.genesis().exists() && self.config_toml().exists()
    }
}

/// `config.toml`, in CometBFT's layout where it overlaps.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NodeConfig {
    /// Human-readable node name.
    pub moniker: String,
    /// Whether this node validates or only follows the chain.
    #[serde(default)]
    pub mode: Mode,
    /// Log level (`info`, `debug`, …).
    #[serde(default = "default_log_level")]
    pub log_level: String,
    /// Log lines: `plain` or `json`.
    #[serde(default)]
    pub log_format: crate::logging::LogFormat,
    /// RPC server.
    pub rpc: RpcConfig,
    /// Cosmos gRPC server.
    #[serde(default)]
    pub grpc: GrpcConfig,
    /// Peer-to-peer network.
    pub p2p: P2pConfig,
    /// Block production.
    pub consensus: ConsensusConfig,
    /// Mempool bounds.
    pub mempool: MempoolConfig,
    /// Metrics.
    pub instrumentation: InstrumentationConfig,
    /// Catching up when behind.
    #[serde(default)]
    pub statesync: StateSyncConfig,
    /// Incident feeds and webhooks.
    #[serde(default)]
    pub incidents: IncidentsConfig,
}

/// `[incidents]`: what the public incident feeds say about the operators.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct IncidentsConfig {
    /// The node's public base URL, for links in feeds (empty: the request's Host).
    pub public_url: String,
    /// `/.well-known/security.txt` `Contact:` values (`mailto:…`, `https://…`, `tel:…`);
    /// none: the node serves no security.txt.
    pub security_contacts: Vec<String>,
    /// security.txt `Policy:` URL.
    pub security_policy: String,
    /// security.txt `Expires:` (RFC 3339; empty: a year after each request).
    pub security_expires: String,
    /// One webhook request's timeout, milliseconds.
    pub webhook_timeout_ms: u64,
    /// Tries per event before it goes to `data/webhooks/dead-letter.jsonl`.
    pub webhook_max_attempts: u32,
    /// The first retry's delay, milliseconds (each next one doubles, up to 5 minutes).
    pub webhook_retry_base_ms: u64,
    /// Where incident events are POSTed (`[[incidents.webhooks]]`).
    pub webhooks: Vec<WebhookConfig>,
}

/// `[[incidents.webhooks]]`: one destination.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WebhookConfig {
    /// http(s) URL to POST to.
    pub url: String,
    /// `standard` (Standard Webhooks JSON), `discord`, `slack` or `telegram`.
    #[serde(default)]
    pub format: caspur_node::webhooks::Format,
    /// Standard Webhooks signing secrets (`whsec_<base64>`); each signs every message.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// Telegram `chat_id` (telegram format).
    #[serde(default)]
    pub telegram_chat_id: String,
    /// Most requests a minute to this destination.
    #[serde(default = "default_per_minute")]
    pub max_per_minute: u32,
}

fn default_per_minute() -> u32 {
    30
}

impl IncidentsConfig {
    /// Checks every value (one line each; contacts are URIs of the kinds RFC 9116 names).
    pub fn validate(&self) -> Result<()> {
        let one_line = |what: &str, v: &str| {
            if v.chars().any(char::is_control) || v.len() > 512 {
                bail!("[incidents] {what} must be one line of at most 512 bytes, got {v:?}");
            }
            Ok(())
        };
        one_line("public_url", &self.public_url)?;
        one_line("security_policy", &self.security_policy)?;
        one_line("security_expires", &self.security_expires)?;
        if !self.security_expires.is_empty() {
            chrono::DateTime::parse_from_rfc3339(&self.security_expires).with_context(|| {
                format!(
                    "[incidents] security_expires {:?} is not RFC 3339",
                    self.security_expires
                )
            })?;
        }
        if self.security_contacts.len() > 16 {
            bail!("[incidents] security_contacts holds at most 16 entries");
        }
        for c in &self.security_contacts {
            one_line("security_contacts", c)?;
            if !["mailto:", "https://", "tel:"]
                .iter()
                .any(|p| c.starts_with(p))
            {
                bail!(
                    "[incidents] security contact {c:?} must start with mailto:, https:// or tel:"
                );
            }
        }
        self.validate_webhooks().map(|_| ())
    }

    /// The webhook destinations, checked: at most 16, http(s) URLs, parseable secrets, 1–600
    /// requests a minute, timeout 100 ms–60 s, 1–20 tries.
    pub fn validate_webhooks(&self) -> Result<Vec<caspur_node::webhooks::Destination>> {
        use caspur_node::webhooks::{Destination, Secret, MAX_DESTINATIONS};
        if self.webhooks.len() > MAX_DESTINATIONS {
            bail!("[incidents] holds at most {MAX_DESTINATIONS} webhooks");
        }
        if !(100..=60_000).contains(&self.timeout_ms()) {
            bail!("[incidents] webhook_timeout_ms must be within 100–60000");
        }
        if !(1..=20).contains(&self.attempts()) {
            bail!("[incidents] webhook_max_attempts must be within 1–20");
        }
        let mut out = Vec::new();
        for w in &self.webhooks {
            if !(w.url.starts_with("http://") || w.url.starts_with("https://"))
                || w.url.chars().any(char::is_control)
            {
                bail!("webhook url {:?} must be an http:// or https:// URL", w.url);
            }
            if !(1..=600).contains(&w.max_per_minute) {
                bail!("webhook {}: max_per_minute must be within 1–600", w.url);
            }
            let secrets = w
                .secrets
                .iter()
                .map(|s| Secret::parse(s).map_err(|e| anyhow!("webhook {}: {e}", w.url)))
                .collect::<Result<Vec<_>>>()?;
            out.push(Destination {
                url: w.url.clone(),
                format: w.format,
                secrets,
                chat_id: w.telegram_chat_id.clone(),
                max_per_minute: w.max_per_minute,
            });
        }
        Ok(out)
    }

    fn timeout_ms(&self) -> u64 {
        if self.webhook_timeout_ms == 0 {
            5000
        } else {
            self.webhook_timeout_ms
        }
    }

    fn attempts(&self) -> u32 {
        if self.webhook_max_attempts == 0 {
            8
        } else {
            self.webhook_max_attempts
        }
    }

    /// The webhook settings for `chain_id`, state under `dir`; `None` without destinations.
    pub fn webhook_settings(
        &self,
        chain_id: &str,
        base_url: &str,
        dir: std::path::PathBuf,
    ) -> Result<Option<caspur_node::webhooks::WebhookSettings>> {
        let destinations = self.validate_webhooks()?;
        if destinations.is_empty() {
            return Ok(None);
        }
        let base = if self.webhook_retry_base_ms == 0 {
            1000
        } else {
            self.webhook_retry_base_ms
        };
        Ok(Some(caspur_node::webhooks::WebhookSettings {
            destinations,
            timeout: std::time::Duration::from_millis(self.timeout_ms()),
            max_attempts: self.attempts(),
            retry_base: std::time::Duration::from_millis(base),
            dir,
            chain_id: chain_id.into(),
            base_url: if self.public_url.is_empty() {
                base_url.into()
            } else {
                self.public_url.trim_end_matches('/').into()
            },
        }))
    }

    /// As the node's feed settings.
    pub fn to_feeds(&self) -> caspur_node::feeds::FeedConfig {
        caspur_node::feeds::FeedConfig {
            public_url: self.public_url.clone(),
            security_contacts: self.security_contacts.clone(),
            security_policy: self.security_policy.clone(),
            security_expires: self.security_expires.clone(),
        }
    }
}

/// `[statesync]`: how a node that is behind catches up.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StateSyncConfig {
    /// Whether a fresh node may sync state from peers instead of replaying every block.
    pub enable: bool,
    /// State-sync only if the network is at least this many consensus views past genesis.
    pub min_distance_views: u64,
    /// How long a fresh node asks peers for a finalized floor before starting from genesis.
    pub probe_timeout_ms: u64,
    /// Finalized blocks kept for peers to catch up from (0: keep all). The RPC block index
    /// keeps every block regardless.
    pub retain_blocks: u64,
}

impl Default for StateSyncConfig {
    fn default() -> Self {
        StateSyncConfig {
            enable: true,
            min_distance_views: 1000,
            probe_timeout_ms: 3000,
            retain_blocks: 0,
        }
    }
}

fn default_log_level() -> String {
    "info".into()
}

/// `[rpc]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RpcConfig {
    /// Listen address, `tcp://host:port`.
    pub laddr: String,
    /// Most connections served at once (WebSocket ones included); further clients wait in
    /// the listen backlog. 0: no limit.
    #[serde(default = "default_max_open_connections")]
    pub max_open_connections: usize,
    /// Most calls in one JSON-RPC batch (CometBFT's `max_request_batch_size`).
    #[serde(default = "default_max_request_batch_size")]
    pub max_request_batch_size: usize,
    /// Most bytes of one request body.
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: usize,
    /// Most bytes of one response (a batch's replies together).
    #[serde(default = "default_max_response_bytes")]
    pub max_response_bytes: usize,
    /// Longest one request may take, body and reply included, in ms.
    #[serde(default = "default_timeout_ms")]
    pub request_timeout_ms: u64,
    /// A connection that moves no byte for this long is closed, in ms (at least 10,000: the
    /// WebSocket keeps subscribers alive with a ping every 5 s).
    #[serde(default = "default_timeout_ms")]
    pub idle_timeout_ms: u64,
}

fn default_max_open_connections() -> usize {
    900
}

fn default_max_request_batch_size() -> usize {
    caspur_node::rpc::RpcLimits::default().max_batch
}

fn default_max_body_bytes() -> usize {
    caspur_node::rpc::RpcLimits::default().max_body_bytes
}

fn default_max_response_bytes() -> usize {
    caspur_node::rpc::RpcLimits::default().max_response_bytes
}

fn default_timeout_ms() -> u64 {
    10_000
}

impl RpcConfig {
    /// The per-request bounds this section sets, checked.
    pub fn limits(&self) -> anyhow::Result<caspur_node::rpc::RpcLimits> {
        anyhow::ensure!(
            self.max_request_batch_size > 0
                && self.max_body_bytes > 0
                && self.max_response_bytes > 0,
            "[rpc] max_request_batch_size, max_body_bytes and max_response_bytes must be positive"
        );
        anyhow::ensure!(
            self.request_timeout_ms >= 1_000 && self.idle_timeout_ms >= 10_000,
            "[rpc] request_timeout_ms must be at least 1000 and idle_timeout_ms at least 10000"
        );
        Ok(caspur_node::rpc::RpcLimits {
            max_batch: self.max_request_batch_size,
            max_body_bytes: self.max_body_bytes,
            max_response_bytes: self.max_response_bytes,
            request_timeout: std::time::Duration::from_millis(self.request_timeout_ms),
        })
    }
}

/// `[grpc]`: the Cosmos SDK gRPC services (what `app.toml`'s `[grpc]` is in the SDK).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GrpcConfig {
    /// Whether to serve gRPC.
    pub enable: bool,
    /// Listen address, `host:port`.
    pub address: String,
}

impl Default for GrpcConfig {
    fn default() -> Self {
        GrpcConfig {
            enable: true,
            address: "127.0.0.1:9090".into(),
        }
    }
}

/// `[p2p]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct P2pConfig {
    /// Listen address, `tcp://host:port`.
    pub laddr: String,
    /// Address peers should dial (empty: the listen address).
    #[serde(default)]
    pub external_address: String,
    /// Peers dialed at startup, `hexpubkey@host:port`.
    #[serde(default)]
    pub bootstrappers: Vec<String>,
    /// Whether loopback and private addresses may be dialed (local networks).
    #[serde(default)]
    pub allow_private_ips: bool,
    /// Hex public keys of full nodes this node admits besides the validators.
    #[serde(default)]
    pub followers: Vec<String>,
    /// Most peers one epoch may admit (its validators, the previous epoch's, the followers);
    /// 0: twice the genesis validators plus the followers plus 16. Raise it when the
    /// validator set is expected to grow past that.
    #[serde(default)]
    pub max_peers: usize,
}

/// What a node does in the network (CometBFT's `mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Votes in consensus (its key must be in the validator set).
    #[default]
    Validator,
    /// Follows finalized blocks and serves RPC; never votes.
    Full,
}

/// `[consensus]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConsensusConfig {
    /// Target block interval in milliseconds.
    pub block_time_ms: u64,
}

/// `[mempool]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MempoolConfig {
    /// Most txs held.
    pub size: usize,
    /// Most bytes held.
    pub max_txs_bytes: usize,
}

/// `[instrumentation]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InstrumentationConfig {
    /// Whether to serve Prometheus metrics.
    pub prometheus: bool,
    /// Metrics address, `host:port`.
    pub prometheus_listen_addr: String,
}

impl NodeConfig {
    /// Defaults for a node named `moniker`.
    pub fn defaults(moniker: &str) -> Self {
        NodeConfig {
            moniker: moniker.to_string(),
            mode: Mode::Validator,
            log_level: default_log_level(),
            log_format: crate::logging::LogFormat::default(),
            rpc: RpcConfig {
                laddr: "tcp://127.0.0.1:26657".into(),
                max_open_connections: default_max_open_connections(),
                max_request_batch_size: default_max_request_batch_size(),
                max_body_bytes: default_max_body_bytes(),
                max_response_bytes: default_max_response_bytes(),
                request_timeout_ms: default_timeout_ms(),
                idle_timeout_ms: default_timeout_ms(),
            },
            grpc: GrpcConfig::default(),
            p2p: P2pConfig {
                laddr: "tcp://0.0.0.0:26656".into(),
                external_address: String::new(),
                bootstrappers: Vec::new(),
                allow_private_ips: false,
                followers: Vec::new(),
                max_peers: 0,
            },
            consensus: ConsensusConfig {
                block_time_ms: 1000,
            },
            mempool: MempoolConfig {
                size: 5000,
                max_txs_bytes: 64 << 20,
            },
            instrumentation: InstrumentationConfig {
                prometheus: true,
                prometheus_listen_addr: "127.0.0.1:26660".into(),
            },
            statesync: StateSyncConfig::default(),
            incidents: IncidentsConfig::default(),
        }
    }
}

/// `app.toml`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AppConfig {
    /// The node's fee floor for admitting txs, e.g. `0.0025ucsp`.
    #[serde(rename = "minimum-gas-prices")]
    pub minimum_gas_prices: String,
    /// The node's alert rules (`[alerts]`; every rule on by default).
    #[serde(default)]
    pub alerts: caspur_node::monitor::alerts::AlertRules,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            minimum_gas_prices: "0.0025ucsp".into(),
            alerts: Default::default(),
        }
    }
}

/// `genesis.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GenesisDoc {
    /// RFC 3339 genesis time.
    pub genesis_time: String,
    /// Chain id.
    pub chain_id: String,
    /// Height of the chain's first block, as a decimal string (CometBFT's field): "1" for a
    /// new chain, the next height for one restarted from `caspurd export`.
    pub initial_height: String,
    /// Consensus limits.
    pub consensus: ConsensusGenesis,
    /// The validator set.
    pub validators: Vec<GenesisValidator>,
    /// Module state.
    pub app_state: AppGenesis,
}

/// Highest `initial_height` a genesis may ask for: far beyond any real chain, and far enough
/// below `u64::MAX` that no height computed from it overflows.
pub const MAX_INITIAL_HEIGHT: u64 = 1 << 62;

impl GenesisDoc {
    /// The chain's first height: `initial_height` parsed; "0" means 1, as in CometBFT.
    pub fn first_height(&self) -> Result<u64> {
        let h: u64 = self.initial_height.trim().parse().map_err(|_| {
            anyhow!(
                "genesis initial_height {:?} is not a whole number",
                self.initial_height
            )
        })?;
        if h > MAX_INITIAL_HEIGHT {
            bail!("genesis initial_height {h} is above the highest allowed ({MAX_INITIAL_HEIGHT})");
        }
        Ok(h.max(1))
    }

    /// Genesis time in ms since the Unix epoch.
    pub fn time_ms(&self) -> Result<u64> {
        let t = chrono::DateTime::parse_from_rfc3339(&self.genesis_time)
            .with_context(|| format!("genesis_time {:?} is not RFC 3339", self.genesis_time))?;
        u64::try_from(t.timestamp_millis()).map_err(|_| anyhow!("genesis_time is before 1970"))
    }

    /// The hash binding the chain to this document: SHA-256 of its canonical JSON.
    #[allow(
        clippy::expect_used,
        reason = "a document of strings, numbers and lists always serializes"
    )]
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(serde_json::to_vec(self).expect("genesis serializes")).into()
    }

    /// The consensus validator set: every genesis validator with power above zero, as
    /// (public key, power). Simplex counts one vote per validator, so power decides membership
    /// and is reported, not weighted (see docs/operators.md).
    pub fn validator_set(&self) -> Result<Vec<([u8; 32], u64)>> {
        let set: Vec<([u8; 32], u64)> = self
            .validators
            .iter()
            .filter(|v| v.power > 0)
            .map(|v| {
                let bytes = hex::decode(&v.pub_key)
                    .with_context(|| format!("validator {} has a non-hex pub_key", v.name))?;
                let key = bytes
                    .try_into()
                    .map_err(|_| anyhow!("validator {} pub_key must be 32 bytes", v.name))?;
                Ok((key, v.power))
            })
            .collect::<Result<_>>()?;
        if set.is_empty() {
            bail!("genesis has no validator with power above zero");
        }
        Ok(set)
    }
}

/// `priv_validator_key.json` (CometBFT's layout; the private value is the 32-byte seed).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ValidatorKeyFile {
    /// Upper-hex address (first 20 bytes of SHA-256 of the public key).
    pub address: String,
    /// Public key.
    pub pub_key: KeyValue,
    /// Private key.
    pub priv_key: KeyValue,
}

/// A typed key value.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyValue {
    /// Key type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Base64 value.
    pub value: String,
}

impl ValidatorKeyFile {
    /// Builds the file for a secret.
    pub fn new(secret: [u8; 32]) -> Self {
        let public = caspur_consensus::launch::validator_public_key(&secret);
        let b64 = base64::engine::general_purpose::STANDARD;
        ValidatorKeyFile {
            address: hex::encode_upper(&Sha256::digest(public)[..20]),
            pub_key: KeyValue {
                kind: "tendermint/PubKeyEd25519".into(),
                value: b64.encode(public),
            },
            priv_key: KeyValue {
                kind: "caspur/PrivKeyEd25519Seed".into(),
                value: b64.encode(secret),
            },
        }
    }

    /// The secret.
    pub fn secret(&self) -> Result<[u8; 32]> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&self.priv_key.value)
            .context("priv_validator_key.json: priv_key is not base64")?;
        bytes
            .try_into()
            .map_err(|_| anyhow!("priv_validator_key.json: priv_key must be 32 bytes"))
    }

    /// The public key bytes.
    pub fn public(&self) -> Result<[u8; 32]> {
        Ok(caspur_consensus::launch::validator_public_key(
            &self.secret()?,
        ))
    }
}

/// Reads and parses a TOML or JSON file.
pub fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("invalid {}", path.display()))
}

/// Reads a JSON file.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("invalid {}", path.display()))
}

/// Writes a file, creating parents, atomically (write to a temp file, then rename).
pub fn write_file(path: &Path, contents: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, contents).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Writes a secret (a key file) readable by its owner only: created new with mode 0600, never
/// replacing an existing file.
pub fn write_secret(path: &Path, contents: &[u8]) -> Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Parses `tcp://host:port` or `host:port`.
pub fn parse_addr(s: &str) -> Result<SocketAddr> {
    let bare = s.strip_prefix("tcp://").unwrap_or(s);
    bare.parse()
        .with_context(|| format!("{s:?} is not an address like tcp://127.0.0.1:26657"))
}

/// Parses a bootstrapper `hexpubkey@host:port`.
pub fn parse_bootstrapper(s: &str) -> Result<([u8; 32], SocketAddr)> {
    let (key, addr) = s
        .split_once('@')
        .ok_or_else(|| anyhow!("bootstrapper {s:?} must be pubkey@host:port"))?;
    let key = parse_public_key(key).with_context(|| format!("bootstrapper {s:?}"))?;
    Ok((key, parse_addr(addr)?))
}

/// Parses a hex ed25519 public key.
pub fn parse_public_key(s: &str) -> Result<[u8; 32]> {
    hex::decode(s)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| anyhow!("public key {s:?} must be 64 hex characters"))
}

/// Fails unless `home` is initialised.
pub fn require_initialized(home: &Home) -> Result<()> {
    if !home.is_initialized() {
        bail!(
            "{} is not a caspur home; run `caspurd init` first (or `caspurd dev`)",
            home.0.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validator(name: &str, byte: u8, power: u64) -> GenesisValidator {
        GenesisValidator {
            name: name.into(),
            pub_key: hex::encode([byte; 32]),
            power,
            address: String::new(),
        }
    }

    fn doc(validators: Vec<GenesisValidator>) -> GenesisDoc {
        GenesisDoc {
            genesis_time: "2026-01-01T00:00:00.000Z".into(),
            chain_id: "c".into(),
            initial_height: "1".into(),
            consensus: ConsensusGenesis::default(),
            validators,
            app_state: AppGenesis::default(),
        }
    }

    #[test]
    fn validator_set_keeps_powered_validators_and_checks_keys() {
        let set = doc(vec![
            validator("a", 1, 10),
            validator("b", 2, 0),
            validator("c", 3, 5),
        ])
        .validator_set()
        .unwrap();
        assert_eq!(set, vec![([1; 32], 10), ([3; 32], 5)]);
        assert!(doc(vec![validator("b", 2, 0)]).validator_set().is_err());
        let mut bad = validator("d", 4, 1);
        bad.pub_key = "zz".into();
        let err = doc(vec![bad]).validator_set().unwrap_err().to_string();
        assert!(err.contains("non-hex"), "{err}");
    }
}
