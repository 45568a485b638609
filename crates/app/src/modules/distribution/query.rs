//! `distribution` queries (`cosmos.distribution.v1beta1.Query`): params, community pool,
//! a delegation's rewards, a delegator's total rewards, a validator's commission. Amounts are
//! `DecCoin`s (their `amount` is a decimal in atomic form, as the SDK's protobuf carries it).

use super::{rewards, state};
use crate::context::Unmetered;
use crate::error::ExecError;
use crate::modules::staking::state as staking;
use crate::query::decode_request as decode;
use caspur_store::StateScan;
use caspur_types::{Address, Dec};
use cosmos_sdk_proto::cosmos::base::v1beta1::DecCoin;
use cosmos_sdk_proto::cosmos::distribution::v1beta1 as pb;
use prost::Message;

/// The service's path prefix.
pub const PREFIX: &str = "/cosmos.distribution.v1beta1.Query/";

fn dec_coins(denom: &str, amount: u128) -> Result<Vec<DecCoin>, ExecError> {
    if amount == 0 {
        return Ok(Vec::new());
    }
    let d = Dec::from_int(amount).ok_or_else(|| ExecError::logic("amount overflow"))?;
    Ok(vec![DecCoin {
        denom: denom.to_string(),
        amount: d.atomics().to_string(),
    }])
}

/// Answers `path` if it is a distribution query (`None` otherwise).
pub async fn route<S: StateScan>(
    s: &S,
    path: &str,
    data: &[u8],
) -> Option<Result<Vec<u8>, ExecError>> {
    let method = path.strip_prefix(PREFIX)?;
    answer(s, method, data).await.transpose()
}

async fn answer<S: StateScan>(
    s: &S,
    method: &str,
    data: &[u8],
) -> Result<Option<Vec<u8>>, ExecError> {
    let mut kv = Unmetered(s);
    let denom = staking::get_params(&mut kv).await?.bond_denom;
    Ok(Some(match method {
        "Params" => {
            let p = state::get_params(&mut kv).await?;
            #[allow(deprecated)]
            let params = pb::Params {
                community_tax: p.tax()?.atomics().to_string(),
                base_proposer_reward: "0".into(),
                bonus_proposer_reward: "0".into(),
                withdraw_addr_enabled: false,
            };
            pb::QueryParamsResponse {
                params: Some(params),
            }
            .encode_to_vec()
        }
        "CommunityPool" => pb::QueryCommunityPoolResponse {
            pool: dec_coins(&denom, state::community_pool(&mut kv).await?)?,
        }
        .encode_to_vec(),
        "DelegationRewards" => {
            let req: pb::QueryDelegationRewardsRequest = decode(data)?;
            let delegator = Address::parse_account(&req.delegator_address)?;
            let op = staking::parse_valoper(&req.validator_address)?;
            pb::QueryDelegationRewardsResponse {
                rewards: dec_coins(&denom, rewards::pending(&mut kv, &delegator, &op).await?)?,
            }
            .encode_to_vec()
        }
        "DelegationTotalRewards" => {
            let req: pb::QueryDelegationTotalRewardsRequest = decode(data)?;
            let delegator = Address::parse_account(&req.delegator_address)?;
            let mut list = Vec::new();
            let mut total = 0u128;
            for op in staking::delegated_to(&mut kv, &delegator).await? {
                let amount = rewards::pending(&mut kv, &delegator, &op).await?;
                total += amount;
                list.push(pb::DelegationDelegatorReward {
                    validator_address: staking::valoper(&op),
                    reward: dec_coins(&denom, amount)?,
                });
            }
            pb::QueryDelegationTotalRewardsResponse {
                rewards: list,
                total: dec_coins(&denom, total)?,
            }
            .encode_to_vec()
        }
        "ValidatorCommission" => {
            let req: pb::QueryValidatorCommissionRequest = decode(data)?;
            let op = staking::parse_valoper(&req.validator_address)?;
            pb::QueryValidatorCommissionResponse {
                commission: Some(pb::ValidatorAccumulatedCommission {
                    commission: dec_coins(&denom, state::commission(&mut kv, &op).await?)?,
                }),
            }
            .encode_to_vec()
        }
        _ => return Ok(None),
    }))
}
