//! Stipends (SPEC §2.5): when block time enters a new stipend period, every active member is
//! paid `stipend_per_member` from the community pool — pro rata when the pool cannot pay
//! everyone, never minted — except, with heartbeats required, a member that sent none during
//! the period that ended (`heartbeat`).

use super::state;
use super::DcertParams;
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::distribution;
use caspur_store::StateRead;
use caspur_types::Event;

/// Pays the stipends once per period (a chain halted across several periods pays one).
pub async fn pay<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    params: &DcertParams,
) -> Result<(), ExecError> {
    let period = params.period_of(ctx.block.time_ms);
    let ended = match state::last_stipend_period(ctx).await? {
        Some(last) if last >= period => return Ok(()),
        None => {
            // The chain's first period starts now: nothing is owed for it yet.
            return state::set_last_stipend_period(ctx, period);
        }
        Some(last) => {
            state::set_last_stipend_period(ctx, period)?;
            last
        }
    };
    let seated: Vec<_> = state::members(ctx)
        .await?
        .into_iter()
        .map(|(m, _)| m)
        .collect();
    // Members without a heartbeat in the period that ended are not paid for it.
    let members = super::heartbeat::settle_period(ctx, params, ended, &seated).await?;
    let each = params.stipend()?;
    if members.is_empty() || each == 0 {
        return Ok(());
    }
    let n = members.len() as u128;
    let pool = distribution::state::community_pool(ctx).await?;
    let (paid, short) = match each.checked_mul(n) {
        Some(total) if total <= pool => (each, false),
        _ => (pool / n, true),
    };
    if paid > 0 {
        for member in &members {
            distribution::rewards::pay_from_community_pool(ctx, member, paid).await?;
        }
    }
    let mut event = Event::new("dcert_stipend")
        .attr("period", period.to_string())
        .attr("members", n.to_string())
        .attr("amount_each", paid.to_string());
    if short {
        event = event.attr("shortfall", "community pool short: paid pro rata");
    }
    ctx.emit(event);
    Ok(())
}
