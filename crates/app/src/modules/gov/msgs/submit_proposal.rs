//! `MsgSubmitProposal` (gov v1): a proposal carrying messages that run, with the gov module
//! account as their signer, if it passes.

use crate::context::Ctx;
use crate::error::ExecError;
use crate::limits;
use crate::modules::gov::{deposits, state};
use crate::msg_tree::{self, Nested};
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::{Address, Coins};
use cosmos_sdk_proto::cosmos::gov::v1 as pb;

/// The message.
pub type Msg = pb::MsgSubmitProposal;
/// Its type URL.
pub const TYPE_URL: &str = "/cosmos.gov.v1.MsgSubmitProposal";

/// Longest title, summary and metadata.
const MAX_TITLE: usize = 255;
const MAX_SUMMARY: usize = 10_000;
const MAX_METADATA: usize = 255;

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = TYPE_URL;
    type Response = pb::MsgSubmitProposalResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.proposer)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        Address::parse_account(&self.proposer)?;
        if self.title.trim().is_empty() {
            return Err(ExecError::invalid_request("a proposal needs a title"));
        }
        if self.title.len() > MAX_TITLE
            || self.summary.len() > MAX_SUMMARY
            || self.metadata.len() > MAX_METADATA
        {
            return Err(ExecError::invalid_request(format!(
                "title, summary and metadata are limited to {MAX_TITLE}, {MAX_SUMMARY} and {MAX_METADATA} bytes"
            )));
        }
        Coins::from_proto(&self.initial_deposit)?;
        limits::at_most(
            "messages in the proposal",
            self.messages.len(),
            limits::MAX_PROPOSAL_MSGS,
        )
    }

    /// A proposal's messages run later as the gov module account: the walker checks each
    /// (shape, signer, depth) at submission.
    fn nested(&self) -> Nested<'_> {
        Nested {
            msgs: &self.messages,
            required_signer: Some(state::gov_address()),
        }
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        depth: u32,
    ) -> Result<Self::Response, ExecError> {
        // A proposal carrying a circuit-broken message, at any depth, is refused now; one
        // broken later fails at execution, where the router checks again.
        msg_tree::check_breaker(ctx, &self.messages, depth + 1).await?;
        let params = state::get_params(ctx).await?;
        let proposer = Address::parse_account(&self.proposer)?;
        let initial = Coins::from_proto(&self.initial_deposit)?;
        let min = deposits::required(&params, &self.messages, self.expedited)?;
        let ratio = params.initial_deposit_ratio()?;
        for c in min.as_slice() {
            let needed = ratio.mul_int_ceil(c.amount).unwrap_or(u128::MAX);
            if initial.amount_of(&c.denom) < needed {
                return Err(ExecError::insufficient_funds(format!(
                    "initial deposit {initial} is below the required minimum of {needed}{} ({} of the minimum deposit)",
                    c.denom, params.min_initial_deposit_ratio
                )));
            }
        }
        crate::modules::dcert::dissolution::proposal_submitted(ctx, &self.messages, &initial)
            .await?;
        crate::modules::upgrade::submission::check_proposal(ctx, &self.messages, self.expedited)
            .await?;
        let id = state::next_id(ctx).await?;
        let now = ctx.block.time_ms;
        let deposit_end = now.saturating_add(params.max_deposit_period_secs.saturating_mul(1000));
        let proposal = pb::Proposal {
            id,
            messages: self.messages.clone(),
            status: pb::ProposalStatus::DepositPeriod as i32,
            final_tally_result: Some(crate::modules::gov::tally::Tally::default().to_proto()),
            submit_time: Some(crate::modules::staking::state::timestamp(now)),
            deposit_end_time: Some(crate::modules::staking::state::timestamp(deposit_end)),
            total_deposit: Vec::new(),
            voting_start_time: None,
            voting_end_time: None,
            metadata: self.metadata.clone(),
            title: self.title.clone(),
            summary: self.summary.clone(),
            proposer: self.proposer.clone(),
            expedited: self.expedited,
            failed_reason: String::new(),
        };
        state::set_proposal(ctx, &proposal)?;
        state::DEPOSIT_QUEUE
            .push(ctx, now, deposit_end, id.to_be_bytes().to_vec())
            .await?;
        ctx.emit(crate::modules::gov::submitted_event(
            id,
            &self.messages,
            &self.proposer,
        ));
        if !initial.is_empty() {
            deposits::add(ctx, id, &proposer, &initial).await?;
        }
        Ok(pb::MsgSubmitProposalResponse { proposal_id: id })
    }
}
