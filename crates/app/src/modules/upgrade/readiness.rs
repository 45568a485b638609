//! Readiness (SPEC §4): validator operators attest `MsgSignalReady{plan, binary_sha256}`; the
//! ready share is the bonded voting power of validators whose signal names one of the plan's
//! checksums. `readiness_window` blocks before the height, a share below
//! `readiness_threshold` postpones the plan by the window — at most `max_postponements`
//! times, then the plan is cancelled. Each step is an event.

use super::state;
use crate::context::{Ctx, KvRead, KvWrite};
use crate::error::ExecError;
use crate::modules::staking::state as staking;
use caspur_store::StateRead;
use caspur_types::proto::upgrade::v1 as pb;
use caspur_types::{Dec, Event};

/// The ready share of a plan.
pub struct Share {
    /// Bonded power of validators that signalled.
    pub ready: u64,
    /// Bonded power in total.
    pub total: u64,
    /// The signals of bonded validators, in bonded-set order.
    pub signals: Vec<pb::ReadinessSignal>,
}

impl Share {
    /// `ready / total` (0 when nothing is bonded).
    pub fn fraction(&self) -> Dec {
        Dec::ratio(self.ready as u128, self.total.max(1) as u128).unwrap_or(Dec::ZERO)
    }

    /// Whether the share reaches `threshold` (exactly, without rounding).
    pub fn reaches(&self, threshold: Dec) -> bool {
        (self.ready as u128).saturating_mul(Dec::ONE.atomics())
            >= threshold.atomics().saturating_mul(self.total as u128)
    }
}

/// The ready share of the plan named `plan`: one read per bonded validator.
pub async fn share(kv: &mut impl KvRead, plan: &str) -> Result<Share, ExecError> {
    let mut out = Share {
        ready: 0,
        total: 0,
        signals: Vec::new(),
    };
    for (operator, power) in staking::bonded_set(kv).await? {
        out.total = out.total.saturating_add(power);
        if let Some(s) = state::signal(kv, plan, &operator).await? {
            out.ready = out.ready.saturating_add(power);
            out.signals.push(s);
        }
    }
    Ok(out)
}

/// Drops the signals bonded validators gave for `plan` (when it ends).
pub async fn forget_signals<K: KvRead + KvWrite>(kv: &mut K, plan: &str) -> Result<(), ExecError> {
    for (operator, _) in staking::bonded_set(kv).await? {
        state::remove_signal(kv, plan, &operator)?;
    }
    Ok(())
}

/// The first height at which readiness is judged for the scheduled plan: `readiness_window`
/// blocks before its height — or, for a plan scheduled closer than that, the block before its
/// height, so that validators have every block until then to signal (judging it in the block
/// that scheduled it would postpone it before anyone could).
pub fn judged_from(s: &pb::ScheduledPlan, params: &super::params::UpgradeParams) -> u64 {
    let height = s.plan.as_ref().map_or(0, |p| p.height.max(0) as u64);
    let scheduled_at = s.scheduled_at.max(0) as u64;
    if height.saturating_sub(scheduled_at) <= params.readiness_window {
        height.saturating_sub(1)
    } else {
        height.saturating_sub(params.readiness_window)
    }
}

/// End of block: once the plan reaches its judging height ([`judged_from`]) and its current
/// height has not been judged, postpones or cancels it if too little power is ready.
pub async fn judge<B: StateRead>(ctx: &mut Ctx<'_, B>) -> Result<(), ExecError> {
    let Some(mut s) = state::scheduled(ctx).await? else {
        return Ok(());
    };
    let params = state::get_params(ctx).await?;
    let plan = state::plan_of(&s)?.clone();
    let height = plan.height as u64;
    let now = ctx.block.height;
    if s.judged_height == plan.height || now >= height || now < judged_from(&s, &params) {
        return Ok(());
    }
    let threshold = params.threshold()?;
    let share = share(ctx, &plan.name).await?;
    let ready = share.fraction().to_string();
    if share.reaches(threshold) {
        s.judged_height = plan.height;
        state::set_scheduled(ctx, &s)?;
        ctx.emit(
            Event::new("upgrade_ready")
                .attr("name", plan.name)
                .attr("ready_share", ready),
        );
        return Ok(());
    }
    if s.postponements >= params.max_postponements {
        let reason = format!(
            "readiness {ready} below threshold {threshold} after {} postponements",
            s.postponements
        );
        super::cancel(ctx, &reason).await?;
        return Ok(());
    }
    let new_height = height.saturating_add(params.readiness_window);
    s.postponements += 1;
    s.judged_height = 0;
    if let Some(p) = s.plan.as_mut() {
        p.height = new_height as i64;
    }
    state::set_scheduled(ctx, &s)?;
    ctx.emit(
        Event::new("upgrade_postponed")
            .attr("name", plan.name)
            .attr("from_height", height.to_string())
            .attr("to_height", new_height.to_string())
            .attr("ready_share", ready)
            .attr("threshold", threshold.to_string())
            .attr("postponements", s.postponements.to_string()),
    );
    Ok(())
}
