//! dCERT parameters (SPEC §2.1), changed only by governance.

use caspur_types::proto::dcert::v1 as pb;
use caspur_types::{Dec, TxError};
use serde::{Deserialize, Serialize};

/// The parameters, amounts in the bond denom's base unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DcertParams {
    /// Paid to each active member per stipend period from the community pool.
    pub stipend_per_member: String,
    /// Seats in the group.
    pub max_members: u32,
    /// dCERT bond a member must keep.
    pub min_member_stake: String,
    /// Fraction of the other active members whose votes suspend a member.
    pub suspension_quorum: String,
    /// Deposit a dissolution proposal needs.
    pub dissolution_deposit: String,
    /// Seconds before a challenger replaces a member (0: at once).
    pub stabilization_period_secs: u64,
    /// Whether members may circuit-break at all.
    pub circuit_break_enabled: bool,
    /// Seconds a suspended member's bond stays frozen awaiting governance.
    pub suspension_review_period_secs: u64,
    /// Stipend period in seconds.
    pub stipend_period_secs: u64,
    /// Whether seats are filled (a passed dissolution turns it off).
    pub elections_enabled: bool,
    /// Seconds of block time a break has to be ratified by governance (0: no ratification).
    /// The accountability fields are left out of the stored JSON at their defaults, so a chain
    /// that never turns them on keeps the state bytes (and app hashes) it had before them.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub break_ratification_period_secs: u64,
    /// Fraction of a member's dCERT bond burned for a break not ratified in time, or whose
    /// incident was not disclosed by its deadline ("0": none).
    #[serde(default = "zero_fraction", skip_serializing_if = "is_zero_fraction")]
    pub unratified_break_slash: String,
    /// Blocks a member's break lasts unless ratified (0: no limit).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub max_break_blocks: u64,
    /// Share of the active members whose identical breaks break a module prefix ("0": one
    /// member).
    #[serde(default = "zero_fraction", skip_serializing_if = "is_zero_fraction")]
    pub module_break_quorum: String,
    /// Share of the active members whose breaks of `*` put the chain in safe mode ("0": safe
    /// mode is not available).
    #[serde(default = "zero_fraction", skip_serializing_if = "is_zero_fraction")]
    pub global_break_quorum: String,
    /// Stipend periods in a row a member may miss its heartbeat before a suspension vote on
    /// it opens (0: heartbeats are not required).
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub heartbeat_misses: u32,
    /// Blocks a fired tripwire's routes stay broken unless an active member confirms or
    /// releases the break (docs/dcert.md, "Tripwires").
    #[serde(
        default = "default_tripwire_blocks",
        skip_serializing_if = "is_default_tripwire_blocks"
    )]
    pub tripwire_blocks: u64,
}

/// [`DcertParams::tripwire_blocks`]' default: about ten minutes of one-second blocks, time for
/// a member to look at the evidence.
pub const DEFAULT_TRIPWIRE_BLOCKS: u64 = 600;

fn default_tripwire_blocks() -> u64 {
    DEFAULT_TRIPWIRE_BLOCKS
}

fn is_default_tripwire_blocks(n: &u64) -> bool {
    *n == DEFAULT_TRIPWIRE_BLOCKS
}

