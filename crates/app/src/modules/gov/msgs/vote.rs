//! `MsgVote`: one option with all of the voter's weight.

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::gov::votes;
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::{Address, Dec};
use cosmos_sdk_proto::cosmos::gov::v1 as pb;

/// The message.
pub type Msg = pb::MsgVote;
/// Its type URL.
pub const TYPE_URL: &str = "/cosmos.gov.v1.MsgVote";

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = TYPE_URL;
    type Response = pb::MsgVoteResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.voter)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        Address::parse_account(&self.voter)?;
        votes::check_options(&options(self))
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        votes::cast(
            ctx,
            self.proposal_id,
            &self.voter,
            options(self),
            &self.metadata,
        )
        .await?;
        Ok(pb::MsgVoteResponse {})
    }
}

/// A single option with all the weight.
fn options(msg: &Msg) -> Vec<pb::WeightedVoteOption> {
    vec![pb::WeightedVoteOption {
        option: msg.option,
        weight: Dec::ONE.to_string(),
    }]
}
