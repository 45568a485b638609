//! `tx dcert …` and `query dcert …`: the dCERT group's messages and queries (SPEC §2). The
//! governance-only messages (`MsgSlashDcertMember`, `MsgDissolveDcert`, `MsgUpdateParams`) go
//! in a proposal file for `tx gov submit-proposal`.

use crate::client::Client;
use crate::commands::{positive_coins, TxContext};
use anyhow::{anyhow, bail, Result};
use caspur_types::proto::dcert::v1 as pb;
use clap::Subcommand;
use prost::Message;
use serde_json::Value;

/// `tx dcert …`.
#[derive(Subcommand)]
pub enum DcertTx {
    /// Replace your dCERT vote: `vote caspur1a…=0.5 caspur1b…=0.25 …` (no preferences: withdraw).
    Vote {
        /// `candidate=weight` pairs; weights sum to at most 1.
        preferences: Vec<String>,
        /// Voter key (must have stake).
        #[arg(long)]
        from: String,
    },
    /// Accept your candidacy.
    AcceptCandidacy {
        /// What you offer the group.
        #[arg(long, default_value = "")]
        description: String,
        /// The public key confidential reports are encrypted to.
        #[arg(long, default_value = "")]
        encryption_key: String,
        /// Candidate key.
        #[arg(long)]
        from: String,
    },
    /// Bond tokens for a candidate (yourself or anyone).
    Bond {
        /// Candidate (`caspur1…`).
        candidate: String,
        /// Amount, e.g. 10000000000ucsp.
        amount: String,
        /// Staker key.
        #[arg(long)]
        from: String,
    },
    /// Start unbonding a dCERT bond (global unbonding time).
    Unbond {
        /// Candidate.
        candidate: String,
        /// Amount.
        amount: String,
        /// Staker key.
        #[arg(long)]
        from: String,
    },
    /// Set the group's public description (active members).
    UpdateDescription {
        /// The description.
        description: String,
        /// Member key.
        #[arg(long)]
        from: String,
    },
    /// Vote to suspend a member (active members).
    VoteSuspend {
        /// The member to suspend.
        target: String,
        /// Member key.
        #[arg(long)]
        from: String,
    },
    /// Say this member is alive for the current stipend period (active members).
    Heartbeat {
        /// Member key.
        #[arg(long)]
        from: String,
    },
    /// Disable message routes (active members, when enabled).
    CircuitBreak {
        /// Type URLs or module prefixes ending in ".", comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        routes: Vec<String>,
        /// Why (recorded on chain).
        #[arg(long)]
        reason: String,
        /// The incident the break answers (required while breaks need ratification).
        #[arg(long, default_value_t = 0)]
        incident: u64,
        /// Member key.
        #[arg(long)]
        from: String,
    },
    /// Confirm a fired tripwire's break: it becomes this member's break (ratification and
    /// max_break_blocks apply from now).
    ConfirmTripwire {
        /// The break id (`break_id` of the `dcert_tripwire` event).
        break_id: u64,
        /// Why (recorded on chain and on the incident's timeline).
        #[arg(long, default_value = "")]
        reason: String,
        /// Member key.
        #[arg(long)]
        from: String,
    },
    /// Release a fired tripwire's break: its routes reopen now.
    ReleaseTripwire {
        /// The break id (`break_id` of the `dcert_tripwire` event).
        break_id: u64,
        /// Why (recorded on chain and on the incident's timeline).
        #[arg(long, default_value = "")]
        reason: String,
        /// Member key.
        #[arg(long)]
        from: String,
    },
}

