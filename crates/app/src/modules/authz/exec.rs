//! `MsgExec{grantee, msgs}`: executes each inner message through the router, as its signer,
//! when the grantee is that signer or holds an unexpired grant from it for the message type.

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::authz::state;
use crate::msg_tree::Nested;
use crate::router::{dispatch, signers_of, MsgHandler};
use caspur_store::StateRead;
use caspur_types::Address;

/// The message.
pub type Msg = cosmos_sdk_proto::cosmos::authz::v1beta1::MsgExec;
/// Its type URL.
pub const TYPE_URL: &str = "/cosmos.authz.v1beta1.MsgExec";

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = TYPE_URL;
    type Response = cosmos_sdk_proto::cosmos::authz::v1beta1::MsgExecResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.grantee)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        Address::parse_account(&self.grantee)?;
        if self.msgs.is_empty() {
            return Err(ExecError::invalid_request("exec carries no messages"));
        }
        Ok(())
    }

    fn nested(&self) -> Nested<'_> {
        Nested {
            msgs: &self.msgs,
            required_signer: None,
        }
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        depth: u32,
    ) -> Result<Self::Response, ExecError> {
        let grantee = Address::parse_account(&self.grantee)?;
        let mut results = Vec::with_capacity(self.msgs.len());
        for inner in &self.msgs {
            for signer in signers_of(inner)? {
                if signer == grantee {
                    continue;
                }
                let expiry = state::grant(ctx, &signer, &grantee, &inner.type_url).await?;
                match expiry {
                    Some(0) => {}
                    Some(t) if t > ctx.block.time_ms => {}
                    _ => {
                        return Err(ExecError::unauthorized(format!(
                            "{grantee} holds no authorization from {signer} for {}",
                            inner.type_url
                        )))
                    }
                }
            }
            results.push(dispatch(ctx, inner, depth + 1).await?.value);
        }
        Ok(cosmos_sdk_proto::cosmos::authz::v1beta1::MsgExecResponse { results })
    }
}
