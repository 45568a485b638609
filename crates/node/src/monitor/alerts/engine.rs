//! Firing and resolving: each (rule, key) condition fires once when it starts to hold and
//! resolves once when it stops. The firing set is saved after every change, so a restart
//! neither fires again what was already firing nor forgets to resolve what cleared meanwhile.

use super::rules::Evaluation;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;

/// Transitions `/alerts` keeps for its "recent" list.
pub const MAX_HISTORY: usize = 100;

/// An alert that fires (or fired).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The rule's name.
    pub rule: String,
    /// What it is about (empty for chain-wide rules).
    pub key: String,
    /// Since when it fires, RFC 3339 (wall clock).
    pub since: String,
    /// The latest block height when it started.
    pub since_height: u64,
    /// The latest measured value.
    pub value: f64,
    /// In words.
    pub summary: String,
}

/// A change: an alert started or stopped firing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    /// `firing` or `resolved`.
    pub status: String,
    /// When, RFC 3339.
    pub at: String,
    /// The latest block height then.
    pub height: u64,
    /// The alert (for `resolved`: as it last fired).
    pub alert: Alert,
}

/// The firing set, its recent history and where it is saved.
#[derive(Debug, Default)]
pub struct Engine {
    firing: BTreeMap<(String, String), Alert>,
    history: VecDeque<Transition>,
    path: Option<PathBuf>,
}

impl Engine {
    /// An engine saving its firing set at `path` (loaded from it when present).
    pub fn open(path: Option<PathBuf>) -> Self {
        let firing: Vec<Alert> = path
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        Engine {
            firing: firing
                .into_iter()
                .map(|a| ((a.rule.clone(), a.key.clone()), a))
                .collect(),
            history: VecDeque::new(),
            path,
        }
    }

    /// Applies an evaluation: what holds and did not fire fires; what fires, no longer holds
    /// and whose rule was judged resolves. Returns what changed, firings first.
    pub fn step(&mut self, now_found: Evaluation, now: &str, height: u64) -> Vec<Transition> {
        let mut changes = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for c in now_found.holding {
            let id = (c.rule.to_string(), c.key.clone());
            seen.insert(id.clone());
            match self.firing.get_mut(&id) {
                Some(a) => {
                    a.value = c.value;
                    a.summary = c.summary;
                }
                None => {
                    let alert = Alert {
                        rule: id.0.clone(),
                        key: id.1.clone(),
                        since: now.to_string(),
                        since_height: height,
                        value: c.value,
                        summary: c.summary,
                    };
                    changes.push(transition("firing", now, height, alert.clone()));
                    self.firing.insert(id, alert);
                }
            }
        }
        let cleared: Vec<_> = self
            .firing
            .keys()
            .filter(|id| !seen.contains(*id) && now_found.judged.contains(id.0.as_str()))
            .cloned()
            .collect();
        for id in cleared {
            if let Some(alert) = self.firing.remove(&id) {
                changes.push(transition("resolved", now, height, alert));
            }
        }
        if !changes.is_empty() {
            self.save();
            for t in &changes {
                if self.history.len() == MAX_HISTORY {
                    self.history.pop_front();
                }
                self.history.push_back(t.clone());
            }
        }
        changes
    }

    /// The alerts firing now.
    pub fn firing(&self) -> Vec<Alert> {
        self.firing.values().cloned().collect()
    }

    /// The recent transitions, newest first.
    pub fn recent(&self) -> Vec<Transition> {
        self.history.iter().rev().cloned().collect()
    }

    fn save(&self) {
        if let Some(path) = &self.path {
            crate::files::save_json(path, &self.firing(), "the firing alerts");
        }
    }
}

fn transition(status: &str, at: &str, height: u64, alert: Alert) -> Transition {
    Transition {
        status: status.into(),
        at: at.into(),
        height,
        alert,
    }
}
