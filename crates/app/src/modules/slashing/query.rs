//! `slashing` queries (`cosmos.slashing.v1beta1.Query`, over abci_query and gRPC): the
//! parameters and a validator's signing info by consensus address (`caspurvalcons1…`).

use super::state;
use crate::context::{store_err, Unmetered};
use crate::error::ExecError;
use crate::modules::staking::state::BY_CONSENSUS_KEY;
use crate::query::decode_request as decode;
use caspur_store::StateScan;
use caspur_types::{Address, Dec};
use cosmos_sdk_proto::cosmos::slashing::v1beta1 as pb;
use cosmos_sdk_proto::tendermint::google::protobuf::{Duration, Timestamp};
use prost::Message;
use sha2::{Digest, Sha256};

/// The service's path prefix.
pub const PREFIX: &str = "/cosmos.slashing.v1beta1.Query/";
/// Bech32 prefix of consensus addresses.
pub const VALCONS_PREFIX: &str = "caspurvalcons";
/// Most consensus keys one signing-info lookup reads.
const MAX_SCAN: usize = 10_000;

/// Answers `path` if it is a slashing query (`None` otherwise).
pub async fn route<S: StateScan>(
    s: &S,
    path: &str,
    data: &[u8],
) -> Option<Result<Vec<u8>, ExecError>> {
    let method = path.strip_prefix(PREFIX)?;
    answer(s, method, data).await.transpose()
}

/// A decimal as the SDK's LegacyDec bytes (its 18-decimal atomics, as text).
fn legacy_dec(text: &str) -> Result<Vec<u8>, ExecError> {
    let d: Dec = text
        .parse()
        .map_err(|_| ExecError::logic("corrupt slashing parameter"))?;
    Ok(d.atomics().to_string().into_bytes())
}

async fn answer<S: StateScan>(
    s: &S,
    method: &str,
    data: &[u8],
) -> Result<Option<Vec<u8>>, ExecError> {
    let mut kv = Unmetered(s);
    Ok(Some(match method {
        "Params" => {
            let p = state::get_params(&mut kv).await?;
            pb::QueryParamsResponse {
                params: Some(pb::Params {
                    signed_blocks_window: p.signed_blocks_window as i64,
                    min_signed_per_window: legacy_dec(&p.min_signed_per_window)?,
                    downtime_jail_duration: Some(Duration {
                        seconds: p.downtime_jail_duration_secs as i64,
                        nanos: 0,
                    }),
                    slash_fraction_double_sign: legacy_dec(&p.slash_fraction_double_sign)?,
                    slash_fraction_downtime: legacy_dec(&p.slash_fraction_downtime)?,
                }),
            }
            .encode_to_vec()
        }
        "SigningInfo" => {
            let req: pb::QuerySigningInfoRequest = decode(data)?;
            let cons = Address::from_bech32(&req.cons_address, VALCONS_PREFIX)
                .map_err(|e| ExecError::invalid_address(format!("{:?}: {e}", req.cons_address)))?;
            let operator = operator_of_consensus_address(s, &cons)
                .await?
                .ok_or_else(|| {
                    ExecError::key_not_found(format!(
                        "no validator has the consensus address {}",
                        req.cons_address
                    ))
                })?;
            let info = state::signing_info(&mut kv, &operator, 0).await?;
            let ms = info.jailed_until_ms;
            pb::QuerySigningInfoResponse {
                val_signing_info: Some(pb::ValidatorSigningInfo {
                    address: req.cons_address,
                    start_height: info.start_height as i64,
                    index_offset: info.index_offset as i64,
                    jailed_until: Some(Timestamp {
                        seconds: (ms / 1000) as i64,
                        nanos: ((ms % 1000) * 1_000_000) as i32,
                    }),
                    tombstoned: info.tombstoned,
                    missed_blocks_counter: info.missed_blocks_counter as i64,
                }),
            }
            .encode_to_vec()
        }
        _ => return Ok(None),
    }))
}

/// The operator of the validator whose consensus key hashes to `cons` (CometBFT's address:
/// the first 20 bytes of the key's SHA-256).
async fn operator_of_consensus_address<S: StateScan>(
    s: &S,
    cons: &Address,
) -> Result<Option<Address>, ExecError> {
    let rows = s
        .scan_prefix(&BY_CONSENSUS_KEY, MAX_SCAN)
        .await
        .map_err(store_err)?;
    for (k, v) in rows {
        let key = caspur_store::keys::parts(&BY_CONSENSUS_KEY, &k)
            .and_then(|p| p.first().copied())
            .ok_or_else(|| ExecError::logic("corrupt consensus-key index"))?;
        if Sha256::digest(key)[..20] == cons.0 {
            let op: [u8; 20] = v
                .as_slice()
                .try_into()
                .map_err(|_| ExecError::logic("corrupt consensus-key index"))?;
            return Ok(Some(Address(op)));
        }
    }
    Ok(None)
}
