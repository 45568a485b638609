//! `cosmos.gov.v1beta1` queries over the same state, for clients that still speak it (CosmJS's
//! gov extension, wallets). Deposits and tallies are wire-identical to v1 and are answered by
//! the v1 handlers; proposals, votes and params are converted. A proposal whose messages have
//! no v1beta1 form shows as a `TextProposal` with its title and summary.

use super::{query, state};
use crate::context::Unmetered;
use crate::error::ExecError;
use caspur_store::StateScan;
use caspur_types::Dec;
use cosmos_sdk_proto::cosmos::gov::{v1, v1beta1 as legacy};
use prost::Message;

/// The service's path prefix.
pub const PREFIX: &str = "/cosmos.gov.v1beta1.Query/";

/// A v1 proposal in v1beta1 form.
pub fn proposal(p: &v1::Proposal) -> legacy::Proposal {
    let content = match p.messages.as_slice() {
        [m] if m.type_url == "/cosmos.gov.v1.MsgExecLegacyContent" => {
            v1::MsgExecLegacyContent::decode(m.value.as_slice())
                .ok()
                .and_then(|x| x.content)
        }
        _ => None,
    };
    let content = content.unwrap_or_else(|| cosmos_sdk_proto::Any {
        type_url: "/cosmos.gov.v1beta1.TextProposal".into(),
        value: legacy::TextProposal {
            title: p.title.clone(),
            description: p.summary.clone(),
        }
        .encode_to_vec(),
    });
    let tally = p.final_tally_result.clone().unwrap_or_default();
    legacy::Proposal {
        proposal_id: p.id,
        content: Some(content),
        status: p.status,
        final_tally_result: Some(legacy::TallyResult {
            yes: tally.yes_count,
            abstain: tally.abstain_count,
            no: tally.no_count,
            no_with_veto: tally.no_with_veto_count,
        }),
        submit_time: p.submit_time,
        deposit_end_time: p.deposit_end_time,
        total_deposit: p.total_deposit.clone(),
        voting_start_time: p.voting_start_time,
        voting_end_time: p.voting_end_time,
    }
}

fn vote(v: &v1::Vote) -> legacy::Vote {
    let options: Vec<legacy::WeightedVoteOption> = v
        .options
        .iter()
        .map(|o| legacy::WeightedVoteOption {
            option: o.option,
            weight: o
                .weight
                .parse::<Dec>()
                .map(|w| w.atomics().to_string())
                .unwrap_or_default(),
        })
        .collect();
    #[allow(deprecated)]
    legacy::Vote {
        proposal_id: v.proposal_id,
        voter: v.voter.clone(),
        option: match options.as_slice() {
            [only] => only.option,
            _ => 0,
        },
        options,
    }
}

/// Answers `path` if it is a v1beta1 gov query (`None` otherwise).
pub async fn route<S: StateScan>(
    s: &S,
    path: &str,
    data: &[u8],
) -> Option<Result<Vec<u8>, ExecError>> {
    let method = path.strip_prefix(PREFIX)?;
    let v1_path = format!("{}{method}", query::PREFIX);
    Some(match method {
        // Same fields and numbers in both versions.
        "Deposit" | "Deposits" | "TallyResult" => query::route(s, &v1_path, data).await?,
        "Proposal" => {
            convert::<v1::QueryProposalResponse, _>(s, &v1_path, data, |r| {
                legacy::QueryProposalResponse {
                    proposal: r.proposal.as_ref().map(proposal),
                }
                .encode_to_vec()
            })
            .await
        }
        "Proposals" => {
            convert::<v1::QueryProposalsResponse, _>(s, &v1_path, data, |r| {
                legacy::QueryProposalsResponse {
                    proposals: r.proposals.iter().map(proposal).collect(),
                    pagination: r.pagination,
                }
                .encode_to_vec()
            })
            .await
        }
        "Vote" => {
            convert::<v1::QueryVoteResponse, _>(s, &v1_path, data, |r| {
                legacy::QueryVoteResponse {
                    vote: r.vote.as_ref().map(vote),
                }
                .encode_to_vec()
            })
            .await
        }
        "Votes" => {
            convert::<v1::QueryVotesResponse, _>(s, &v1_path, data, |r| {
                legacy::QueryVotesResponse {
                    votes: r.votes.iter().map(vote).collect(),
                    pagination: r.pagination,
                }
                .encode_to_vec()
            })
            .await
        }
        "Params" => params(s, data).await,
        _ => return None,
    })
}

/// Runs the v1 query and re-encodes its answer.
async fn convert<R: Message + Default, S: StateScan>(
    s: &S,
    v1_path: &str,
    data: &[u8],
    to_legacy: impl FnOnce(R) -> Vec<u8>,
) -> Result<Vec<u8>, ExecError> {
    let bytes = query::route(s, v1_path, data)
        .await
        .unwrap_or_else(|| Err(ExecError::logic("v1 gov query missing")))?;
    let r = R::decode(bytes.as_slice()).map_err(|_| ExecError::logic("v1 gov answer"))?;
    Ok(to_legacy(r))
}

async fn params<S: StateScan>(s: &S, data: &[u8]) -> Result<Vec<u8>, ExecError> {
    let req = legacy::QueryParamsRequest::decode(data)
        .map_err(|e| ExecError::decode(format!("invalid request: {e}")))?;
    let p = state::get_params(&mut Unmetered(s)).await?.to_proto();
    let atomics = |d: &str| {
        d.parse::<Dec>()
            .map(|d| d.atomics().to_string().into_bytes())
            .unwrap_or_default()
    };
    let mut out = legacy::QueryParamsResponse::default();
    match req.params_type.as_str() {
        "voting" => {
            out.voting_params = Some(legacy::VotingParams {
                voting_period: p.voting_period,
            })
        }
        "deposit" => {
            out.deposit_params = Some(legacy::DepositParams {
                min_deposit: p.min_deposit,
                max_deposit_period: p.max_deposit_period,
            })
        }
        "tallying" => {
            out.tally_params = Some(legacy::TallyParams {
                quorum: atomics(&p.quorum),
                threshold: atomics(&p.threshold),
                veto_threshold: atomics(&p.veto_threshold),
            })
        }
        other => {
            return Err(ExecError::invalid_request(format!(
                "params_type must be voting, deposit or tallying, not {other:?}"
            )))
        }
    }
    Ok(out.encode_to_vec())
}
