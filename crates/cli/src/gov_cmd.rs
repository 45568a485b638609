//! `tx gov …`, `query gov …`, `tx distribution …` and `query distribution …`.
//!
//! A proposal file is the Cosmos SDK's JSON shape:
//! `{"messages": [{"@type": "/cosmos.staking.v1beta1.MsgUpdateParams", "authority": "caspur1…",
//! "params": {…}}], "deposit": "10000000ucsp", "title": "…", "summary": "…", "expedited": false}`.

use crate::client::Client;
use crate::commands::{positive_coins, TxContext};
use anyhow::{anyhow, bail, Context, Result};
use caspur_app::modules::gov::state::gov_address;
use caspur_app::modules::staking::state::{parse_valoper, valoper};
use caspur_types::sign::to_any;
use caspur_types::{Address, Dec};
use clap::Subcommand;
use cosmos_sdk_proto::cosmos::distribution::v1beta1 as dist;
use cosmos_sdk_proto::cosmos::gov::v1 as gov;
use prost::Message;
use serde_json::{json, Value};
use std::path::PathBuf;

/// `tx gov …`.
#[derive(Subcommand)]
pub enum GovTx {
    /// Submit a proposal from a JSON file (see `docs/governance.md`).
    SubmitProposal {
        /// The proposal file.
        file: PathBuf,
        /// Proposer key.
        #[arg(long)]
        from: String,
    },
    /// Add to a proposal's deposit.
    Deposit {
        /// Proposal id.
        id: u64,
        /// Amount, e.g. 10000000ucsp.
        amount: String,
        /// Depositor key.
        #[arg(long)]
        from: String,
    },
    /// Vote `yes`, `no`, `abstain` or `no_with_veto`.
    Vote {
        /// Proposal id.
        id: u64,
        /// The option.
        option: String,
        /// Voter key.
        #[arg(long)]
        from: String,
    },
}

/// `query gov …`.
#[derive(Subcommand)]
pub enum GovQuery {
    /// All proposals.
    Proposals,
    /// One proposal.
    Proposal {
        /// Proposal id.
        id: u64,
    },
    /// A proposal's tally (live while voting).
    Tally {
        /// Proposal id.
        id: u64,
    },
    /// Governance parameters.
    Params,
    /// The gov module account: the `authority` of every `MsgUpdateParams`.
    Authority,
}

/// `tx distribution …`.
#[derive(Subcommand)]
pub enum DistributionTx {
    /// Withdraw a delegation's rewards.
    WithdrawRewards {
        /// Validator (`caspurvaloper1…`).
        validator: String,
        /// Delegator key.
        #[arg(long)]
        from: String,
    },
    /// Withdraw the commission of the validator `--from` operates.
    WithdrawCommission {
        /// Operator key.
        #[arg(long)]
        from: String,
    },
    /// Add to the community pool.
    FundCommunityPool {
        /// Amount.
        amount: String,
        /// Funder key.
        #[arg(long)]
        from: String,
    },
}

/// `tx slashing …`.
#[derive(Subcommand)]
pub enum SlashingTx {
    /// Return the validator `--from` operates from jail (after its jail time).
    Unjail {
        /// Operator key.
        #[arg(long)]
        from: String,
    },
}

/// Runs a slashing tx command.
pub fn slashing_tx(ctx: &TxContext<'_>, cmd: SlashingTx) -> Result<Value> {
    match cmd {
        SlashingTx::Unjail { from } => ctx.send(&from, |me| {
            Ok(vec![to_any(
                "/cosmos.slashing.v1beta1.MsgUnjail",
                &cosmos_sdk_proto::cosmos::slashing::v1beta1::MsgUnjail {
                    validator_addr: valoper(me),
                },
            )])
        }),
    }
}

/// `query distribution …`.
#[derive(Subcommand)]
pub enum DistributionQuery {
    /// A delegator's pending rewards, per validator and in total.
    Rewards {
        /// Delegator.
        delegator: String,
    },
    /// The community pool.
    CommunityPool,
    /// A validator's unwithdrawn commission.
    Commission {
        /// Validator.
        validator: String,
    },
}

fn vote_option(s: &str) -> Result<gov::VoteOption> {
    Ok(match s.to_ascii_lowercase().as_str() {
        "yes" => gov::VoteOption::Yes,
        "no" => gov::VoteOption::No,
        "abstain" => gov::VoteOption::Abstain,
        "no_with_veto" | "nowithveto" | "veto" => gov::VoteOption::NoWithVeto,
        other => bail!("vote option must be yes, no, abstain or no_with_veto, not {other:?}"),
    })
}

