//! `tx staking …` and `query staking …`, in the Cosmos SDK CLI's shapes: amounts like
//! `1000000ucsp`, validators as `caspurvaloper1…`, decimals printed with 18 digits.

use crate::client::Client;
use crate::commands::{positive_coins, TxContext};
use crate::home::{Home, ValidatorKeyFile};
use anyhow::{anyhow, bail, Context, Result};
use caspur_app::modules::staking::state::{parse_valoper, valoper, ED25519_KEY_URL};
use caspur_types::sign::to_any;
use caspur_types::{Address, Dec};
use clap::Subcommand;
use cosmos_sdk_proto::cosmos::staking::v1beta1 as pb;
use prost::Message;
use serde_json::{json, Value};

/// `tx staking …`.
#[derive(Subcommand)]
pub enum StakingTx {
    /// Delegate: `delegate <validator> <amount> --from <key>`.
    Delegate {
        /// Validator (`caspurvaloper1…`).
        validator: String,
        /// Amount, e.g. 1000000ucsp.
        amount: String,
        /// Delegator key.
        #[arg(long)]
        from: String,
    },
    /// Undelegate; the tokens pay out after the unbonding time.
    Unbond {
        /// Validator.
        validator: String,
        /// Amount.
        amount: String,
        /// Delegator key.
        #[arg(long)]
        from: String,
    },
    /// Move a delegation to another validator.
    Redelegate {
        /// Source validator.
        src: String,
        /// Destination validator.
        dst: String,
        /// Amount.
        amount: String,
        /// Delegator key.
        #[arg(long)]
        from: String,
    },
    /// Put an immature unbonding entry back into the delegation.
    CancelUnbond {
        /// Validator.
        validator: String,
        /// Amount.
        amount: String,
        /// Height the unbonding entry was created at.
        creation_height: u64,
        /// Delegator key.
        #[arg(long)]
        from: String,
    },
    /// Register the key `--from` as a validator operator with a self-delegation.
    CreateValidator {
        /// Self-delegation, e.g. 10000000ucsp.
        #[arg(long)]
        amount: String,
        /// Hex ed25519 consensus key (default: this home's validator key).
        #[arg(long)]
        pubkey: Option<String>,
        /// Moniker.
        #[arg(long)]
        moniker: String,
        /// Commission rate.
        #[arg(long, default_value = "0.1")]
        commission_rate: String,
        /// Highest commission rate ever allowed.
        #[arg(long, default_value = "0.2")]
        commission_max_rate: String,
        /// Largest daily change of the commission rate.
        #[arg(long, default_value = "0.01")]
        commission_max_change_rate: String,
        /// Least self-delegation the operator keeps (below it the validator is jailed).
        #[arg(long, default_value = "1")]
        min_self_delegation: String,
        /// Operator key.
        #[arg(long)]
        from: String,
    },
    /// Change a validator's moniker, commission rate or minimum self-delegation.
    EditValidator {
        /// New moniker.
        #[arg(long)]
        moniker: Option<String>,
        /// New commission rate.
        #[arg(long)]
        commission_rate: Option<String>,
        /// New (higher) minimum self-delegation.
        #[arg(long)]
        min_self_delegation: Option<String>,
        /// Operator key.
        #[arg(long)]
        from: String,
    },
}

/// `query staking …`.
#[derive(Subcommand)]
pub enum StakingQuery {
    /// All validators.
    Validators,
    /// One validator.
    Validator {
        /// `caspurvaloper1…`.
        validator: String,
    },
    /// One delegation.
    Delegation {
        /// Delegator.
        delegator: String,
        /// Validator.
        validator: String,
    },
    /// A delegator's delegations.
    Delegations {
        /// Delegator.
        delegator: String,
    },
    /// A delegator's unbonding delegations.
    UnbondingDelegations {
        /// Delegator.
        delegator: String,
    },
    /// A delegator's redelegations.
    Redelegations {
        /// Delegator.
        delegator: String,
    },
    /// Bonded and not-bonded tokens.
    Pool,
    /// Staking parameters.
    Params,
}

/// The single bond-denom coin of `amount`.
fn stake(amount: &str) -> Result<cosmos_sdk_proto::cosmos::base::v1beta1::Coin> {
    let coins = positive_coins(amount)?;
    match coins.as_slice() {
        [c] => Ok(c.to_proto()),
        _ => bail!("stake one denom, e.g. 1000000ucsp"),
    }
}

