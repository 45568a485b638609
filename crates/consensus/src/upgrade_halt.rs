//! Halting for an upgrade (SPEC §4). When block H−1 is finalized and a plan this binary has
//! no handler for is due at H, the halt is raised at once — every validator finalizes H−1 at
//! about the same moment, so they all stop together. As a safety net (a node replaying or
//! catching up), executing block H — proposing, verifying or replaying it — is gated the same
//! way and never starts. The launcher then stops the node, which writes `upgrade-info.json`
//! and exits with [`caspur_types::upgrade_info::UPGRADE_EXIT_CODE`].

use caspur_app::App;
use caspur_store::StateRead;
use caspur_types::upgrade_info::UpgradeInfo;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// Raised once when a block cannot be executed without an upgrade.
#[derive(Clone, Default)]
pub struct UpgradeHalt {
    info: Arc<Mutex<Option<UpgradeInfo>>>,
    raised: Arc<Notify>,
}

impl UpgradeHalt {
    /// Raises the halt for `info` (the first plan raised wins).
    pub fn raise(&self, info: UpgradeInfo) {
        let mut slot = self.info.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(info);
            self.raised.notify_one();
        }
    }

    /// Waits until the halt is raised; returns the plan.
    pub async fn raised(&self) -> UpgradeInfo {
        loop {
            if let Some(info) = self.info.lock().unwrap_or_else(|e| e.into_inner()).clone() {
                return info;
            }
            self.raised.notified().await;
        }
    }

    /// Before executing block `height` on `state`: returns at once when the block may run,
    /// otherwise raises the halt and never returns (the node stops around it).
    pub async fn gate<S: StateRead>(&self, app: &App, state: &S, height: u64) {
        match app.pending_upgrade(state, height).await {
            Ok(None) => {}
            Ok(Some(plan)) => {
                self.halt_for(plan, height);
                std::future::pending::<()>().await;
            }
            // A storage fault: the same treatment as one during execution.
            Err(e) => panic!("storage failure reading the upgrade plan at {height}: {e}"),
        }
    }

    /// After block `height − 1` is finalized: raises the halt if a plan is due at `height`
    /// (`stored`: the scheduled-plan record in the committed state).
    pub fn after_finalized(&self, app: &App, stored: Option<&[u8]>, height: u64) {
        match app.pending_upgrade_in(stored, height) {
            Ok(None) => {}
            Ok(Some(plan)) => self.halt_for(plan, height),
            Err(e) => panic!("reading the upgrade plan after block {}: {e}", height - 1),
        }
    }

    fn halt_for(&self, plan: caspur_types::proto::upgrade::v1::Plan, height: u64) {
        tracing::error!(
            plan = %plan.name,
            height,
            "UPGRADE NEEDED: this binary has no handler for plan {:?} due at height {height}; halting before the block",
            plan.name
        );
        self.raise(UpgradeInfo {
            name: plan.name,
            height,
            info: plan.info,
            committed_height: 0,
        });
    }
}
