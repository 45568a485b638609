//! `MsgBondDcert`: the candidate or anyone else bonds tokens for a candidate.

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::bank;
use crate::modules::dcert::{bonds, state};
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::proto::dcert::v1 as pb;
use caspur_types::{Address, Event};

/// The message.
pub type Msg = pb::MsgBondDcert;

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = "/caspur.dcert.v1.MsgBondDcert";
    type Response = pb::MsgBondDcertResponse;

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
        let coins = bonds::coins(&denom, amount)?;
        bank::state::send_coins(ctx, &staker, &state::dcert_address(), &coins).await?;
        bonds::add_bond(ctx, &candidate, &staker, amount).await?;
        ctx.emit(
            Event::new("dcert_bond")
                .attr("staker", self.staker.clone())
                .attr("candidate", self.candidate.clone())
                .attr("amount", format!("{amount}{denom}")),
        );
        Ok(pb::MsgBondDcertResponse {})
    }
}
