//! `staking` state. Records are the Cosmos SDK's protobuf messages, so queries return them as
//! stored:
//!
//! | key | value |
//! |---|---|
//! | `[STAKING, 0]` | params (JSON) |
//! | `[STAKING, 1] ‖ operator` | `Validator` |
//! | `[STAKING, 2]` | every operator, sorted (20 bytes each) |
//! | `[STAKING, 3] ‖ consensus key` | operator (a key serves one validator only) |
//! | `[STAKING, 4] ‖ delegator ‖ operator` | delegation shares (`Dec` atomics, 16 bytes BE) |
//! | `[STAKING, 5] ‖ operator ‖ delegator` | empty: a validator's delegators, for queries |
//! | `[STAKING, 6] ‖ delegator ‖ operator` | `UnbondingDelegation` |
//! | `[STAKING, 7] ‖ delegator ‖ src ‖ dst` | `Redelegation` |
//! | `[STAKING, 8] ‖ delegator ‖ dst` | count of immature redelegations into `dst` |
//! | `[STAKING, 9]` | the bonded set: sorted (operator, power) pairs |
//! | `[STAKING, 10]` | present when a validator's tokens or status changed this block |
//! | `[STAKING, 11…13]` | time queues: unbonding delegations, redelegations, validators |
//! | `[STAKING, 14] ‖ delegator` | the operators it delegates to, sorted (for tallies) |
//! | `[STAKING, 15] ‖ operator` | delegators with unbonding entries from it, sorted (for slashes) |
//! | `[STAKING, 16] ‖ src` | (delegator, dst) pairs with redelegations from it, sorted (for slashes) |
//!
//! Block execution cannot iterate over state, so every set it walks is an explicit list.

use super::params::StakingParams;
use crate::context::{KvRead, KvWrite};
use crate::error::ExecError;
use crate::modules::ids::STAKING;
use crate::queue::TimeQueue;
use caspur_store::keys::key;
use caspur_types::{Address, Dec};
use cosmos_sdk_proto::cosmos::staking::v1beta1 as pb;
use cosmos_sdk_proto::tendermint::google::protobuf::Timestamp;
use cosmos_sdk_proto::Any;
use prost::Message as _;

const PARAMS: [u8; 2] = [STAKING, 0];
/// Prefix of validator records.
pub const VALIDATOR: [u8; 2] = [STAKING, 1];
const OPERATORS: [u8; 2] = [STAKING, 2];
/// `‖ consensus key` → the operator of the validator using it.
pub const BY_CONSENSUS_KEY: [u8; 2] = [STAKING, 3];
/// Prefix of delegations by delegator.
pub const DELEGATION: [u8; 2] = [STAKING, 4];
/// Prefix of the delegator index by validator.
pub const DELEGATORS_OF: [u8; 2] = [STAKING, 5];
/// Prefix of unbonding delegations.
pub const UNBONDING: [u8; 2] = [STAKING, 6];
/// Prefix of redelegations.
pub const REDELEGATION: [u8; 2] = [STAKING, 7];
const INCOMING_REDELEGATIONS: [u8; 2] = [STAKING, 8];
const BONDED_SET: [u8; 2] = [STAKING, 9];
const CHANGED: [u8; 2] = [STAKING, 10];
const DELEGATED_TO: [u8; 2] = [STAKING, 14];
const UNBONDING_FROM: [u8; 2] = [STAKING, 15];
const REDELEGATED_FROM: [u8; 2] = [STAKING, 16];
/// Unbonding delegations by completion time (payload: delegator ‖ operator).
pub const UNBONDING_QUEUE: TimeQueue = TimeQueue::new([STAKING, 11]);
/// Redelegations by completion time (payload: delegator ‖ src ‖ dst).
pub const REDELEGATION_QUEUE: TimeQueue = TimeQueue::new([STAKING, 12]);
/// Validators leaving the bonded set by completion time (payload: operator).
pub const VALIDATOR_QUEUE: TimeQueue = TimeQueue::new([STAKING, 13]);

