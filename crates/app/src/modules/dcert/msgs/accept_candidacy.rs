//! `MsgAcceptCandidacy`: an address accepts being elected (with a description and the key
//! confidential reports are encrypted to).

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::dcert::{election, state};
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::proto::dcert::v1 as pb;
use caspur_types::{Address, Event};

/// The message.
pub type Msg = pb::MsgAcceptCandidacy;

/// Longest description or key, in bytes.
pub const MAX_TEXT: usize = 8192;

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = "/caspur.dcert.v1.MsgAcceptCandidacy";
    type Response = pb::MsgAcceptCandidacyResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.candidate)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        Address::parse_account(&self.candidate)?;
        if self.description.len() > MAX_TEXT || self.encryption_key.len() > MAX_TEXT {
            return Err(ExecError::invalid_request(format!(
                "description and encryption key are limited to {MAX_TEXT} bytes"
            )));
        }
        // Reports are sealed to this key (SPEC §5): a key nobody can seal to would leave the
        // member blind, so only an X25519 key (or none) is accepted.
        if !self.encryption_key.is_empty() {
            caspur_types::seal::PublicKey::parse(&self.encryption_key)
                .map_err(|e| ExecError::invalid_request(e.to_string()))?;
        }
        Ok(())
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        let candidate = Address::parse_account(&self.candidate)?;
        let params = state::get_params(ctx).await?;
        election::update_candidate(ctx, &params, &candidate, |c| {
            c.accepted = true;
            c.description = self.description.clone();
            c.encryption_key = self.encryption_key.clone();
            Ok(())
        })
        .await?;
        ctx.emit(Event::new("dcert_candidacy").attr("candidate", self.candidate.clone()));
        Ok(pb::MsgAcceptCandidacyResponse {})
    }
}
