//! `MsgTriageIncident`: an active member judges a report. Verified or rejected in good faith,
//! the deposit goes back to the reporter; spam burns it.

use super::{check_id, incident_msg};
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::bank;
use crate::modules::incident::{escrow_address, lifecycle, state};
use caspur_store::StateRead;
use caspur_types::proto::incident::v1::{self as pb, Severity, State, Verdict};
use caspur_types::{Address, Coin, Coins};

/// The message.
pub type Msg = pb::MsgTriageIncident;
/// Its type URL.
pub const TYPE_URL: &str = "/caspur.incident.v1.MsgTriageIncident";

fn check(msg: &Msg) -> Result<(), ExecError> {
    check_id(msg.id)?;
    let verdict = Verdict::try_from(msg.verdict).unwrap_or(Verdict::Unspecified);
    if verdict == Verdict::Unspecified {
        return Err(ExecError::invalid_request(
            "verdict must be verified, rejected or spam",
        ));
    }
    let severity = Severity::try_from(msg.severity).map_err(|_| {
        ExecError::invalid_request("severity must be low, medium, high or critical")
    })?;
    if verdict == Verdict::Verified && severity == Severity::Unspecified {
        return Err(ExecError::invalid_request(
            "a verified report needs a severity: low, medium, high or critical",
        ));
    }
    Ok(())
}

async fn execute<B: StateRead>(
    msg: &Msg,
    ctx: &mut Ctx<'_, B>,
) -> Result<pb::MsgTriageIncidentResponse, ExecError> {
    let mut i = state::require(ctx, msg.id).await?;
    lifecycle::require_member(ctx, &msg.member).await?;
    lifecycle::require_state(&i, &[State::Reported], "triage")?;
    let verdict = Verdict::try_from(msg.verdict).unwrap_or(Verdict::Unspecified);
    if let Some(deposit) = i.deposit.as_ref() {
        let coin = Coin::from_proto(deposit)?;
        if coin.amount > 0 {
            let coins = Coins::normalize(vec![coin])?;
            if verdict == Verdict::Spam {
                bank::state::burn_coins(ctx, &escrow_address(), &coins).await?;
            } else {
                let reporter = Address::parse_account(&i.reporter)?;
                bank::state::send_coins(ctx, &escrow_address(), &reporter, &coins).await?;
            }
        }
    }
    i.severity = msg.severity;
    let (to, text) = match verdict {
        Verdict::Verified => (State::Verified, "verified"),
        Verdict::Spam => (State::Rejected, "rejected as spam: deposit burned"),
        _ => (State::Rejected, "rejected"),
    };
    lifecycle::record(ctx, &mut i, Some(to), "triaged", &msg.member, text).await?;
    Ok(pb::MsgTriageIncidentResponse {})
}

incident_msg!(Msg, pb::MsgTriageIncidentResponse, signer = member);
