//! `MsgVoteWeighted`: the voter's weight split across options (weights summing to 1).

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::gov::votes;
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::Address;
use cosmos_sdk_proto::cosmos::gov::v1 as pb;

/// The message.
pub type Msg = pb::MsgVoteWeighted;
/// Its type URL.
pub const TYPE_URL: &str = "/cosmos.gov.v1.MsgVoteWeighted";

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = TYPE_URL;
    type Response = pb::MsgVoteWeightedResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.voter)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        Address::parse_account(&self.voter)?;
        votes::check_options(&self.options)
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
            self.options.clone(),
            &self.metadata,
        )
        .await?;
        Ok(pb::MsgVoteWeightedResponse {})
    }
}