/// Bech32 prefix of validator operator addresses.
pub const VALOPER_PREFIX: &str = "caspurvaloper";
/// Tokens per unit of consensus voting power (Cosmos's `DefaultPowerReduction`).
pub const POWER_REDUCTION: u128 = 1_000_000;
/// Type URL of an ed25519 consensus key.
pub const ED25519_KEY_URL: &str = "/cosmos.crypto.ed25519.PubKey";

/// Parses a `caspurvaloper1…` address.
pub fn parse_valoper(s: &str) -> Result<Address, caspur_types::TxError> {
    Address::from_bech32(s, VALOPER_PREFIX)
        .map_err(|e| caspur_types::TxError::invalid_address(e.to_string()))
}

/// Formats an operator address.
pub fn valoper(a: &Address) -> String {
    a.to_bech32(VALOPER_PREFIX)
}

/// A protobuf timestamp from block milliseconds.
pub fn timestamp(ms: u64) -> Timestamp {
    Timestamp {
        seconds: (ms / 1000) as i64,
        nanos: ((ms % 1000) * 1_000_000) as i32,
    }
}

/// Block milliseconds from a protobuf timestamp.
pub fn millis(t: &Option<Timestamp>) -> u64 {
    t.as_ref().map_or(0, |t| {
        (t.seconds.max(0) as u64) * 1000 + (t.nanos.max(0) as u64) / 1_000_000
    })
}

fn corrupt(what: &str) -> ExecError {
    ExecError::logic(format!("corrupt staking state: {what}"))
}

/// Where a validator stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Not in the bonded set and not waiting out an unbonding.
    Unbonded,
    /// Left the bonded set; its tokens stay slashable until the unbonding time passes.
    Unbonding,
    /// In the bonded set: it validates, its tokens sit in the bonded pool.
    Bonded,
}

impl Status {
    fn code(self) -> i32 {
        match self {
            Status::Unbonded => pb::BondStatus::Unbonded as i32,
            Status::Unbonding => pb::BondStatus::Unbonding as i32,
            Status::Bonded => pb::BondStatus::Bonded as i32,
        }
    }

    fn from_code(code: i32) -> Result<Self, ExecError> {
        match pb::BondStatus::try_from(code) {
            Ok(pb::BondStatus::Unbonded) => Ok(Status::Unbonded),
            Ok(pb::BondStatus::Unbonding) => Ok(Status::Unbonding),
            Ok(pb::BondStatus::Bonded) => Ok(Status::Bonded),
            _ => Err(corrupt("validator status")),
        }
    }
}

/// A validator, as the module works with it.
#[derive(Clone, Debug, PartialEq)]
pub struct Validator {
    /// Operator (its account signs for it).
    pub operator: Address,
    /// Ed25519 consensus key.
    pub consensus_key: [u8; 32],
    /// Jailed validators are never bonded.
    pub jailed: bool,
    /// Bonding status.
    pub status: Status,
    /// Tokens delegated to it (after slashes).
    pub tokens: u128,
    /// Shares issued to its delegators.
    pub shares: Dec,
    /// Description.
    pub description: pb::Description,
    /// Height it started unbonding at.
    pub unbonding_height: u64,
    /// When its unbonding completes.
    pub unbonding_time_ms: u64,
    /// Commission rates (`rate`, `max_rate`, `max_change_rate`).
    pub commission: [Dec; 3],
    /// When the commission rate last changed.
    pub commission_updated_ms: u64,
    /// Least self-delegation the operator must keep.
    pub min_self_delegation: u128,
}

impl Validator {
    /// Consensus voting power: tokens over the power reduction.
    pub fn power(&self) -> u64 {
        u64::try_from(self.tokens / POWER_REDUCTION).unwrap_or(u64::MAX)
    }

