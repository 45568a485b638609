//! `bank`: balances, total supply, `MsgSend`, `MsgMultiSend`.

pub mod events;
pub mod msgs;
pub mod params;
pub mod query;
pub mod state;

use crate::context::KvWrite;
use crate::error::ExecError;
use caspur_types::{Address, Coin, Coins};
use serde::{Deserialize, Serialize};

pub use params::BankParams;

/// Genesis state of `bank`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankGenesis {
    /// Parameters.
    pub params: BankParams,
    /// Balances by address.
    pub balances: Vec<GenesisBalance>,
    /// Total supply; must equal the sum of balances. Empty means "compute it".
    #[serde(default)]
    pub supply: Vec<GenesisCoin>,
}

/// One address's genesis balance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisBalance {
    /// Bech32 address.
    pub address: String,
    /// Coins held.
    pub coins: Vec<GenesisCoin>,
}

/// A coin in genesis JSON: the amount is a string, as in Cosmos genesis files.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisCoin {
    /// Denomination.
    pub denom: String,
    /// Decimal amount.
    pub amount: String,
}

impl GenesisCoin {
    /// Validates into a coin.
    pub fn to_coin(&self) -> Result<Coin, caspur_types::TxError> {
        caspur_types::coin::validate_denom(&self.denom)?;
        Ok(Coin::new(
            self.denom.clone(),
            caspur_types::coin::parse_amount(&self.amount)?,
        ))
    }

    /// Validates a list into normalized coins (duplicates merged, zeros dropped).
    pub fn to_coins(list: &[GenesisCoin]) -> Result<Coins, caspur_types::TxError> {
        Coins::normalize(
            list.iter()
                .map(GenesisCoin::to_coin)
                .collect::<Result<Vec<_>, _>>()?,
        )
    }

    /// From a coin.
    pub fn from_coin(c: &Coin) -> Self {
        GenesisCoin {
            denom: c.denom.clone(),
            amount: c.amount.to_string(),
        }
    }
}

/// Writes `bank`'s genesis state; balances create their accounts.
pub async fn init_genesis(kv: &mut impl KvWrite, g: &BankGenesis) -> Result<(), ExecError> {
    state::set_params(kv, &g.params)?;
    let mut total = Vec::new();
    for b in &g.balances {
        let addr = Address::parse_account(&b.address)?;
        let coins = GenesisCoin::to_coins(&b.coins)?;
        state::add_coins(kv, &addr, &coins).await?;
        total.extend(coins.as_slice().iter().cloned());
    }
    let total = Coins::normalize(total)?;
    if !g.supply.is_empty() {
        let declared = GenesisCoin::to_coins(&g.supply)?;
        if declared != total {
            return Err(ExecError::invalid_coins(format!(
                "genesis supply {declared} does not equal the sum of balances {total}"
            )));
        }
    }
    for c in total.as_slice() {
        state::set_supply(kv, &c.denom, c.amount)?;
    }
    Ok(())
}