/// Runs a gov tx command.
pub fn gov_tx(ctx: &TxContext<'_>, cmd: GovTx) -> Result<Value> {
    match cmd {
        GovTx::SubmitProposal { file, from } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let doc: Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", file.display()))?;
            let messages = doc["messages"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .enumerate()
                .map(|(i, m)| {
                    caspur_app::msg_json::any_from_json(m)
                        .map_err(|e| anyhow!("proposal message {i}: {e}"))
                })
                .collect::<Result<Vec<_>>>()?;
            let deposit = match doc["deposit"].as_str() {
                Some(d) => positive_coins(d)?.to_proto(),
                None => Vec::new(),
            };
            let text_field = |k: &str| doc[k].as_str().unwrap_or_default().to_string();
            ctx.send(&from, |me| {
                Ok(vec![to_any(
                    "/cosmos.gov.v1.MsgSubmitProposal",
                    &gov::MsgSubmitProposal {
                        messages,
                        initial_deposit: deposit,
                        proposer: me.to_string(),
                        metadata: text_field("metadata"),
                        title: text_field("title"),
                        summary: text_field("summary"),
                        expedited: doc["expedited"].as_bool().unwrap_or(false),
                    },
                )])
            })
        }
        GovTx::Deposit { id, amount, from } => {
            let amount = positive_coins(&amount)?.to_proto();
            ctx.send(&from, |me| {
                Ok(vec![to_any(
                    "/cosmos.gov.v1.MsgDeposit",
                    &gov::MsgDeposit {
                        proposal_id: id,
                        depositor: me.to_string(),
                        amount,
                    },
                )])
            })
        }
        GovTx::Vote { id, option, from } => {
            let option = vote_option(&option)? as i32;
            ctx.send(&from, |me| {
                Ok(vec![to_any(
                    "/cosmos.gov.v1.MsgVote",
                    &gov::MsgVote {
                        proposal_id: id,
                        voter: me.to_string(),
                        option,
                        metadata: String::new(),
                    },
                )])
            })
        }
    }
}

fn ask<Req: Message, Resp: Message + Default>(
    client: &Client,
    path: &str,
    req: &Req,
) -> Result<Resp> {
    let bytes = client.query(path, req)?;
    Resp::decode(bytes.as_slice()).with_context(|| format!("bad {path} response"))
}

fn time(t: &Option<cosmos_sdk_proto::tendermint::google::protobuf::Timestamp>) -> Value {
    match t {
        None => Value::Null,
        Some(_) => json!(caspur_app::modules::staking::rfc3339(
            caspur_app::modules::staking::state::millis(t)
        )),
    }
}

fn tally_json(t: &gov::TallyResult) -> Value {
    json!({
        "yes_count": t.yes_count, "abstain_count": t.abstain_count,
        "no_count": t.no_count, "no_with_veto_count": t.no_with_veto_count,
    })
}

fn proposal_json(p: &gov::Proposal) -> Value {
    let status = gov::ProposalStatus::try_from(p.status)
        .map(|s| s.as_str_name())
        .unwrap_or("PROPOSAL_STATUS_UNSPECIFIED");
    json!({
        "id": p.id.to_string(),
        "messages": p.messages.iter().map(|m| json!({"@type": m.type_url})).collect::<Vec<_>>(),
        "status": status,
        "final_tally_result": p.final_tally_result.as_ref().map(tally_json),
        "submit_time": time(&p.submit_time),
        "deposit_end_time": time(&p.deposit_end_time),
        "total_deposit": p.total_deposit.iter().map(|c| json!({"denom": c.denom, "amount": c.amount})).collect::<Vec<_>>(),
        "voting_start_time": time(&p.voting_start_time),
        "voting_end_time": time(&p.voting_end_time),
        "metadata": p.metadata,
        "title": p.title,
        "summary": p.summary,
        "proposer": p.proposer,
        "expedited": p.expedited,
        "failed_reason": p.failed_reason,
    })
}

/// Runs a gov query.
pub fn gov_query(client: &Client, cmd: GovQuery) -> Result<Value> {
    Ok(match cmd {
        GovQuery::Proposals => {
            let r: gov::QueryProposalsResponse = ask(
                client,
                "/cosmos.gov.v1.Query/Proposals",
                &gov::QueryProposalsRequest::default(),
            )?;
            json!({"proposals": r.proposals.iter().map(proposal_json).collect::<Vec<_>>()})
        }
        GovQuery::Proposal { id } => {
            let r: gov::QueryProposalResponse = ask(
                client,
                "/cosmos.gov.v1.Query/Proposal",
                &gov::QueryProposalRequest { proposal_id: id },
            )?;
            json!({"proposal": r.proposal.as_ref().map(proposal_json)})
        }
        GovQuery::Tally { id } => {
            let r: gov::QueryTallyResultResponse = ask(
                client,
                "/cosmos.gov.v1.Query/TallyResult",
                &gov::QueryTallyResultRequest { proposal_id: id },
            )?;
            json!({"tally": r.tally.as_ref().map(tally_json)})
        }
        GovQuery::Params => {
            let r: gov::QueryParamsResponse = ask(
                client,
                "/cosmos.gov.v1.Query/Params",
                &gov::QueryParamsRequest::default(),
            )?;
            let p = r.params.unwrap_or_default();
            let duration = |d: &Option<
                cosmos_sdk_proto::tendermint::google::protobuf::Duration,
            >| { format!("{}s", d.as_ref().map_or(0, |d| d.seconds)) };
            let coins = |c: &[cosmos_sdk_proto::cosmos::base::v1beta1::Coin]| {
                c.iter()
                    .map(|c| json!({"denom": c.denom, "amount": c.amount}))
                    .collect::<Vec<_>>()
            };
            json!({"params": {
                "min_deposit": coins(&p.min_deposit),
                "expedited_min_deposit": coins(&p.expedited_min_deposit),
                "max_deposit_period": duration(&p.max_deposit_period),
                "voting_period": duration(&p.voting_period),
                "expedited_voting_period": duration(&p.expedited_voting_period),
                "quorum": p.quorum, "threshold": p.threshold, "veto_threshold": p.veto_threshold,
                "expedited_threshold": p.expedited_threshold,
                "min_initial_deposit_ratio": p.min_initial_deposit_ratio,
                "burn_vote_quorum": p.burn_vote_quorum,
                "burn_proposal_deposit_prevote": p.burn_proposal_deposit_prevote,
                "burn_vote_veto": p.burn_vote_veto,
            }})
        }
        GovQuery::Authority => json!({"authority": gov_address().to_string()}),
    })
}

