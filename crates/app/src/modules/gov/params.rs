//! `gov` parameters (Cosmos gov v1's, with the same defaults scaled to CSP).

use crate::modules::bank::GenesisCoin;
use caspur_types::{Coins, Dec, TxError};
use cosmos_sdk_proto::cosmos::gov::v1 as pb;
use cosmos_sdk_proto::tendermint::google::protobuf::Duration;
use serde::{Deserialize, Serialize};

/// Governance parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GovParams {
    /// Deposit that moves a proposal into voting.
    pub min_deposit: Vec<GenesisCoin>,
    /// Deposit an expedited proposal needs.
    pub expedited_min_deposit: Vec<GenesisCoin>,
    /// How long a proposal may collect deposits, in seconds.
    pub max_deposit_period_secs: u64,
    /// How long voting lasts, in seconds.
    pub voting_period_secs: u64,
    /// How long an expedited proposal's voting lasts, in seconds.
    pub expedited_voting_period_secs: u64,
    /// Share of bonded stake that must vote.
    pub quorum: String,
    /// Share of non-abstaining votes that must be yes.
    pub threshold: String,
    /// Share of votes that, voting no-with-veto, reject the proposal and burn its deposits.
    pub veto_threshold: String,
    /// The yes threshold of an expedited proposal.
    pub expedited_threshold: String,
    /// Share of `min_deposit` the proposer must put down at submission.
    pub min_initial_deposit_ratio: String,
    /// Burn deposits of a proposal that misses quorum.
    pub burn_vote_quorum: bool,
    /// Burn deposits of a proposal that never reached voting.
    pub burn_proposal_deposit_prevote: bool,
    /// Burn deposits of a vetoed proposal.
    pub burn_vote_veto: bool,
    /// Minimum deposits of their own for proposals carrying a message type (the larger of this
    /// and `min_deposit` applies).
    #[serde(default)]
    pub message_min_deposits: Vec<MessageMinDeposit>,
}

/// A message type's own minimum proposal deposit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageMinDeposit {
    /// The message type URL.
    pub type_url: String,
    /// The minimum deposit of a proposal carrying it.
    pub min_deposit: Vec<GenesisCoin>,
}

fn coins(amount: &str) -> Vec<GenesisCoin> {
    vec![GenesisCoin {
        denom: caspur_types::STAKE_DENOM.into(),
        amount: amount.into(),
    }]
}

impl Default for GovParams {
    fn default() -> Self {
        GovParams {
            min_deposit: coins("10000000"),
            expedited_min_deposit: coins("50000000"),
            max_deposit_period_secs: 2 * 24 * 3600,
            voting_period_secs: 2 * 24 * 3600,
            expedited_voting_period_secs: 24 * 3600,
            quorum: "0.334".into(),
            threshold: "0.5".into(),
            veto_threshold: "0.334".into(),
            expedited_threshold: "0.667".into(),
            min_initial_deposit_ratio: "0".into(),
            burn_vote_quorum: false,
            burn_proposal_deposit_prevote: false,
            burn_vote_veto: true,
            message_min_deposits: Vec::new(),
        }
    }
}

fn fraction(name: &str, value: &str) -> Result<Dec, TxError> {
    let d: Dec = value.parse().map_err(|_| {
        TxError::invalid_request(format!("{name} must be a decimal, got {value:?}"))
    })?;
    if d > Dec::ONE {
        return Err(TxError::invalid_request(format!(
            "{name} must be at most 1"
        )));
    }
    Ok(d)
}

impl GovParams {
    /// Checks every value; a proposal carrying a bad one fails without effect.
    pub fn validate(&self) -> Result<(), TxError> {
        let min = GenesisCoin::to_coins(&self.min_deposit)?;
        let expedited = GenesisCoin::to_coins(&self.expedited_min_deposit)?;
        if min.is_empty() || expedited.is_empty() {
            return Err(TxError::invalid_request(
                "minimum deposits must not be empty",
            ));
        }
        if !expedited.covers(&min) {
            return Err(TxError::invalid_request(
                "expedited_min_deposit must be at least min_deposit",
            ));
        }
        if self.max_deposit_period_secs == 0
            || self.voting_period_secs == 0
            || self.expedited_voting_period_secs == 0
        {
            return Err(TxError::invalid_request("periods must be positive"));
        }
        if self.expedited_voting_period_secs >= self.voting_period_secs {
            return Err(TxError::invalid_request(
                "the expedited voting period must be shorter than the voting period",
            ));
        }
        let quorum = fraction("quorum", &self.quorum)?;
        let threshold = fraction("threshold", &self.threshold)?;
        let veto = fraction("veto_threshold", &self.veto_threshold)?;
        let expedited_threshold = fraction("expedited_threshold", &self.expedited_threshold)?;
        fraction("min_initial_deposit_ratio", &self.min_initial_deposit_ratio)?;
        for m in &self.message_min_deposits {
            if !crate::router::ROUTES.contains(&m.type_url.as_str()) {
                return Err(TxError::invalid_request(format!(
                    "message_min_deposits names unknown message type {:?}",
                    m.type_url
                )));
            }
            GenesisCoin::to_coins(&m.min_deposit)?;
        }
        if quorum.is_zero() || threshold.is_zero() || veto.is_zero() {
            return Err(TxError::invalid_request(
                "quorum, threshold and veto_threshold must be positive",
            ));
        }
        if expedited_threshold < threshold {
            return Err(TxError::invalid_request(
                "expedited_threshold must be at least threshold",
            ));
        }
        Ok(())
    }

