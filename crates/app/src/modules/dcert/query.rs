//! `dcert` queries (`caspur.dcert.v1.Query`, over abci_query and gRPC): params, members with
//! seat, sequence, tally, bond and status; candidates by tally; one candidate; a voter's vote;
//! the stabilization queue; suspensions; the group description; a staker's unbondings; one
//! break record.

use super::state::{self, Candidate};
use crate::context::Unmetered;
use crate::error::ExecError;
use crate::modules::staking::state as staking;
use crate::query::decode_request as decode;
use caspur_store::StateScan;
use caspur_types::proto::dcert::v1 as pb;
use caspur_types::{Address, Dec};
use prost::Message;

/// The service's path prefix.
pub const PREFIX: &str = "/caspur.dcert.v1.Query/";

/// Most candidates one query returns.
const MAX_LIMIT: u32 = 1000;

/// Answers `path` if it is a dCERT query (`None` otherwise).
pub async fn route<S: StateScan>(
    s: &S,
    path: &str,
    data: &[u8],
) -> Option<Result<Vec<u8>, ExecError>> {
    let method = path.strip_prefix(PREFIX)?;
    answer(s, method, data).await.transpose()
}

/// The query record of a candidate.
pub fn to_proto(addr: &Address, c: &Candidate) -> pb::Candidate {
    let status = if c.is_member() {
        "member"
    } else if c.is_suspended() {
        "suspended"
    } else {
        "candidate"
    };
    pb::Candidate {
        address: addr.to_string(),
        accepted: c.accepted,
        description: c.description.clone(),
        encryption_key: c.encryption_key.clone(),
        tally: c.tally.to_string(),
        bond: c.bond.to_string(),
        sequence: c.sequence,
        status: status.into(),
    }
}

async fn answer<S: StateScan>(
    s: &S,
    method: &str,
    data: &[u8],
) -> Result<Option<Vec<u8>>, ExecError> {
    let mut kv = Unmetered(s);
    Ok(Some(match method {
        "Params" => {
            let denom = staking::get_params(&mut kv).await?.bond_denom;
            let params = state::get_params(&mut kv).await?.to_proto(&denom);
            pb::QueryParamsResponse {
                params: Some(params),
            }
            .encode_to_vec()
        }
        "Members" => {
            let mut members = Vec::new();
            for (addr, _) in state::members(&mut kv).await? {
                let c = state::candidate(&mut kv, &addr).await?;
                members.push(to_proto(&addr, &c));
            }
            members.sort_by(|a, b| {
                let t = |c: &pb::Candidate| c.tally.parse::<u128>().unwrap_or(0);
                t(b).cmp(&t(a)).then(a.sequence.cmp(&b.sequence))
            });
            pb::QueryMembersResponse { members }.encode_to_vec()
        }
        "Candidates" => {
            let req: pb::QueryCandidatesRequest = decode(data)?;
            let limit = match req.limit {
                0 => 100,
                n => n.min(MAX_LIMIT),
            } as usize;
            let mut candidates = Vec::new();
            for entry in state::CHALLENGERS.descending(&mut kv, limit).await? {
                let addr = state::entry_address(&entry)?;
                let c = state::candidate(&mut kv, &addr).await?;
                candidates.push(to_proto(&addr, &c));
            }
            pb::QueryCandidatesResponse { candidates }.encode_to_vec()
        }
        "Candidate" => {
            let req: pb::QueryCandidateRequest = decode(data)?;
            let addr = Address::parse_account(&req.address)?;
            let c = state::candidate(&mut kv, &addr).await?;
            pb::QueryCandidateResponse {
                candidate: Some(to_proto(&addr, &c)),
            }
            .encode_to_vec()
        }
        "Vote" => {
            let req: pb::QueryVoteRequest = decode(data)?;
            let voter = Address::parse_account(&req.voter)?;
            let vote = state::vote(&mut kv, &voter)
                .await?
                .ok_or_else(|| ExecError::key_not_found(format!("{voter} has no dCERT vote")))?;
            pb::QueryVoteResponse {
                preferences: vote
                    .preferences
                    .iter()
                    .map(|(c, w)| pb::Preference {
                        candidate: c.to_string(),
                        weight: Dec::from_atomics(*w).to_string(),
                    })
                    .collect(),
                stake: vote.stake.to_string(),
            }
            .encode_to_vec()
        }
        "StabilizationQueue" => {
            let mut entries = Vec::new();
            for target in state::stabilization_targets(&mut kv).await? {
                if let Some(e) = state::stabilization(&mut kv, &target).await? {
                    entries.push(pb::StabilizationEntry {
                        challenger: e.challenger.to_string(),
                        target: target.to_string(),
                        matures_at_ms: e.matures_at_ms,
                    });
                }
            }
            entries.sort_by_key(|e| e.matures_at_ms);
            pb::QueryStabilizationQueueResponse { entries }.encode_to_vec()
        }
        "Suspensions" => {
            let mut suspensions = Vec::new();
            for member in state::suspended(&mut kv).await? {
                let c = state::candidate(&mut kv, &member).await?;
                suspensions.push(pb::Suspension {
                    member: member.to_string(),
                    review_ends_ms: c.review_ends_ms,
                });
            }
            pb::QuerySuspensionsResponse { suspensions }.encode_to_vec()
        }
        "Unbonding" => {
            let req: pb::QueryUnbondingRequest = decode(data)?;
            let staker = Address::parse_account(&req.staker)?;
            let from = if req.candidate.is_empty() {
                unbonding_candidates(s, &staker).await?
            } else {
                vec![Address::parse_account(&req.candidate)?]
            };
            let mut entries = Vec::new();
            for candidate in from {
                for u in state::unbondings(&mut kv, &staker, &candidate).await? {
                    entries.push(pb::UnbondingEntry {
                        staker: staker.to_string(),
                        candidate: candidate.to_string(),
                        amount: u.amount.to_string(),
                        completes_at_ms: u.completes_at_ms,
                        creation_height: u.creation_height,
                    });
                }
            }
            pb::QueryUnbondingResponse { entries }.encode_to_vec()
        }
        "Break" => {
            let req: pb::QueryBreakRequest = decode(data)?;
            pb::QueryBreakResponse {
                record: Some(super::break_state::require(&mut kv, req.id).await?),
            }
            .encode_to_vec()
        }
        "Liveness" => {
            let params = state::get_params(&mut kv).await?;
            let members: Vec<Address> = state::members(&mut kv)
                .await?
                .into_iter()
                .map(|(m, _)| m)
                .collect();
            let (_, time_ms) = crate::last_block(&mut kv).await?;
            pb::QueryLivenessResponse {
                members: super::heartbeat::report(&mut kv, &params, &members, time_ms)
                    .await?
                    .iter()
                    .map(super::heartbeat::MemberLiveness::to_proto)
                    .collect(),
            }
            .encode_to_vec()
        }
        "Tripwires" => {
            let _: pb::QueryTripwiresRequest = decode(data)?;
            pb::QueryTripwiresResponse {
                tripwires: super::tripwire_state::all(&mut kv).await?,
            }
            .encode_to_vec()
        }
        "GroupDescription" => pb::QueryGroupDescriptionResponse {
            description: state::description(&mut kv).await?,
        }
        .encode_to_vec(),
        _ => return Ok(None),
    }))
}

