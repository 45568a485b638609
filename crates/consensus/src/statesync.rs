//! Peer state sync for the state database.
//!
//! Glue's own QMDB resolver only decodes fixed-size operations (codec config `()`); our state
//! holds variable-length keys and values, whose operations decode under length bounds. This
//! module is the same contract over a plain request/response protocol on one p2p channel:
//!
//! ```text
//! request:     0u8 | id u64 | sync::Request      (start < size, max_ops)
//! response:    1u8 | id u64 | sync::Response     (proof + operations, or boundary)
//! unavailable: 2u8 | id u64
//! ```
//!
//! [`StateSync`] is the [`Source`] glue's sync engine pulls from: each request goes to one
//! validator at a time, rotating on timeout, refusal or a response whose proof the engine
//! rejects (that peer is blocked). A source error would abort the sync, so the source never
//! gives up: it retries until some peer answers with a response that verifies. Once the node
//! has synced (or started normally) glue attaches its database, and it serves peers.

use crate::block::Digest;
use caspur_store::qmdb::{op_codec_config, StateDb, StateOp};
use commonware_codec::{Decode as _, Encode as _, Write};
use commonware_cryptography::ed25519::PublicKey;
use commonware_glue::stateful::db::{AttachableResolver, Shared};
use commonware_p2p::{Blocker, Receiver, Recipients, Sender};
use commonware_runtime::{Clock, Handle, Spawner};
use commonware_storage::merkle::mmr;
use commonware_storage::qmdb::sync::{self, source::Feedback, Request, Source};
use commonware_utils::channel::{mpsc, oneshot};
use futures::stream::{FuturesUnordered, StreamExt as _};
use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// The p2p channel of state sync.
pub const CH_STATE_SYNC: u64 = 5;
/// Operations per request (the sync engine's batch); peers serve at most this many.
pub const FETCH_BATCH: NonZeroU64 = commonware_utils::NZU64!(256);
/// Largest encoded response a node sends; a larger answer is cut to fewer operations.
pub const MAX_RESPONSE_BYTES: usize = 6 << 20;
/// How long one peer has to answer.
const FETCH_TIMEOUT: Duration = Duration::from_secs(3);
/// Pause before asking every peer again after all of them failed.
const ROUND_BACKOFF: Duration = Duration::from_millis(500);

const TAG_REQUEST: u8 = 0;
const TAG_RESPONSE: u8 = 1;
const TAG_UNAVAILABLE: u8 = 2;

/// The state database's merkle family.
pub type Family = mmr::Family;
/// A state-sync response: a proof and operations.
pub type Response = sync::Response<Family, StateOp, Digest>;
type Verdict = oneshot::Sender<bool>;
type Candidates = mpsc::Sender<(Response, Verdict)>;

struct Job {
    request: Request<Family>,
    reply: futures::channel::oneshot::Sender<(Response, Feedback<Response>)>,
}

/// The state sync source and server handle of one node.
pub struct StateSync<E: commonware_storage::Context> {
    jobs: futures::channel::mpsc::UnboundedSender<Job>,
    database: Arc<Mutex<Option<Shared<StateDb<E>>>>>,
}

impl<E: commonware_storage::Context> Clone for StateSync<E> {
    fn clone(&self) -> Self {
        StateSync {
            jobs: self.jobs.clone(),
            database: self.database.clone(),
        }
    }
}

/// Why a state sync request could not be issued (the node is shutting down).
#[derive(Debug, thiserror::Error)]
#[error("state sync stopped")]
pub struct StateSyncStopped;

impl<E: commonware_storage::Context> Source for StateSync<E> {
    type Family = Family;
    type Digest = Digest;
    type Op = StateOp;
    type Error = StateSyncStopped;

    async fn serve(&self, request: Request<Family>) -> sync::source::Result<Self> {
        let (reply, answer) = futures::channel::oneshot::channel();
        self.jobs
            .unbounded_send(Job { request, reply })
            .map_err(|_| StateSyncStopped)?;
        let (response, feedback) = answer.await.map_err(|_| StateSyncStopped)?;
        Ok((response, Some(feedback)))
    }
}

impl<E: commonware_storage::Context + Spawner> AttachableResolver<StateDb<E>> for StateSync<E> {
    async fn attach_database(&self, db: Shared<StateDb<E>>) {
        *self.database.lock().unwrap_or_else(|e| e.into_inner()) = Some(db);
    }
}

/// One outstanding request to one peer.
struct InFlight {
    job: u64,
    peer: PublicKey,
    deadline: SystemTime,
}

/// A request being resolved: who was asked, and how to hand over the next candidate.
struct Pending {
    request: Request<Family>,
    tried: BTreeSet<PublicKey>,
    first: Option<futures::channel::oneshot::Sender<(Response, Feedback<Response>)>>,
    candidates: Option<Candidates>,
    not_before: Option<SystemTime>,
}

