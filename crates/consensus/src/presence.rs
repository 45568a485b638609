//! Startup presence: a validator's first proposal after it starts waits until the other
//! validators' engines are up, so the proposal is not lost.
//!
//! Why: after an upgrade halt every validator restarts within a second or so. The leader of
//! the first view proposes as soon as its own engine runs; a peer whose connection or engine
//! is not up yet never sees that proposal, and the view is abandoned only after the leader
//! timeout. The drill measured 2–4 s of the switch's downtime spent that way.
//!
//! So each node, once its consensus engine runs, says hello to the other validators on the
//! tx-gossip channel ([`crate::gossip`]): an empty batch, which nodes without this module
//! decode as "no txs" and ignore. It says hello every [`HELLO_INTERVAL`] for at most
//! [`HELLO_WINDOW`] or until it has heard from everyone, and answers a peer's hello unless it
//! answered that peer in the last [`REPLY_INTERVAL`] (so a node restarting alone hears from
//! the running ones, and two nodes never answer each other forever: an answer is answered at
//! most once). Hearing a hello proves
//! the peer's engine runs and the connection carries messages. The first proposal waits until
//! every other validator was heard from, or [`QUORUM_GRACE`] after a quorum was, or at most the
//! settle cap (half the leader timeout, so a proposal still reaches peers that started first
//! before they give up on the view).
//!
//! Liveness only: nothing here touches state, and a node never waits longer than the cap.

use commonware_cryptography::ed25519::PublicKey;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::sync::Notify;

/// How often a starting node says hello.
pub const HELLO_INTERVAL: Duration = Duration::from_millis(100);
/// How long after its engine starts a node keeps saying hello to validators it has not heard.
pub const HELLO_WINDOW: Duration = Duration::from_secs(10);
/// A node answers one peer's hellos at most once per this interval.
pub const REPLY_INTERVAL: Duration = Duration::from_millis(500);
/// Once a quorum of the set (this node included) is heard, how long the first proposal still
/// waits for the rest: a quorum is all a proposal needs, and a validator that stays down
/// (the drill's late validator) would otherwise hold every restart for the whole cap.
pub const QUORUM_GRACE: Duration = Duration::from_millis(200);

/// Who has been heard from since this node's engine started; shared by the gossip task (which
/// sends and receives hellos), the epoch orchestrator (which starts it) and the proposer
/// (which waits on it). The default is settled: nothing waits.
#[derive(Clone, Default)]
pub struct Presence(Option<Arc<Shared>>);

struct Shared {
    state: Mutex<State>,
    settled: Notify,
}

struct State {
    me: PublicKey,
    /// The other validators of the set this node's engine started in.
    others: BTreeSet<PublicKey>,
    heard: BTreeSet<PublicKey>,
    /// When this node last answered each validator's hello.
    last_answer: BTreeMap<PublicKey, SystemTime>,
    /// When this node's consensus engine started (hellos begin then).
    started: Option<SystemTime>,
    /// When a quorum of the set (this node included) was first heard.
    quorum_at: Option<SystemTime>,
    settled: bool,
    cap: Duration,
}

impl State {
    fn settle(&mut self, why: &str) -> bool {
        if self.settled {
            return false;
        }
        self.settled = true;
        let missing = self.others.len() - self.heard.len();
        tracing::info!(
            heard = self.heard.len(),
            missing,
            "first proposal may go ahead: {why}"
        );
        true
    }

    /// Whether the validators heard, with this node, make a quorum of the set (simplex counts
    /// participants, `n − ⌊(n−1)/3⌋`).
    fn quorum_heard(&self) -> bool {
        let n = self.others.len() + 1;
        self.heard.len() + 1 >= n - (n - 1) / 3
    }

    fn since_start(&self, now: SystemTime) -> Option<Duration> {
        self.started
            .map(|s| now.duration_since(s).unwrap_or_default())
    }
}

