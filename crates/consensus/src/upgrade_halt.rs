//! Halting for an upgrade (SPEC §4). When block H−1 is finalized and a plan this binary has
//! no handler for is due at H, the halt is raised at once — every validator finalizes H−1 at
//! about the same moment, so they all stop together. As a safety net (a node replaying or
//! catching up), executing block H — proposing, verifying or replaying it — is gated the same
//! way and never starts; a proposal or candidate for H that arrives before H−1 is applied
//! here is declined instead, and H−1's finalization raises the halt. The launcher then stops
//! the node (after [`crate::launch::HALT_SETTLE`]), which writes `upgrade-info.json` and exits
//! with [`caspur_types::upgrade_info::UPGRADE_EXIT_CODE`].
//!
//! The same halt stops a node that cannot apply a block it must apply (a finalized block, or
//! its own proposal): a storage fault or a failure in a block hook. It stops once, with the
//! height, the cause and the remedy ([`Halted::BadBlock`]), instead of a panic on every restart.

use caspur_app::App;
use caspur_store::StateRead;
use caspur_types::upgrade_info::UpgradeInfo;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// Why the node halted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Halted {
    /// A block needs an upgrade this binary does not carry.
    Upgrade(UpgradeInfo),
    /// Block `height` cannot be applied here; nothing of it was committed.
    BadBlock {
        /// The block's height.
        height: u64,
        /// What failed.
        error: String,
    },
}

/// Raised once when a block cannot be executed: without an upgrade, or at all.
#[derive(Clone, Default)]
pub struct UpgradeHalt {
    info: Arc<Mutex<Option<Halted>>>,
    raised: Arc<Notify>,
}

impl UpgradeHalt {
    /// Raises the halt (the first reason raised wins).
    pub fn raise(&self, reason: Halted) {
        let mut slot = self.info.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(reason);
            self.raised.notify_one();
        }
    }

    /// Waits until the halt is raised; returns why.
    pub async fn raised(&self) -> Halted {
        loop {
            if let Some(reason) = self.info.lock().unwrap_or_else(|e| e.into_inner()).clone() {
                return reason;
            }
            self.raised.notified().await;
        }
    }

    /// Block `height` cannot be applied (`error`): logs it and raises the halt. The caller then
    /// waits forever; the launcher stops the node around it.
    pub fn bad_block(&self, height: u64, error: impl std::fmt::Display) {
        let error = error.to_string();
        tracing::error!(height, %error, "BLOCK {height} CANNOT BE APPLIED; halting");
        self.raise(Halted::BadBlock { height, error });
    }

    /// Before executing block `height` on `state`: returns `true` when the block may run.
    /// When a plan this binary lacks is due at `height` and the parent is finalized here
    /// (`parent_finalized`), raises the halt and never returns (the node stops around it).
    /// When the parent is not finalized here yet, returns `false` and the caller declines the
    /// block: the parent's finalization raises the halt ([`Self::after_finalized`]), so the
    /// node stops with the parent committed, not a block behind its peers (a leader used to
    /// halt in its proposal before applying the parent, and restart needing it).
    pub async fn gate<S: StateRead>(
        &self,
        app: &App,
        state: &S,
        height: u64,
        parent_finalized: bool,
    ) -> bool {
        match app.pending_upgrade(state, height).await {
            Ok(None) => return true,
            Ok(Some(plan)) if parent_finalized => self.halt_for(plan, height),
            Ok(Some(plan)) => {
                tracing::info!(
                    plan = %plan.name,
                    height,
                    "upgrade due at the next block; halting once its parent is finalized here"
                );
                return false;
            }
            // A storage fault: the same treatment as one during execution.
            Err(e) => self.bad_block(height, format!("reading the upgrade plan: {e}")),
        }
        std::future::pending::<bool>().await
    }

    /// After block `height − 1` is finalized: raises the halt if a plan is due at `height`
    /// (`stored`: the scheduled-plan record in the committed state).
    pub fn after_finalized(&self, app: &App, stored: Option<&[u8]>, height: u64) {
        match app.pending_upgrade_in(stored, height) {
            Ok(None) => {}
            Ok(Some(plan)) => self.halt_for(plan, height),
            Err(e) => self.bad_block(height, format!("reading the upgrade plan: {e}")),
        }
    }

    fn halt_for(&self, plan: caspur_types::proto::upgrade::v1::Plan, height: u64) {
        tracing::error!(
            plan = %plan.name,
            height,
            "UPGRADE NEEDED: this binary has no handler for plan {:?} due at height {height}; halting before the block",
            plan.name
        );
        self.raise(Halted::Upgrade(UpgradeInfo {
            name: plan.name,
            height,
            info: plan.info,
            committed_height: 0,
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use caspur_app::AppGenesis;
    use caspur_store::{MemState, Overlay};
    use caspur_types::proto::upgrade::v1::{Plan, ScheduledPlan};
    use futures::FutureExt as _;

    /// A state with plan `v9` (no handler in the test app) scheduled at `height`.
    fn planned_at(height: i64) -> MemState {
        let base = MemState::default();
        let mut o = Overlay::new(&base);
        let plan = ScheduledPlan {
            plan: Some(Plan {
                name: "v9".into(),
                height,
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut kv = caspur_app::context::Direct(&mut o);
        caspur_app::modules::upgrade::state::set_scheduled(&mut kv, &plan)
            .expect("in-memory write");
        o.commit_tx();
        let writes = o.into_writes();
        let mut state = MemState::default();
        state.apply(&writes);
        state
    }

    #[test]
    fn a_due_upgrade_is_declined_until_its_parent_is_finalized_here_then_halts() {
        let app = App::new("caspur-test-1", None, AppGenesis::default());
        let state = planned_at(10);
        let halt = UpgradeHalt::default();
        assert_eq!(halt.gate(&app, &state, 9, false).now_or_never(), Some(true));
        // Due, but the parent is not applied here yet: the block is declined, no halt.
        assert_eq!(
            halt.gate(&app, &state, 10, false).now_or_never(),
            Some(false)
        );
        assert_eq!(halt.raised().now_or_never(), None);
        // Due with the parent applied: the halt, and the gate never opens.
        assert_eq!(halt.gate(&app, &state, 10, true).now_or_never(), None);
        match halt.raised().now_or_never() {
            Some(Halted::Upgrade(info)) => {
                assert_eq!((info.name.as_str(), info.height), ("v9", 10))
            }
            other => panic!("expected the upgrade halt, got {other:?}"),
        }
    }
}