/// Starts the state sync task on `net`: it fetches for the returned handle from `peers`
/// (validators) and serves requests once a database is attached.
pub fn start<E, S, R, B>(
    context: E,
    net: (S, R),
    peers: Vec<PublicKey>,
    blocker: B,
) -> (StateSync<E>, Handle<()>)
where
    E: commonware_storage::Context + Clock + Spawner,
    S: Sender<PublicKey = PublicKey>,
    R: Receiver<PublicKey = PublicKey>,
    B: Blocker<PublicKey = PublicKey>,
{
    let (jobs_tx, jobs_rx) = futures::channel::mpsc::unbounded();
    let handle = StateSync {
        jobs: jobs_tx,
        database: Arc::new(Mutex::new(None)),
    };
    let database = handle.database.clone();
    let task = context.child("state_sync").spawn(move |ctx| {
        Task {
            peers,
            blocker,
            database,
            pending: BTreeMap::new(),
            inflight: BTreeMap::new(),
            next_id: 0,
            rotation: 0,
        }
        .run(ctx, net, jobs_rx)
    });
    (handle, task)
}

struct Task<E: commonware_storage::Context, B> {
    peers: Vec<PublicKey>,
    blocker: B,
    database: Arc<Mutex<Option<Shared<StateDb<E>>>>>,
    pending: BTreeMap<u64, Pending>,
    inflight: BTreeMap<u64, InFlight>,
    next_id: u64,
    rotation: usize,
}

impl<E, B> Task<E, B>
where
    E: commonware_storage::Context + Clock + Spawner,
    B: Blocker<PublicKey = PublicKey>,
{
    async fn run<S, R>(
        mut self,
        ctx: E,
        (mut sender, mut receiver): (S, R),
        mut jobs: futures::channel::mpsc::UnboundedReceiver<Job>,
    ) where
        S: Sender<PublicKey = PublicKey>,
        R: Receiver<PublicKey = PublicKey>,
    {
        let mut verdicts = FuturesUnordered::new();
        loop {
            let tick = ctx.sleep(Duration::from_millis(100));
            futures::select! {
                job = jobs.next() => {
                    let Some(job) = job else { return };
                    let id = self.fresh_id();
                    self.pending.insert(id, Pending {
                        request: job.request,
                        tried: BTreeSet::new(),
                        first: Some(job.reply),
                        candidates: None,
                        not_before: None,
                    });
                    self.ask(id, ctx.current(), &mut sender);
                }
                message = futures::FutureExt::fuse(receiver.recv()) => {
                    let Ok((peer, payload)) = message else { return };
                    let now = ctx.current();
                    if let Some(verdict) = self.on_message(peer, payload.as_ref(), now, &mut sender).await {
                        verdicts.push(verdict);
                    }
                }
                verdict = verdicts.select_next_some() => {
                    let (job, peer, accepted): (u64, PublicKey, bool) = verdict;
                    if accepted {
                        self.pending.remove(&job);
                    } else if let Some(p) = self.pending.get_mut(&job) {
                        tracing::warn!(?peer, "state sync response failed verification; blocking peer");
                        p.tried.insert(peer.clone());
                        self.blocker.block(peer);
                        self.ask(job, ctx.current(), &mut sender);
                    }
                }
                _ = futures::FutureExt::fuse(tick) => {
                    self.expire(ctx.current(), &mut sender);
                }
            }
        }
    }

    fn fresh_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Sends job `job`'s request to the next untried peer (all tried: start over after a pause).
    fn ask<S: Sender<PublicKey = PublicKey>>(&mut self, job: u64, now: SystemTime, sender: &mut S) {
        let Some(p) = self.pending.get_mut(&job) else {
            return;
        };
        if p.not_before.is_some_and(|t| now < t) {
            return;
        }
        p.not_before = None;
        let n = self.peers.len();
        let peer = (0..n)
            .map(|i| &self.peers[(self.rotation + i) % n.max(1)])
            .find(|peer| !p.tried.contains(*peer))
            .cloned();
        let Some(peer) = peer else {
            p.tried.clear();
            p.not_before = Some(now + ROUND_BACKOFF);
            return;
        };
        p.tried.insert(peer.clone());
        let request = p.request.encode();
        self.rotation = self.rotation.wrapping_add(1);
        let id = self.fresh_id();
        sender.send(
            Recipients::One(peer.clone()),
            frame(TAG_REQUEST, id, &request),
            false,
        );
        self.inflight.insert(
            id,
            InFlight {
                job,
                peer,
                deadline: now + FETCH_TIMEOUT,
            },
        );
    }

    /// Re-asks for jobs whose peer timed out or whose pause ended; forgets abandoned jobs.
    fn expire<S: Sender<PublicKey = PublicKey>>(&mut self, now: SystemTime, sender: &mut S) {
        let expired: Vec<u64> = self
            .inflight
            .iter()
            .filter(|(_, f)| f.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            if let Some(f) = self.inflight.remove(&id) {
                self.ask(f.job, now, sender);
            }
        }
        self.pending
            .retain(|_, p| !p.first.as_ref().is_some_and(|f| f.is_canceled()));
        let waiting: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| p.not_before.is_some())
            .map(|(id, _)| *id)
            .collect();
        for job in waiting {
            self.ask(job, now, sender);
        }
    }

    /// Handles one message; returns a verdict to await when a candidate was handed over.
    async fn on_message<S: Sender<PublicKey = PublicKey>>(
        &mut self,
        peer: PublicKey,
        payload: &[u8],
        now: SystemTime,
        sender: &mut S,
    ) -> Option<futures::future::BoxFuture<'static, (u64, PublicKey, bool)>> {
        let Some((tag, id, body)) = split(payload) else {
            self.blocker.block(peer);
            return None;
        };
        match tag {
            TAG_REQUEST => {
                let Some(request) = decode_request(body) else {
                    self.blocker.block(peer);
                    return None;
                };
                let db = self
                    .database
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone();
                let answer = match db {
                    Some(db) => answer(db, request).await,
                    None => None,
                };
                let message = match answer {
                    Some(bytes) => frame(TAG_RESPONSE, id, &bytes),
                    None => frame(TAG_UNAVAILABLE, id, &[]),
                };
                sender.send(Recipients::One(peer), message, false);
                None
            }
            TAG_RESPONSE | TAG_UNAVAILABLE => {
                let flight = self.inflight.get(&id)?;
                if flight.peer != peer {
                    return None;
                }
                let flight = self.inflight.remove(&id)?;
                let job = flight.job;
                let p = self.pending.get_mut(&job)?;
                let max_ops = p.request.max_ops().get() as usize;
                let decoded = (tag == TAG_RESPONSE)
                    .then(|| decode_response(body, max_ops))
                    .flatten();
                let Some(response) = decoded else {
                    if tag == TAG_RESPONSE {
                        self.blocker.block(peer);
                    }
                    self.ask(job, now, sender);
                    return None;
                };
                let (verdict_tx, verdict_rx) = oneshot::channel();
                if let Some(first) = p.first.take() {
                    let (candidates, feedback_rx) = mpsc::channel(1);
                    p.candidates = Some(candidates);
                    let feedback = Feedback::new(verdict_tx, feedback_rx);
                    if first.send((response, feedback)).is_err() {
                        self.pending.remove(&job);
                        return None;
                    }
                } else if let Some(candidates) = &p.candidates {
                    if candidates.try_send((response, verdict_tx)).is_err() {
                        self.pending.remove(&job);
                        return None;
                    }
                }
                Some(Box::pin(async move {
                    // A dropped verdict means the engine stopped caring: treat as done.
                    let accepted = verdict_rx.await.unwrap_or(true);
                    (job, peer, accepted)
                }))
            }
            _ => {
                self.blocker.block(peer);
                None
            }
        }
    }
}