    /// The SDK's `Validator` message.
    pub fn to_proto(&self) -> pb::Validator {
        let atomics = |d: Dec| d.atomics().to_string();
        pb::Validator {
            operator_address: valoper(&self.operator),
            consensus_pubkey: Some(Any {
                type_url: ED25519_KEY_URL.into(),
                value: cosmos_sdk_proto::cosmos::crypto::ed25519::PubKey {
                    key: self.consensus_key.to_vec(),
                }
                .encode_to_vec(),
            }),
            jailed: self.jailed,
            status: self.status.code(),
            tokens: self.tokens.to_string(),
            delegator_shares: atomics(self.shares),
            description: Some(self.description.clone()),
            unbonding_height: self.unbonding_height as i64,
            unbonding_time: Some(timestamp(self.unbonding_time_ms)),
            commission: Some(pb::Commission {
                commission_rates: Some(pb::CommissionRates {
                    rate: atomics(self.commission[0]),
                    max_rate: atomics(self.commission[1]),
                    max_change_rate: atomics(self.commission[2]),
                }),
                update_time: Some(timestamp(self.commission_updated_ms)),
            }),
            min_self_delegation: self.min_self_delegation.to_string(),
            unbonding_on_hold_ref_count: 0,
            unbonding_ids: Vec::new(),
        }
    }

    /// From the stored message.
    pub fn from_proto(v: &pb::Validator) -> Result<Self, ExecError> {
        let rates = v
            .commission
            .as_ref()
            .and_then(|c| c.commission_rates.clone())
            .unwrap_or_default();
        Ok(Validator {
            operator: parse_valoper(&v.operator_address)?,
            consensus_key: consensus_key_of(v.consensus_pubkey.as_ref())?,
            jailed: v.jailed,
            status: Status::from_code(v.status)?,
            tokens: v.tokens.parse().map_err(|_| corrupt("tokens"))?,
            shares: Dec::parse_atomics(&v.delegator_shares)?,
            description: v.description.clone().unwrap_or_default(),
            unbonding_height: v.unbonding_height.max(0) as u64,
            unbonding_time_ms: millis(&v.unbonding_time),
            commission: [
                Dec::parse_atomics(&rates.rate)?,
                Dec::parse_atomics(&rates.max_rate)?,
                Dec::parse_atomics(&rates.max_change_rate)?,
            ],
            commission_updated_ms: millis(&v.commission.as_ref().and_then(|c| c.update_time)),
            min_self_delegation: v
                .min_self_delegation
                .parse()
                .map_err(|_| corrupt("min_self_delegation"))?,
        })
    }
}

/// The 32-byte key in an `Any`-packed ed25519 public key.
pub fn consensus_key_of(any: Option<&Any>) -> Result<[u8; 32], ExecError> {
    let any = any.ok_or_else(|| ExecError::invalid_pubkey("a consensus public key is required"))?;
    if any.type_url != ED25519_KEY_URL {
        return Err(ExecError::invalid_pubkey(format!(
            "consensus keys must be {ED25519_KEY_URL}, got {:?}",
            any.type_url
        )));
    }
    let key = cosmos_sdk_proto::cosmos::crypto::ed25519::PubKey::decode(any.value.as_slice())
        .map_err(|e| ExecError::invalid_pubkey(format!("invalid ed25519 key: {e}")))?;
    key.key
        .as_slice()
        .try_into()
        .map_err(|_| ExecError::invalid_pubkey("an ed25519 key has 32 bytes"))
}

/// The parameters (defaults if never set).
pub async fn get_params(kv: &mut impl KvRead) -> Result<StakingParams, ExecError> {
    crate::params::read(kv, &PARAMS).await
}

/// Stores the parameters.
pub fn set_params(kv: &mut impl KvWrite, p: &StakingParams) -> Result<(), ExecError> {
    crate::params::write(kv, &PARAMS, p)
}

fn validator_key(op: &Address) -> Vec<u8> {
    key(&VALIDATOR, &[&op.0])
}

/// The validator operated by `op`, if any.
pub async fn get_validator(
    kv: &mut impl KvRead,
    op: &Address,
) -> Result<Option<Validator>, ExecError> {
    match kv.get(&validator_key(op)).await? {
        None => Ok(None),
        Some(bytes) => {
            let v = pb::Validator::decode(bytes.as_slice()).map_err(|_| corrupt("validator"))?;
            Validator::from_proto(&v).map(Some)
        }
    }
}

