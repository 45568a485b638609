//! Delegating and unbonding: the share exchange rate and the two token pools. Delegated tokens
//! sit in the bonded pool while their validator is bonded and in the not-bonded pool otherwise
//! (and while they unbond), so bank balances and the total supply always add up.

use super::hooks;
use super::state::{self, Status, Validator};
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::bank;
use caspur_store::StateRead;
use caspur_types::{Address, Coin, Coins, Dec};
use ethnum::U256;

fn module_address(name: &str) -> Address {
    use sha2::{Digest, Sha256};
    let mut a = [0u8; 20];
    a.copy_from_slice(&Sha256::digest(name.as_bytes())[..20]);
    Address(a)
}

/// The module account holding bonded validators' tokens (`sha256("bonded_tokens_pool")`).
pub fn bonded_pool() -> Address {
    module_address("bonded_tokens_pool")
}

/// The module account holding other delegated and all unbonding tokens.
pub fn not_bonded_pool() -> Address {
    module_address("not_bonded_tokens_pool")
}

/// The pool a validator's tokens sit in.
pub fn pool_of(status: Status) -> Address {
    match status {
        Status::Bonded => bonded_pool(),
        Status::Unbonded | Status::Unbonding => not_bonded_pool(),
    }
}

/// `a × b ÷ c`, truncated, without overflow in between.
pub fn mul_div(a: u128, b: u128, c: u128) -> Result<u128, ExecError> {
    if c == 0 {
        return Err(ExecError::logic("division by zero in share arithmetic"));
    }
    let q = U256::from(a) * U256::from(b) / U256::from(c);
    u128::try_from(q).map_err(|_| ExecError::logic("share arithmetic overflow"))
}

/// Shares that `tokens` buy at the validator's exchange rate (1:1 for a validator without
/// tokens).
pub fn shares_for(v: &Validator, tokens: u128) -> Result<Dec, ExecError> {
    if v.tokens == 0 {
        if !v.shares.is_zero() {
            return Err(ExecError::invalid_request(format!(
                "validator {} has shares but no tokens (slashed to zero): delegating to it is refused",
                state::valoper(&v.operator)
            )));
        }
        return Dec::from_int(tokens).ok_or_else(|| ExecError::logic("share overflow"));
    }
    Ok(Dec::from_atomics(mul_div(
        tokens,
        v.shares.atomics(),
        v.tokens,
    )?))
}

/// Tokens that `shares` are worth (truncated).
pub fn tokens_for(v: &Validator, shares: Dec) -> Result<u128, ExecError> {
    if v.shares.is_zero() {
        return Ok(0);
    }
    mul_div(shares.atomics(), v.tokens, v.shares.atomics())
}

/// Moves `amount` staked tokens between the pools of two statuses.
pub async fn move_between_pools<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    from: Status,
    to: Status,
    amount: u128,
) -> Result<(), ExecError> {
    let (from, to) = (pool_of(from), pool_of(to));
    if from == to || amount == 0 {
        return Ok(());
    }
    let denom = state::get_params(ctx).await?.bond_denom;
    bank::state::send_coins(ctx, &from, &to, &coins(&denom, amount)?).await
}

/// `amount` of `denom` as coins.
pub fn coins(denom: &str, amount: u128) -> Result<Coins, caspur_types::TxError> {
    Coins::normalize(vec![Coin::new(denom.to_string(), amount)])
}

/// Where the tokens of a delegation come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The delegator's account.
    Account,
    /// Already staked, in the pool of a validator with this status (a redelegation, or a
    /// cancelled unbonding from the not-bonded pool).
    Pool(Status),
}

