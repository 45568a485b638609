//! `MsgCircuitBreak`: an active member disables message routes — when the privilege is enabled
//! and no dissolution proposal is pending (authorization here; routes and enforcement in
//! `circuit`; the break's accountability record in `dcert::breaks`).

use super::accept_candidacy::MAX_TEXT;
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::circuit;
use crate::modules::dcert::{breaks, members};
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::proto::dcert::v1 as pb;
use caspur_types::Address;

/// The message.
pub type Msg = pb::MsgCircuitBreak;

/// Most routes one message may break.
pub const MAX_ROUTES: usize = 64;

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = "/caspur.dcert.v1.MsgCircuitBreak";
    type Response = pb::MsgCircuitBreakResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.member)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        Address::parse_account(&self.member)?;
        if self.routes.is_empty() || self.routes.len() > MAX_ROUTES {
            return Err(ExecError::invalid_request(format!(
                "name between 1 and {MAX_ROUTES} routes"
            )));
        }
        if self.reason.trim().is_empty() || self.reason.len() > MAX_TEXT {
            return Err(ExecError::invalid_request(format!(
                "a reason of at most {MAX_TEXT} bytes is required"
            )));
        }
        for route in &self.routes {
            circuit::validate_route(route)?;
        }
        // Safe mode spares what it spares: a route beside it would be silently lost.
        if self.routes.len() > 1 && self.routes.iter().any(|r| r == circuit::SAFE_MODE) {
            return Err(ExecError::invalid_request(
                "safe mode (\"*\") is broken alone, not beside other routes",
            ));
        }
        Ok(())
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        let member = Address::parse_account(&self.member)?;
        let params = members::authorize_circuit_break(ctx, &member).await?;
        let break_id = match breaks::open(ctx, &params, self).await? {
            breaks::Outcome::Broken(id) => id,
            // A vote toward a quorum break: nothing breaks yet (`dcert_break_vote`).
            breaks::Outcome::Voted => return Ok(pb::MsgCircuitBreakResponse { break_id: 0 }),
        };
        circuit::break_routes(ctx, &self.member, &self.routes, &self.reason, break_id).await?;
        Ok(pb::MsgCircuitBreakResponse { break_id })
    }
}