/// The validator operated by `op`, or an error naming it.
pub async fn require_validator(kv: &mut impl KvRead, op: &Address) -> Result<Validator, ExecError> {
    get_validator(kv, op).await?.ok_or_else(|| {
        ExecError::invalid_request(format!("validator {} does not exist", valoper(op)))
    })
}

/// Stores a validator and marks the bonded set for recomputation.
pub fn set_validator(kv: &mut impl KvWrite, v: &Validator) -> Result<(), ExecError> {
    store_validator(kv, v)?;
    mark_changed(kv)
}

/// Stores a validator without marking the bonded set (the end of block's own status changes,
/// which follow from a recomputation rather than call for one).
pub fn store_validator(kv: &mut impl KvWrite, v: &Validator) -> Result<(), ExecError> {
    kv.put(validator_key(&v.operator), v.to_proto().encode_to_vec())
}

/// Removes a validator that has no shares left and is not bonded.
pub async fn remove_validator(kv: &mut impl KvWrite, v: &Validator) -> Result<(), ExecError> {
    kv.delete(validator_key(&v.operator))?;
    kv.delete(key(&BY_CONSENSUS_KEY, &[&v.consensus_key]))?;
    let mut ops = operators(kv).await?;
    ops.retain(|o| *o != v.operator);
    set_operators(kv, &ops)?;
    kv.put(CHANGED.to_vec(), Vec::new())
}

/// The operator whose validator signs consensus with `pub_key`, if any.
pub async fn operator_by_consensus_key(
    kv: &mut impl KvRead,
    pub_key: &[u8; 32],
) -> Result<Option<Address>, ExecError> {
    match kv.get(&key(&BY_CONSENSUS_KEY, &[pub_key])).await? {
        None => Ok(None),
        Some(bytes) => <[u8; 20]>::try_from(bytes.as_slice())
            .map(|a| Some(Address(a)))
            .map_err(|_| corrupt("consensus key index")),
    }
}

/// Registers a new validator: its record, the operator list and its consensus key.
pub async fn add_validator(kv: &mut impl KvWrite, v: &Validator) -> Result<(), ExecError> {
    let by_key = key(&BY_CONSENSUS_KEY, &[&v.consensus_key]);
    if kv.get(&by_key).await?.is_some() {
        return Err(ExecError::invalid_pubkey(
            "this consensus key already belongs to a validator",
        ));
    }
    kv.put(by_key, v.operator.0.to_vec())?;
    let mut ops = operators(kv).await?;
    let at = ops.partition_point(|o| *o < v.operator);
    ops.insert(at, v.operator);
    set_operators(kv, &ops)?;
    set_validator(kv, v)
}

/// Every validator operator, sorted.
pub async fn operators(kv: &mut impl KvRead) -> Result<Vec<Address>, ExecError> {
    let bytes = kv.get(&OPERATORS).await?.unwrap_or_default();
    decode_addresses(&bytes)
}

fn set_operators(kv: &mut impl KvWrite, ops: &[Address]) -> Result<(), ExecError> {
    kv.put(OPERATORS.to_vec(), ops.iter().flat_map(|o| o.0).collect())
}

fn decode_addresses(bytes: &[u8]) -> Result<Vec<Address>, ExecError> {
    if !bytes.len().is_multiple_of(20) {
        return Err(corrupt("address list"));
    }
    Ok(bytes
        .chunks_exact(20)
        .map(|c| {
            let mut a = [0u8; 20];
            a.copy_from_slice(c);
            Address(a)
        })
        .collect())
}

/// Marks the bonded set for recomputation at the end of the block.
pub fn mark_changed(kv: &mut impl KvWrite) -> Result<(), ExecError> {
    kv.put(CHANGED.to_vec(), Vec::new())
}

/// Takes (and clears) the "changed this block" mark.
pub async fn take_changed(kv: &mut impl KvWrite) -> Result<bool, ExecError> {
    let changed = kv.get(&CHANGED).await?.is_some();
    if changed {
        kv.delete(CHANGED.to_vec())?;
    }
    Ok(changed)
}