/// Adds `amount` tokens from `source` to `v` for `delegator`. Returns the new shares; the
/// validator is stored.
pub async fn delegate<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    delegator: &Address,
    v: &mut Validator,
    amount: u128,
    source: Source,
) -> Result<Dec, ExecError> {
    hooks::before_delegation_changed(ctx, delegator, &v.operator).await?;
    let denom = state::get_params(ctx).await?.bond_denom;
    let new_shares = shares_for(v, amount)?;
    match source {
        Source::Account => {
            let to = pool_of(v.status);
            bank::state::send_coins(ctx, delegator, &to, &coins(&denom, amount)?).await?
        }
        Source::Pool(status) => move_between_pools(ctx, status, v.status, amount).await?,
    }
    v.tokens = v
        .tokens
        .checked_add(amount)
        .ok_or_else(|| ExecError::logic("validator tokens overflow"))?;
    v.shares = v
        .shares
        .checked_add(new_shares)
        .ok_or_else(|| ExecError::logic("validator shares overflow"))?;
    state::set_validator(ctx, v)?;
    let held = state::get_shares(ctx, delegator, &v.operator).await?;
    let total = held
        .checked_add(new_shares)
        .ok_or_else(|| ExecError::logic("delegation shares overflow"))?;
    state::set_shares(ctx, delegator, &v.operator, total).await?;
    hooks::delegation_changed(ctx, delegator, &v.operator).await?;
    Ok(new_shares)
}

/// The shares a delegator gives up to take out `amount` tokens: truncated, and all of its
/// shares when `amount` is what they are worth or more.
pub async fn shares_to_unbond<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    delegator: &Address,
    v: &Validator,
    amount: u128,
) -> Result<Dec, ExecError> {
    let held = state::get_shares(ctx, delegator, &v.operator).await?;
    if held.is_zero() {
        return Err(ExecError::invalid_request(format!(
            "{delegator} has no delegation to {}",
            state::valoper(&v.operator)
        )));
    }
    let worth = tokens_for(v, held)?;
    if amount > worth {
        return Err(ExecError::invalid_request(format!(
            "cannot unbond {amount} tokens: the delegation is worth {worth}"
        )));
    }
    if amount == worth {
        return Ok(held);
    }
    Ok(shares_for(v, amount)?.min(held))
}

/// Removes `shares` of `delegator` from `v` and returns the tokens they were worth; the tokens
/// stay in `v`'s pool (the caller moves them). The operator dropping below its minimum
/// self-delegation jails the validator. The validator is stored, or removed when it has no
/// shares left and is not bonded.
pub async fn unbond<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    delegator: &Address,
    v: &mut Validator,
    shares: Dec,
) -> Result<u128, ExecError> {
    hooks::before_delegation_changed(ctx, delegator, &v.operator).await?;
    let held = state::get_shares(ctx, delegator, &v.operator).await?;
    let left = held
        .checked_sub(shares)
        .ok_or_else(|| ExecError::invalid_request("not enough delegation shares"))?;
    // The last shares out take every token, so no dust is stranded by truncation.
    let tokens = if shares == v.shares {
        v.tokens
    } else {
        tokens_for(v, shares)?
    };
    v.shares = v
        .shares
        .checked_sub(shares)
        .ok_or_else(|| ExecError::logic("validator shares underflow"))?;
    v.tokens = v
        .tokens
        .checked_sub(tokens)
        .ok_or_else(|| ExecError::logic("validator tokens underflow"))?;
    state::set_shares(ctx, delegator, &v.operator, left).await?;
    if *delegator == v.operator && !v.jailed && tokens_for(v, left)? < v.min_self_delegation {
        v.jailed = true;
        ctx.emit(
            caspur_types::Event::new("jail")
                .attr("validator", state::valoper(&v.operator))
                .attr("reason", "self-delegation below minimum"),
        );
    }
    if v.shares.is_zero() && v.status == Status::Unbonded {
        state::remove_validator(ctx, v).await?;
    } else {
        state::set_validator(ctx, v)?;
    }
    hooks::delegation_changed(ctx, delegator, &v.operator).await?;
    Ok(tokens)
}
