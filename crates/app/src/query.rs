//! ABCI query routing by gRPC method path.

use crate::context::Unmetered;
use crate::error::ExecError;
use crate::modules::{
    auth, bank, circuit, dcert, distribution, gov, incident, slashing, staking, upgrade,
};
use crate::{App, BlockInfo};
use caspur_store::StateScan;
use caspur_types::TxError;

/// How the error for a path no module serves begins (gRPC answers it `UNIMPLEMENTED`).
pub const UNKNOWN_PATH: &str = "unknown query path";

/// Answers a query at `path` with protobuf `data` against committed state; `next_block` is
/// the block a simulated tx would be part of. A storage fault is reported to this one client
/// (code `Io`).
pub async fn query<S: StateScan>(
    app: &App,
    state: &S,
    path: &str,
    data: &[u8],
    next_block: &BlockInfo,
) -> Result<Vec<u8>, TxError> {
    answer(app, state, path, data, next_block)
        .await
        .map_err(ExecError::into_reply)
}

async fn answer<S: StateScan>(
    app: &App,
    state: &S,
    path: &str,
    data: &[u8],
    next_block: &BlockInfo,
) -> Result<Vec<u8>, ExecError> {
    match path {
        crate::simulate::SIMULATE_PATH => Ok(app.simulate(state, data, next_block).await?),
        auth::query::ACCOUNT_PATH => auth::query::account(&mut Unmetered(state), data).await,
        auth::query::PARAMS_PATH => auth::query::params(&mut Unmetered(state), &app.costs).await,
        bank::query::BALANCE_PATH => bank::query::balance(state, data).await,
        bank::query::ALL_BALANCES_PATH => bank::query::all_balances(state, data).await,
        bank::query::TOTAL_SUPPLY_PATH => bank::query::total_supply(state, data).await,
        other => {
            if let Some(answer) = staking::query::route(state, other, data).await {
                return answer;
            }
            if let Some(answer) = gov::query::route(state, other, data).await {
                return answer;
            }
            if let Some(answer) = gov::legacy::route(state, other, data).await {
                return answer;
            }
            if let Some(answer) = distribution::query::route(state, other, data).await {
                return answer;
            }
            if let Some(answer) = slashing::query::route(state, other, data).await {
                return answer;
            }
            if let Some(answer) = dcert::query::route(state, other, data).await {
                return answer;
            }
            if let Some(answer) = circuit::query::route(state, other, data).await {
                return answer;
            }
            if let Some(answer) = upgrade::query::route(state, other, data).await {
                return answer;
            }
            if let Some(answer) = incident::query::route(state, other, data).await {
                return answer;
            }
            Err(ExecError::unknown_request(format!(
                "{UNKNOWN_PATH} {other:?}"
            )))
        }
    }
}

/// Decodes a query's protobuf request; a malformed one is the caller's error.
pub fn decode_request<M: prost::Message + Default>(data: &[u8]) -> Result<M, TxError> {
    M::decode(data).map_err(|e| TxError::decode(format!("invalid request: {e}")))
}