fn delegation_key(delegator: &Address, op: &Address) -> Vec<u8> {
    key(&DELEGATION, &[&delegator.0, &op.0])
}

/// A delegation's shares (zero when there is none).
pub async fn get_shares(
    kv: &mut impl KvRead,
    delegator: &Address,
    op: &Address,
) -> Result<Dec, ExecError> {
    match kv.get(&delegation_key(delegator, op)).await? {
        None => Ok(Dec::ZERO),
        Some(b) => Ok(Dec::from_atomics(u128::from_be_bytes(
            b.as_slice().try_into().map_err(|_| corrupt("shares"))?,
        ))),
    }
}

/// Sets a delegation's shares; zero removes it.
pub async fn set_shares(
    kv: &mut impl KvWrite,
    delegator: &Address,
    op: &Address,
    shares: Dec,
) -> Result<(), ExecError> {
    let index = key(&DELEGATORS_OF, &[&op.0, &delegator.0]);
    let mut to = delegated_to(kv, delegator).await?;
    let at = to.binary_search(op);
    if shares.is_zero() {
        kv.delete(delegation_key(delegator, op))?;
        if let Ok(at) = at {
            to.remove(at);
        }
        set_delegated_to(kv, delegator, &to)?;
        kv.delete(index)
    } else {
        kv.put(
            delegation_key(delegator, op),
            shares.atomics().to_be_bytes().to_vec(),
        )?;
        if let Err(at) = at {
            to.insert(at, *op);
            set_delegated_to(kv, delegator, &to)?;
        }
        kv.put(index, Vec::new())
    }
}

/// The operators `delegator` delegates to, sorted.
pub async fn delegated_to(
    kv: &mut impl KvRead,
    delegator: &Address,
) -> Result<Vec<Address>, ExecError> {
    let bytes = kv
        .get(&key(&DELEGATED_TO, &[&delegator.0]))
        .await?
        .unwrap_or_default();
    decode_addresses(&bytes)
}

fn set_delegated_to(
    kv: &mut impl KvWrite,
    delegator: &Address,
    ops: &[Address],
) -> Result<(), ExecError> {
    let k = key(&DELEGATED_TO, &[&delegator.0]);
    if ops.is_empty() {
        kv.delete(k)
    } else {
        kv.put(k, ops.iter().flat_map(|o| o.0).collect())
    }
}

fn unbonding_key(delegator: &Address, op: &Address) -> Vec<u8> {
    key(&UNBONDING, &[&delegator.0, &op.0])
}

/// One unbonding entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnbondingEntry {
    /// Height it was created at (slashes reach entries created after an infraction).
    pub creation_height: u64,
    /// When it pays out.
    pub completion_ms: u64,
    /// Tokens at creation.
    pub initial_balance: u128,
    /// Tokens now (after slashes and partial cancellations).
    pub balance: u128,
}

/// A delegator's unbonding entries from one validator (empty when none).
pub async fn get_unbonding(
    kv: &mut impl KvRead,
    delegator: &Address,
    op: &Address,
) -> Result<Vec<UnbondingEntry>, ExecError> {
    let Some(bytes) = kv.get(&unbonding_key(delegator, op)).await? else {
        return Ok(Vec::new());
    };
    let record =
        pb::UnbondingDelegation::decode(bytes.as_slice()).map_err(|_| corrupt("unbonding"))?;
    record
        .entries
        .iter()
        .map(|e| {
            Ok(UnbondingEntry {
                creation_height: e.creation_height.max(0) as u64,
                completion_ms: millis(&e.completion_time),
                initial_balance: e.initial_balance.parse().map_err(|_| corrupt("balance"))?,
                balance: e.balance.parse().map_err(|_| corrupt("balance"))?,
            })
        })
        .collect()
}