    /// `quorum`.
    pub fn quorum(&self) -> Result<Dec, TxError> {
        self.quorum.parse()
    }

    /// `veto_threshold`.
    pub fn veto(&self) -> Result<Dec, TxError> {
        self.veto_threshold.parse()
    }

    /// The yes threshold (`expedited_threshold` for an expedited proposal).
    pub fn yes_threshold(&self, expedited: bool) -> Result<Dec, TxError> {
        if expedited {
            self.expedited_threshold.parse()
        } else {
            self.threshold.parse()
        }
    }

    /// `min_initial_deposit_ratio`.
    pub fn initial_deposit_ratio(&self) -> Result<Dec, TxError> {
        self.min_initial_deposit_ratio.parse()
    }

    /// A message type's own minimum deposit, if it declares one.
    pub fn message_min_deposit(&self, type_url: &str) -> Result<Option<Coins>, TxError> {
        self.message_min_deposits
            .iter()
            .find(|m| m.type_url == type_url)
            .map(|m| GenesisCoin::to_coins(&m.min_deposit))
            .transpose()
    }

    /// `min_deposit` (or `expedited_min_deposit`).
    pub fn min_deposit(&self, expedited: bool) -> Result<Coins, TxError> {
        GenesisCoin::to_coins(if expedited {
            &self.expedited_min_deposit
        } else {
            &self.min_deposit
        })
    }

    /// The voting period in milliseconds.
    pub fn voting_period_ms(&self, expedited: bool) -> u64 {
        let secs = if expedited {
            self.expedited_voting_period_secs
        } else {
            self.voting_period_secs
        };
        secs.saturating_mul(1000)
    }

    /// As the SDK's `Params` message (queries, `MsgUpdateParams`).
    pub fn to_proto(&self) -> pb::Params {
        let proto_coins = |c: &[GenesisCoin]| {
            c.iter()
                .map(|c| cosmos_sdk_proto::cosmos::base::v1beta1::Coin {
                    denom: c.denom.clone(),
                    amount: c.amount.clone(),
                })
                .collect()
        };
        let duration = |secs: u64| {
            Some(Duration {
                seconds: secs as i64,
                nanos: 0,
            })
        };
        let dec = |s: &str| s.parse::<Dec>().map(|d| d.to_string()).unwrap_or_default();
        pb::Params {
            min_deposit: proto_coins(&self.min_deposit),
            max_deposit_period: duration(self.max_deposit_period_secs),
            voting_period: duration(self.voting_period_secs),
            quorum: dec(&self.quorum),
            threshold: dec(&self.threshold),
            veto_threshold: dec(&self.veto_threshold),
            min_initial_deposit_ratio: dec(&self.min_initial_deposit_ratio),
            proposal_cancel_ratio: Dec::ZERO.to_string(),
            proposal_cancel_dest: String::new(),
            expedited_voting_period: duration(self.expedited_voting_period_secs),
            expedited_threshold: dec(&self.expedited_threshold),
            expedited_min_deposit: proto_coins(&self.expedited_min_deposit),
            burn_vote_quorum: self.burn_vote_quorum,
            burn_proposal_deposit_prevote: self.burn_proposal_deposit_prevote,
            burn_vote_veto: self.burn_vote_veto,
            min_deposit_ratio: Dec::ZERO.to_string(),
        }
    }

    /// From the SDK's `Params` message, keeping `current`'s settings the message has no field
    /// for; the result is validated.
    pub fn from_proto(p: &pb::Params, current: &GovParams) -> Result<Self, TxError> {
        let genesis_coins = |c: &[cosmos_sdk_proto::cosmos::base::v1beta1::Coin]| {
            c.iter()
                .map(|c| GenesisCoin {
                    denom: c.denom.clone(),
                    amount: c.amount.clone(),
                })
                .collect()
        };
        let secs = |d: &Option<Duration>, name: &str| {
            d.as_ref()
                .and_then(|d| u64::try_from(d.seconds).ok())
                .ok_or_else(|| TxError::invalid_request(format!("{name} is required")))
        };
        let params = GovParams {
            min_deposit: genesis_coins(&p.min_deposit),
            expedited_min_deposit: genesis_coins(&p.expedited_min_deposit),
            max_deposit_period_secs: secs(&p.max_deposit_period, "max_deposit_period")?,
            voting_period_secs: secs(&p.voting_period, "voting_period")?,
            expedited_voting_period_secs: secs(
                &p.expedited_voting_period,
                "expedited_voting_period",
            )?,
            quorum: p.quorum.clone(),
            threshold: p.threshold.clone(),
            veto_threshold: p.veto_threshold.clone(),
            expedited_threshold: p.expedited_threshold.clone(),
            min_initial_deposit_ratio: if p.min_initial_deposit_ratio.is_empty() {
                "0".into()
            } else {
                p.min_initial_deposit_ratio.clone()
            },
            burn_vote_quorum: p.burn_vote_quorum,
            burn_proposal_deposit_prevote: p.burn_proposal_deposit_prevote,
            burn_vote_veto: p.burn_vote_veto,
            message_min_deposits: current.message_min_deposits.clone(),
        };
        params.validate()?;
        Ok(params)
    }
}
