//! `bank` queries: `Balance`, `AllBalances`, `TotalSupply`.

use super::state;
use crate::context::Unmetered;
use crate::error::ExecError;
use caspur_store::keys::parts;
use caspur_store::StateScan;
use caspur_types::{Address, Coin};
use cosmos_sdk_proto::cosmos::bank::v1beta1::{
    QueryAllBalancesRequest, QueryAllBalancesResponse, QueryBalanceRequest, QueryBalanceResponse,
    QueryTotalSupplyRequest, QueryTotalSupplyResponse,
};
use prost::Message;

/// ABCI path of the balance query.
pub const BALANCE_PATH: &str = "/cosmos.bank.v1beta1.Query/Balance";
/// ABCI path of the all-balances query.
pub const ALL_BALANCES_PATH: &str = "/cosmos.bank.v1beta1.Query/AllBalances";
/// ABCI path of the total-supply query.
pub const TOTAL_SUPPLY_PATH: &str = "/cosmos.bank.v1beta1.Query/TotalSupply";

/// Most entries one list query returns.
pub const MAX_LIST: usize = 1000;

/// `Balance{address, denom}`.
pub async fn balance<S: StateScan>(s: &S, data: &[u8]) -> Result<Vec<u8>, ExecError> {
    let req = QueryBalanceRequest::decode(data).map_err(|e| ExecError::decode(e.to_string()))?;
    let addr = Address::parse_account(&req.address)?;
    caspur_types::coin::validate_denom(&req.denom)?;
    let amount = state::get_balance(&mut Unmetered(s), &addr, &req.denom).await?;
    Ok(QueryBalanceResponse {
        balance: Some(Coin::new(req.denom, amount).to_proto()),
    }
    .encode_to_vec())
}

/// Coins stored as `key(kind, [..., denom]) → amount` under `scan`, sorted by denom.
async fn coins_under<S: StateScan>(
    s: &S,
    scan: &[u8],
    kind: &[u8],
) -> Result<Vec<Coin>, ExecError> {
    let rows = s
        .scan_prefix(scan, MAX_LIST)
        .await
        .map_err(crate::context::store_err)?;
    rows.into_iter()
        .map(|(k, v)| {
            let denom = parts(kind, &k)
                .and_then(|p| p.last().copied())
                .ok_or_else(|| ExecError::logic("corrupt coin key"))?;
            Ok(Coin::new(
                String::from_utf8_lossy(denom).into_owned(),
                state::decode_amount(&v)?,
            ))
        })
        .collect()
}

/// All coins of one address, sorted by denom.
pub async fn all_balances_of<S: StateScan>(s: &S, addr: &Address) -> Result<Vec<Coin>, ExecError> {
    coins_under(s, &state::balances_prefix(addr), &state::BALANCE).await
}

/// `AllBalances{address}`.
pub async fn all_balances<S: StateScan>(s: &S, data: &[u8]) -> Result<Vec<u8>, ExecError> {
    let req =
        QueryAllBalancesRequest::decode(data).map_err(|e| ExecError::decode(e.to_string()))?;
    let addr = Address::parse_account(&req.address)?;
    let coins = all_balances_of(s, &addr).await?;
    Ok(QueryAllBalancesResponse {
        balances: coins.iter().map(Coin::to_proto).collect(),
        pagination: None,
    }
    .encode_to_vec())
}

/// Total supply of every denom.
pub async fn total_supply_of<S: StateScan>(s: &S) -> Result<Vec<Coin>, ExecError> {
    coins_under(s, &state::SUPPLY, &state::SUPPLY).await
}

/// `TotalSupply{}`.
pub async fn total_supply<S: StateScan>(s: &S, data: &[u8]) -> Result<Vec<u8>, ExecError> {
    QueryTotalSupplyRequest::decode(data).map_err(|e| ExecError::decode(e.to_string()))?;
    let coins = total_supply_of(s).await?;
    Ok(QueryTotalSupplyResponse {
        supply: coins.iter().map(Coin::to_proto).collect(),
        pagination: None,
    }
    .encode_to_vec())
}
