//! `gov` queries (`cosmos.gov.v1.Query`): proposals, votes, deposits, tallies, params.

use super::{state, tally};
use crate::context::{store_err, Unmetered};
use crate::error::ExecError;
use crate::query::decode_request as decode;
use caspur_store::keys::key;
use caspur_store::StateScan;
use caspur_types::Address;
use cosmos_sdk_proto::cosmos::base::query::v1beta1::PageResponse;
use cosmos_sdk_proto::cosmos::gov::v1 as pb;
use prost::Message;

/// The service's path prefix.
pub const PREFIX: &str = "/cosmos.gov.v1.Query/";

/// Most entries a list query returns.
const MAX_LIST: usize = 1000;

/// Answers `path` if it is a gov query (`None` otherwise).
pub async fn route<S: StateScan>(
    s: &S,
    path: &str,
    data: &[u8],
) -> Option<Result<Vec<u8>, ExecError>> {
    let method = path.strip_prefix(PREFIX)?;
    Some(match method {
        "Proposal" => proposal(s, data).await,
        "Proposals" => proposals(s, data).await,
        "Vote" => vote(s, data).await,
        "Votes" => votes(s, data).await,
        "Deposit" => deposit(s, data).await,
        "Deposits" => deposits(s, data).await,
        "TallyResult" => tally_result(s, data).await,
        "Params" => params(s).await,
        _ => return None,
    })
}

fn page(total: usize) -> Option<PageResponse> {
    Some(PageResponse {
        next_key: Vec::new(),
        total: total as u64,
    })
}

async fn proposal<S: StateScan>(s: &S, data: &[u8]) -> Result<Vec<u8>, ExecError> {
    let req: pb::QueryProposalRequest = decode(data)?;
    let p = state::require_proposal(&mut Unmetered(s), req.proposal_id).await?;
    Ok(pb::QueryProposalResponse { proposal: Some(p) }.encode_to_vec())
}

async fn proposals<S: StateScan>(s: &S, data: &[u8]) -> Result<Vec<u8>, ExecError> {
    let req: pb::QueryProposalsRequest = decode(data)?;
    let voter = (!req.voter.is_empty())
        .then(|| Address::parse_account(&req.voter))
        .transpose()?;
    let depositor = (!req.depositor.is_empty())
        .then(|| Address::parse_account(&req.depositor))
        .transpose()?;
    let rows = s
        .scan_prefix(&state::PROPOSAL, MAX_LIST)
        .await
        .map_err(store_err)?;
    let mut list = Vec::new();
    for (_, v) in rows {
        let p =
            pb::Proposal::decode(v.as_slice()).map_err(|_| ExecError::logic("corrupt proposal"))?;
        if req.proposal_status != 0 && p.status != req.proposal_status {
            continue;
        }
        if let Some(voter) = &voter {
            if state::get_vote(&mut Unmetered(s), p.id, voter)
                .await?
                .is_none()
            {
                continue;
            }
        }
        if let Some(depositor) = &depositor {
            if state::get_deposit(&mut Unmetered(s), p.id, depositor)
                .await?
                .is_empty()
            {
                continue;
            }
        }
        list.push(p);
    }
    let total = list.len();
    Ok(pb::QueryProposalsResponse {
        proposals: list,
        pagination: page(total),
    }
    .encode_to_vec())
}

async fn vote<S: StateScan>(s: &S, data: &[u8]) -> Result<Vec<u8>, ExecError> {
    let req: pb::QueryVoteRequest = decode(data)?;
    let voter = Address::parse_account(&req.voter)?;
    let vote = state::get_vote(&mut Unmetered(s), req.proposal_id, &voter)
        .await?
        .ok_or_else(|| {
            ExecError::Tx(caspur_types::TxError {
                code: caspur_types::ErrorCode::KeyNotFound,
                message: format!(
                    "voter {} has not voted on proposal {}",
                    req.voter, req.proposal_id
                ),
            })
        })?;
    Ok(pb::QueryVoteResponse { vote: Some(vote) }.encode_to_vec())
}

async fn votes<S: StateScan>(s: &S, data: &[u8]) -> Result<Vec<u8>, ExecError> {
    let req: pb::QueryVotesRequest = decode(data)?;
    let rows = s
        .scan_prefix(
            &key(&state::VOTE, &[&req.proposal_id.to_be_bytes()]),
            MAX_LIST,
        )
        .await
        .map_err(store_err)?;
    let votes = rows
        .iter()
        .map(|(_, v)| pb::Vote::decode(v.as_slice()).map_err(|_| ExecError::logic("corrupt vote")))
        .collect::<Result<Vec<_>, _>>()?;
    let total = votes.len();
    Ok(pb::QueryVotesResponse {
        votes,
        pagination: page(total),
    }
    .encode_to_vec())
}

async fn deposit<S: StateScan>(s: &S, data: &[u8]) -> Result<Vec<u8>, ExecError> {
    let req: pb::QueryDepositRequest = decode(data)?;
    let depositor = Address::parse_account(&req.depositor)?;
    let amount = state::get_deposit(&mut Unmetered(s), req.proposal_id, &depositor).await?;
    if amount.is_empty() {
        return Err(ExecError::Tx(caspur_types::TxError {
            code: caspur_types::ErrorCode::KeyNotFound,
            message: format!(
                "depositor {} has no deposit on proposal {}",
                req.depositor, req.proposal_id
            ),
        }));
    }
    Ok(pb::QueryDepositResponse {
        deposit: Some(pb::Deposit {
            proposal_id: req.proposal_id,
            depositor: req.depositor,
            amount: amount.to_proto(),
        }),
    }
    .encode_to_vec())
}

async fn deposits<S: StateScan>(s: &S, data: &[u8]) -> Result<Vec<u8>, ExecError> {
    let req: pb::QueryDepositsRequest = decode(data)?;
    let rows = s
        .scan_prefix(
            &key(&state::DEPOSIT, &[&req.proposal_id.to_be_bytes()]),
            MAX_LIST,
        )
        .await
        .map_err(store_err)?;
    let deposits = rows
        .iter()
        .map(|(_, v)| {
            pb::Deposit::decode(v.as_slice()).map_err(|_| ExecError::logic("corrupt deposit"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let total = deposits.len();
    Ok(pb::QueryDepositsResponse {
        deposits,
        pagination: page(total),
    }
    .encode_to_vec())
}

/// The final tally of a decided proposal, or the current one of a proposal being voted on.
async fn tally_result<S: StateScan>(s: &S, data: &[u8]) -> Result<Vec<u8>, ExecError> {
    let req: pb::QueryTallyResultRequest = decode(data)?;
    let mut kv = Unmetered(s);
    let p = state::require_proposal(&mut kv, req.proposal_id).await?;
    let result = if p.status == pb::ProposalStatus::VotingPeriod as i32 {
        let params = state::get_params(&mut kv).await?;
        tally::tally(&mut kv, p.id, p.expedited, &params)
            .await?
            .tally
            .to_proto()
    } else {
        p.final_tally_result.unwrap_or_default()
    };
    Ok(pb::QueryTallyResultResponse {
        tally: Some(result),
    }
    .encode_to_vec())
}

async fn params<S: StateScan>(s: &S) -> Result<Vec<u8>, ExecError> {
    let p = state::get_params(&mut Unmetered(s)).await?;
    #[allow(deprecated)]
    let response = pb::QueryParamsResponse {
        voting_params: None,
        deposit_params: None,
        tally_params: None,
        params: Some(p.to_proto()),
    };
    Ok(response.encode_to_vec())
}
