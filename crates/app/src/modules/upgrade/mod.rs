//! `upgrade`: software-upgrade plans (SPEC §4). A plan is scheduled by governance
//! (`MsgSoftwareUpgrade`) or by the dCERT emergency track (`MsgApproveEmergencyUpgrade`, a
//! quorum of active members, never earlier than `min_notice` blocks ahead); validators signal
//! readiness (`MsgSignalReady`) and an unready plan is postponed, at most `max_postponements`
//! times, then cancelled. At the plan height a binary carrying the plan's handler runs it
//! ([`apply_due`]: migrations, then `routes_to_reopen`), a binary without it halts before the
//! block (`App::pending_upgrade`). See `docs/upgrades.md`.

pub mod handlers;
pub mod msgs;
pub mod params;
pub mod query;
pub mod readiness;
pub mod state;
pub mod submission;

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::circuit;
use caspur_store::StateRead;
use caspur_types::proto::upgrade::v1 as pb;
use caspur_types::upgrade_info::{check_name, PlanInfo};
use caspur_types::Event;
use serde::{Deserialize, Serialize};

pub use handlers::{Migrating, MigrationState, UpgradeHandler, UpgradeHandlers};
pub use params::UpgradeParams;

/// Most routes a plan may reopen.
pub const MAX_ROUTES: usize = 64;
/// Longest plan info.
pub const MAX_INFO: usize = 8192;

/// Genesis state of `upgrade`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpgradeGenesis {
    /// Parameters.
    #[serde(default)]
    pub params: UpgradeParams,
    /// An exported chain's upgrade state (plan, applied plans, signals) as hex pairs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exported_state: Vec<(String, String)>,
}

/// Writes `upgrade`'s genesis.
pub async fn init_genesis<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    g: &UpgradeGenesis,
) -> Result<(), ExecError> {
    g.params.validate()?;
    state::set_params(ctx, &g.params)?;
    crate::genesis::write_exported(ctx, crate::modules::ids::UPGRADE, &g.exported_state).await
}

/// Reads `upgrade` back into genesis form.
pub async fn export_genesis<S: caspur_store::StateScan>(
    s: &S,
) -> Result<UpgradeGenesis, ExecError> {
    Ok(UpgradeGenesis {
        params: state::get_params(&mut crate::context::Unmetered(s)).await?,
        exported_state: crate::genesis::read_exported(s, crate::modules::ids::UPGRADE, &[1])
            .await?,
    })
}

/// Stateless checks of a plan: name, positive height, parseable info, valid routes.
pub fn check_plan(plan: Option<&pb::Plan>) -> Result<&pb::Plan, ExecError> {
    let plan = plan.ok_or_else(|| ExecError::invalid_request("a plan is required"))?;
    check_name(&plan.name).map_err(ExecError::invalid_request)?;
    if plan.height <= 0 {
        return Err(ExecError::invalid_request("plan height must be positive"));
    }
    if plan.info.len() > MAX_INFO {
        return Err(ExecError::invalid_request(format!(
            "plan info is longer than {MAX_INFO} bytes"
        )));
    }
    PlanInfo::parse(&plan.info).map_err(ExecError::invalid_request)?;
    if plan.routes_to_reopen.len() > MAX_ROUTES {
        return Err(ExecError::invalid_request(format!(
            "a plan reopens at most {MAX_ROUTES} routes"
        )));
    }
    for route in &plan.routes_to_reopen {
        circuit::validate_route(route)?;
    }
    Ok(plan)
}

/// Schedules `plan` (from `source`) at `height`, replacing approvals and cancel votes; fails
/// when a plan of that name was already applied.
pub async fn schedule<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    plan: &pb::Plan,
    height: u64,
    source: &str,
) -> Result<(), ExecError> {
    if height <= ctx.block.height {
        return Err(ExecError::invalid_request(format!(
            "plan height {height} must be above the current height {}",
            ctx.block.height
        )));
    }
    if state::applied(ctx)
        .await?
        .iter()
        .any(|a| a.name == plan.name)
    {
        return Err(ExecError::invalid_request(format!(
            "a plan named {:?} already ran; pick a new name",
            plan.name
        )));
    }
    if let Some(old) = state::scheduled(ctx).await? {
        let old = state::plan_of(&old)?.name.clone();
        readiness::forget_signals(ctx, &old).await?;
        let reason = format!("replaced by plan {:?}", plan.name);
        crate::modules::incident::on_plan_cancelled(ctx, &old, &reason).await?;
        ctx.emit(
            Event::new("upgrade_cancelled")
                .attr("name", old)
                .attr("reason", reason),
        );
    }
    state::clear_scheduled(ctx)?;
    let mut plan = plan.clone();
    plan.height = height as i64;
    state::set_scheduled(
        ctx,
        &pb::ScheduledPlan {
            plan: Some(plan.clone()),
            source: source.into(),
            scheduled_at: ctx.block.height as i64,
            postponements: 0,
            original_height: height as i64,
            judged_height: 0,
        },
    )?;
    ctx.emit(
        Event::new("upgrade_scheduled")
            .attr("name", plan.name.clone())
            .attr("height", height.to_string())
            .attr("source", source),
    );
    Ok(())
}

