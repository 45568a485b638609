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
use std::time::Duration;

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
}

/// Channels of the authenticated network.
pub type P2pChannel =
    Channel<Sender<ed25519::PublicKey, tokio::Context>, Receiver<ed25519::PublicKey>>;

/// Starts the p2p network for `signer`, tracking `validators` (primary) and `followers`
/// (secondary: full nodes that receive blocks but never vote) as the epoch-0 peer set.
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
    let max_peers = NZUsize!(validators.len().max(1) + followers.len() + 8);
    let max_message = engine::max_message_size(validators.len() as u32);
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
        max_peers,
        max_message,
        NZUsize!(1024),
    );
    cfg.allow_private_ips = settings.allow_private_ips;
    let (mut network, mut oracle) = Network::new(context.child("p2p"), cfg);
    oracle.track(0, TrackedPeers::new(validators, followers));
    let channels = CHANNELS
        .iter()
        .map(|ch| network.register(*ch, Quota::per_second(NZU32!(1_024))))
        .collect();
    let gossip = network.register(crate::gossip::CH_TXS, Quota::per_second(NZU32!(1_024)));
    let handle = network.start();
    (oracle, channels, gossip, handle)
}