fn valoper_arg(s: &str) -> Result<Address> {
    parse_valoper(s).map_err(|e| anyhow!("validator: {}", e.message))
}

fn atomics(decimal: &str, what: &str) -> Result<String> {
    let d: Dec = decimal
        .parse()
        .map_err(|e: caspur_types::TxError| anyhow!("{what}: {}", e.message))?;
    Ok(d.atomics().to_string())
}

/// Runs a staking tx command.
pub fn tx(ctx: &TxContext<'_>, home: &Home, cmd: StakingTx) -> Result<Value> {
    match cmd {
        StakingTx::Delegate {
            validator,
            amount,
            from,
        } => {
            let (op, amount) = (valoper_arg(&validator)?, stake(&amount)?);
            ctx.send(&from, |me| {
                Ok(vec![to_any(
                    "/cosmos.staking.v1beta1.MsgDelegate",
                    &pb::MsgDelegate {
                        delegator_address: me.to_string(),
                        validator_address: valoper(&op),
                        amount: Some(amount),
                    },
                )])
            })
        }
        StakingTx::Unbond {
            validator,
            amount,
            from,
        } => {
            let (op, amount) = (valoper_arg(&validator)?, stake(&amount)?);
            ctx.send(&from, |me| {
                Ok(vec![to_any(
                    "/cosmos.staking.v1beta1.MsgUndelegate",
                    &pb::MsgUndelegate {
                        delegator_address: me.to_string(),
                        validator_address: valoper(&op),
                        amount: Some(amount),
                    },
                )])
            })
        }
        StakingTx::Redelegate {
            src,
            dst,
            amount,
            from,
        } => {
            let (src, dst, amount) = (valoper_arg(&src)?, valoper_arg(&dst)?, stake(&amount)?);
            ctx.send(&from, |me| {
                Ok(vec![to_any(
                    "/cosmos.staking.v1beta1.MsgBeginRedelegate",
                    &pb::MsgBeginRedelegate {
                        delegator_address: me.to_string(),
                        validator_src_address: valoper(&src),
                        validator_dst_address: valoper(&dst),
                        amount: Some(amount),
                    },
                )])
            })
        }
        StakingTx::CancelUnbond {
            validator,
            amount,
            creation_height,
            from,
        } => {
            let (op, amount) = (valoper_arg(&validator)?, stake(&amount)?);
            ctx.send(&from, |me| {
                Ok(vec![to_any(
                    "/cosmos.staking.v1beta1.MsgCancelUnbondingDelegation",
                    &pb::MsgCancelUnbondingDelegation {
                        delegator_address: me.to_string(),
                        validator_address: valoper(&op),
                        amount: Some(amount),
                        creation_height: creation_height as i64,
                    },
                )])
            })
        }
        StakingTx::CreateValidator {
            amount,
            pubkey,
            moniker,
            commission_rate,
            commission_max_rate,
            commission_max_change_rate,
            min_self_delegation,
            from,
        } => {
            let key = match pubkey {
                Some(h) => hex::decode(h.trim()).context("--pubkey must be hex")?,
                None => {
                    let file: ValidatorKeyFile = crate::home::read_json(&home.validator_key())
                        .context("no --pubkey given and this home has no validator key")?;
                    file.public()?.to_vec()
                }
            };
            if key.len() != 32 {
                bail!("the consensus key must be 32 bytes of ed25519");
            }
            let rates = pb::CommissionRates {
                rate: atomics(&commission_rate, "--commission-rate")?,
                max_rate: atomics(&commission_max_rate, "--commission-max-rate")?,
                max_change_rate: atomics(
                    &commission_max_change_rate,
                    "--commission-max-change-rate",
                )?,
            };
            let amount = stake(&amount)?;
            ctx.send(&from, |me| {
                #[allow(deprecated)]
                let msg = pb::MsgCreateValidator {
                    description: Some(pb::Description {
                        moniker,
                        ..Default::default()
                    }),
                    commission: Some(rates),
                    min_self_delegation,
                    delegator_address: String::new(),
                    validator_address: valoper(me),
                    pubkey: Some(cosmos_sdk_proto::Any {
                        type_url: ED25519_KEY_URL.into(),
                        value: cosmos_sdk_proto::cosmos::crypto::ed25519::PubKey { key }
                            .encode_to_vec(),
                    }),
                    value: Some(amount),
                };
                Ok(vec![to_any(
                    "/cosmos.staking.v1beta1.MsgCreateValidator",
                    &msg,
                )])
            })
        }
        StakingTx::EditValidator {
            moniker,
            commission_rate,
            min_self_delegation,
            from,
        } => {
            let rate = commission_rate
                .map(|r| atomics(&r, "--commission-rate"))
                .transpose()?;
            ctx.send(&from, |me| {
                let keep = || "[do-not-modify]".to_string();
                let msg = pb::MsgEditValidator {
                    description: Some(pb::Description {
                        moniker: moniker.unwrap_or_else(keep),
                        identity: keep(),
                        website: keep(),
                        security_contact: keep(),
                        details: keep(),
                    }),
                    validator_address: valoper(me),
                    commission_rate: rate.unwrap_or_default(),
                    min_self_delegation: min_self_delegation.unwrap_or_default(),
                };
                Ok(vec![to_any(
                    "/cosmos.staking.v1beta1.MsgEditValidator",
                    &msg,
                )])
            })
        }
    }
}