impl Presence {
    /// Presence of validator `me`, whose first proposal waits at most `cap` after its engine
    /// starts.
    pub fn new(me: PublicKey, cap: Duration) -> Self {
        Presence(Some(Arc::new(Shared {
            state: Mutex::new(State {
                me,
                others: BTreeSet::new(),
                heard: BTreeSet::new(),
                last_answer: BTreeMap::new(),
                started: None,
                quorum_at: None,
                settled: false,
                cap,
            }),
            settled: Notify::new(),
        })))
    }

    fn with<T>(&self, default: T, f: impl FnOnce(&mut State, &Notify) -> T) -> T {
        match &self.0 {
            Some(shared) => {
                let mut state = shared.state.lock().unwrap_or_else(|e| e.into_inner());
                f(&mut state, &shared.settled)
            }
            None => default,
        }
    }

    /// This node's consensus engine runs (from `now`) in a set of `validators`: hellos may
    /// start. A node outside the set never proposes; one alone has nobody to wait for.
    pub fn engine_started(&self, now: SystemTime, validators: &[PublicKey]) {
        self.with((), |state, settled| {
            if state.started.is_some() {
                return;
            }
            state.started = Some(now);
            if validators.contains(&state.me) {
                state.others = validators
                    .iter()
                    .filter(|v| **v != state.me)
                    .cloned()
                    .collect();
            }
            // Peers heard before the set was known count if they are in it.
            let others = &state.others;
            state.heard.retain(|p| others.contains(p));
            if state.quorum_heard() {
                state.quorum_at = Some(now);
            }
            if state.heard.len() == state.others.len() && state.settle("nobody else to wait for") {
                settled.notify_waiters();
            }
        });
    }

    /// A hello arrived from `peer`. Returns whether to answer it now (recorded).
    pub fn heard(&self, peer: &PublicKey, now: SystemTime) -> bool {
        self.with(false, |state, settled| {
            // Before the engine runs the set is not known yet: remember (bounded by the p2p
            // layer's peer limit), decide when it starts. Only a running engine speaks.
            if state.started.is_none() {
                state.heard.insert(peer.clone());
                return false;
            }
            if !state.others.contains(peer) {
                return false;
            }
            if state.heard.insert(peer.clone()) {
                if state.quorum_at.is_none() && state.quorum_heard() {
                    state.quorum_at = Some(now);
                }
                if state.heard.len() == state.others.len()
                    && state.settle("heard from every other validator")
                {
                    settled.notify_waiters();
                }
            }
            let due = state
                .last_answer
                .get(peer)
                .is_none_or(|at| now.duration_since(*at).unwrap_or_default() >= REPLY_INTERVAL);
            if due {
                state.last_answer.insert(peer.clone(), now);
            }
            due
        })
    }

    /// At a hello tick: the validators to say hello to now, settling once
    /// the cap has passed; `None` once there is nothing left to do (the gossip task stops
    /// ticking).
    pub fn tick(&self, now: SystemTime) -> Option<Vec<PublicKey>> {
        self.with(None, |state, settled| {
            let Some(elapsed) = state.since_start(now) else {
                return Some(Vec::new());
            };
            let quorum_waited = state
                .quorum_at
                .is_some_and(|at| now.duration_since(at).unwrap_or_default() >= QUORUM_GRACE);
            if quorum_waited && state.settle("a quorum was heard; the rest had the grace") {
                settled.notify_waiters();
            }
            if elapsed >= state.cap && state.settle("the settle cap passed") {
                settled.notify_waiters();
            }
            if elapsed >= HELLO_WINDOW || state.heard.len() == state.others.len() {
                return (!state.settled).then(Vec::new);
            }
            // Not recorded as answers: a hello to a peer not connected yet is dropped, and the
            // peer's own hello must still be answered once it gets through.
            Some(state.others.iter().cloned().collect())
        })
    }

