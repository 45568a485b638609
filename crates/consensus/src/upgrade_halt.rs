//! Halting for an upgrade (SPEC §4): before executing a block — proposing, verifying or
//! replaying it — the application asks the app whether a plan it has no handler for is due at
//! that height. If so, nothing of the block is executed: the halt is raised (the launcher then
//! stops the node, which writes `upgrade-info.json` and exits with
//! [`caspur_types::upgrade_info::UPGRADE_EXIT_CODE`]) and the execution never completes.

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
        let plan = match app.pending_upgrade(state, height).await {
            Ok(None) => return,
            Ok(Some(plan)) => plan,
            // A storage fault: the same treatment as one during execution.
            Err(e) => panic!("storage failure reading the upgrade plan at {height}: {e}"),
        };
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
        std::future::pending::<()>().await;
    }
}
