//! `auth` queries: `/cosmos.auth.v1beta1.Query/Account` and `/Params`.

use super::state::{get_account_bytes, BASE_ACCOUNT_URL};
use crate::context::KvRead;
use crate::error::ExecError;
use caspur_types::Address;
use cosmos_sdk_proto::cosmos::auth::v1beta1::{
    Params, QueryAccountRequest, QueryAccountResponse, QueryParamsResponse,
};
use cosmos_sdk_proto::Any;
use prost::Message;

/// ABCI path of the account query.
pub const ACCOUNT_PATH: &str = "/cosmos.auth.v1beta1.Query/Account";

/// Answers the account query with the stored `BaseAccount` packed in an `Any`.
pub async fn account(kv: &mut impl KvRead, data: &[u8]) -> Result<Vec<u8>, ExecError> {
    let req = QueryAccountRequest::decode(data).map_err(|e| ExecError::decode(e.to_string()))?;
    let addr = Address::parse_account(&req.address)?;
    let bytes = get_account_bytes(kv, &addr).await?.ok_or_else(|| {
        // CosmJS (and the SDK's gRPC gateway) recognise a missing account by this text.
        ExecError::key_not_found(format!(
            "rpc error: code = NotFound desc = account {} not found",
            req.address
        ))
    })?;
    Ok(QueryAccountResponse {
        account: Some(Any {
            type_url: BASE_ACCOUNT_URL.into(),
            value: bytes,
        }),
    }
    .encode_to_vec())
}

/// ABCI path of the params query.
pub const PARAMS_PATH: &str = "/cosmos.auth.v1beta1.Query/Params";

/// The SDK's default cost of an ed25519 signature; Caspur accounts sign with secp256k1 only
/// (the ante handler refuses other keys), so this is reported, never charged.
const SIG_VERIFY_COST_ED25519: u64 = 590;

/// Answers the params query: the stored limits and the gas the ante handler charges.
pub async fn params(
    kv: &mut impl KvRead,
    costs: &crate::gas::GasCosts,
) -> Result<Vec<u8>, ExecError> {
    let p = super::state::get_params(kv).await?;
    Ok(QueryParamsResponse {
        params: Some(Params {
            max_memo_characters: p.max_memo_characters,
            tx_sig_limit: p.tx_sig_limit,
            tx_size_cost_per_byte: costs.tx_size_per_byte,
            sig_verify_cost_ed25519: SIG_VERIFY_COST_ED25519,
            sig_verify_cost_secp256k1: costs.sig_verify_secp256k1,
        }),
    }
    .encode_to_vec())
}
