//! `incident` messages, one file each. Every one but the report and the params is sent by a
//! member or the response team about one incident: [`incident_msg!`] writes the router glue
//! (signer, stateless check, execution) from a file's `check` and `execute`.

pub mod abort;
pub mod announce;
pub mod confirm;
pub mod declare;
pub mod link_upgrade;
pub mod post_update;
pub mod postmortem;
pub mod propose_plan;
pub mod report;
pub mod reseal;
pub mod resolve;
pub mod review;
pub mod triage;
pub mod update_params;

use crate::error::ExecError;

/// Implements `MsgHandler` for an incident message whose signer is `$signer` from the file's
/// `TYPE_URL`, `check(&Msg)` and `execute(&Msg, ctx)`.
macro_rules! incident_msg {
    ($msg:ty, $response:ty, signer = $signer:ident) => {
        impl $crate::router::MsgHandler for $msg {
            const TYPE_URL: &'static str = TYPE_URL;
            type Response = $response;

            fn signers(&self) -> Result<Vec<caspur_types::Address>, $crate::error::ExecError> {
                Ok(vec![caspur_types::Address::parse_account(&self.$signer)?])
            }

            fn check_stateless(&self) -> Result<(), $crate::error::ExecError> {
                caspur_types::Address::parse_account(&self.$signer)?;
                check(self)
            }

            async fn execute<B: caspur_store::StateRead>(
                &self,
                ctx: &mut $crate::context::Ctx<'_, B>,
                _depth: u32,
            ) -> Result<Self::Response, $crate::error::ExecError> {
                execute(self, ctx).await
            }
        }
    };
}
pub(crate) use incident_msg;

/// Refuses id 0 (ids start at 1).
pub fn check_id(id: u64) -> Result<(), ExecError> {
    if id == 0 {
        return Err(ExecError::invalid_request("incident ids start at 1"));
    }
    Ok(())
}

/// Refuses empty required text.
pub fn require_text(field: &str, text: &str, max: usize) -> Result<(), ExecError> {
    if text.trim().is_empty() {
        return Err(ExecError::invalid_request(format!("{field} is required")));
    }
    super::check_text(field, text, max)
}
