//! Deposits: what a proposal needs, adding to it (which can start its voting period), and
//! returning or burning it when the proposal is decided.

use super::params::GovParams;
use super::state;
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::bank;
use crate::modules::staking::state::timestamp;
use caspur_store::StateRead;
use caspur_types::{Address, Coins, Event};
use cosmos_sdk_proto::cosmos::gov::v1 as pb;
use cosmos_sdk_proto::Any;

/// The deposit a proposal carrying `messages` needs to reach voting: the (expedited) minimum
/// deposit, or more where a message type declares its own minimum (`message_min_deposits`).
pub fn required(
    params: &GovParams,
    messages: &[Any],
    expedited: bool,
) -> Result<Coins, caspur_types::TxError> {
    let mut most: std::collections::BTreeMap<String, u128> = params
        .min_deposit(expedited)?
        .as_slice()
        .iter()
        .map(|c| (c.denom.clone(), c.amount))
        .collect();
    for m in messages {
        if let Some(own) = params.message_min_deposit(&m.type_url)? {
            for c in own.as_slice() {
                let slot = most.entry(c.denom.clone()).or_default();
                *slot = (*slot).max(c.amount);
            }
        }
    }
    Coins::normalize(
        most.into_iter()
            .map(|(denom, amount)| caspur_types::Coin::new(denom, amount)),
    )
}

/// Adds `amount` from `depositor` to proposal `id`; starts voting once the deposit suffices.
pub async fn add<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    id: u64,
    depositor: &Address,
    amount: &Coins,
) -> Result<(), ExecError> {
    let mut p = state::require_proposal(ctx, id).await?;
    let status = pb::ProposalStatus::try_from(p.status);
    if !matches!(
        status,
        Ok(pb::ProposalStatus::DepositPeriod | pb::ProposalStatus::VotingPeriod)
    ) {
        return Err(ExecError::invalid_request(format!(
            "proposal {id} is no longer taking deposits"
        )));
    }
    bank::state::send_coins(ctx, depositor, &state::gov_address(), amount).await?;
    let mine = state::get_deposit(ctx, id, depositor).await?.plus(amount)?;
    state::set_deposit(ctx, id, depositor, &mine).await?;
    let total = Coins::from_proto(&p.total_deposit)?.plus(amount)?;
    p.total_deposit = total.to_proto();
    let mut event = Event::new("proposal_deposit")
        .attr("amount", amount.to_string())
        .attr("proposal_id", id.to_string())
        .attr("depositor", depositor.to_string());
    if status == Ok(pb::ProposalStatus::DepositPeriod) {
        let params = state::get_params(ctx).await?;
        let needed = required(&params, &p.messages, p.expedited)?;
        if total.covers(&needed) {
            let deposit_end = crate::modules::staking::state::millis(&p.deposit_end_time);
            state::DEPOSIT_QUEUE
                .remove(ctx, deposit_end, &id.to_be_bytes())
                .await?;
            let now = ctx.block.time_ms;
            let end = now.saturating_add(params.voting_period_ms(p.expedited));
            p.status = pb::ProposalStatus::VotingPeriod as i32;
            p.voting_start_time = Some(timestamp(now));
            p.voting_end_time = Some(timestamp(end));
            state::VOTING_QUEUE
                .push(ctx, now, end, id.to_be_bytes().to_vec())
                .await?;
            event = event.attr("voting_period_start", id.to_string());
        }
    }
    state::set_proposal(ctx, &p)?;
    ctx.emit(event);
    Ok(())
}

/// Burns `depositor`'s deposit on proposal `id` (the others are settled as usual after).
pub async fn burn_one<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    id: u64,
    depositor: &Address,
) -> Result<(), ExecError> {
    let amount = state::get_deposit(ctx, id, depositor).await?;
    if !amount.is_empty() {
        bank::state::burn_coins(ctx, &state::gov_address(), &amount).await?;
        state::set_deposit(ctx, id, depositor, &Coins::default()).await?;
        ctx.emit(
            Event::new("burn_proposal_deposit")
                .attr("proposal_id", id.to_string())
                .attr("depositor", depositor.to_string())
                .attr("amount", amount.to_string()),
        );
    }
    Ok(())
}

/// Returns every deposit of proposal `id` to its depositor, or burns them all.
pub async fn settle<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    id: u64,
    burn: bool,
) -> Result<(), ExecError> {
    let gov = state::gov_address();
    for depositor in state::depositors(ctx, id).await? {
        let amount = state::get_deposit(ctx, id, &depositor).await?;
        if amount.is_empty() {
            continue;
        }
        if burn {
            bank::state::burn_coins(ctx, &gov, &amount).await?;
        } else {
            bank::state::send_coins(ctx, &gov, &depositor, &amount).await?;
        }
    }
    state::clear_deposits(ctx, id).await
}