/// A peer's message split into tag, request id and body (`None`: too short to be one).
pub fn split(payload: &[u8]) -> Option<(u8, u64, &[u8])> {
    let (&tag, rest) = payload.split_first()?;
    let (id, body) = rest.split_first_chunk::<8>()?;
    Some((tag, u64::from_be_bytes(*id), body))
}

/// A peer's request body, decoded (`None`: malformed).
pub fn decode_request(body: &[u8]) -> Option<Request<Family>> {
    Request::<Family>::decode_cfg(body.to_vec(), &()).ok()
}

/// A peer's response body for a request of at most `max_ops` operations, decoded under the
/// operations' length bounds (`None`: malformed or too many operations).
pub fn decode_response(body: &[u8], max_ops: usize) -> Option<Response> {
    Response::decode_cfg(body.to_vec(), &(max_ops, op_codec_config())).ok()
}

/// A message of a request/response protocol: tag, request id (or key), body.
pub(crate) fn frame(tag: u8, id: u64, body: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(9 + body.len());
    tag.write(&mut message);
    id.write(&mut message);
    message.extend_from_slice(body);
    message
}

/// Serves a peer's request from `db`, trimmed to the size bound.
async fn answer<E: commonware_storage::Context>(
    db: Shared<StateDb<E>>,
    mut request: Request<Family>,
) -> Option<Vec<u8>> {
    {
        if let Request::Operations { max_ops, .. } = &mut request {
            *max_ops = (*max_ops).min(FETCH_BATCH);
        }
        loop {
            let (response, _) = db.serve(request).await.ok()?;
            let bytes = response.encode().to_vec();
            if bytes.len() <= MAX_RESPONSE_BYTES {
                return Some(bytes);
            }
            match &mut request {
                Request::Operations { max_ops, .. } if max_ops.get() > 1 => {
                    *max_ops = NonZeroU64::new(max_ops.get() / 2).unwrap_or(NonZeroU64::MIN);
                }
                _ => return None,
            }
        }
    }
}
