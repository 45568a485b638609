//! Production networking: Commonware authenticated discovery p2p under the tokio runtime.
//! Only keys in the tracked validator set (plus tracked followers) may connect; every
//! connection is encrypted (SAKE handshake, ChaCha20-Poly1305).

use crate::engine::{self, Channel, CHANNELS};
use commonware_cryptography::{ed25519, ChaCha20Poly1305};
use commonware_p2p::authenticated::discovery::{self, Network, Oracle, Receiver, Sender};
use commonware_p2p::{Ingress, Manager as _, TrackedPeers};
use commonware_runtime::{tokio, Handle, Quota, Supervisor as _};
use commonware_stream::{cups, cups::Cups, sake, sake::Sake};
use commonware_utils::{ordered::Set, NZUsize, NZU32};
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::time::Duration;

/// On a local network (private addresses allowed), how often the dialer tries one peer.
/// Commonware's local default is 500 ms: after an upgrade every validator restarts at once and
/// a node reached its third peer only 1–1.5 s later.
pub const LOCAL_DIAL_FREQUENCY: Duration = Duration::from_millis(100);

/// On a local network, the least time between two connections to one peer. Commonware's local
/// default is 1 s: when two restarting nodes dial each other at the same instant, one
/// connection is dropped and neither may reconnect for the cooldown, so the first proposal
/// after an upgrade missed a validator (measured in the drill: 2–4 s of extra downtime).
pub const LOCAL_PEER_CONNECTION_COOLDOWN: Duration = Duration::from_millis(200);

/// Where this node listens and whom it dials first.
#[derive(Clone, Debug)]
pub struct P2pSettings {
    /// Address to bind.
    pub listen: SocketAddr,
    /// Address peers should dial.
    pub dialable: SocketAddr,
    /// Peers dialed at startup.
    pub bootstrappers: Vec<(ed25519::PublicKey, SocketAddr)>,
    /// Whether private/loopback addresses are allowed (local networks and tests).
    pub allow_private_ips: bool,
    /// Most peers one tracked set may hold (`None`: twice the validators plus followers plus
    /// 16). p2p sizes its per-channel queues by it, so it is not simply "large".
    pub max_peers: Option<usize>,
}

/// Peer tracking as validator sets change: each epoch's set is tracked as primary peers, with
/// the followers and the previous epoch's set (members that just left, now following) as
/// secondary peers. Commonware keeps the last few tracked sets, so neighbours of a hand-over
/// stay connected across it.
pub fn set_tracker(
    oracle: Oracle<ed25519::PublicKey>,
    genesis: Set<ed25519::PublicKey>,
    followers: Set<ed25519::PublicKey>,
    max_peers: usize,
) -> crate::epochs::SetObserver {
    // `start` tracked epoch 0; tracking an epoch twice only earns a warning.
    let state = std::sync::Mutex::new((oracle, genesis, 0u64));
    std::sync::Arc::new(move |epoch, validators| {
        let Ok(keys) = crate::validator_sets::key_set(validators) else {
            return;
        };
        let mut guard = state.lock().unwrap_or_else(|e| e.into_inner());
        let (oracle, previous, tracked) = &mut *guard;
        if epoch.get() <= *tracked {
            return;
        }
        *tracked = epoch.get();
        if keys.len() > max_peers {
            tracing::error!(
                epoch = epoch.get(),
                validators = keys.len(),
                max_peers,
                "the validator set outgrew [p2p] max_peers; raise it and restart"
            );
            return;
        }
        // Followers first; the previous set's leavers only as far as room remains.
        let mut secondary: Vec<ed25519::PublicKey> = Vec::new();
        for k in followers.iter().chain(previous.iter()) {
            if keys.position(k).is_none() && !secondary.contains(k) {
                secondary.push(k.clone());
            }
        }
        secondary.truncate(max_peers - keys.len());
        let secondary = Set::from_iter_dedup(secondary);
        oracle.track(epoch.get(), TrackedPeers::new(keys.clone(), secondary));
        *previous = keys;
    })
}

/// Channels of the authenticated network.
pub type P2pChannel =
    Channel<Sender<ed25519::PublicKey, tokio::Context>, Receiver<ed25519::PublicKey>>;

/// Starts the p2p network for `signer`, tracking `validators` (primary) and `followers`
/// (secondary: full nodes that receive blocks but never vote) as the epoch-0 peer set.
/// Returns the oracle, the consensus channels, the gossip channel, the per-set peer bound and
/// the network task.
pub fn start(
    context: &tokio::Context,
    namespace: &[u8],
    signer: ed25519::PrivateKey,
    validators: Set<ed25519::PublicKey>,
    followers: Set<ed25519::PublicKey>,
    settings: P2pSettings,
) -> (
    Oracle<ed25519::PublicKey>,
    Vec<P2pChannel>,
    P2pChannel,
    usize,
    Handle<()>,
) {
    let handshake = Cups::<_, ChaCha20Poly1305>::new(
        Sake {
            signer,
            synchrony_bound: Duration::from_secs(5),
            max_handshake_age: Duration::from_secs(10),
            version: sake::Version::V1,
        },
        cups::Version::V1,
    );
    let bootstrappers = settings
        .bootstrappers
        .into_iter()
        .map(|(pk, addr)| (pk, Ingress::from(addr)))
        .collect();
    // A tracked set holds one epoch's validators plus the previous epoch's leavers and the
    // followers.
    let max_peers = settings
        .max_peers
        .unwrap_or(2 * validators.len() + followers.len() + 16)
        .max(validators.len() + followers.len())
        .max(1);
    let max_message = engine::max_message_size(caspur_app::validators::MAX_VALIDATORS as u32);
    // `local` allows private addresses and dials eagerly; `recommended` is for public networks.
    let make = if settings.allow_private_ips {
        discovery::Config::local
    } else {
        discovery::Config::recommended
    };
    let mut cfg = make(
        handshake,
        namespace,
        settings.listen,
        settings.dialable,
        bootstrappers,
        NonZeroUsize::new(max_peers).unwrap_or(NonZeroUsize::MIN),
        max_message,
        NZUsize!(1024),
    );
    cfg.allow_private_ips = settings.allow_private_ips;
    if settings.allow_private_ips {
        cfg.dial_frequency = LOCAL_DIAL_FREQUENCY;
        cfg.peer_connection_cooldown = LOCAL_PEER_CONNECTION_COOLDOWN;
    }
    let (mut network, mut oracle) = Network::new(context.child("p2p"), cfg);
    oracle.track(0, TrackedPeers::new(validators, followers));
    let channels = CHANNELS
        .iter()
        .map(|ch| network.register(*ch, Quota::per_second(NZU32!(1_024))))
        .collect();
    let gossip = network.register(crate::gossip::CH_TXS, Quota::per_second(NZU32!(1_024)));
    let handle = network.start();
    (oracle, channels, gossip, max_peers, handle)
}