/// `query dcert …`.
#[derive(Subcommand)]
pub enum DcertQuery {
    /// Parameters.
    Params,
    /// Members with seat, sequence, tally, bond and status.
    Members,
    /// Eligible non-members by tally.
    Candidates {
        /// Most to list.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// One candidate.
    Candidate {
        /// Address.
        address: String,
    },
    /// A voter's vote.
    Vote {
        /// Voter address.
        voter: String,
    },
    /// Pending replacements.
    StabilizationQueue,
    /// Members under suspension review.
    Suspensions,
    /// The group's description.
    Description,
    /// Every active member's heartbeats: last period, misses, live, suspension vote.
    Liveness,
    /// One break's accountability record: ratification, lapse, slashes.
    Break {
        /// The break id (`break_id` of the `circuit_break` event).
        id: u64,
    },
    /// The registered tripwires: kind, threshold, routes, firings, latest break.
    Tripwires,
    /// A staker's unbonding dCERT bonds (from one candidate, or all).
    Unbonding {
        /// The staker's address.
        staker: String,
        /// Only the entries from this candidate.
        candidate: Option<String>,
    },
}

/// The bond denom amount of a coin string (`10000ucsp`), as a protobuf coin.
fn one_coin(amount: &str) -> Result<cosmos_sdk_proto::cosmos::base::v1beta1::Coin> {
    let coins = positive_coins(amount)?;
    match coins.as_slice() {
        [c] => Ok(c.to_proto()),
        _ => bail!("give one amount in one denomination, e.g. 10000ucsp"),
    }
}

fn preference(s: &str) -> Result<pb::Preference> {
    let (candidate, weight) = s
        .split_once('=')
        .ok_or_else(|| anyhow!("a preference is candidate=weight, got {s:?}"))?;
    Ok(pb::Preference {
        candidate: candidate.to_string(),
        weight: weight.to_string(),
    })
}

/// Runs a dCERT tx command.
pub fn tx(ctx: &TxContext<'_>, cmd: DcertTx) -> Result<Value> {
    match cmd {
        DcertTx::Vote { preferences, from } => {
            let preferences = preferences
                .iter()
                .map(|p| preference(p))
                .collect::<Result<Vec<_>>>()?;
            ctx.send_one(&from, "/caspur.dcert.v1.MsgVoteDcert", &|voter| {
                let preferences = preferences.clone();
                pb::MsgVoteDcert { voter, preferences }.encode_to_vec()
            })
        }
        DcertTx::AcceptCandidacy {
            description,
            encryption_key,
            from,
        } => ctx.send_one(&from, "/caspur.dcert.v1.MsgAcceptCandidacy", &|candidate| {
            pb::MsgAcceptCandidacy {
                candidate,
                description: description.clone(),
                encryption_key: encryption_key.clone(),
            }
            .encode_to_vec()
        }),
        DcertTx::Bond {
            candidate,
            amount,
            from,
        } => {
            let amount = Some(one_coin(&amount)?);
            ctx.send_one(&from, "/caspur.dcert.v1.MsgBondDcert", &|staker| {
                let (candidate, amount) = (candidate.clone(), amount.clone());
                pb::MsgBondDcert {
                    staker,
                    candidate,
                    amount,
                }
                .encode_to_vec()
            })
        }
        DcertTx::Unbond {
            candidate,
            amount,
            from,
        } => {
            let amount = Some(one_coin(&amount)?);
            ctx.send_one(&from, "/caspur.dcert.v1.MsgUnbondDcert", &|staker| {
                let (candidate, amount) = (candidate.clone(), amount.clone());
                pb::MsgUnbondDcert {
                    staker,
                    candidate,
                    amount,
                }
                .encode_to_vec()
            })
        }
        DcertTx::UpdateDescription { description, from } => ctx.send_one(
            &from,
            "/caspur.dcert.v1.MsgUpdateGroupDescription",
            &|member| {
                let description = description.clone();
                pb::MsgUpdateGroupDescription {
                    member,
                    description,
                }
                .encode_to_vec()
            },
        ),
        DcertTx::VoteSuspend { target, from } => {
            ctx.send_one(&from, "/caspur.dcert.v1.MsgVoteSuspend", &|member| {
                let target = target.clone();
                pb::MsgVoteSuspend { member, target }.encode_to_vec()
            })
        }
        DcertTx::Heartbeat { from } => {
            ctx.send_one(&from, "/caspur.dcert.v1.MsgHeartbeat", &|member| {
                pb::MsgHeartbeat { member }.encode_to_vec()
            })
        }
        DcertTx::CircuitBreak {
            routes,
            reason,
            incident,
            from,
        } => ctx.send_one(&from, "/caspur.dcert.v1.MsgCircuitBreak", &|member| {
            let (routes, reason) = (routes.clone(), reason.clone());
            pb::MsgCircuitBreak {
                member,
                routes,
                reason,
                incident_id: incident,
            }
            .encode_to_vec()
        }),
        DcertTx::ConfirmTripwire {
            break_id,
            reason,
            from,
        } => ctx.send_one(&from, "/caspur.dcert.v1.MsgConfirmTripwire", &|member| {
            let reason = reason.clone();
            pb::MsgConfirmTripwire {
                member,
                break_id,
                reason,
            }
            .encode_to_vec()
        }),
        DcertTx::ReleaseTripwire {
            break_id,
            reason,
            from,
        } => ctx.send_one(&from, "/caspur.dcert.v1.MsgReleaseTripwire", &|member| {
            let reason = reason.clone();
            pb::MsgReleaseTripwire {
                member,
                break_id,
                reason,
            }
            .encode_to_vec()
        }),
    }
}

fn ask<Req: Message, Resp: Message + Default + serde::Serialize>(
    client: &Client,
    method: &str,
    req: &Req,
) -> Result<Value> {
    client.ask_json::<_, Resp>(&format!("/caspur.dcert.v1.Query/{method}"), req)
}

/// Runs a dCERT query.
pub fn query(client: &Client, cmd: DcertQuery) -> Result<Value> {
    match cmd {
        DcertQuery::Params => {
            ask::<_, pb::QueryParamsResponse>(client, "Params", &pb::QueryParamsRequest {})
        }
        DcertQuery::Members => {
            ask::<_, pb::QueryMembersResponse>(client, "Members", &pb::QueryMembersRequest {})
        }
        DcertQuery::Candidates { limit } => ask::<_, pb::QueryCandidatesResponse>(
            client,
            "Candidates",
            &pb::QueryCandidatesRequest { limit },
        ),
        DcertQuery::Candidate { address } => ask::<_, pb::QueryCandidateResponse>(
            client,
            "Candidate",
            &pb::QueryCandidateRequest { address },
        ),
        DcertQuery::Vote { voter } => {
            ask::<_, pb::QueryVoteResponse>(client, "Vote", &pb::QueryVoteRequest { voter })
        }
        DcertQuery::StabilizationQueue => ask::<_, pb::QueryStabilizationQueueResponse>(
            client,
            "StabilizationQueue",
            &pb::QueryStabilizationQueueRequest {},
        ),
        DcertQuery::Suspensions => ask::<_, pb::QuerySuspensionsResponse>(
            client,
            "Suspensions",
            &pb::QuerySuspensionsRequest {},
        ),
        DcertQuery::Description => ask::<_, pb::QueryGroupDescriptionResponse>(
            client,
            "GroupDescription",
            &pb::QueryGroupDescriptionRequest {},
        ),
        DcertQuery::Liveness => {
            ask::<_, pb::QueryLivenessResponse>(client, "Liveness", &pb::QueryLivenessRequest {})
        }
        DcertQuery::Break { id } => {
            ask::<_, pb::QueryBreakResponse>(client, "Break", &pb::QueryBreakRequest { id })
        }
        DcertQuery::Tripwires => {
            ask::<_, pb::QueryTripwiresResponse>(client, "Tripwires", &pb::QueryTripwiresRequest {})
        }
        DcertQuery::Unbonding { staker, candidate } => ask::<_, pb::QueryUnbondingResponse>(
            client,
            "Unbonding",
            &pb::QueryUnbondingRequest {
                staker,
                candidate: candidate.unwrap_or_default(),
            },
        ),
    }
}
