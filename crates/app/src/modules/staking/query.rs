//! `staking` queries (`cosmos.staking.v1beta1.Query`): validators, delegations, unbonding
//! delegations, redelegations, pool and params — the paths CosmJS's staking extension and
//! cosmpy call.

use super::delegation::{bonded_pool, not_bonded_pool, tokens_for};
use super::state::{self, Validator};
use crate::context::{store_err, Unmetered};
use crate::error::ExecError;
use crate::query::decode_request as decode;
use caspur_store::keys::{key, parts};
use caspur_store::StateScan;
use caspur_types::{Address, Coin};
use cosmos_sdk_proto::cosmos::base::query::v1beta1::{PageRequest, PageResponse};
use cosmos_sdk_proto::cosmos::staking::v1beta1 as pb;
use cosmos_sdk_proto::tendermint::google::protobuf::Duration;
use prost::Message;

/// The service's path prefix.
pub const PREFIX: &str = "/cosmos.staking.v1beta1.Query/";

/// Most entries one page holds.
const MAX_PAGE: usize = 1000;

/// Answers `path` if it is a staking query (`None` otherwise).
pub async fn route<S: StateScan>(
    s: &S,
    path: &str,
    data: &[u8],
) -> Option<Result<Vec<u8>, ExecError>> {
    let method = path.strip_prefix(PREFIX)?;
    Some(match method {
        "Validators" => validators(s, decode(data).ok()).await,
        "Validator" => validator(s, data).await,
        "ValidatorDelegations" => validator_delegations(s, data).await,
        "Delegation" => delegation(s, data).await,
        "DelegatorDelegations" => delegator_delegations(s, data).await,
        "UnbondingDelegation" => unbonding_delegation(s, data).await,
        "DelegatorUnbondingDelegations" => delegator_unbondings(s, data).await,
        "Redelegations" => redelegations(s, data).await,
        "Pool" => pool(s).await,
        "Params" => params(s).await,
        _ => return None,
    })
}

/// A page of `items` per the request (offset in `key` as 8 bytes, or `offset`), with the
/// response's `next_key` and `total`.
fn page<T>(items: Vec<T>, request: Option<&PageRequest>) -> (Vec<T>, Option<PageResponse>) {
    let total = items.len();
    let (offset, limit) = match request {
        None => (0, MAX_PAGE),
        Some(p) => {
            let from_key = <[u8; 8]>::try_from(p.key.as_slice())
                .map(|k| u64::from_be_bytes(k) as usize)
                .ok();
            let offset = from_key.unwrap_or(p.offset as usize);
            let limit = if p.limit == 0 {
                MAX_PAGE
            } else {
                (p.limit as usize).min(MAX_PAGE)
            };
            (offset, limit)
        }
    };
    let shown: Vec<T> = items.into_iter().skip(offset).take(limit).collect();
    let next = offset + shown.len();
    let response = PageResponse {
        next_key: if next < total {
            (next as u64).to_be_bytes().to_vec()
        } else {
            Vec::new()
        },
        total: total as u64,
    };
    (shown, Some(response))
}

async fn all_validators<S: StateScan>(s: &S) -> Result<Vec<Validator>, ExecError> {
    let mut out = Vec::new();
    for op in state::operators(&mut Unmetered(s)).await? {
        out.push(state::require_validator(&mut Unmetered(s), &op).await?);
    }
    Ok(out)
}

async fn validators<S: StateScan>(
    s: &S,
    req: Option<pb::QueryValidatorsRequest>,
) -> Result<Vec<u8>, ExecError> {
    let req = req.ok_or_else(|| ExecError::decode("invalid QueryValidatorsRequest"))?;
    let wanted = match req.status.as_str() {
        "" => None,
        other => Some(
            pb::BondStatus::from_str_name(other)
                .ok_or_else(|| ExecError::invalid_request(format!("unknown status {other:?}")))?
                as i32,
        ),
    };
    let list: Vec<pb::Validator> = all_validators(s)
        .await?
        .iter()
        .map(Validator::to_proto)
        .filter(|v| wanted.is_none_or(|w| v.status == w))
        .collect();
    let (validators, pagination) = page(list, req.pagination.as_ref());
    Ok(pb::QueryValidatorsResponse {
        validators,
        pagination,
    }
    .encode_to_vec())
}

async fn validator<S: StateScan>(s: &S, data: &[u8]) -> Result<Vec<u8>, ExecError> {
    let req: pb::QueryValidatorRequest = decode(data)?;
    let op = state::parse_valoper(&req.validator_addr)?;
    let v = state::get_validator(&mut Unmetered(s), &op)
        .await?
        .ok_or_else(|| not_found(format!("validator {} not found", req.validator_addr)))?;
    Ok(pb::QueryValidatorResponse {
        validator: Some(v.to_proto()),
    }
    .encode_to_vec())
}

