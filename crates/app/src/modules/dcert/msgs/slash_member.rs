//! `MsgSlashDcertMember` (governance only): burns a fraction of a member's bonded and unbonding
//! dCERT tokens; a suspension review open for it closes with the decision.

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::dcert::{bonds, members, state};
use crate::modules::gov::require_authority;
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::proto::dcert::v1 as pb;
use caspur_types::{Address, Dec};

/// The message.
pub type Msg = pb::MsgSlashDcertMember;

/// A slash or dissolution fraction: a decimal in (0, 1].
pub fn fraction(s: &str) -> Result<Dec, ExecError> {
    let f: Dec = s
        .parse()
        .map_err(|_| ExecError::invalid_request(format!("fraction {s:?} is not a decimal")))?;
    if f.is_zero() || f > Dec::ONE {
        return Err(ExecError::invalid_request(
            "a slash fraction must be within (0, 1]",
        ));
    }
    Ok(f)
}

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = "/caspur.dcert.v1.MsgSlashDcertMember";
    type Response = pb::MsgSlashDcertMemberResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.authority)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        require_authority(&self.authority)?;
        Address::parse_account(&self.member)?;
        fraction(&self.fraction).map(|_| ())
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        let member = Address::parse_account(&self.member)?;
        let c = state::candidate(ctx, &member).await?;
        let unbonding = !state::unbonding_stakers(ctx, &member).await?.is_empty();
        if c.bond == 0 && !unbonding {
            return Err(ExecError::invalid_request(format!(
                "{member} holds no dCERT bond to slash"
            )));
        }
        bonds::slash(ctx, &member, fraction(&self.fraction)?, &self.reason).await?;
        members::close_review(ctx, &member, "slashed by governance").await?;
        Ok(pb::MsgSlashDcertMemberResponse {})
    }
}
