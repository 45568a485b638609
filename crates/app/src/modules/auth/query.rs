//! `auth` queries: `/cosmos.auth.v1beta1.Query/Account`.

use super::state::{get_account_bytes, BASE_ACCOUNT_URL};
use crate::context::KvRead;
use crate::error::ExecError;
use caspur_types::Address;
use cosmos_sdk_proto::cosmos::auth::v1beta1::{QueryAccountRequest, QueryAccountResponse};
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
