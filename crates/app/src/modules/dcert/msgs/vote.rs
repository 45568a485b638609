//! `MsgVoteDcert`: a staker splits its support across candidates (replacing its old vote).

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::dcert::election::{self, WEIGHT_SCALE};
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::proto::dcert::v1 as pb;
use caspur_types::{Address, Dec};

/// The message.
pub type Msg = pb::MsgVoteDcert;

/// Most candidates one vote may support.
pub const MAX_PREFERENCES: usize = 16;

/// The preferences as (candidate, weight atomics), sorted by candidate.
pub fn preferences_of(msg: &Msg) -> Result<Vec<(Address, u128)>, ExecError> {
    {
        if msg.preferences.len() > MAX_PREFERENCES {
            return Err(ExecError::invalid_request(format!(
                "at most {MAX_PREFERENCES} preferences per vote"
            )));
        }
        let mut out = Vec::with_capacity(msg.preferences.len());
        let mut sum = 0u128;
        for p in &msg.preferences {
            let candidate = Address::parse_account(&p.candidate)?;
            let weight: Dec = p.weight.parse().map_err(|_| {
                ExecError::invalid_request(format!("weight {:?} is not a decimal", p.weight))
            })?;
            if weight.is_zero() {
                return Err(ExecError::invalid_request(
                    "a preference's weight must be positive",
                ));
            }
            sum = sum.saturating_add(weight.atomics());
            out.push((candidate, weight.atomics()));
        }
        if sum > WEIGHT_SCALE {
            return Err(ExecError::invalid_request(
                "the weights of a vote sum to more than 1",
            ));
        }
        out.sort();
        if out.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(ExecError::invalid_request(
                "a candidate appears twice in one vote",
            ));
        }
        Ok(out)
    }
}

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = "/caspur.dcert.v1.MsgVoteDcert";
    type Response = pb::MsgVoteDcertResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.voter)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        Address::parse_account(&self.voter)?;
        preferences_of(self).map(|_| ())
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        let voter = Address::parse_account(&self.voter)?;
        let preferences = preferences_of(self)?;
        if !preferences.is_empty() && election::stake_of(ctx, &voter).await? == 0 {
            return Err(ExecError::invalid_request(
                "only an address with bonded stake may vote for dCERT candidates",
            ));
        }
        election::set_vote(ctx, &voter, preferences).await?;
        ctx.emit(caspur_types::Event::new("dcert_vote").attr("voter", self.voter.clone()));
        Ok(pb::MsgVoteDcertResponse {})
    }
}