    /// Waits until the first proposal may go ahead.
    pub async fn settled(&self) {
        let Some(shared) = &self.0 else { return };
        loop {
            let notified = shared.settled.notified();
            if shared
                .state
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .settled
            {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_cryptography::{ed25519::PrivateKey, Signer as _};

    fn key(seed: u64) -> PublicKey {
        PrivateKey::from_seed(seed).public_key()
    }

    fn at(ms: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_millis(ms)
    }

    fn is_settled(p: &Presence) -> bool {
        p.with(true, |s, _| s.settled)
    }

    fn started(at_ms: u64) -> Presence {
        let p = Presence::new(key(0), Duration::from_secs(1));
        p.engine_started(at(at_ms), &[key(0), key(1), key(2)]);
        p
    }

    #[test]
    fn settles_once_every_other_validator_is_heard() {
        let p = started(0);
        assert_eq!(p.tick(at(0)).map(|to| to.len()), Some(2));
        p.heard(&key(1), at(10));
        assert!(!is_settled(&p));
        p.heard(&key(2), at(20));
        assert!(is_settled(&p));
        assert_eq!(p.tick(at(100)), None, "no hellos once all are heard");
    }

    #[test]
    fn settles_at_the_cap_when_a_validator_stays_silent() {
        let p = started(0);
        p.heard(&key(1), at(10));
        assert_eq!(p.tick(at(0)).map(|to| to.len()), Some(2));
        p.tick(at(900));
        assert!(!is_settled(&p));
        p.tick(at(1_000));
        assert!(is_settled(&p));
        assert_eq!(
            p.tick(at(1_100)).map(|to| to.len()),
            Some(2),
            "hellos go on for the late one"
        );
        assert_eq!(p.tick(at(10_000)), None, "until the window closes");
    }

    #[test]
    fn settles_a_grace_after_a_quorum_when_one_validator_stays_down() {
        let p = Presence::new(key(0), Duration::from_secs(1));
        p.engine_started(at(0), &[key(0), key(1), key(2), key(3)]);
        p.heard(&key(1), at(10));
        p.tick(at(300));
        assert!(!is_settled(&p), "two of four are no quorum");
        p.heard(&key(2), at(320));
        p.tick(at(400));
        assert!(!is_settled(&p), "the rest get the grace");
        p.tick(at(520));
        assert!(is_settled(&p), "three of four are a quorum");
    }

    #[test]
    fn answers_each_peer_at_most_once_per_interval_and_only_once_running() {
        let p = Presence::new(key(0), Duration::from_secs(1));
        assert!(!p.heard(&key(1), at(0)), "no answer before the engine runs");
        assert!(!p.heard(&key(8), at(0)));
        p.engine_started(at(0), &[key(0), key(1), key(2)]);
        assert_eq!(
            p.with(0, |s, _| s.heard.len()),
            1,
            "heard early, kept if in the set"
        );
        assert!(p.heard(&key(1), at(100)));
        assert!(!p.heard(&key(1), at(300)));
        assert!(p.heard(&key(1), at(600)));
        assert!(
            !p.heard(&key(9), at(700)),
            "strangers are neither heard nor answered"
        );
        assert!(p.tick(at(700)).is_some_and(|to| to.contains(&key(2))));
        assert!(
            p.heard(&key(2), at(710)),
            "a periodic hello may have been dropped: answer"
        );
        assert_eq!(p.with(0, |s, _| s.heard.len()), 2);
    }

    #[test]
    fn nothing_waits_alone_outside_the_set_or_by_default() {
        let alone = Presence::new(key(0), Duration::from_secs(1));
        assert!(!is_settled(&alone));
        alone.engine_started(at(0), &[key(0)]);
        assert!(is_settled(&alone));
        let follower = Presence::new(key(0), Duration::from_secs(1));
        follower.engine_started(at(0), &[key(1), key(2)]);
        assert!(is_settled(&follower));
        assert!(is_settled(&Presence::default()));
        assert_eq!(Presence::default().tick(at(0)), None);
    }
}
