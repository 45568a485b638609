//! `upgrade` queries (`caspur.upgrade.v1.Query`): the scheduled plan, applied plans with
//! heights, readiness of the scheduled plan, params, emergency approvals, the app version.

use super::{readiness, state};
use crate::context::Unmetered;
use crate::error::ExecError;
use caspur_store::StateScan;
use caspur_types::proto::upgrade::v1 as pb;
use prost::Message;

/// The service's path prefix.
pub const PREFIX: &str = "/caspur.upgrade.v1.Query/";

/// Answers `path` if it is an upgrade query (`None` otherwise).
pub async fn route<S: StateScan>(
    s: &S,
    path: &str,
    _data: &[u8],
) -> Option<Result<Vec<u8>, ExecError>> {
    let method = path.strip_prefix(PREFIX)?;
    answer(s, method).await.transpose()
}

async fn answer<S: StateScan>(s: &S, method: &str) -> Result<Option<Vec<u8>>, ExecError> {
    let mut kv = Unmetered(s);
    Ok(Some(match method {
        "CurrentPlan" => pb::QueryCurrentPlanResponse {
            plan: state::scheduled(&mut kv).await?,
        }
        .encode_to_vec(),
        "AppliedPlans" => pb::QueryAppliedPlansResponse {
            plans: state::applied(&mut kv).await?,
        }
        .encode_to_vec(),
        "Readiness" => {
            let params = state::get_params(&mut kv).await?;
            let Some(scheduled) = state::scheduled(&mut kv).await? else {
                return Ok(Some(
                    pb::QueryReadinessResponse {
                        threshold: params.readiness_threshold,
                        ..Default::default()
                    }
                    .encode_to_vec(),
                ));
            };
            let plan = state::plan_of(&scheduled)?;
            let share = readiness::share(&mut kv, &plan.name).await?;
            pb::QueryReadinessResponse {
                plan: plan.name.clone(),
                ready_power: share.ready.to_string(),
                total_power: share.total.to_string(),
                ready_share: share.fraction().to_string(),
                judged_at: readiness::judged_from(&scheduled, &params) as i64,
                threshold: params.readiness_threshold,
                signals: share.signals,
            }
            .encode_to_vec()
        }
        "Params" => pb::QueryParamsResponse {
            params: Some(state::get_params(&mut kv).await?.to_proto()),
        }
        .encode_to_vec(),
        "EmergencyApprovals" => pb::QueryEmergencyApprovalsResponse {
            approvals: state::approvals(&mut kv).await?,
        }
        .encode_to_vec(),
        "AppVersion" => pb::QueryAppVersionResponse {
            app_version: state::app_version(&mut kv).await?,
        }
        .encode_to_vec(),
        _ => return Ok(None),
    }))
}

/// The scheduled plan as monitoring shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanHealth {
    /// The plan's name.
    pub name: String,
    /// Its height.
    pub height: u64,
    /// `governance` or `emergency`.
    pub source: String,
    /// Bonded power of validators that signalled readiness.
    pub ready_power: u64,
    /// Bonded power in total.
    pub total_power: u64,
    /// The share readiness must reach (0: not checked).
    pub threshold: caspur_types::Dec,
    /// Blocks before the height at which readiness is judged.
    pub readiness_window: u64,
}

/// The scheduled plan with its readiness, if a plan is scheduled: one read per bonded
/// validator.
pub async fn plan_health<S: StateScan>(s: &S) -> Result<Option<PlanHealth>, ExecError> {
    let mut kv = Unmetered(s);
    let Some(scheduled) = state::scheduled(&mut kv).await? else {
        return Ok(None);
    };
    let plan = state::plan_of(&scheduled)?;
    let params = state::get_params(&mut kv).await?;
    let share = readiness::share(&mut kv, &plan.name).await?;
    Ok(Some(PlanHealth {
        name: plan.name.clone(),
        height: plan.height.max(0) as u64,
        source: scheduled.source.clone(),
        ready_power: share.ready,
        total_power: share.total,
        threshold: params.threshold()?,
        readiness_window: params.readiness_window,
    }))
}