/// Stores a delegator's unbonding entries from one validator; none removes the record.
pub async fn set_unbonding(
    kv: &mut impl KvWrite,
    delegator: &Address,
    op: &Address,
    entries: &[UnbondingEntry],
) -> Result<(), ExecError> {
    let index = key(&UNBONDING_FROM, &[&op.0]);
    update_list(kv, &index, &delegator.0, !entries.is_empty()).await?;
    if entries.is_empty() {
        return kv.delete(unbonding_key(delegator, op));
    }
    let record = pb::UnbondingDelegation {
        delegator_address: delegator.to_account_string(),
        validator_address: valoper(op),
        entries: entries
            .iter()
            .map(|e| pb::UnbondingDelegationEntry {
                creation_height: e.creation_height as i64,
                completion_time: Some(timestamp(e.completion_ms)),
                initial_balance: e.initial_balance.to_string(),
                balance: e.balance.to_string(),
                unbonding_id: 0,
                unbonding_on_hold_ref_count: 0,
            })
            .collect(),
    };
    kv.put(unbonding_key(delegator, op), record.encode_to_vec())
}

fn redelegation_key(delegator: &Address, src: &Address, dst: &Address) -> Vec<u8> {
    key(&REDELEGATION, &[&delegator.0, &src.0, &dst.0])
}

/// One redelegation entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedelegationEntry {
    /// Height it was created at.
    pub creation_height: u64,
    /// When it stops being slashable for the source's infractions.
    pub completion_ms: u64,
    /// Tokens moved.
    pub initial_balance: u128,
    /// Shares received at the destination.
    pub shares_dst: Dec,
}

/// A delegator's redelegation entries from `src` to `dst`.
pub async fn get_redelegation(
    kv: &mut impl KvRead,
    delegator: &Address,
    src: &Address,
    dst: &Address,
) -> Result<Vec<RedelegationEntry>, ExecError> {
    let Some(bytes) = kv.get(&redelegation_key(delegator, src, dst)).await? else {
        return Ok(Vec::new());
    };
    let record = pb::Redelegation::decode(bytes.as_slice()).map_err(|_| corrupt("redelegation"))?;
    record
        .entries
        .iter()
        .map(|e| {
            Ok(RedelegationEntry {
                creation_height: e.creation_height.max(0) as u64,
                completion_ms: millis(&e.completion_time),
                initial_balance: e.initial_balance.parse().map_err(|_| corrupt("balance"))?,
                shares_dst: Dec::parse_atomics(&e.shares_dst)?,
            })
        })
        .collect()
}

/// Stores redelegation entries; none removes the record.
pub async fn set_redelegation(
    kv: &mut impl KvWrite,
    delegator: &Address,
    src: &Address,
    dst: &Address,
    entries: &[RedelegationEntry],
) -> Result<(), ExecError> {
    let pair = payload(&[delegator, dst]);
    update_list(
        kv,
        &key(&REDELEGATED_FROM, &[&src.0]),
        &pair,
        !entries.is_empty(),
    )
    .await?;
    if entries.is_empty() {
        return kv.delete(redelegation_key(delegator, src, dst));
    }
    let record = pb::Redelegation {
        delegator_address: delegator.to_account_string(),
        validator_src_address: valoper(src),
        validator_dst_address: valoper(dst),
        entries: entries
            .iter()
            .map(|e| pb::RedelegationEntry {
                creation_height: e.creation_height as i64,
                completion_time: Some(timestamp(e.completion_ms)),
                initial_balance: e.initial_balance.to_string(),
                shares_dst: e.shares_dst.atomics().to_string(),
                unbonding_id: 0,
                unbonding_on_hold_ref_count: 0,
            })
            .collect(),
    };
    kv.put(
        redelegation_key(delegator, src, dst),
        record.encode_to_vec(),
    )
}

fn incoming_key(delegator: &Address, dst: &Address) -> Vec<u8> {
    key(&INCOMING_REDELEGATIONS, &[&delegator.0, &dst.0])
}