fn not_found(message: String) -> ExecError {
    ExecError::Tx(caspur_types::TxError {
        code: caspur_types::ErrorCode::KeyNotFound,
        message,
    })
}

/// One delegation with its token balance.
async fn delegation_response<S: StateScan>(
    s: &S,
    delegator: &Address,
    op: &Address,
) -> Result<Option<pb::DelegationResponse>, ExecError> {
    let shares = state::get_shares(&mut Unmetered(s), delegator, op).await?;
    if shares.is_zero() {
        return Ok(None);
    }
    let v = state::require_validator(&mut Unmetered(s), op).await?;
    let denom = state::get_params(&mut Unmetered(s)).await?.bond_denom;
    Ok(Some(pb::DelegationResponse {
        delegation: Some(pb::Delegation {
            delegator_address: delegator.to_account_string(),
            validator_address: state::valoper(op),
            shares: shares.atomics().to_string(),
        }),
        balance: Some(Coin::new(denom, tokens_for(&v, shares)?).to_proto()),
    }))
}

async fn delegation<S: StateScan>(s: &S, data: &[u8]) -> Result<Vec<u8>, ExecError> {
    let req: pb::QueryDelegationRequest = decode(data)?;
    let delegator = Address::parse_account(&req.delegator_addr)?;
    let op = state::parse_valoper(&req.validator_addr)?;
    let response = delegation_response(s, &delegator, &op)
        .await?
        .ok_or_else(|| {
            not_found(format!(
                "delegation with delegator {} not found for validator {}",
                req.delegator_addr, req.validator_addr
            ))
        })?;
    Ok(pb::QueryDelegationResponse {
        delegation_response: Some(response),
    }
    .encode_to_vec())
}

/// The second address of every key `prefix ‖ first ‖ second` under `first`.
async fn second_addresses<S: StateScan>(
    s: &S,
    prefix: &[u8; 2],
    first: &Address,
) -> Result<Vec<Address>, ExecError> {
    let rows = s
        .scan_prefix(&key(prefix, &[&first.0]), MAX_PAGE * 10)
        .await
        .map_err(store_err)?;
    rows.iter()
        .map(|(k, _)| {
            let p = parts(prefix, k).ok_or_else(|| ExecError::logic("corrupt staking key"))?;
            let bytes: [u8; 20] = p
                .get(1)
                .and_then(|b| (*b).try_into().ok())
                .ok_or_else(|| ExecError::logic("corrupt staking key"))?;
            Ok(Address(bytes))
        })
        .collect()
}

async fn validator_delegations<S: StateScan>(s: &S, data: &[u8]) -> Result<Vec<u8>, ExecError> {
    let req: pb::QueryValidatorDelegationsRequest = decode(data)?;
    let op = state::parse_valoper(&req.validator_addr)?;
    let mut list = Vec::new();
    for delegator in second_addresses(s, &state::DELEGATORS_OF, &op).await? {
        list.extend(delegation_response(s, &delegator, &op).await?);
    }
    let (delegation_responses, pagination) = page(list, req.pagination.as_ref());
    Ok(pb::QueryValidatorDelegationsResponse {
        delegation_responses,
        pagination,
    }
    .encode_to_vec())
}

async fn delegator_delegations<S: StateScan>(s: &S, data: &[u8]) -> Result<Vec<u8>, ExecError> {
    let req: pb::QueryDelegatorDelegationsRequest = decode(data)?;
    let delegator = Address::parse_account(&req.delegator_addr)?;
    let mut list = Vec::new();
    for op in second_addresses(s, &state::DELEGATION, &delegator).await? {
        list.extend(delegation_response(s, &delegator, &op).await?);
    }
    let (delegation_responses, pagination) = page(list, req.pagination.as_ref());
    Ok(pb::QueryDelegatorDelegationsResponse {
        delegation_responses,
        pagination,
    }
    .encode_to_vec())
}

async fn unbonding_record<S: StateScan>(
    s: &S,
    delegator: &Address,
    op: &Address,
) -> Result<Option<pb::UnbondingDelegation>, ExecError> {
    let bytes = s
        .get(&key(&state::UNBONDING, &[&delegator.0, &op.0]))
        .await
        .map_err(store_err)?;
    bytes
        .map(|b| {
            pb::UnbondingDelegation::decode(b.as_slice())
                .map_err(|_| ExecError::logic("corrupt unbonding delegation"))
        })
        .transpose()
}

