//! Proposals the chain opens itself (a dCERT break's ratification): no deposit, voting from
//! the block that opens them, decided by the ordinary tally.

use super::state;
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::staking::state::timestamp;
use caspur_store::StateRead;
use cosmos_sdk_proto::cosmos::gov::v1 as pb;
use cosmos_sdk_proto::Any;

/// What the chain proposes.
pub struct ChainProposal {
    /// Messages run with the gov account as signer if it passes.
    pub messages: Vec<Any>,
    /// Title and summary shown to voters.
    pub title: String,
    /// See `title`.
    pub summary: String,
    /// The account the proposal is about (shown as its proposer; it deposits nothing).
    pub proposer: String,
    /// Whether the expedited threshold applies.
    pub expedited: bool,
    /// When voting ends, block time in ms.
    pub voting_end_ms: u64,
}

/// Opens `p` in its voting period now; returns its id. Emits `submit_proposal` as a submitted
/// proposal does, with `voting_period_start`.
pub async fn open<B: StateRead>(ctx: &mut Ctx<'_, B>, p: ChainProposal) -> Result<u64, ExecError> {
    let id = state::next_id(ctx).await?;
    let now = ctx.block.time_ms;
    let end = p.voting_end_ms.max(now);
    let event = super::submitted_event(id, &p.messages, &p.proposer)
        .attr("voting_period_start", id.to_string());
    let proposal = pb::Proposal {
        id,
        messages: p.messages,
        status: pb::ProposalStatus::VotingPeriod as i32,
        final_tally_result: Some(super::tally::Tally::default().to_proto()),
        submit_time: Some(timestamp(now)),
        deposit_end_time: Some(timestamp(now)),
        total_deposit: Vec::new(),
        voting_start_time: Some(timestamp(now)),
        voting_end_time: Some(timestamp(end)),
        metadata: String::new(),
        title: p.title,
        summary: p.summary,
        proposer: p.proposer,
        expedited: p.expedited,
        failed_reason: String::new(),
    };
    state::set_proposal(ctx, &proposal)?;
    state::VOTING_QUEUE
        .push(ctx, now, end, id.to_be_bytes().to_vec())
        .await?;
    ctx.emit(event);
    Ok(id)
}