/// How many immature redelegations of `delegator` point at `dst`.
pub async fn incoming_redelegations(
    kv: &mut impl KvRead,
    delegator: &Address,
    dst: &Address,
) -> Result<u64, ExecError> {
    match kv.get(&incoming_key(delegator, dst)).await? {
        None => Ok(0),
        Some(b) => Ok(u64::from_be_bytes(
            b.as_slice().try_into().map_err(|_| corrupt("count"))?,
        )),
    }
}

/// Adjusts the immature-redelegation count of (`delegator`, `dst`) by `delta`.
pub async fn add_incoming_redelegations(
    kv: &mut impl KvWrite,
    delegator: &Address,
    dst: &Address,
    delta: i64,
) -> Result<(), ExecError> {
    let now = incoming_redelegations(kv, delegator, dst).await?;
    let next = now.saturating_add_signed(delta);
    if next == 0 {
        kv.delete(incoming_key(delegator, dst))
    } else {
        kv.put(incoming_key(delegator, dst), next.to_be_bytes().to_vec())
    }
}

/// The bonded set as last computed: (operator, power), sorted by operator.
pub async fn bonded_set(kv: &mut impl KvRead) -> Result<Vec<(Address, u64)>, ExecError> {
    let bytes = kv.get(&BONDED_SET).await?.unwrap_or_default();
    if !bytes.len().is_multiple_of(28) {
        return Err(corrupt("bonded set"));
    }
    Ok(bytes
        .chunks_exact(28)
        .map(|c| {
            let mut a = [0u8; 20];
            a.copy_from_slice(&c[..20]);
            let mut p = [0u8; 8];
            p.copy_from_slice(&c[20..]);
            (Address(a), u64::from_be_bytes(p))
        })
        .collect())
}

/// Stores the bonded set (sorted by operator).
pub fn set_bonded_set(kv: &mut impl KvWrite, set: &[(Address, u64)]) -> Result<(), ExecError> {
    let mut bytes = Vec::with_capacity(set.len() * 28);
    for (op, power) in set {
        bytes.extend_from_slice(&op.0);
        bytes.extend_from_slice(&power.to_be_bytes());
    }
    kv.put(BONDED_SET.to_vec(), bytes)
}

/// Queue payload of a pair of addresses (or more).
pub fn payload(addrs: &[&Address]) -> Vec<u8> {
    addrs.iter().flat_map(|a| a.0).collect()
}

/// The addresses in a queue payload.
pub fn payload_addresses(bytes: &[u8]) -> Result<Vec<Address>, ExecError> {
    decode_addresses(bytes)
}

/// Adds (`present`) or removes `item` in the sorted list of fixed-size items under `k`.
async fn update_list(
    kv: &mut impl KvWrite,
    k: &[u8],
    item: &[u8],
    present: bool,
) -> Result<(), ExecError> {
    let bytes = kv.get(k).await?.unwrap_or_default();
    let mut items: Vec<&[u8]> = bytes.chunks_exact(item.len()).collect();
    match (items.binary_search(&item), present) {
        (Err(at), true) => items.insert(at, item),
        (Ok(at), false) => {
            items.remove(at);
        }
        _ => return Ok(()),
    }
    if items.is_empty() {
        kv.delete(k.to_vec())
    } else {
        kv.put(k.to_vec(), items.concat())
    }
}

/// Delegators with unbonding entries from `op`.
pub async fn unbonding_delegators(
    kv: &mut impl KvRead,
    op: &Address,
) -> Result<Vec<Address>, ExecError> {
    let bytes = kv
        .get(&key(&UNBONDING_FROM, &[&op.0]))
        .await?
        .unwrap_or_default();
    decode_addresses(&bytes)
}

/// (delegator, dst) pairs with redelegations from `src`.
pub async fn redelegations_from(
    kv: &mut impl KvRead,
    src: &Address,
) -> Result<Vec<(Address, Address)>, ExecError> {
    let bytes = kv
        .get(&key(&REDELEGATED_FROM, &[&src.0]))
        .await?
        .unwrap_or_default();
    let addrs = decode_addresses(&bytes)?;
    Ok(addrs.chunks_exact(2).map(|p| (p[0], p[1])).collect())
}