async fn unbonding_delegation<S: StateScan>(s: &S, data: &[u8]) -> Result<Vec<u8>, ExecError> {
    let req: pb::QueryUnbondingDelegationRequest = decode(data)?;
    let delegator = Address::parse_account(&req.delegator_addr)?;
    let op = state::parse_valoper(&req.validator_addr)?;
    let unbond = unbonding_record(s, &delegator, &op).await?.ok_or_else(|| {
        not_found(format!(
            "unbonding delegation with delegator {} not found for validator {}",
            req.delegator_addr, req.validator_addr
        ))
    })?;
    Ok(pb::QueryUnbondingDelegationResponse {
        unbond: Some(unbond),
    }
    .encode_to_vec())
}

async fn delegator_unbondings<S: StateScan>(s: &S, data: &[u8]) -> Result<Vec<u8>, ExecError> {
    let req: pb::QueryDelegatorUnbondingDelegationsRequest = decode(data)?;
    let delegator = Address::parse_account(&req.delegator_addr)?;
    let mut list = Vec::new();
    for op in second_addresses(s, &state::UNBONDING, &delegator).await? {
        list.extend(unbonding_record(s, &delegator, &op).await?);
    }
    let (unbonding_responses, pagination) = page(list, req.pagination.as_ref());
    Ok(pb::QueryDelegatorUnbondingDelegationsResponse {
        unbonding_responses,
        pagination,
    }
    .encode_to_vec())
}

async fn redelegations<S: StateScan>(s: &S, data: &[u8]) -> Result<Vec<u8>, ExecError> {
    let req: pb::QueryRedelegationsRequest = decode(data)?;
    let delegator = Address::parse_account(&req.delegator_addr)?;
    let mut prefix_parts: Vec<Vec<u8>> = vec![delegator.0.to_vec()];
    if !req.src_validator_addr.is_empty() {
        prefix_parts.push(state::parse_valoper(&req.src_validator_addr)?.0.to_vec());
        if !req.dst_validator_addr.is_empty() {
            prefix_parts.push(state::parse_valoper(&req.dst_validator_addr)?.0.to_vec());
        }
    }
    let refs: Vec<&[u8]> = prefix_parts.iter().map(Vec::as_slice).collect();
    let rows = s
        .scan_prefix(&key(&state::REDELEGATION, &refs), MAX_PAGE)
        .await
        .map_err(store_err)?;
    let mut list = Vec::new();
    for (_, v) in rows {
        let r = pb::Redelegation::decode(v.as_slice())
            .map_err(|_| ExecError::logic("corrupt redelegation"))?;
        let entries = r
            .entries
            .iter()
            .map(|e| pb::RedelegationEntryResponse {
                redelegation_entry: Some(e.clone()),
                balance: e.initial_balance.clone(),
            })
            .collect();
        list.push(pb::RedelegationResponse {
            redelegation: Some(r),
            entries,
        });
    }
    let (redelegation_responses, pagination) = page(list, req.pagination.as_ref());
    Ok(pb::QueryRedelegationsResponse {
        redelegation_responses,
        pagination,
    }
    .encode_to_vec())
}

/// The staking pools in the bond denom, with its total supply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolTokens {
    /// Tokens bonded to validators.
    pub bonded: u128,
    /// Tokens delegated but not bonded (unbonding, or to validators outside the set).
    pub not_bonded: u128,
    /// Total supply of the bond denom.
    pub supply: u128,
}

/// Reads [`PoolTokens`].
pub async fn pool_tokens<S: StateScan>(s: &S) -> Result<PoolTokens, ExecError> {
    use crate::modules::bank::state as bank;
    let denom = state::get_params(&mut Unmetered(s)).await?.bond_denom;
    let balance = async |a: Address| bank::get_balance(&mut Unmetered(s), &a, &denom).await;
    Ok(PoolTokens {
        bonded: balance(bonded_pool()).await?,
        not_bonded: balance(not_bonded_pool()).await?,
        supply: bank::get_supply(&mut Unmetered(s), &denom).await?,
    })
}

async fn pool<S: StateScan>(s: &S) -> Result<Vec<u8>, ExecError> {
    let tokens = pool_tokens(s).await?;
    Ok(pb::QueryPoolResponse {
        pool: Some(pb::Pool {
            bonded_tokens: tokens.bonded.to_string(),
            not_bonded_tokens: tokens.not_bonded.to_string(),
        }),
    }
    .encode_to_vec())
}

async fn params<S: StateScan>(s: &S) -> Result<Vec<u8>, ExecError> {
    let p = state::get_params(&mut Unmetered(s)).await?;
    Ok(pb::QueryParamsResponse {
        params: Some(pb::Params {
            unbonding_time: Some(Duration {
                seconds: p.unbonding_time_secs as i64,
                nanos: 0,
            }),
            max_validators: p.max_validators,
            max_entries: p.max_entries,
            historical_entries: 0,
            bond_denom: p.bond_denom.clone(),
            min_commission_rate: p.min_commission()?.atomics().to_string(),
        }),
    }
    .encode_to_vec())
}
