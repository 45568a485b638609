//! `start`: runs the node of an initialized home — reads its files, checks that it can listen
//! where it is told to, launches consensus with the node's services (mempool, block sink, RPC,
//! gRPC, metrics, webhooks) and records why it stopped (an upgrade halt, a block it could not
//! apply).

use crate::home::*;
use crate::node::Upgrades;
use anyhow::{bail, Context, Result};
use caspur_app::validators::Validator;
use caspur_app::{App, BlockInfo};
use caspur_consensus::launch::{self, LaunchConfig, NodeHandles, Services};
use caspur_node::index::BlockIndex;
use caspur_node::mempool::{Mempool, MempoolConfig as PoolConfig};
use caspur_node::monitor::{Monitor, MonitorConfig};
use caspur_node::rpc::{self, types::PubKey, types::ValidatorInfo, NodeFacts, RpcContext};
use caspur_node::sink::NodeSink;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Runs the node in `home` until Ctrl-C, SIGTERM or an upgrade halt (whose
/// `upgrade-info.json` it writes before returning).
pub fn start(home: &Home, upgrades: &Upgrades) -> Result<launch::Stopped> {
    require_initialized(home)?;
    let files = HomeFiles::read(home)?;
    let listen = Listen::from_config(&files.config)?;
    std::fs::create_dir_all(home.data_dir())?;
    let index = Arc::new(BlockIndex::open(&home.index()).context("cannot open the block index")?);
    let first_height = files.genesis.first_height()?;
    let next = match index.latest()? {
        Some(b) => BlockInfo {
            height: b.height + 1,
            time_ms: b.time_ms,
        },
        None => BlockInfo {
            height: first_height,
            time_ms: files.genesis.time_ms()?,
        },
    };
    let app = Arc::new(
        App::new(
            &files.genesis.chain_id,
            files.genesis.consensus.block_max_gas,
            files.genesis.app_state.clone(),
        )
        .with_upgrades(upgrades.handlers.clone(), upgrades.skip.clone())
        .with_initial_height(first_height),
    );
    let launch_config = launch_config(home, &files, &listen)?;
    let services = NodeServices::new(home, &files, listen, index.clone(), app.clone(), next)?;
    let data_dir = home.data_dir();
    launch::run(launch_config, app, move |handles| services.build(handles))
        .map_err(|e| anyhow::anyhow!(e))
        .and_then(|stopped| crate::stopped::record(&data_dir, &index, stopped))
}

/// The files of a home `start` reads.
struct HomeFiles {
    config: NodeConfig,
    app_config: AppConfig,
    genesis: GenesisDoc,
    key: ValidatorKeyFile,
}

impl HomeFiles {
    fn read(home: &Home) -> Result<Self> {
        Ok(HomeFiles {
            config: read_toml(&home.config_toml())?,
            app_config: read_toml(&home.app_toml())?,
            genesis: read_json(&home.genesis())?,
            key: read_json(&home.validator_key())?,
        })
    }
}

/// Where the node listens, each address checked free before anything starts.
struct Listen {
    p2p: SocketAddr,
    p2p_dialable: SocketAddr,
    rpc: SocketAddr,
    grpc: Option<SocketAddr>,
    metrics: Option<SocketAddr>,
}

impl Listen {
    fn from_config(config: &NodeConfig) -> Result<Self> {
        let p2p = parse_addr(&config.p2p.laddr)?;
        let p2p_dialable = if config.p2p.external_address.is_empty() {
            p2p
        } else {
            parse_addr(&config.p2p.external_address)?
        };
        let grpc = if config.grpc.enable {
            Some(parse_addr(&config.grpc.address).context("[grpc] address")?)
        } else {
            None
        };
        let instrumentation = &config.instrumentation;
        let metrics =
            if instrumentation.prometheus && !instrumentation.prometheus_listen_addr.is_empty() {
                Some(parse_addr(&instrumentation.prometheus_listen_addr)?)
            } else {
                None
            };
        let listen = Listen {
            p2p,
            p2p_dialable,
            rpc: parse_addr(&config.rpc.laddr)?,
            grpc,
            metrics,
        };
        ensure_free(
            [
                ("p2p ([p2p] laddr)", Some(listen.p2p)),
                ("RPC ([rpc] laddr)", Some(listen.rpc)),
                ("gRPC ([grpc] address)", listen.grpc),
                (
                    "Prometheus ([instrumentation] prometheus_listen_addr)",
                    listen.metrics,
                ),
            ]
            .into_iter()
            .filter_map(|(what, addr)| addr.map(|a| (what, a))),
        )?;
        Ok(listen)
    }
}

/// Checks, before anything starts, that this node can listen on each address: a busy port is
/// one line naming the address and its setting (the p2p listener would otherwise fail deep
/// inside the network stack once consensus is already running).
fn ensure_free(addrs: impl Iterator<Item = (&'static str, SocketAddr)>) -> Result<()> {
    for (what, addr) in addrs {
        if let Err(e) = std::net::TcpListener::bind(addr) {
            bail!("cannot listen for {what} on {addr}: {e}");
        }
    }
    Ok(())
}

/// Consensus's configuration from the home's files.
fn launch_config(home: &Home, files: &HomeFiles, listen: &Listen) -> Result<LaunchConfig> {
    let (config, genesis) = (&files.config, &files.genesis);
    let data_dir = home.data_dir();
    // Left in place (as cosmovisor's is): it records which upgrade the last halt was for.
    let halt_record = data_dir.join(caspur_types::upgrade_info::UPGRADE_INFO_FILE);
    let halted_for = match std::fs::read(&halt_record) {
        Ok(bytes) => Some(
            serde_json::from_slice(&bytes)
                .with_context(|| format!("{} is not an upgrade record", halt_record.display()))?,
        ),
        Err(_) => None,
    };
    let statesync = &config.statesync;
    Ok(LaunchConfig {
        bad_block_at: crate::stopped::read_bad_block(&data_dir),
        data_dir,
        chain_id: genesis.chain_id.clone(),
        validator_secret: files.key.secret()?,
        validators: genesis
            .validator_set()?
            .iter()
            .map(|(pub_key, power)| Validator {
                pub_key: *pub_key,
                power: *power,
            })
            .collect(),
        followers: config
            .p2p
            .followers
            .iter()
            .map(|f| parse_public_key(f).with_context(|| format!("[p2p] followers entry {f:?}")))
            .collect::<Result<_>>()?,
        validate: config.mode == Mode::Validator,
        p2p_listen: listen.p2p,
        p2p_dialable: listen.p2p_dialable,
        bootstrappers: config
            .p2p
            .bootstrappers
            .iter()
            .map(|b| parse_bootstrapper(b))
            .collect::<Result<Vec<_>>>()?,
        allow_private_ips: config.p2p.allow_private_ips,
        max_peers: (config.p2p.max_peers > 0).then_some(config.p2p.max_peers),
        block_time: Duration::from_millis(config.consensus.block_time_ms.max(10)),
        max_block_bytes: genesis.consensus.block_max_bytes as usize,
        genesis_time_ms: genesis.time_ms()?,
        genesis_hash: genesis.hash(),
        epoch_length: std::num::NonZeroU64::new(genesis.consensus.epoch_length)
            .context("genesis consensus.epoch_length must be at least 1")?,
        catch_up: caspur_consensus::engine::CatchUp {
            state_sync: statesync.enable,
            min_distance_views: statesync.min_distance_views,
            probe_timeout: Duration::from_millis(statesync.probe_timeout_ms),
            retained_blocks: (statesync.retain_blocks > 0)
                .then_some(statesync.retain_blocks as usize),
        },
        halted_for,
    })
}

/// What `/status` says about this node.
fn node_facts(home: &Home, files: &HomeFiles) -> Result<NodeFacts> {
    let (config, genesis) = (&files.config, &files.genesis);
    let public = files.key.public()?;
    let power = genesis
        .validator_set()?
        .iter()
        .find(|(k, _)| *k == public)
        .map_or(0, |(_, p)| *p);
    Ok(NodeFacts {
        chain_id: genesis.chain_id.clone(),
        moniker: config.moniker.clone(),
        node_id: hex::encode(&public[..20]),
        listen_addr: config.p2p.laddr.clone(),
        rpc_addr: config.rpc.laddr.clone(),
        validator: ValidatorInfo {
            address: files.key.address.clone(),
            pub_key: PubKey {
                kind: "tendermint/PubKeyEd25519".into(),
                value: base64::Engine::encode(&base64::engine::general_purpose::STANDARD, public),
            },
            voting_power: power.to_string(),
        },
        block_max_bytes: genesis.consensus.block_max_bytes,
        block_max_gas: genesis.consensus.block_max_gas,
        genesis: Arc::new(std::fs::read(home.genesis())?),
    })
}

/// Everything the node's services need, gathered before consensus starts (a bad setting fails
/// here, not once the chain runs).
struct NodeServices {
    app: Arc<App>,
    index: Arc<BlockIndex>,
    next: BlockInfo,
    facts: NodeFacts,
    pool: PoolConfig,
    listen: Listen,
    max_connections: usize,
    idle_timeout: Duration,
    /// A request's bytes must arrive and be answered within the idle and request timeouts
    /// together (20 s by default), however slowly they trickle in.
    request_deadline: Duration,
    rpc_limits: rpc::RpcLimits,
    feeds: caspur_node::feeds::FeedConfig,
    webhooks: Option<caspur_node::webhooks::WebhookSettings>,
    chain_id: String,
    state_sync: bool,
    visor_status: PathBuf,
    alert_rules: caspur_node::monitor::alerts::AlertRules,
    alerts_dir: PathBuf,
}

impl NodeServices {
    fn new(
        home: &Home,
        files: &HomeFiles,
        listen: Listen,
        index: Arc<BlockIndex>,
        app: Arc<App>,
        next: BlockInfo,
    ) -> Result<Self> {
        let config = &files.config;
        let rpc_limits = config.rpc.limits()?;
        config.incidents.validate()?;
        let idle_timeout = Duration::from_millis(config.rpc.idle_timeout_ms);
        let alert_rules = files.app_config.alerts.clone();
        alert_rules.validate().map_err(anyhow::Error::msg)?;
        Ok(NodeServices {
            facts: node_facts(home, files)?,
            pool: PoolConfig {
                max_txs: config.mempool.size,
                max_bytes: config.mempool.max_txs_bytes,
                min_gas_price: parse_gas_price(&files.app_config.minimum_gas_prices)?,
            },
            max_connections: config.rpc.max_open_connections,
            idle_timeout,
            request_deadline: idle_timeout + rpc_limits.request_timeout,
            rpc_limits,
            feeds: config.incidents.to_feeds(),
            webhooks: config.incidents.webhook_settings(
                &files.genesis.chain_id,
                &format!("http://{}", listen.rpc),
                home.data_dir().join("webhooks"),
            )?,
            chain_id: files.genesis.chain_id.clone(),
            state_sync: config.statesync.enable,
            visor_status: home.visor_status(),
            alert_rules,
            alerts_dir: home.data_dir().join("alerts"),
            listen,
            index,
            app,
            next,
        })
    }

    /// The mempool, the block sink and the servers, around consensus's handles.
    fn build(
        self,
        handles: NodeHandles,
    ) -> Services<impl std::future::Future<Output = Result<(), String>> + Send + 'static> {
        let NodeHandles {
            state: live,
            gossip,
            tip,
            validator_sets,
            runtime_metrics,
            validator_key,
        } = handles;
        let monitor = Monitor::new(MonitorConfig {
            chain_id: self.chain_id.clone(),
            validator_key,
            sets: validator_sets.clone(),
            tip: tip.clone(),
            state_sync: self.state_sync,
            runtime: Some(runtime_metrics.clone()),
            visor_status: Some(self.visor_status.clone()),
            alert_rules: self.alert_rules.clone(),
            alerts_dir: Some(self.alerts_dir.clone()),
        });
        let mempool = Arc::new(
            Mempool::new(
                self.app.clone(),
                self.pool.clone(),
                live.clone(),
                self.next.clone(),
            )
            .with_publisher(Arc::new(gossip))
            .with_monitor(monitor.clone()),
        );
        let (feed, _) = tokio::sync::broadcast::channel(64);
        let sink = Arc::new(NodeSink {
            index: self.index.clone(),
            mempool: mempool.clone(),
            feed: feed.clone(),
            monitor: Some(monitor.clone()),
        });
        let ctx = Arc::new(RpcContext {
            app: self.app.clone(),
            state: live,
            mempool: mempool.clone(),
            index: self.index.clone(),
            facts: self.facts.clone(),
            tip,
            feed,
            validator_sets,
            limits: self.rpc_limits.clone(),
            feeds: self.feeds.clone(),
            runtime_metrics: Some(runtime_metrics),
            genesis_validators: Default::default(),
        });
        Services {
            source: mempool.clone(),
            peer_txs: mempool,
            sink,
            run: self.serve(ctx, monitor),
        }
    }

    /// Runs the alerts, the webhooks and the RPC, gRPC and metrics servers until one fails.
    async fn serve(
        self,
        ctx: Arc<RpcContext<caspur_consensus::launch::LiveState>>,
        monitor: Arc<Monitor>,
    ) -> Result<(), String> {
        tokio::spawn(monitor.clone().run_alerts());
        // Each webhook destination is its own task, reading committed blocks from the index:
        // nothing here waits on a receiver.
        if let Some(settings) = self.webhooks {
            let url = self
                .listen
                .metrics
                .map_or_else(String::new, |a| format!("http://{a}/alerts"));
            let alerts =
                monitor
                    .alert_journal()
                    .map(|journal| caspur_node::webhooks::AlertSource {
                        journal,
                        news: monitor.alert_news.clone(),
                        next_seq: monitor.alert_journal_next(),
                        url,
                    });
            caspur_node::webhooks::spawn(
                settings,
                ctx.index.clone(),
                ctx.state.clone(),
                ctx.feed.clone(),
                alerts,
            );
        }
        let rpc_addr = self.listen.rpc;
        let listener = tokio::net::TcpListener::bind(rpc_addr)
            .await
            .map_err(|e| format!("cannot listen for RPC on {rpc_addr}: {e}"))?;
        tracing::info!(%rpc_addr, "RPC listening");
        let (idle, deadline) = (self.idle_timeout, self.request_deadline);
        let grpc = async {
            match self.listen.grpc {
                Some(addr) => caspur_node::grpc::serve(ctx.clone(), addr).await,
                None => std::future::pending().await,
            }
        };
        let metrics = async {
            match self.listen.metrics {
                Some(addr) => {
                    caspur_node::monitor::server::serve(monitor, addr, idle, deadline).await
                }
                None => std::future::pending().await,
            }
        };
        let rpc = async {
            let listener =
                rpc::LimitedListener::new(listener, self.max_connections, idle, deadline);
            axum::serve(listener, rpc::router(ctx.clone()))
                .await
                .map_err(|e| format!("RPC server failed: {e}"))
        };
        tokio::try_join!(rpc, grpc, metrics).map(|_| ())
    }
}

/// Parses `0.0025ucsp` (empty: no floor).
pub fn parse_gas_price(s: &str) -> Result<Option<caspur_types::Dec>> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let amount = s.strip_suffix(caspur_types::STAKE_DENOM).with_context(|| {
        format!(
            "minimum-gas-prices {s:?} must be a decimal followed by {}",
            caspur_types::STAKE_DENOM
        )
    })?;
    Ok(Some(
        amount
            .parse()
            .map_err(|e| anyhow::anyhow!("minimum-gas-prices: {e}"))?,
    ))
}
