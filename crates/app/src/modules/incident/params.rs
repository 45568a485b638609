//! `incident` parameters (SPEC §5), changed only by governance.

use crate::modules::bank::GenesisCoin;
use caspur_types::proto::incident::v1 as pb;
use caspur_types::{Coin, Dec, TxError};
use serde::{Deserialize, Serialize};

/// The parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentParams {
    /// Refundable anti-spam deposit of a report (burned when triage calls it spam).
    pub report_deposit: GenesisCoin,
    /// Block time a report may stay `REPORTED` before it is flagged overdue.
    pub verification_sla_secs: u64,
    /// Block time after `RESOLVED` by which the post-mortem is due.
    pub disclosure_deadline_secs: u64,
    /// Fraction of active dCERT members whose votes declare an emergency.
    pub declare_quorum: String,
}

impl Default for IncidentParams {
    fn default() -> Self {
        IncidentParams {
            // 10 CSP: enough to make spam cost, little for a researcher (refunded anyway).
            report_deposit: GenesisCoin {
                denom: caspur_types::STAKE_DENOM.into(),
                amount: "10000000".into(),
            },
            verification_sla_secs: 3600,
            disclosure_deadline_secs: 90 * 24 * 3600,
            // Two thirds rounded down to 18 digits, so that exactly two thirds reaches it.
            declare_quorum: "0.666666666666666666".into(),
        }
    }
}

impl IncidentParams {
    /// Checks every value.
    pub fn validate(&self) -> Result<(), TxError> {
        self.deposit()?;
        self.quorum()?;
        if self.verification_sla_secs == 0 || self.disclosure_deadline_secs == 0 {
            return Err(TxError::invalid_request(
                "verification_sla_secs and disclosure_deadline_secs must be positive",
            ));
        }
        Ok(())
    }

    /// The report deposit (may be zero).
    pub fn deposit(&self) -> Result<Coin, TxError> {
        self.report_deposit.to_coin()
    }

    /// The declare quorum, in (0, 1].
    pub fn quorum(&self) -> Result<Dec, TxError> {
        let d: Dec = self.declare_quorum.parse().map_err(|_| {
            TxError::invalid_request(format!(
                "declare_quorum must be a decimal, got {:?}",
                self.declare_quorum
            ))
        })?;
        if d.is_zero() || d > Dec::ONE {
            return Err(TxError::invalid_request(
                "declare_quorum must be within (0, 1]",
            ));
        }
        Ok(d)
    }

    /// As the protobuf record.
    pub fn to_proto(&self) -> pb::Params {
        pb::Params {
            report_deposit: Some(cosmos_sdk_proto::cosmos::base::v1beta1::Coin {
                denom: self.report_deposit.denom.clone(),
                amount: self.report_deposit.amount.clone(),
            }),
            verification_sla_secs: self.verification_sla_secs,
            disclosure_deadline_secs: self.disclosure_deadline_secs,
            declare_quorum: self.declare_quorum.clone(),
        }
    }

    /// From the protobuf record, validated.
    pub fn from_proto(p: &pb::Params) -> Result<Self, TxError> {
        let deposit = p
            .report_deposit
            .as_ref()
            .ok_or_else(|| TxError::invalid_request("report_deposit is required"))?;
        let params = IncidentParams {
            report_deposit: GenesisCoin {
                denom: deposit.denom.clone(),
                amount: deposit.amount.clone(),
            },
            verification_sla_secs: p.verification_sla_secs,
            disclosure_deadline_secs: p.disclosure_deadline_secs,
            declare_quorum: p.declare_quorum.clone(),
        };
        params.validate()?;
        Ok(params)
    }
}