/// Cancels the scheduled plan (if any) for `reason`; returns whether there was one.
pub async fn cancel<B: StateRead>(ctx: &mut Ctx<'_, B>, reason: &str) -> Result<bool, ExecError> {
    let Some(s) = state::scheduled(ctx).await? else {
        return Ok(false);
    };
    let name = state::plan_of(&s)?.name.clone();
    state::clear_scheduled(ctx)?;
    readiness::forget_signals(ctx, &name).await?;
    crate::modules::incident::on_plan_cancelled(ctx, &name, reason).await?;
    ctx.emit(
        Event::new("upgrade_cancelled")
            .attr("name", name)
            .attr("reason", reason),
    );
    Ok(true)
}

/// What happens to a plan due at a block.
pub enum Due {
    /// No plan is due.
    Nothing,
    /// The operator skips this height (`--unsafe-skip-upgrade`).
    Skip(pb::Plan),
    /// This binary carries the handler.
    Run(pb::Plan, UpgradeHandler),
    /// This binary cannot execute the block: it must halt.
    Halt(pb::Plan),
}

/// The scheduled plan's fate at `height` for a binary with `handlers` skipping `skip`.
pub async fn due<K: crate::context::KvRead>(
    kv: &mut K,
    height: u64,
    handlers: &UpgradeHandlers,
    skip: &std::collections::BTreeSet<u64>,
) -> Result<Due, ExecError> {
    due_of(state::scheduled(kv).await?, height, handlers, skip)
}

/// [`due`] for an already read scheduled plan.
pub fn due_of(
    scheduled: Option<pb::ScheduledPlan>,
    height: u64,
    handlers: &UpgradeHandlers,
    skip: &std::collections::BTreeSet<u64>,
) -> Result<Due, ExecError> {
    let Some(s) = scheduled else {
        return Ok(Due::Nothing);
    };
    let plan = state::plan_of(&s)?.clone();
    if plan.height as u64 > height {
        return Ok(Due::Nothing);
    }
    if skip.contains(&height) {
        return Ok(Due::Skip(plan));
    }
    Ok(match handlers.get(&plan.name) {
        Some(h) => Due::Run(plan, h.clone()),
        None => Due::Halt(plan),
    })
}

/// Start of block: runs (or skips) the plan due at this height. A due plan this binary has
/// no handler for is an error — the node should have halted before executing the block.
pub async fn apply_due<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    handlers: &UpgradeHandlers,
    skip: &std::collections::BTreeSet<u64>,
) -> Result<(), ExecError> {
    let height = ctx.block.height;
    let (plan, outcome) = match due(ctx, height, handlers, skip).await? {
        Due::Nothing => return Ok(()),
        Due::Halt(plan) => {
            return Err(ExecError::logic(format!(
                "UPGRADE {:?} NEEDED at height {height}: this binary has no handler for it",
                plan.name
            )))
        }
        Due::Skip(plan) => (plan, "skipped"),
        Due::Run(plan, handler) => {
            handler(ctx as &mut dyn MigrationState).await.map_err(|e| {
                e.map_tx(|e| {
                    caspur_types::TxError::logic(format!(
                        "upgrade handler {:?} failed: {}",
                        plan.name, e.message
                    ))
                })
            })?;
            // Only routes still broken reopen: one reopened by hand meanwhile is not an error.
            let mut broken = Vec::new();
            for route in &plan.routes_to_reopen {
                if circuit::state::get_broken(ctx, route).await?.is_some() {
                    broken.push(route.clone());
                }
            }
            circuit::reopen_routes(ctx, &broken).await?;
            (plan, "applied")
        }
    };
    state::clear_scheduled(ctx)?;
    readiness::forget_signals(ctx, &plan.name).await?;
    crate::modules::incident::on_upgrade_applied(ctx, &plan.name, outcome == "skipped").await?;
    state::push_applied(
        ctx,
        pb::AppliedPlan {
            name: plan.name.clone(),
            height: height as i64,
            outcome: outcome.into(),
        },
    )
    .await?;
    ctx.emit(
        Event::new(format!("upgrade_{outcome}"))
            .attr("name", plan.name)
            .attr("height", height.to_string()),
    );
    Ok(())
}

/// End of block: judges readiness when the plan is `readiness_window` blocks away.
pub async fn end_block<B: StateRead>(ctx: &mut Ctx<'_, B>) -> Result<(), ExecError> {
    readiness::judge(ctx).await
}

/// How many of `voters` are active dCERT members now, and whether they reach
/// `emergency_quorum` of the active members (see [`crate::modules::dcert::members::quorum`]).
pub async fn emergency_quorum<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    voters: &[String],
) -> Result<(usize, bool), ExecError> {
    let quorum = state::get_params(ctx).await?.quorum()?;
    crate::modules::dcert::members::quorum(ctx, voters, quorum).await
}
