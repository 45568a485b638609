//! dCERT bonds (SPEC §2.3): tokens bonded for a candidate by anyone, held by the module
//! account; unbonding with the global unbonding time (frozen while the candidate is under
//! suspension review); governance slashes burn bonded and unbonding tokens alike.

use super::election;
use super::state::{self, Unbonding, UNBONDING_QUEUE};
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::{bank, staking};
use caspur_store::StateRead;
use caspur_types::{Address, Coin, Coins, Dec, Event};
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;

/// The stateless checks `MsgBondDcert` and `MsgUnbondDcert` share: staker, candidate and a
/// positive amount; returns the two addresses.
pub fn check_bond_msg(
    staker: &str,
    candidate: &str,
    amount: &Option<ProtoCoin>,
) -> Result<(Address, Address), ExecError> {
    let staker = Address::parse_account(staker)?;
    let candidate = Address::parse_account(candidate)?;
    positive_amount(amount)?;
    Ok((staker, candidate))
}

/// The amount of a required, positive coin.
pub fn positive_amount(coin: &Option<ProtoCoin>) -> Result<u128, ExecError> {
    let coin = coin
        .as_ref()
        .ok_or_else(|| ExecError::invalid_coins("an amount is required"))?;
    let amount: u128 = coin
        .amount
        .parse()
        .map_err(|_| ExecError::invalid_coins(format!("invalid amount {:?}", coin.amount)))?;
    if amount == 0 {
        return Err(ExecError::invalid_coins("the amount must be positive"));
    }
    Ok(amount)
}

/// The amount of a coin that must be in the bond denom, with that denom.
pub async fn bond_amount<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    coin: &Option<ProtoCoin>,
) -> Result<(String, u128), ExecError> {
    let amount = positive_amount(coin)?;
    let denom = staking::state::get_params(ctx).await?.bond_denom;
    if coin.as_ref().map(|c| c.denom.as_str()) != Some(denom.as_str()) {
        return Err(ExecError::invalid_coins(format!(
            "dCERT bonds are in {denom}"
        )));
    }
    Ok((denom, amount))
}

/// `amount` of `denom` as coins.
pub fn coins(denom: &str, amount: u128) -> Result<Coins, caspur_types::TxError> {
    Coins::normalize([Coin::new(denom, amount)])
}

/// Records `amount` more bonded by `staker` for `candidate` (tokens already moved).
pub async fn add_bond<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    candidate: &Address,
    staker: &Address,
    amount: u128,
) -> Result<(), ExecError> {
    let held = state::bond(ctx, candidate, staker).await?;
    state::set_bond(ctx, candidate, staker, held + amount).await?;
    let params = state::get_params(ctx).await?;
    election::update_candidate(ctx, &params, candidate, |c| {
        c.bond += amount;
        Ok(())
    })
    .await?;
    Ok(())
}

/// Moves `amount` of `staker`'s bond for `candidate` into unbonding; returns its completion
/// time. A member whose bond falls below the minimum leaves the group at once.
pub async fn start_unbonding<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    candidate: &Address,
    staker: &Address,
    amount: u128,
) -> Result<u64, ExecError> {
    let held = state::bond(ctx, candidate, staker).await?;
    let left = held.checked_sub(amount).ok_or_else(|| {
        ExecError::insufficient_funds(format!("the bond holds {held}, less than {amount}"))
    })?;
    state::set_bond(ctx, candidate, staker, left).await?;
    let params = state::get_params(ctx).await?;
    election::update_candidate(ctx, &params, candidate, |c| {
        c.bond -= amount;
        Ok(())
    })
    .await?;
    let unbonding_secs = staking::state::get_params(ctx).await?.unbonding_time_secs;
    let completes_at_ms = ctx
        .block
        .time_ms
        .saturating_add(unbonding_secs.saturating_mul(1000));
    let mut entries = state::unbondings(ctx, staker, candidate).await?;
    entries.push(Unbonding {
        amount,
        completes_at_ms,
        creation_height: ctx.block.height,
    });
    state::set_unbondings(ctx, staker, candidate, &entries).await?;
    UNBONDING_QUEUE
        .push(
            ctx,
            ctx.block.time_ms,
            completes_at_ms,
            payload(staker, candidate),
        )
        .await?;
    Ok(completes_at_ms)
}