fn is_zero_u32(n: &u32) -> bool {
    *n == 0
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn zero_fraction() -> String {
    "0".into()
}

fn is_zero_fraction(s: &str) -> bool {
    s == "0"
}

/// A fraction field of the protobuf record: empty (a client that predates it) means "0".
fn or_zero(s: &str) -> String {
    if s.is_empty() {
        zero_fraction()
    } else {
        s.to_string()
    }
}

/// 1 CSP in ucsp.
const CSP: u128 = 1_000_000;

impl Default for DcertParams {
    fn default() -> Self {
        DcertParams {
            stipend_per_member: (100 * CSP).to_string(),
            max_members: 7,
            min_member_stake: (10_000 * CSP).to_string(),
            suspension_quorum: "0.666666666666666667".into(),
            dissolution_deposit: (100_000 * CSP).to_string(),
            stabilization_period_secs: 86_400,
            circuit_break_enabled: false,
            // Twice the default governance voting period (2 days).
            suspension_review_period_secs: 4 * 86_400,
            stipend_period_secs: 86_400,
            elections_enabled: true,
            break_ratification_period_secs: 0,
            unratified_break_slash: zero_fraction(),
            max_break_blocks: 0,
            module_break_quorum: zero_fraction(),
            global_break_quorum: zero_fraction(),
            heartbeat_misses: 0,
            tripwire_blocks: DEFAULT_TRIPWIRE_BLOCKS,
        }
    }
}

fn fraction(name: &str, s: &str) -> Result<Dec, TxError> {
    s.parse()
        .map_err(|_| TxError::invalid_request(format!("{name} must be a decimal, got {s:?}")))
}

fn amount(name: &str, s: &str) -> Result<u128, TxError> {
    s.parse().map_err(|_| {
        TxError::invalid_request(format!("{name} must be an integer amount, got {s:?}"))
    })
}

impl DcertParams {
    /// Checks every value.
    pub fn validate(&self) -> Result<(), TxError> {
        self.stipend()?;
        if self.max_members == 0 || self.max_members > 100 {
            return Err(TxError::invalid_request(
                "max_members must be within 1..=100",
            ));
        }
        if self.min_stake()? == 0 {
            return Err(TxError::invalid_request(
                "min_member_stake must be positive",
            ));
        }
        let q = self.quorum()?;
        if q.is_zero() || q > Dec::ONE {
            return Err(TxError::invalid_request(
                "suspension_quorum must be within (0, 1]",
            ));
        }
        self.dissolution_deposit_amount()?;
        if self.stipend_period_secs == 0 {
            return Err(TxError::invalid_request(
                "stipend_period_secs must be positive",
            ));
        }
        if self.unratified_slash()? > Dec::ONE {
            return Err(TxError::invalid_request(
                "unratified_break_slash must be within [0, 1]",
            ));
        }
        if self.tripwire_blocks == 0 {
            return Err(TxError::invalid_request("tripwire_blocks must be positive"));
        }
        for (name, q) in [
            ("module_break_quorum", &self.module_break_quorum),
            ("global_break_quorum", &self.global_break_quorum),
        ] {
            if fraction(name, q)? > Dec::ONE {
                return Err(TxError::invalid_request(format!(
                    "{name} must be within [0, 1]"
                )));
            }
        }
        Ok(())
    }

    /// The quorums of the blast-radius levels above one route: a module prefix, safe mode.
    pub fn break_quorums(&self) -> Result<(Dec, Dec), TxError> {
        Ok((
            fraction("module_break_quorum", &self.module_break_quorum)?,
            fraction("global_break_quorum", &self.global_break_quorum)?,
        ))
    }

    /// The fraction of a bond burned for an unratified or undisclosed break.
    pub fn unratified_slash(&self) -> Result<Dec, TxError> {
        fraction("unratified_break_slash", &self.unratified_break_slash)
    }

    /// Whether a break gets an accountability record (ratification, a lifetime or a
    /// blast-radius quorum is on).
    pub fn breaks_accountable(&self) -> bool {
        self.break_ratification_period_secs > 0
            || self.max_break_blocks > 0
            || self
                .break_quorums()
                .is_ok_and(|(module, global)| module > Dec::ZERO || global > Dec::ZERO)
    }

    /// The stipend period `time_ms` falls in (the heartbeat epoch).
    pub fn period_of(&self, time_ms: u64) -> u64 {
        time_ms / self.stipend_period_secs.saturating_mul(1000).max(1)
    }

    /// The stipend per member and period.
    pub fn stipend(&self) -> Result<u128, TxError> {
        amount("stipend_per_member", &self.stipend_per_member)
    }

    /// The minimum member bond.
    pub fn min_stake(&self) -> Result<u128, TxError> {
        amount("min_member_stake", &self.min_member_stake)
    }

    /// The suspension quorum.
    pub fn quorum(&self) -> Result<Dec, TxError> {
        self.suspension_quorum
            .parse()
            .map_err(|_| TxError::invalid_request("suspension_quorum must be a decimal"))
    }

    /// The dissolution proposal's deposit.
    pub fn dissolution_deposit_amount(&self) -> Result<u128, TxError> {
        amount("dissolution_deposit", &self.dissolution_deposit)
    }

    /// As the protobuf record (coins in `denom`).
    pub fn to_proto(&self, denom: &str) -> pb::Params {
        let coin = |amount: &str| cosmos_sdk_proto::cosmos::base::v1beta1::Coin {
            denom: denom.into(),
            amount: amount.into(),
        };
        pb::Params {
            stipend_per_member: Some(coin(&self.stipend_per_member)),
            max_members: self.max_members,
            min_member_stake: self.min_member_stake.clone(),
            suspension_quorum: self.suspension_quorum.clone(),
            dissolution_deposit: Some(coin(&self.dissolution_deposit)),
            stabilization_period_secs: self.stabilization_period_secs,
            circuit_break_enabled: self.circuit_break_enabled,
            suspension_review_period_secs: self.suspension_review_period_secs,
            stipend_period_secs: self.stipend_period_secs,
            elections_enabled: self.elections_enabled,
            break_ratification_period_secs: self.break_ratification_period_secs,
            unratified_break_slash: self.unratified_break_slash.clone(),
            max_break_blocks: self.max_break_blocks,
            module_break_quorum: self.module_break_quorum.clone(),
            global_break_quorum: self.global_break_quorum.clone(),
            heartbeat_misses: self.heartbeat_misses,
            tripwire_blocks: self.tripwire_blocks,
        }
    }

    /// From the protobuf record; coins must be in `denom`.
    pub fn from_proto(p: &pb::Params, denom: &str) -> Result<Self, TxError> {
        let coin = |name: &str, c: &Option<cosmos_sdk_proto::cosmos::base::v1beta1::Coin>| {
            let c = c
                .as_ref()
                .ok_or_else(|| TxError::invalid_request(format!("{name} is required")))?;
            if c.denom != denom {
                return Err(TxError::invalid_coins(format!("{name} must be in {denom}")));
            }
            Ok(c.amount.clone())
        };
        let params = DcertParams {
            stipend_per_member: coin("stipend_per_member", &p.stipend_per_member)?,
            max_members: p.max_members,
            min_member_stake: p.min_member_stake.clone(),
            suspension_quorum: p.suspension_quorum.clone(),
            dissolution_deposit: coin("dissolution_deposit", &p.dissolution_deposit)?,
            stabilization_period_secs: p.stabilization_period_secs,
            circuit_break_enabled: p.circuit_break_enabled,
            suspension_review_period_secs: p.suspension_review_period_secs,
            stipend_period_secs: p.stipend_period_secs,
            elections_enabled: p.elections_enabled,
            break_ratification_period_secs: p.break_ratification_period_secs,
            unratified_break_slash: or_zero(&p.unratified_break_slash),
            max_break_blocks: p.max_break_blocks,
            module_break_quorum: or_zero(&p.module_break_quorum),
            global_break_quorum: or_zero(&p.global_break_quorum),
            heartbeat_misses: p.heartbeat_misses,
            tripwire_blocks: p.tripwire_blocks,
        };
        params.validate()?;
        Ok(params)
    }
}
