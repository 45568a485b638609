//! `MsgRemoveTripwire` (governance only): removes a tripwire and what it remembers; a break it
//! made runs its course.

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::dcert::tripwire_state as store;
use crate::modules::gov::require_authority;
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::proto::dcert::v1 as pb;
use caspur_types::{Address, Event};

/// The message.
pub type Msg = pb::MsgRemoveTripwire;

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = "/caspur.dcert.v1.MsgRemoveTripwire";
    type Response = pb::MsgRemoveTripwireResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.authority)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        require_authority(&self.authority)?;
        if self.id == 0 {
            return Err(ExecError::invalid_request("tripwire ids start at 1"));
        }
        Ok(())
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        let mut tripwires = store::all(ctx).await?;
        let before = tripwires.len();
        tripwires.retain(|t| t.id != self.id);
        if tripwires.len() == before {
            return Err(ExecError::invalid_request(format!(
                "tripwire {} is not registered",
                self.id
            )));
        }
        store::set_all(ctx, tripwires)?;
        store::set_samples(ctx, self.id, Vec::new())?;
        ctx.emit(Event::new("dcert_tripwire_removed").attr("tripwire_id", self.id.to_string()));
        Ok(pb::MsgRemoveTripwireResponse {})
    }
}
