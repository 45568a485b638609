//! `MsgReportIncident`: anyone reports a vulnerability, sealed to every active member's
//! encryption key, with the report deposit held in escrow until triage.

use super::incident_msg;
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::bank;
use crate::modules::incident::{
    check_hash, check_text, escrow_address, lifecycle, sealing, state, MAX_TITLE,
};
use caspur_store::StateRead;
use caspur_types::proto::incident::v1::{self as pb, Severity};
use caspur_types::{Address, Coins};

/// The message.
pub type Msg = pb::MsgReportIncident;
/// Its type URL.
pub const TYPE_URL: &str = "/caspur.incident.v1.MsgReportIncident";

fn check(msg: &Msg) -> Result<(), ExecError> {
    match Severity::try_from(msg.severity_claim) {
        Ok(s) if s != Severity::Unspecified => {}
        _ => {
            return Err(ExecError::invalid_request(
                "severity_claim must be low, medium, high or critical",
            ))
        }
    }
    check_text("public_title", &msg.public_title, MAX_TITLE)?;
    sealing::check_sealed(msg.sealed_report.as_ref())?;
    check_hash("commitment", &msg.commitment, false)
}

async fn execute<B: StateRead>(
    msg: &Msg,
    ctx: &mut Ctx<'_, B>,
) -> Result<pb::MsgReportIncidentResponse, ExecError> {
    let reporter = Address::parse_account(&msg.reporter)?;
    let sealed = sealing::check_sealed(msg.sealed_report.as_ref())?;
    sealing::check_addressed(ctx, sealed).await?;
    let params = state::get_params(ctx).await?;
    let deposit = params.deposit()?;
    if deposit.amount > 0 {
        let coins = Coins::normalize(vec![deposit.clone()])?;
        bank::state::send_coins(ctx, &reporter, &escrow_address(), &coins).await?;
    }
    let incident = pb::Incident {
        severity_claim: msg.severity_claim,
        public_title: msg.public_title.clone(),
        commitment: msg.commitment.clone(),
        reporter: msg.reporter.clone(),
        deposit: Some(deposit.to_proto()),
        ..Default::default()
    };
    let id = lifecycle::open(
        ctx,
        incident,
        params.verification_sla_secs,
        &msg.reporter,
        &msg.public_title,
    )
    .await?;
    state::set_sealed(ctx, id, sealed)?;
    Ok(pb::MsgReportIncidentResponse { id })
}

incident_msg!(Msg, pb::MsgReportIncidentResponse, signer = reporter);
