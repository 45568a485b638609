//! Tx gossip: a tx admitted by one node's mempool is sent to every connected peer, so a tx
//! submitted to any node (a full node included) reaches the next proposer. Peers connect in a
//! full mesh (discovery p2p), so one hop suffices: received txs are not forwarded again.
//!
//! Txs travel in batches (one p2p message per batch) to stay within the channel's rate quota
//! under load. A full outbound queue drops txs rather than slowing RPC: the submitting node
//! still proposes them itself.

use crate::block::MAX_TX_BYTES;
use crate::presence::{Presence, HELLO_INTERVAL};
use crate::seams::{PeerTxSink, TxPublisher};
use commonware_codec::{Decode as _, Encode as _};
use commonware_cryptography::ed25519;
use commonware_p2p::{Receiver, Recipients, Sender};
use commonware_runtime::{Clock, Handle, Spawner};
use futures::channel::mpsc;
use futures::StreamExt as _;
use std::sync::Arc;

/// The p2p channel of tx gossip (after the consensus channels).
pub const CH_TXS: u64 = 7;

/// Most txs in one gossip message.
pub const MAX_BATCH_TXS: usize = 256;
/// Most tx bytes in one gossip message.
pub const MAX_BATCH_BYTES: usize = 4 << 20;
/// Largest encoded gossip message (txs plus their length prefixes).
pub const MAX_MESSAGE_BYTES: usize = MAX_BATCH_BYTES + 16 * MAX_BATCH_TXS;
/// Txs waiting to be sent before new ones are dropped.
const QUEUE: usize = 4096;

/// The publishing end handed to the mempool.
#[derive(Clone)]
pub struct Gossip(mpsc::Sender<Vec<u8>>);

impl TxPublisher for Gossip {
    fn publish(&self, tx: &[u8]) {
        if self.0.clone().try_send(tx.to_vec()).is_err() {
            tracing::debug!("tx gossip queue full; tx stays local");
        }
    }
}

/// A gossip handle and the queue its task drains.
pub fn channel() -> (Gossip, mpsc::Receiver<Vec<u8>>) {
    let (tx, rx) = mpsc::channel(QUEUE);
    (Gossip(tx), rx)
}

/// Encodes one batch.
pub fn encode_batch(txs: &[Vec<u8>]) -> Vec<u8> {
    txs.to_vec().encode().to_vec()
}

/// Decodes one batch, refusing more than the bounds above.
pub fn decode_batch(bytes: &[u8]) -> Option<Vec<Vec<u8>>> {
    let cfg = ((0..=MAX_BATCH_TXS).into(), ((0..=MAX_TX_BYTES).into(), ()));
    if bytes.len() > MAX_MESSAGE_BYTES {
        return None;
    }
    Vec::<Vec<u8>>::decode_cfg(bytes.to_vec(), &cfg).ok()
}

/// A hello ([`crate::presence`]): a batch of no txs.
fn hello() -> Vec<u8> {
    encode_batch(&[])
}

/// Runs the gossip task on `net`: sends queued local txs to all peers, hands peers' txs to
/// `sink`, and says and answers the startup hellos of `presence`. Malformed messages are
/// dropped (the sender gains nothing: they never reach a block).
pub fn start<E, S, R>(
    context: E,
    net: (S, R),
    mut outbound: mpsc::Receiver<Vec<u8>>,
    sink: Arc<dyn PeerTxSink>,
    presence: Presence,
) -> Handle<()>
where
    E: Spawner + Clock,
    S: Sender<PublicKey = ed25519::PublicKey>,
    R: Receiver<PublicKey = ed25519::PublicKey>,
{
    let (mut sender, mut receiver) = net;
    context.spawn(move |context| async move {
        let mut next_hello = Some(context.current());
        loop {
            let hello_tick = match next_hello {
                Some(at) => futures::future::Either::Left(context.sleep_until(at)),
                None => futures::future::Either::Right(futures::future::pending()),
            };
            futures::select! {
                _ = futures::FutureExt::fuse(hello_tick) => {
                    let now = context.current();
                    next_hello = presence.tick(now).map(|to| {
                        if !to.is_empty() {
                            let sent = sender.send(Recipients::Some(to), hello(), true);
                            tracing::debug!(?sent, "hello said");
                        }
                        now + HELLO_INTERVAL
                    });
                }
                first = outbound.next() => {
                    let Some(first) = first else { return };
                    let mut batch = vec![first];
                    let mut bytes = batch[0].len();
                    while batch.len() < MAX_BATCH_TXS && bytes < MAX_BATCH_BYTES / 2 {
                        match outbound.try_recv() {
                            Ok(tx) => {
                                bytes += tx.len();
                                batch.push(tx);
                            }
                            _ => break,
                        }
                    }
                    sender.send(Recipients::All, encode_batch(&batch), false);
                }
                message = futures::FutureExt::fuse(receiver.recv()) => {
                    let Ok((peer, payload)) = message else { return };
                    match decode_batch(payload.as_ref()) {
                        Some(txs) if txs.is_empty() => {
                            let answer = presence.heard(&peer, context.current());
                            tracing::debug!(?peer, answer, "hello received");
                            if answer {
                                sender.send(Recipients::One(peer), hello(), true);
                            }
                        }
                        Some(txs) => {
                            for tx in txs {
                                sink.received(tx).await;
                            }
                        }
                        None => tracing::debug!(?peer, "malformed tx gossip dropped"),
                    }
                }
            }
        }
    })
}
