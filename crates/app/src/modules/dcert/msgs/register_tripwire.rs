//! `MsgRegisterTripwire` (governance only): registers an invariant checked at the end of every
//! block, bound to the exact routes it breaks when it fires (`dcert::tripwire`).

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::dcert::tripwire_state::{self as store, MAX_TRIPWIRES};
use crate::modules::gov::require_authority;
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::proto::dcert::v1 as pb;
use caspur_types::{Address, Event};

/// The message.
pub type Msg = pb::MsgRegisterTripwire;

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = "/caspur.dcert.v1.MsgRegisterTripwire";
    type Response = pb::MsgRegisterTripwireResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.authority)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        require_authority(&self.authority)?;
        let t = self
            .tripwire
            .as_ref()
            .ok_or_else(|| ExecError::invalid_request("tripwire is required"))?;
        store::validate(t)
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        let asked = self
            .tripwire
            .as_ref()
            .ok_or_else(|| ExecError::invalid_request("tripwire is required"))?;
        let mut tripwires = store::all(ctx).await?;
        if tripwires.len() >= MAX_TRIPWIRES {
            return Err(ExecError::invalid_request(format!(
                "{MAX_TRIPWIRES} tripwires are registered, the most there may be: remove one \
                 first"
            )));
        }
        let id = store::next_id(ctx).await?;
        // The chain assigns the id and keeps the counters; the rest is governance's.
        let t = pb::Tripwire {
            id,
            registered_height: ctx.block.height,
            break_id: 0,
            fired: 0,
            last_fired_height: 0,
            ..asked.clone()
        };
        ctx.emit(
            Event::new("dcert_tripwire_registered")
                .attr("tripwire_id", id.to_string())
                .attr("kind", store::kind_name(t.kind))
                .attr("routes", t.routes.join(",")),
        );
        tripwires.push(t);
        store::set_all(ctx, tripwires)?;
        Ok(pb::MsgRegisterTripwireResponse { id })
    }
}
