//! Casting votes: checked options, only while a proposal is in its voting period.

use super::state;
use crate::context::Ctx;
use crate::error::ExecError;
use caspur_store::StateRead;
use caspur_types::{Address, Dec, Event};
use cosmos_sdk_proto::cosmos::gov::v1 as pb;

/// Options must be valid, distinct, positively weighted, and sum to exactly 1.
pub fn check_options(options: &[pb::WeightedVoteOption]) -> Result<(), ExecError> {
    if options.is_empty() {
        return Err(ExecError::invalid_request(
            "a vote needs at least one option",
        ));
    }
    let mut seen = Vec::new();
    let mut sum = Dec::ZERO;
    for o in options {
        match pb::VoteOption::try_from(o.option) {
            Ok(
                pb::VoteOption::Yes
                | pb::VoteOption::Abstain
                | pb::VoteOption::No
                | pb::VoteOption::NoWithVeto,
            ) => {}
            _ => {
                return Err(ExecError::invalid_request(format!(
                    "invalid vote option {}",
                    o.option
                )))
            }
        }
        if seen.contains(&o.option) {
            return Err(ExecError::invalid_request("duplicate vote option"));
        }
        seen.push(o.option);
        let w: Dec = o.weight.parse()?;
        if w.is_zero() || w > Dec::ONE {
            return Err(ExecError::invalid_request("each weight must be in (0, 1]"));
        }
        sum = sum
            .checked_add(w)
            .ok_or_else(|| ExecError::invalid_request("weights overflow"))?;
    }
    if sum != Dec::ONE {
        return Err(ExecError::invalid_request(format!(
            "vote weights must sum to 1, got {sum}"
        )));
    }
    Ok(())
}

/// Records `voter`'s vote (replacing an earlier one) on proposal `id`.
pub async fn cast<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    id: u64,
    voter: &str,
    options: Vec<pb::WeightedVoteOption>,
    metadata: &str,
) -> Result<(), ExecError> {
    if metadata.len() > 255 {
        return Err(ExecError::invalid_request(
            "vote metadata is limited to 255 bytes",
        ));
    }
    let p = state::require_proposal(ctx, id).await?;
    if p.status != pb::ProposalStatus::VotingPeriod as i32 {
        return Err(ExecError::invalid_request(format!(
            "proposal {id} is not in its voting period"
        )));
    }
    let addr = Address::parse_account(voter)?;
    let described: Vec<String> = options
        .iter()
        .map(|o| {
            let name = pb::VoteOption::try_from(o.option)
                .map(|v| v.as_str_name())
                .unwrap_or("VOTE_OPTION_UNSPECIFIED");
            format!("option:{name} weight:{}", o.weight)
        })
        .collect();
    let vote = pb::Vote {
        proposal_id: id,
        voter: voter.to_string(),
        options,
        metadata: metadata.to_string(),
    };
    state::set_vote(ctx, id, &addr, &vote).await?;
    ctx.emit(
        Event::new("proposal_vote")
            .attr("voter", voter.to_string())
            .attr("option", described.join("\n"))
            .attr("proposal_id", id.to_string()),
    );
    Ok(())
}
