//! `MsgUnbondDcert`: starts unbonding a dCERT bond; the tokens stay slashable (and frozen while
//! the candidate is under suspension review) until the global unbonding time passes.

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::dcert::bonds;
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::proto::dcert::v1 as pb;
use caspur_types::{Address, Event};

/// The message.
pub type Msg = pb::MsgUnbondDcert;

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = "/caspur.dcert.v1.MsgUnbondDcert";
    type Response = pb::MsgUnbondDcertResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.staker)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        bonds::check_bond_msg(&self.staker, &self.candidate, &self.amount).map(|_| ())
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        let (staker, candidate) =
            bonds::check_bond_msg(&self.staker, &self.candidate, &self.amount)?;
        let (denom, amount) = bonds::bond_amount(ctx, &self.amount).await?;
        let completes_at_ms = bonds::start_unbonding(ctx, &candidate, &staker, amount).await?;
        ctx.emit(
            Event::new("dcert_unbond")
                .attr("staker", self.staker.clone())
                .attr("candidate", self.candidate.clone())
                .attr("amount", format!("{amount}{denom}"))
                .attr("completes_at_ms", completes_at_ms.to_string()),
        );
        Ok(pb::MsgUnbondDcertResponse { completes_at_ms })
    }
}