fn payload(staker: &Address, candidate: &Address) -> Vec<u8> {
    [staker.0.as_slice(), candidate.0.as_slice()].concat()
}

/// End of block: pays out matured unbondings; those of a candidate under review wait for the
/// review's end.
pub async fn mature_unbondings<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    since_ms: u64,
) -> Result<(), ExecError> {
    let now = ctx.block.time_ms;
    let denom = staking::state::get_params(ctx).await?.bond_denom;
    for due in UNBONDING_QUEUE.pop_due(ctx, since_ms, now).await? {
        if due.payload.len() != 40 {
            return Err(ExecError::logic("corrupt dcert unbonding payload"));
        }
        let mut s = [0u8; 20];
        let mut c = [0u8; 20];
        s.copy_from_slice(&due.payload[..20]);
        c.copy_from_slice(&due.payload[20..]);
        let (staker, candidate) = (Address(s), Address(c));
        let review_ends = state::candidate(ctx, &candidate).await?.review_ends_ms;
        if review_ends > now {
            UNBONDING_QUEUE
                .push(ctx, now, review_ends, due.payload.clone())
                .await?;
            continue;
        }
        let entries = state::unbondings(ctx, &staker, &candidate).await?;
        let (done, left): (Vec<_>, Vec<_>) =
            entries.into_iter().partition(|e| e.completes_at_ms <= now);
        let paid: u128 = done.iter().map(|e| e.amount).sum();
        state::set_unbondings(ctx, &staker, &candidate, &left).await?;
        if paid > 0 {
            let coins = coins(&denom, paid)?;
            bank::state::send_coins(ctx, &state::dcert_address(), &staker, &coins).await?;
            ctx.emit(
                Event::new("dcert_unbonding_complete")
                    .attr("staker", staker.to_string())
                    .attr("candidate", candidate.to_string())
                    .attr("amount", format!("{paid}{denom}")),
            );
        }
    }
    Ok(())
}

/// Burns `fraction` of every bond and unbonding entry held for `candidate`; returns the total
/// burned.
pub async fn slash<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    candidate: &Address,
    fraction: Dec,
    reason: &str,
) -> Result<u128, ExecError> {
    let mut from_bonds = 0u128;
    for staker in state::bonders(ctx, candidate).await? {
        let held = state::bond(ctx, candidate, &staker).await?;
        let cut = fraction.mul_int_floor(held).unwrap_or(held).min(held);
        state::set_bond(ctx, candidate, &staker, held - cut).await?;
        from_bonds += cut;
    }
    let mut from_unbonding = 0u128;
    for staker in state::unbonding_stakers(ctx, candidate).await? {
        let mut entries = state::unbondings(ctx, &staker, candidate).await?;
        for e in &mut entries {
            let cut = fraction
                .mul_int_floor(e.amount)
                .unwrap_or(e.amount)
                .min(e.amount);
            e.amount -= cut;
            from_unbonding += cut;
        }
        entries.retain(|e| e.amount > 0);
        state::set_unbondings(ctx, &staker, candidate, &entries).await?;
    }
    let params = state::get_params(ctx).await?;
    election::update_candidate(ctx, &params, candidate, |c| {
        c.bond -= from_bonds;
        Ok(())
    })
    .await?;
    let burned = from_bonds + from_unbonding;
    let denom = staking::state::get_params(ctx).await?.bond_denom;
    if burned > 0 {
        bank::state::burn_coins(ctx, &state::dcert_address(), &coins(&denom, burned)?).await?;
    }
    ctx.emit(
        Event::new("dcert_slash")
            .attr("member", candidate.to_string())
            .attr("reason", reason)
            .attr("burned", format!("{burned}{denom}")),
    );
    Ok(burned)
}
