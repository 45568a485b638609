//! `upgrade` state: `[UPGRADE, 1]` params (JSON); `[UPGRADE, 2]` the scheduled plan;
//! `[UPGRADE, 3]` applied plans; `[UPGRADE, 4] ‖ plan ‖ 0 ‖ operator` readiness signals;
//! `[UPGRADE, 5]` emergency approvals; `[UPGRADE, 6]` votes to cancel the emergency plan;
//! `[UPGRADE, 7]` the app version the last upgrade handler set. Records are protobuf.

use super::params::UpgradeParams;
use crate::context::{KvRead, KvWrite};
use crate::error::ExecError;
use crate::modules::ids::UPGRADE;
use caspur_store::keys::key;
use caspur_types::proto::upgrade::v1 as pb;
use caspur_types::Address;
use prost::Message;

const PARAMS: [u8; 2] = [UPGRADE, 1];
/// Key of the scheduled plan (the consensus layer reads it at each finalized block).
pub const PLAN: [u8; 2] = [UPGRADE, 2];
const APPLIED: [u8; 2] = [UPGRADE, 3];
const SIGNAL: [u8; 2] = [UPGRADE, 4];
const APPROVALS: [u8; 2] = [UPGRADE, 5];
const CANCEL_VOTES: [u8; 2] = [UPGRADE, 6];
const APP_VERSION: [u8; 2] = [UPGRADE, 7];

/// Where a plan came from.
pub const SOURCE_GOVERNANCE: &str = "governance";
/// Scheduled by the dCERT emergency track.
pub const SOURCE_EMERGENCY: &str = "emergency";

fn corrupt(what: &str) -> ExecError {
    ExecError::logic(format!("corrupt upgrade {what}"))
}

/// The parameters.
pub async fn get_params(kv: &mut impl KvRead) -> Result<UpgradeParams, ExecError> {
    crate::params::read(kv, &PARAMS).await
}

/// Stores the parameters.
pub fn set_params(kv: &mut impl KvWrite, p: &UpgradeParams) -> Result<(), ExecError> {
    crate::params::write(kv, &PARAMS, p)
}

/// The scheduled plan, if any.
pub async fn scheduled(kv: &mut impl KvRead) -> Result<Option<pb::ScheduledPlan>, ExecError> {
    crate::records::read(kv, &PLAN, "upgrade plan").await
}

/// The scheduled plan's `Plan` part, which every scheduled record carries.
pub fn plan_of(s: &pb::ScheduledPlan) -> Result<&pb::Plan, ExecError> {
    s.plan.as_ref().ok_or_else(|| corrupt("plan"))
}

/// Stores the scheduled plan.
pub fn set_scheduled(kv: &mut impl KvWrite, s: &pb::ScheduledPlan) -> Result<(), ExecError> {
    kv.put(PLAN.to_vec(), s.encode_to_vec())
}

/// Forgets the scheduled plan, its cancel votes and approvals.
pub fn clear_scheduled(kv: &mut impl KvWrite) -> Result<(), ExecError> {
    kv.delete(PLAN.to_vec())?;
    kv.delete(CANCEL_VOTES.to_vec())?;
    kv.delete(APPROVALS.to_vec())
}

/// Plans applied or skipped, oldest first.
pub async fn applied(kv: &mut impl KvRead) -> Result<Vec<pb::AppliedPlan>, ExecError> {
    Ok(
        crate::records::read::<pb::QueryAppliedPlansResponse>(
            kv,
            &APPLIED,
            "upgrade applied plans",
        )
        .await?
        .map(|r| r.plans)
        .unwrap_or_default(),
    )
}

/// Appends to the applied plans.
pub async fn push_applied<K: KvRead + KvWrite>(
    kv: &mut K,
    p: pb::AppliedPlan,
) -> Result<(), ExecError> {
    let mut plans = applied(kv).await?;
    plans.push(p);
    kv.put(
        APPLIED.to_vec(),
        pb::QueryAppliedPlansResponse { plans }.encode_to_vec(),
    )
}

fn signal_key(plan: &str, operator: &Address) -> Vec<u8> {
    key(&SIGNAL, &[plan.as_bytes(), &[0], &operator.0])
}

/// `operator`'s readiness signal for `plan`.
pub async fn signal(
    kv: &mut impl KvRead,
    plan: &str,
    operator: &Address,
) -> Result<Option<pb::ReadinessSignal>, ExecError> {
    crate::records::read(kv, &signal_key(plan, operator), "upgrade readiness signal").await
}

/// Stores a readiness signal.
pub fn set_signal(
    kv: &mut impl KvWrite,
    plan: &str,
    operator: &Address,
    s: &pb::ReadinessSignal,
) -> Result<(), ExecError> {
    kv.put(signal_key(plan, operator), s.encode_to_vec())
}

/// Removes a readiness signal.
pub fn remove_signal(
    kv: &mut impl KvWrite,
    plan: &str,
    operator: &Address,
) -> Result<(), ExecError> {
    kv.delete(signal_key(plan, operator))
}

/// Emergency plans being approved, each with its approvers.
pub async fn approvals(kv: &mut impl KvRead) -> Result<Vec<pb::EmergencyApproval>, ExecError> {
    Ok(crate::records::read::<pb::QueryEmergencyApprovalsResponse>(
        kv,
        &APPROVALS,
        "upgrade approvals",
    )
    .await?
    .map(|r| r.approvals)
    .unwrap_or_default())
}

/// Stores the approvals.
pub fn set_approvals(
    kv: &mut impl KvWrite,
    approvals: Vec<pb::EmergencyApproval>,
) -> Result<(), ExecError> {
    if approvals.is_empty() {
        return kv.delete(APPROVALS.to_vec());
    }
    kv.put(
        APPROVALS.to_vec(),
        pb::QueryEmergencyApprovalsResponse { approvals }.encode_to_vec(),
    )
}

/// Members who voted to cancel the scheduled emergency plan.
pub async fn cancel_votes(kv: &mut impl KvRead) -> Result<Vec<String>, ExecError> {
    Ok(
        crate::records::read::<pb::EmergencyApproval>(kv, &CANCEL_VOTES, "upgrade cancel votes")
            .await?
            .map(|a| a.members)
            .unwrap_or_default(),
    )
}

/// Stores the cancel votes.
pub fn set_cancel_votes(kv: &mut impl KvWrite, members: Vec<String>) -> Result<(), ExecError> {
    kv.put(
        CANCEL_VOTES.to_vec(),
        pb::EmergencyApproval {
            plan: None,
            members,
        }
        .encode_to_vec(),
    )
}

/// The app version the last upgrade handler set (1 before any did).
pub async fn app_version(kv: &mut impl KvRead) -> Result<u64, ExecError> {
    match kv.get(&APP_VERSION).await? {
        None => Ok(1),
        Some(b) => Ok(u64::from_be_bytes(
            b.as_slice()
                .try_into()
                .map_err(|_| corrupt("app version"))?,
        )),
    }
}

/// Records the app version (an upgrade handler's migration sets it).
pub fn set_app_version(kv: &mut impl KvWrite, version: u64) -> Result<(), ExecError> {
    kv.put(APP_VERSION.to_vec(), version.to_be_bytes().to_vec())
}
