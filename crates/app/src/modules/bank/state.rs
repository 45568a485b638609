//! `bank` state: `[BANK, 1] ‖ addr ‖ denom → u128`, `[BANK, 2] ‖ denom → supply`,
//! `[BANK, 0] → params`. Zero balances are deleted, never stored.

use super::events;
use super::params::BankParams;
use crate::context::{Ctx, KvRead, KvWrite};
use crate::error::ExecError;
use crate::modules::ids::BANK;
use caspur_store::keys::key;
use caspur_store::StateRead;
use caspur_types::{Address, Coin, Coins, Event};

const PARAMS: [u8; 2] = [BANK, 0];
/// Prefix of balance keys.
pub const BALANCE: [u8; 2] = [BANK, 1];
/// Prefix of supply keys.
pub const SUPPLY: [u8; 2] = [BANK, 2];

/// Key of one balance.
pub fn balance_key(addr: &Address, denom: &str) -> Vec<u8> {
    key(&BALANCE, &[&addr.0, denom.as_bytes()])
}

/// Prefix of all balances of one address.
pub fn balances_prefix(addr: &Address) -> Vec<u8> {
    key(&BALANCE, &[&addr.0])
}

fn supply_key(denom: &str) -> Vec<u8> {
    key(&SUPPLY, &[denom.as_bytes()])
}

/// Decodes a stored amount.
pub fn decode_amount(bytes: &[u8]) -> Result<u128, ExecError> {
    Ok(u128::from_be_bytes(
        bytes
            .try_into()
            .map_err(|_| ExecError::logic("corrupt amount"))?,
    ))
}

async fn get_amount(kv: &mut impl KvRead, k: &[u8]) -> Result<u128, ExecError> {
    kv.get(k).await?.map_or(Ok(0), |b| decode_amount(&b))
}

fn set_amount(kv: &mut impl KvWrite, k: Vec<u8>, amount: u128) -> Result<(), ExecError> {
    if amount == 0 {
        kv.delete(k)
    } else {
        kv.put(k, amount.to_be_bytes().to_vec())
    }
}

/// One balance (0 when absent).
pub async fn get_balance(
    kv: &mut impl KvRead,
    addr: &Address,
    denom: &str,
) -> Result<u128, ExecError> {
    get_amount(kv, &balance_key(addr, denom)).await
}

/// Sets one balance.
pub fn set_balance(
    kv: &mut impl KvWrite,
    addr: &Address,
    denom: &str,
    amount: u128,
) -> Result<(), ExecError> {
    set_amount(kv, balance_key(addr, denom), amount)
}

/// Total supply of a denom.
pub async fn get_supply(kv: &mut impl KvRead, denom: &str) -> Result<u128, ExecError> {
    get_amount(kv, &supply_key(denom)).await
}

/// Sets the total supply of a denom.
pub fn set_supply(kv: &mut impl KvWrite, denom: &str, amount: u128) -> Result<(), ExecError> {
    set_amount(kv, supply_key(denom), amount)
}

/// The parameters.
pub async fn get_params(kv: &mut impl KvRead) -> Result<BankParams, ExecError> {
    crate::params::read(kv, &PARAMS).await
}

/// Stores the parameters.
pub fn set_params(kv: &mut impl KvWrite, p: &BankParams) -> Result<(), ExecError> {
    crate::params::write(kv, &PARAMS, p)
}

/// Fails unless transfers are enabled.
pub async fn require_send_enabled(kv: &mut impl KvRead) -> Result<(), ExecError> {
    if get_params(kv).await?.default_send_enabled {
        Ok(())
    } else {
        Err(ExecError::invalid_request("transfers are disabled"))
    }
}

/// Removes coins from an account, failing with insufficient funds.
pub async fn sub_coins(
    kv: &mut impl KvWrite,
    addr: &Address,
    coins: &Coins,
) -> Result<(), ExecError> {
    for Coin { denom, amount } in coins.as_slice() {
        let held = get_balance(kv, addr, denom).await?;
        let left = held.checked_sub(*amount).ok_or_else(|| {
            ExecError::insufficient_funds(format!(
                "spendable balance {held}{denom} is smaller than {amount}{denom}"
            ))
        })?;
        set_balance(kv, addr, denom, left)?;
    }
    Ok(())
}

/// Adds coins to an account, creating the account if it is new.
pub async fn add_coins(
    kv: &mut impl KvWrite,
    addr: &Address,
    coins: &Coins,
) -> Result<(), ExecError> {
    crate::modules::auth::state::ensure_account(kv, addr).await?;
    for Coin { denom, amount } in coins.as_slice() {
        let held = get_balance(kv, addr, denom).await?;
        let sum = held
            .checked_add(*amount)
            .ok_or_else(|| ExecError::invalid_coins("balance overflow"))?;
        set_balance(kv, addr, denom, sum)?;
    }
    Ok(())
}

/// Moves coins between accounts and emits the Cosmos transfer events.
pub async fn send_coins<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    from: &Address,
    to: &Address,
    coins: &Coins,
) -> Result<(), ExecError> {
    sub_coins(ctx, from, coins).await?;
    add_coins(ctx, to, coins).await?;
    let (from, to) = (from.to_string(), to.to_string());
    ctx.emit(events::coin_spent(&from, coins));
    ctx.emit(events::coin_received(&to, coins));
    ctx.emit(events::transfer(&from, &to, coins));
    Ok(())
}

/// Destroys coins held by `from` (a module account): its balance and the total supply shrink.
pub async fn burn_coins<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    from: &Address,
    coins: &Coins,
) -> Result<(), ExecError> {
    sub_coins(ctx, from, coins).await?;
    for Coin { denom, amount } in coins.as_slice() {
        let supply = get_supply(ctx, denom).await?;
        let left = supply
            .checked_sub(*amount)
            .ok_or_else(|| ExecError::logic("burning more than the supply"))?;
        set_supply(ctx, denom, left)?;
    }
    ctx.emit(events::burn(&from.to_string(), coins));
    Ok(())
}

/// Creates coins in `to` (a module account): its balance and the total supply grow. Only the
/// distribution module's inflation calls this.
pub async fn mint_coins<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    to: &Address,
    coins: &Coins,
) -> Result<(), ExecError> {
    add_coins(ctx, to, coins).await?;
    for Coin { denom, amount } in coins.as_slice() {
        let supply = get_supply(ctx, denom).await?;
        let grown = supply
            .checked_add(*amount)
            .ok_or_else(|| ExecError::logic("supply overflow"))?;
        set_supply(ctx, denom, grown)?;
    }
    ctx.emit(
        Event::new("mint")
            .attr("minter", to.to_string())
            .attr("amount", coins.to_string()),
    );
    Ok(())
}