/// A LegacyDec's atomics as the SDK prints decimals (`"1.500000000000000000"`).
fn dec(atomics: &str) -> String {
    atomics
        .parse::<u128>()
        .map(|a| Dec::from_atomics(a).to_string())
        .unwrap_or_else(|_| atomics.to_string())
}

fn time(t: &Option<cosmos_sdk_proto::tendermint::google::protobuf::Timestamp>) -> String {
    caspur_app::modules::staking::rfc3339(caspur_app::modules::staking::state::millis(t))
}

fn validator_json(v: &pb::Validator) -> Value {
    let rates = v
        .commission
        .as_ref()
        .and_then(|c| c.commission_rates.clone())
        .unwrap_or_default();
    let status = pb::BondStatus::try_from(v.status)
        .map(|s| s.as_str_name())
        .unwrap_or("BOND_STATUS_UNSPECIFIED");
    let key = v
        .consensus_pubkey
        .as_ref()
        .and_then(|k| {
            cosmos_sdk_proto::cosmos::crypto::ed25519::PubKey::decode(k.value.as_slice()).ok()
        })
        .map(|k| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, k.key));
    json!({
        "operator_address": v.operator_address,
        "consensus_pubkey": {"@type": ED25519_KEY_URL, "key": key},
        "jailed": v.jailed,
        "status": status,
        "tokens": v.tokens,
        "delegator_shares": dec(&v.delegator_shares),
        "description": v.description.as_ref().map(|d| json!({
            "moniker": d.moniker, "identity": d.identity, "website": d.website,
            "security_contact": d.security_contact, "details": d.details,
        })),
        "unbonding_height": v.unbonding_height.to_string(),
        "unbonding_time": time(&v.unbonding_time),
        "commission": {
            "commission_rates": {
                "rate": dec(&rates.rate),
                "max_rate": dec(&rates.max_rate),
                "max_change_rate": dec(&rates.max_change_rate),
            },
            "update_time": time(&v.commission.as_ref().and_then(|c| c.update_time)),
        },
        "min_self_delegation": v.min_self_delegation,
    })
}

fn delegation_json(d: &pb::DelegationResponse) -> Value {
    let del = d.delegation.clone().unwrap_or_default();
    let balance = d.balance.clone().unwrap_or_default();
    json!({
        "delegation": {
            "delegator_address": del.delegator_address,
            "validator_address": del.validator_address,
            "shares": dec(&del.shares),
        },
        "balance": {"denom": balance.denom, "amount": balance.amount},
    })
}

fn unbonding_json(u: &pb::UnbondingDelegation) -> Value {
    json!({
        "delegator_address": u.delegator_address,
        "validator_address": u.validator_address,
        "entries": u.entries.iter().map(|e| json!({
            "creation_height": e.creation_height.to_string(),
            "completion_time": time(&e.completion_time),
            "initial_balance": e.initial_balance,
            "balance": e.balance,
        })).collect::<Vec<_>>(),
    })
}

fn ask<Req: Message, Resp: Message + Default>(
    client: &Client,
    method: &str,
    req: &Req,
) -> Result<Resp> {
    let bytes = client.query(&format!("/cosmos.staking.v1beta1.Query/{method}"), req)?;
    Resp::decode(bytes.as_slice()).with_context(|| format!("bad {method} response"))
}

