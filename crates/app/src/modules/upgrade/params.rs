//! `upgrade` parameters (SPEC §4), changed only by governance.

use caspur_types::proto::upgrade::v1 as pb;
use caspur_types::{Dec, TxError};
use serde::{Deserialize, Serialize};

/// The parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpgradeParams {
    /// Fraction of active dCERT members whose approval schedules (or cancels) an emergency plan.
    pub emergency_quorum: String,
    /// Least number of blocks between an emergency plan's scheduling and its height.
    pub min_notice: u64,
    /// Fraction of bonded voting power that must have signalled readiness.
    pub readiness_threshold: String,
    /// Blocks before the plan height at which readiness is judged; also the postponement step.
    pub readiness_window: u64,
    /// Postponements before an unready plan is cancelled.
    pub max_postponements: u32,
}

impl Default for UpgradeParams {
    fn default() -> Self {
        // Two thirds rounded down to 18 digits, so that exactly two thirds reaches it.
        UpgradeParams {
            emergency_quorum: "0.666666666666666666".into(),
            // About ten minutes at one block per second.
            min_notice: 600,
            readiness_threshold: "0.666666666666666666".into(),
            readiness_window: 100,
            max_postponements: 3,
        }
    }
}

fn fraction(name: &str, s: &str, allow_zero: bool) -> Result<Dec, TxError> {
    let d: Dec = s
        .parse()
        .map_err(|_| TxError::invalid_request(format!("{name} must be a decimal, got {s:?}")))?;
    if d > Dec::ONE || (!allow_zero && d.is_zero()) {
        return Err(TxError::invalid_request(format!(
            "{name} must be within {}1]",
            if allow_zero { "[0, " } else { "(0, " }
        )));
    }
    Ok(d)
}

impl UpgradeParams {
    /// Checks every value.
    pub fn validate(&self) -> Result<(), TxError> {
        self.quorum()?;
        self.threshold()?;
        if self.readiness_window == 0 {
            return Err(TxError::invalid_request(
                "readiness_window must be at least 1 block",
            ));
        }
        Ok(())
    }

    /// The emergency quorum.
    pub fn quorum(&self) -> Result<Dec, TxError> {
        fraction("emergency_quorum", &self.emergency_quorum, false)
    }

    /// The readiness threshold (0 turns readiness checks off).
    pub fn threshold(&self) -> Result<Dec, TxError> {
        fraction("readiness_threshold", &self.readiness_threshold, true)
    }

    /// As the protobuf record.
    pub fn to_proto(&self) -> pb::Params {
        pb::Params {
            emergency_quorum: self.emergency_quorum.clone(),
            min_notice: self.min_notice as i64,
            readiness_threshold: self.readiness_threshold.clone(),
            readiness_window: self.readiness_window as i64,
            max_postponements: self.max_postponements,
        }
    }

    /// From the protobuf record, validated.
    pub fn from_proto(p: &pb::Params) -> Result<Self, TxError> {
        let blocks = |name: &str, v: i64| {
            u64::try_from(v)
                .map_err(|_| TxError::invalid_request(format!("{name} must not be negative")))
        };
        let params = UpgradeParams {
            emergency_quorum: p.emergency_quorum.clone(),
            min_notice: blocks("min_notice", p.min_notice)?,
            readiness_threshold: p.readiness_threshold.clone(),
            readiness_window: blocks("readiness_window", p.readiness_window)?,
            max_postponements: p.max_postponements,
        };
        params.validate()?;
        Ok(params)
    }
}