/// The candidates `staker` has unbonding entries from (at most [`MAX_LIMIT`]).
async fn unbonding_candidates<S: StateScan>(
    s: &S,
    staker: &Address,
) -> Result<Vec<Address>, ExecError> {
    let prefix = caspur_store::keys::key(&state::UNBONDING, &[&staker.0]);
    let rows = s
        .scan_prefix(&prefix, MAX_LIMIT as usize)
        .await
        .map_err(crate::context::store_err)?;
    rows.iter()
        .map(|(k, _)| {
            let bytes: [u8; 20] = caspur_store::keys::parts(&state::UNBONDING, k)
                .and_then(|p| p.get(1).and_then(|b| (*b).try_into().ok()))
                .ok_or_else(|| ExecError::logic("corrupt dCERT unbonding key"))?;
            Ok(Address(bytes))
        })
        .collect()
}

/// The group's health as monitoring shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Health {
    /// Seats in the group (`max_members`).
    pub seats: u32,
    /// Members seated now.
    pub members: u32,
    /// The smallest tally among the members (0 without members).
    pub lowest_member_tally: u128,
    /// The largest tally among the challengers (0 without one).
    pub strongest_challenger_tally: u128,
    /// Challengers waiting out the stabilization period.
    pub stabilization_queue: u32,
    /// Members suspended and under review.
    pub suspended: u32,
    /// The members (bech32 address, tally), highest tally first.
    pub member_tallies: Vec<(String, u128)>,
    /// The strongest challenger (bech32 address), if any.
    pub challenger: Option<String>,
    /// Whether members must send heartbeats (`heartbeat_misses` > 0).
    pub heartbeats_required: bool,
    /// Each member's heartbeats as of the last block.
    pub liveness: Vec<super::heartbeat::MemberLiveness>,
    /// The suspension quorum: the share of members that must be live for a suspension vote
    /// (or any quorum at that share) to be reachable.
    pub suspension_quorum: Dec,
}

/// Reads [`Health`]: two reads per member plus the challenger ranking's top page.
pub async fn health<S: StateScan>(s: &S) -> Result<Health, ExecError> {
    let mut kv = Unmetered(s);
    let params = state::get_params(&mut kv).await?;
    let members = state::members(&mut kv).await?;
    let mut tallies = Vec::with_capacity(members.len());
    for (addr, _) in &members {
        let tally = state::candidate(&mut kv, addr).await?.tally;
        tallies.push((addr.to_string(), tally));
    }
    tallies.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let top = state::CHALLENGERS.last(&mut kv).await?;
    let strongest = top.as_ref().map_or(0, |e| state::entry_tally(e));
    let challenger = top
        .map(|e| state::entry_address(&e))
        .transpose()?
        .map(|a| a.to_string());
    let (_, time_ms) = crate::last_block(&mut kv).await?;
    let seated: Vec<Address> = members.iter().map(|(m, _)| *m).collect();
    let liveness = super::heartbeat::report(&mut kv, &params, &seated, time_ms).await?;
    Ok(Health {
        heartbeats_required: params.heartbeat_misses > 0,
        liveness,
        suspension_quorum: params.quorum()?,
        seats: params.max_members,
        members: members.len() as u32,
        lowest_member_tally: tallies.last().map_or(0, |t| t.1),
        strongest_challenger_tally: strongest,
        stabilization_queue: state::stabilization_targets(&mut kv).await?.len() as u32,
        suspended: state::suspended(&mut kv).await?.len() as u32,
        member_tallies: tallies,
        challenger,
    })
}