/// Runs a distribution tx command.
pub fn distribution_tx(ctx: &TxContext<'_>, cmd: DistributionTx) -> Result<Value> {
    match cmd {
        DistributionTx::WithdrawRewards { validator, from } => {
            let op = parse_valoper(&validator).map_err(|e| anyhow!("validator: {}", e.message))?;
            ctx.send(&from, |me| {
                Ok(vec![to_any(
                    "/cosmos.distribution.v1beta1.MsgWithdrawDelegatorReward",
                    &dist::MsgWithdrawDelegatorReward {
                        delegator_address: me.to_string(),
                        validator_address: valoper(&op),
                    },
                )])
            })
        }
        DistributionTx::WithdrawCommission { from } => ctx.send(&from, |me| {
            Ok(vec![to_any(
                "/cosmos.distribution.v1beta1.MsgWithdrawValidatorCommission",
                &dist::MsgWithdrawValidatorCommission {
                    validator_address: valoper(me),
                },
            )])
        }),
        DistributionTx::FundCommunityPool { amount, from } => {
            let amount = positive_coins(&amount)?.to_proto();
            ctx.send(&from, |me| {
                Ok(vec![to_any(
                    "/cosmos.distribution.v1beta1.MsgFundCommunityPool",
                    &dist::MsgFundCommunityPool {
                        amount,
                        depositor: me.to_string(),
                    },
                )])
            })
        }
    }
}

/// DecCoins as the SDK CLI prints them (decimal amounts).
fn dec_coins(c: &[cosmos_sdk_proto::cosmos::base::v1beta1::DecCoin]) -> Value {
    json!(c
        .iter()
        .map(|c| {
            let amount = c
                .amount
                .parse::<u128>()
                .map(|a| Dec::from_atomics(a).to_string())
                .unwrap_or_else(|_| c.amount.clone());
            json!({"denom": c.denom, "amount": amount})
        })
        .collect::<Vec<_>>())
}

/// Runs a distribution query.
pub fn distribution_query(client: &Client, cmd: DistributionQuery) -> Result<Value> {
    Ok(match cmd {
        DistributionQuery::Rewards { delegator } => {
            Address::parse_account(&delegator).map_err(|e| anyhow!("delegator: {}", e.message))?;
            let r: dist::QueryDelegationTotalRewardsResponse = ask(
                client,
                "/cosmos.distribution.v1beta1.Query/DelegationTotalRewards",
                &dist::QueryDelegationTotalRewardsRequest {
                    delegator_address: delegator,
                },
            )?;
            json!({
                "rewards": r.rewards.iter().map(|x| json!({
                    "validator_address": x.validator_address,
                    "reward": dec_coins(&x.reward),
                })).collect::<Vec<_>>(),
                "total": dec_coins(&r.total),
            })
        }
        DistributionQuery::CommunityPool => {
            let r: dist::QueryCommunityPoolResponse = ask(
                client,
                "/cosmos.distribution.v1beta1.Query/CommunityPool",
                &dist::QueryCommunityPoolRequest {},
            )?;
            json!({"pool": dec_coins(&r.pool)})
        }
        DistributionQuery::Commission { validator } => {
            parse_valoper(&validator).map_err(|e| anyhow!("validator: {}", e.message))?;
            let r: dist::QueryValidatorCommissionResponse = ask(
                client,
                "/cosmos.distribution.v1beta1.Query/ValidatorCommission",
                &dist::QueryValidatorCommissionRequest {
                    validator_address: validator,
                },
            )?;
            json!({"commission": dec_coins(&r.commission.map(|c| c.commission).unwrap_or_default())})
        }
    })
}
