//! The v1beta1 forms of `MsgVote`, `MsgVoteWeighted` and `MsgDeposit`, which wallets and CosmJS
//! still send; they act exactly as their v1 counterparts.

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::gov::votes;
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::{Address, Dec};
use cosmos_sdk_proto::cosmos::gov::{v1, v1beta1 as legacy};

/// v1beta1 weights are decimals in atomic form; v1's are decimal strings.
fn options(list: &[legacy::WeightedVoteOption]) -> Result<Vec<v1::WeightedVoteOption>, ExecError> {
    list.iter()
        .map(|o| {
            Ok(v1::WeightedVoteOption {
                option: o.option,
                weight: Dec::parse_atomics(&o.weight)?.to_string(),
            })
        })
        .collect()
}

fn single(option: i32) -> Vec<v1::WeightedVoteOption> {
    vec![v1::WeightedVoteOption {
        option,
        weight: Dec::ONE.to_string(),
    }]
}

impl MsgHandler for legacy::MsgVote {
    const TYPE_URL: &'static str = "/cosmos.gov.v1beta1.MsgVote";
    const ROUTE: &'static str = "/cosmos.gov.v1.MsgVote";
    type Response = legacy::MsgVoteResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.voter)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        Address::parse_account(&self.voter)?;
        votes::check_options(&single(self.option))
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        votes::cast(ctx, self.proposal_id, &self.voter, single(self.option), "").await?;
        Ok(legacy::MsgVoteResponse {})
    }
}

impl MsgHandler for legacy::MsgVoteWeighted {
    const TYPE_URL: &'static str = "/cosmos.gov.v1beta1.MsgVoteWeighted";
    const ROUTE: &'static str = "/cosmos.gov.v1.MsgVoteWeighted";
    type Response = legacy::MsgVoteWeightedResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.voter)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        Address::parse_account(&self.voter)?;
        votes::check_options(&options(&self.options)?)
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
            options(&self.options)?,
            "",
        )
        .await?;
        Ok(legacy::MsgVoteWeightedResponse {})
    }
}

fn as_v1(m: &legacy::MsgDeposit) -> v1::MsgDeposit {
    v1::MsgDeposit {
        proposal_id: m.proposal_id,
        depositor: m.depositor.clone(),
        amount: m.amount.clone(),
    }
}

impl MsgHandler for legacy::MsgDeposit {
    const TYPE_URL: &'static str = "/cosmos.gov.v1beta1.MsgDeposit";
    const ROUTE: &'static str = "/cosmos.gov.v1.MsgDeposit";
    type Response = legacy::MsgDepositResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        as_v1(self).signers()
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        as_v1(self).check_stateless()
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        depth: u32,
    ) -> Result<Self::Response, ExecError> {
        as_v1(self).execute(ctx, depth).await?;
        Ok(legacy::MsgDepositResponse {})
    }
}