fn account_arg(s: &str) -> Result<String> {
    Address::parse_account(s).map_err(|e| anyhow!("delegator: {}", e.message))?;
    Ok(s.to_string())
}

/// Runs a staking query.
pub fn query(client: &Client, cmd: StakingQuery) -> Result<Value> {
    Ok(match cmd {
        StakingQuery::Validators => {
            let r: pb::QueryValidatorsResponse =
                ask(client, "Validators", &pb::QueryValidatorsRequest::default())?;
            json!({"validators": r.validators.iter().map(validator_json).collect::<Vec<_>>()})
        }
        StakingQuery::Validator { validator } => {
            valoper_arg(&validator)?;
            let r: pb::QueryValidatorResponse = ask(
                client,
                "Validator",
                &pb::QueryValidatorRequest {
                    validator_addr: validator,
                },
            )?;
            json!({"validator": r.validator.as_ref().map(validator_json)})
        }
        StakingQuery::Delegation {
            delegator,
            validator,
        } => {
            valoper_arg(&validator)?;
            let r: pb::QueryDelegationResponse = ask(
                client,
                "Delegation",
                &pb::QueryDelegationRequest {
                    delegator_addr: account_arg(&delegator)?,
                    validator_addr: validator,
                },
            )?;
            json!({"delegation_response": r.delegation_response.as_ref().map(delegation_json)})
        }
        StakingQuery::Delegations { delegator } => {
            let r: pb::QueryDelegatorDelegationsResponse = ask(
                client,
                "DelegatorDelegations",
                &pb::QueryDelegatorDelegationsRequest {
                    delegator_addr: account_arg(&delegator)?,
                    pagination: None,
                },
            )?;
            json!({"delegation_responses": r.delegation_responses.iter().map(delegation_json).collect::<Vec<_>>()})
        }
        StakingQuery::UnbondingDelegations { delegator } => {
            let r: pb::QueryDelegatorUnbondingDelegationsResponse = ask(
                client,
                "DelegatorUnbondingDelegations",
                &pb::QueryDelegatorUnbondingDelegationsRequest {
                    delegator_addr: account_arg(&delegator)?,
                    pagination: None,
                },
            )?;
            json!({"unbonding_responses": r.unbonding_responses.iter().map(unbonding_json).collect::<Vec<_>>()})
        }
        StakingQuery::Redelegations { delegator } => {
            let r: pb::QueryRedelegationsResponse = ask(
                client,
                "Redelegations",
                &pb::QueryRedelegationsRequest {
                    delegator_addr: account_arg(&delegator)?,
                    ..Default::default()
                },
            )?;
            let list: Vec<Value> = r
                .redelegation_responses
                .iter()
                .filter_map(|r| r.redelegation.as_ref())
                .map(|r| {
                    json!({
                        "delegator_address": r.delegator_address,
                        "validator_src_address": r.validator_src_address,
                        "validator_dst_address": r.validator_dst_address,
                        "entries": r.entries.iter().map(|e| json!({
                            "creation_height": e.creation_height.to_string(),
                            "completion_time": time(&e.completion_time),
                            "initial_balance": e.initial_balance,
                            "shares_dst": dec(&e.shares_dst),
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            json!({"redelegation_responses": list})
        }
        StakingQuery::Pool => {
            let r: pb::QueryPoolResponse = ask(client, "Pool", &pb::QueryPoolRequest {})?;
            let p = r.pool.unwrap_or_default();
            json!({"pool": {"bonded_tokens": p.bonded_tokens, "not_bonded_tokens": p.not_bonded_tokens}})
        }
        StakingQuery::Params => {
            let r: pb::QueryParamsResponse = ask(client, "Params", &pb::QueryParamsRequest {})?;
            let p = r.params.unwrap_or_default();
            let unbonding = p.unbonding_time.map_or(0, |d| d.seconds);
            json!({"params": {
                "unbonding_time": format!("{unbonding}s"),
                "max_validators": p.max_validators,
                "max_entries": p.max_entries,
                "historical_entries": p.historical_entries,
                "bond_denom": p.bond_denom,
                "min_commission_rate": dec(&p.min_commission_rate),
            }})
        }
    })
}
