//! `MsgConfirmTripwire`: a member allowed to break (as for `MsgCircuitBreak`) confirms a fired
//! tripwire's break, making it its own (`dcert::tripwire_break`).

use super::accept_candidacy::MAX_TEXT;
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::dcert::{members, tripwire_break};
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::proto::dcert::v1 as pb;
use caspur_types::Address;

/// The message.
pub type Msg = pb::MsgConfirmTripwire;

/// Checks what both answers to a tripwire say: a member, a break, a bounded reason.
pub fn check_answer(member: &str, break_id: u64, reason: &str) -> Result<(), ExecError> {
    Address::parse_account(member)?;
    if break_id == 0 {
        return Err(ExecError::invalid_request("break_id must be positive"));
    }
    if reason.len() > MAX_TEXT {
        return Err(ExecError::invalid_request(format!(
            "a reason is at most {MAX_TEXT} bytes"
        )));
    }
    Ok(())
}

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = "/caspur.dcert.v1.MsgConfirmTripwire";
    type Response = pb::MsgConfirmTripwireResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.member)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        check_answer(&self.member, self.break_id, &self.reason)
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        let member = Address::parse_account(&self.member)?;
        let params = members::authorize_circuit_break(ctx, &member).await?;
        tripwire_break::confirm(ctx, &params, &self.member, self.break_id, &self.reason).await?;
        Ok(pb::MsgConfirmTripwireResponse {})
    }
}
