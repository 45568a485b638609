//! Governance plans checked when their proposal is submitted, not only when it passes: a plan
//! whose name already ran (or was skipped), or whose height would come before the vote ends
//! and readiness could be judged, is refused at once instead of failing a voting period later.

use super::{check_plan, msgs::software_upgrade, state};
use crate::context::Ctx;
use crate::error::ExecError;
use caspur_store::StateRead;
use cosmos_sdk_proto::Any;
use prost::Message as _;

/// Checks every `MsgSoftwareUpgrade` among a proposal's `messages` against the chain now.
pub async fn check_proposal<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    messages: &[Any],
    expedited: bool,
) -> Result<(), ExecError> {
    for any in messages {
        if any.type_url != software_upgrade::TYPE_URL {
            continue;
        }
        let msg = software_upgrade::Msg::decode(any.value.as_slice())
            .map_err(|e| ExecError::decode(format!("MsgSoftwareUpgrade: {e}")))?;
        let plan = check_plan(msg.plan.as_ref())?;
        if let Some(done) = state::applied(ctx)
            .await?
            .into_iter()
            .find(|a| a.name == plan.name)
        {
            return Err(ExecError::invalid_request(format!(
                "a plan named {:?} already ran or was skipped (at height {}); pick a new name",
                plan.name, done.height
            )));
        }
        let (earliest, window) = earliest_height(ctx, expedited).await?;
        if (plan.height as u64) < earliest {
            return Err(ExecError::invalid_request(format!(
                "plan height {} comes too soon: the vote ends around height {} and readiness needs {window} blocks after it; pick a height of at least {earliest}",
                plan.height,
                earliest.saturating_sub(window),
            )));
        }
    }
    Ok(())
}

/// The lowest height a plan submitted now can have — the current height, plus the blocks the
/// voting period spans at the chain's average block time since its first block, plus the
/// readiness window — and that window.
async fn earliest_height<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    expedited: bool,
) -> Result<(u64, u64), ExecError> {
    let now = ctx.block.height;
    let window = state::get_params(ctx).await?.readiness_window;
    let gov = crate::modules::gov::state::get_params(ctx).await?;
    let voting_ms = if expedited {
        gov.expedited_voting_period_secs
    } else {
        gov.voting_period_secs
    }
    .saturating_mul(1000);
    // Measured on committed blocks only (the last executed one, not the block being built):
    // CheckTx and the block then judge alike.
    let (last_height, last_ms) = crate::last_block(ctx).await?;
    let voting_blocks = match crate::chain_start(ctx).await? {
        Some((start, start_ms)) if last_height > start => {
            let average_ms = last_ms.saturating_sub(start_ms) / (last_height - start);
            voting_ms.div_ceil(average_ms.max(1))
        }
        // No history yet: nothing to estimate from.
        _ => 0,
    };
    let earliest = now
        .saturating_add(voting_blocks)
        .saturating_add(window)
        .saturating_add(1);
    Ok((earliest, window))
}
