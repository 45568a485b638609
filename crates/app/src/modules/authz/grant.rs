//! `MsgGrant`: the granter lets the grantee send messages of one type for it
//! (`GenericAuthorization`; other authorization kinds are refused).

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::authz::state;
use crate::router::{MsgHandler, ROUTES};
use caspur_store::StateRead;
use caspur_types::{Address, Event};
use cosmos_sdk_proto::cosmos::authz::v1beta1 as pb;
use prost::Message as _;

/// The message.
pub type Msg = pb::MsgGrant;

const GENERIC: &str = "/cosmos.authz.v1beta1.GenericAuthorization";

/// The granted type URL and the expiration in ms (0: none).
fn parsed(msg: &Msg) -> Result<(String, u64), ExecError> {
    let grant = msg
        .grant
        .as_ref()
        .ok_or_else(|| ExecError::invalid_request("a grant is required"))?;
    let auth = grant
        .authorization
        .as_ref()
        .ok_or_else(|| ExecError::invalid_request("an authorization is required"))?;
    if auth.type_url != GENERIC {
        return Err(ExecError::invalid_request(format!(
            "only {GENERIC} is supported, not {}",
            auth.type_url
        )));
    }
    let generic = pb::GenericAuthorization::decode(auth.value.as_slice())
        .map_err(|e| ExecError::decode(format!("invalid GenericAuthorization: {e}")))?;
    if !ROUTES.contains(&generic.msg.as_str()) {
        return Err(ExecError::invalid_request(format!(
            "{:?} is not a message type of this chain",
            generic.msg
        )));
    }
    let expiration = match &grant.expiration {
        None => 0,
        Some(t) if t.seconds > 0 => (t.seconds as u64)
            .saturating_mul(1000)
            .saturating_add(u64::try_from(t.nanos).unwrap_or(0) / 1_000_000),
        Some(_) => {
            return Err(ExecError::invalid_request(
                "the expiration must be after 1970",
            ))
        }
    };
    Ok((generic.msg, expiration))
}

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = "/cosmos.authz.v1beta1.MsgGrant";
    type Response = pb::MsgGrantResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.granter)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        let granter = Address::parse_account(&self.granter)?;
        if granter == Address::parse_account(&self.grantee)? {
            return Err(ExecError::invalid_request(
                "granter and grantee must differ",
            ));
        }
        parsed(self).map(|_| ())
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        let granter = Address::parse_account(&self.granter)?;
        let grantee = Address::parse_account(&self.grantee)?;
        let (type_url, expiration) = parsed(self)?;
        if expiration != 0 && expiration <= ctx.block.time_ms {
            return Err(ExecError::invalid_request("the expiration is in the past"));
        }
        state::set_grant(ctx, &granter, &grantee, &type_url, expiration)?;
        ctx.emit(
            Event::new("cosmos.authz.v1beta1.EventGrant")
                .attr("msg_type_url", type_url)
                .attr("granter", self.granter.clone())
                .attr("grantee", self.grantee.clone()),
        );
        Ok(pb::MsgGrantResponse {})
    }
}
