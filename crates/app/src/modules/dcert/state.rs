//! `dcert` state:
//!
//! | key | value |
//! |---|---|
//! | `[DCERT, 0]` | params (JSON) |
//! | `[DCERT, 1] ‖ candidate` | candidate record (JSON): acceptance, tally, bond, seat, suspension |
//! | `[DCERT, 2]` | members: (address, sequence) pairs in admission order |
//! | `[DCERT, 3]` | the last sequence number given |
//! | `[DCERT, 4] …` | sorted index of eligible non-members by (tally, address) |
//! | `[DCERT, 5] ‖ voter` | the voter's vote (JSON): preferences and the stake they carry |
//! | `[DCERT, 6] ‖ candidate ‖ staker` | a staker's dCERT bond for a candidate |
//! | `[DCERT, 7] ‖ staker ‖ candidate` | unbonding entries (JSON) |
//! | `[DCERT, 8] ‖ candidate` | stakers with unbonding entries from it (for slashes) |
//! | `[DCERT, 9] …` | time queue of unbondings (payload staker ‖ candidate) |
//! | `[DCERT, 10] ‖ target` | the stabilization entry targeting a member (JSON) |
//! | `[DCERT, 11] …` | time queue of stabilization entries (payload target) |
//! | `[DCERT, 12]` | targets of pending stabilization entries |
//! | `[DCERT, 13] ‖ target` | members who voted to suspend it |
//! | `[DCERT, 14]` | suspended members under review |
//! | `[DCERT, 15] …` | time queue of review ends (payload member) |
//! | `[DCERT, 16]` | number of pending dissolution proposals |
//! | `[DCERT, 17]` | the group's description |
//! | `[DCERT, 18]` | the last stipend period paid |
//! | `[DCERT, 19] ‖ candidate` | stakers holding a bond for it, sorted (for slashes) |

use super::params::DcertParams;
use crate::context::{KvRead, KvWrite};
use crate::error::ExecError;
use crate::modules::ids::DCERT;
use crate::queue::TimeQueue;
use crate::sorted_index::SortedIndex;
use caspur_store::keys::key;
use caspur_types::Address;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

const PARAMS: [u8; 2] = [DCERT, 0];
const CANDIDATE: [u8; 2] = [DCERT, 1];
const MEMBERS: [u8; 2] = [DCERT, 2];
const LAST_SEQUENCE: [u8; 2] = [DCERT, 3];
const VOTE: [u8; 2] = [DCERT, 5];
const BOND: [u8; 2] = [DCERT, 6];
/// `‖ staker ‖ candidate` → the staker's unbonding entries from that candidate (JSON).
pub const UNBONDING: [u8; 2] = [DCERT, 7];
const UNBONDING_FROM: [u8; 2] = [DCERT, 8];
const STABILIZATION: [u8; 2] = [DCERT, 10];
const STABILIZATION_TARGETS: [u8; 2] = [DCERT, 12];
const SUSPEND_VOTES: [u8; 2] = [DCERT, 13];
const SUSPENDED: [u8; 2] = [DCERT, 14];
const PENDING_DISSOLUTIONS: [u8; 2] = [DCERT, 16];
const DESCRIPTION: [u8; 2] = [DCERT, 17];
const LAST_STIPEND_PERIOD: [u8; 2] = [DCERT, 18];
const BONDERS: [u8; 2] = [DCERT, 19];

/// Eligible non-members ranked by tally (see [`rank_entry`]).
pub const CHALLENGERS: SortedIndex = SortedIndex::new([DCERT, 4], 36);
/// Unbondings by completion time.
pub const UNBONDING_QUEUE: TimeQueue = TimeQueue::new([DCERT, 9]);
/// Stabilization entries by maturity.
pub const STABILIZATION_QUEUE: TimeQueue = TimeQueue::new([DCERT, 11]);
/// Suspension reviews by their end.
pub const REVIEW_QUEUE: TimeQueue = TimeQueue::new([DCERT, 15]);

/// Everything known about one candidate (any address someone voted for or bonded to).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// It sent `MsgAcceptCandidacy`.
    pub accepted: bool,
    /// Its self-description.
    pub description: String,
    /// Its public key for confidential reports.
    pub encryption_key: String,
    /// Σ voter stake × weight (each voter's part rounded down).
    pub tally: u128,
    /// dCERT tokens bonded for it (not unbonding).
    pub bond: u128,
    /// Sequence number of its current membership (0: not a member).
    pub sequence: u64,
    /// Under suspension review until this block time (0: not suspended).
    pub review_ends_ms: u64,
}

impl Candidate {
    /// Whether it is a member now.
    pub fn is_member(&self) -> bool {
        self.sequence != 0
    }

    /// Whether it is suspended (under review).
    pub fn is_suspended(&self) -> bool {
        self.review_ends_ms != 0
    }

    /// Whether it may hold a seat: accepted, bonded enough, not suspended.
    pub fn eligible(&self, params: &DcertParams) -> Result<bool, ExecError> {
        Ok(self.accepted && !self.is_suspended() && self.bond >= params.min_stake()?)
    }
}

/// The ranking entry of a candidate: tally, then the address inverted so that at equal
/// tallies the smaller address ranks higher.
pub fn rank_entry(addr: &Address, tally: u128) -> Vec<u8> {
    let mut out = tally.to_be_bytes().to_vec();
    out.extend(addr.0.iter().map(|b| !b));
    out
}

/// The address in a ranking entry.
pub fn entry_address(entry: &[u8]) -> Result<Address, ExecError> {
    let inverted: [u8; 20] = entry
        .get(16..36)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| ExecError::logic("corrupt ranking entry"))?;
    Ok(Address(inverted.map(|b| !b)))
}

/// The tally in a ranking entry.
pub fn entry_tally(entry: &[u8]) -> u128 {
    let mut t = [0u8; 16];
    t.copy_from_slice(&entry[..16]);
    u128::from_be_bytes(t)
}

/// A voter's vote.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    /// (candidate, weight atomics with 18 decimals), sorted by candidate.
    pub preferences: Vec<(Address, u128)>,
    /// The voter's bonded stake the tallies currently count.
    pub stake: u128,
}

/// One dCERT unbonding entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unbonding {
    /// Tokens still to pay out.
    pub amount: u128,
    /// Completion block time.
    pub completes_at_ms: u64,
    /// Height it started at.
    pub creation_height: u64,
}

/// A pending replacement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stabilization {
    /// Who takes the seat.
    pub challenger: Address,
    /// When.
    pub matures_at_ms: u64,
}

fn corrupt(what: &str) -> ExecError {
    ExecError::logic(format!("corrupt dcert {what}"))
}

async fn read_json<T: DeserializeOwned>(
    kv: &mut impl KvRead,
    k: &[u8],
    what: &str,
) -> Result<Option<T>, ExecError> {
    match kv.get(k).await? {
        None => Ok(None),
        Some(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|_| corrupt(what)),
    }
}

fn write_json<T: Serialize>(kv: &mut impl KvWrite, k: Vec<u8>, v: &T) -> Result<(), ExecError> {
    kv.put(
        k,
        serde_json::to_vec(v).map_err(|e| ExecError::logic(e.to_string()))?,
    )
}

/// The parameters (defaults if never set).
pub async fn get_params(kv: &mut impl KvRead) -> Result<DcertParams, ExecError> {
    crate::params::read(kv, &PARAMS).await
}

/// Stores the parameters.
pub fn set_params(kv: &mut impl KvWrite, p: &DcertParams) -> Result<(), ExecError> {
    crate::params::write(kv, &PARAMS, p)
}

/// A candidate's record (default when unknown).
pub async fn candidate(kv: &mut impl KvRead, addr: &Address) -> Result<Candidate, ExecError> {
    Ok(read_json(kv, &key(&CANDIDATE, &[&addr.0]), "candidate")
        .await?
        .unwrap_or_default())
}

/// Stores a candidate's record (removing it when it holds nothing).
pub fn set_candidate(
    kv: &mut impl KvWrite,
    addr: &Address,
    c: &Candidate,
) -> Result<(), ExecError> {
    let k = key(&CANDIDATE, &[&addr.0]);
    if c == &Candidate::default() {
        return kv.delete(k);
    }
    write_json(kv, k, c)
}

/// Members as (address, sequence), in admission order.
pub async fn members(kv: &mut impl KvRead) -> Result<Vec<(Address, u64)>, ExecError> {
    let bytes = kv.get(&MEMBERS).await?.unwrap_or_default();
    if bytes.len() % 28 != 0 {
        return Err(corrupt("member list"));
    }
    Ok(bytes
        .chunks_exact(28)
        .map(|c| {
            let (address, sequence) = c.split_at(20);
            let (mut a, mut s) = ([0u8; 20], [0u8; 8]);
            a.copy_from_slice(address);
            s.copy_from_slice(sequence);
            (Address(a), u64::from_be_bytes(s))
        })
        .collect())
}

/// Stores the member list.
pub fn set_members(kv: &mut impl KvWrite, members: &[(Address, u64)]) -> Result<(), ExecError> {
    let mut out = Vec::with_capacity(members.len() * 28);
    for (a, seq) in members {
        out.extend_from_slice(&a.0);
        out.extend_from_slice(&seq.to_be_bytes());
    }
    kv.put(MEMBERS.to_vec(), out)
}

/// Hands out the next sequence number.
pub async fn next_sequence(kv: &mut impl KvWrite) -> Result<u64, ExecError> {
    let last = u64_at(kv, &LAST_SEQUENCE).await?;
    kv.put(LAST_SEQUENCE.to_vec(), (last + 1).to_be_bytes().to_vec())?;
    Ok(last + 1)
}

async fn u64_at(kv: &mut impl KvRead, k: &[u8]) -> Result<u64, ExecError> {
    match kv.get(k).await? {
        None => Ok(0),
        Some(b) => Ok(u64::from_be_bytes(
            b.as_slice().try_into().map_err(|_| corrupt("counter"))?,
        )),
    }
}

/// A voter's vote, if any.
pub async fn vote(kv: &mut impl KvRead, voter: &Address) -> Result<Option<Vote>, ExecError> {
    read_json(kv, &key(&VOTE, &[&voter.0]), "vote").await
}

/// Stores (or, for `None`, removes) a voter's vote.
pub fn set_vote(kv: &mut impl KvWrite, voter: &Address, v: Option<&Vote>) -> Result<(), ExecError> {
    let k = key(&VOTE, &[&voter.0]);
    match v {
        None => kv.delete(k),
        Some(v) => write_json(kv, k, v),
    }
}

/// `staker`'s bond for `candidate`.
pub async fn bond(
    kv: &mut impl KvRead,
    candidate: &Address,
    staker: &Address,
) -> Result<u128, ExecError> {
    match kv.get(&key(&BOND, &[&candidate.0, &staker.0])).await? {
        None => Ok(0),
        Some(b) => crate::modules::bank::state::decode_amount(&b),
    }
}

/// Sets `staker`'s bond for `candidate` (zero removes it), keeping the bonder list.
pub async fn set_bond(
    kv: &mut impl KvWrite,
    candidate: &Address,
    staker: &Address,
    amount: u128,
) -> Result<(), ExecError> {
    let k = key(&BOND, &[&candidate.0, &staker.0]);
    let mut list = bonders(kv, candidate).await?;
    let at = list.binary_search(staker);
    if amount == 0 {
        kv.delete(k)?;
        if let Ok(at) = at {
            list.remove(at);
        }
    } else {
        kv.put(k, amount.to_be_bytes().to_vec())?;
        if let Err(at) = at {
            list.insert(at, *staker);
        }
    }
    write_json(kv, key(&BONDERS, &[&candidate.0]), &list)
}

/// Stakers holding a bond for `candidate`, sorted.
pub async fn bonders(kv: &mut impl KvRead, candidate: &Address) -> Result<Vec<Address>, ExecError> {
    Ok(read_json(kv, &key(&BONDERS, &[&candidate.0]), "bonders")
        .await?
        .unwrap_or_default())
}

/// `staker`'s unbonding entries from `candidate`.
pub async fn unbondings(
    kv: &mut impl KvRead,
    staker: &Address,
    candidate: &Address,
) -> Result<Vec<Unbonding>, ExecError> {
    Ok(read_json(
        kv,
        &key(&UNBONDING, &[&staker.0, &candidate.0]),
        "unbonding",
    )
    .await?
    .unwrap_or_default())
}

/// Stores `staker`'s unbonding entries from `candidate`, keeping the candidate's staker list.
pub async fn set_unbondings(
    kv: &mut impl KvWrite,
    staker: &Address,
    candidate: &Address,
    entries: &[Unbonding],
) -> Result<(), ExecError> {
    let k = key(&UNBONDING, &[&staker.0, &candidate.0]);
    let mut from = unbonding_stakers(kv, candidate).await?;
    let at = from.binary_search(staker);
    if entries.is_empty() {
        kv.delete(k)?;
        if let Ok(at) = at {
            from.remove(at);
        }
    } else {
        write_json(kv, k, &entries)?;
        if let Err(at) = at {
            from.insert(at, *staker);
        }
    }
    write_json(kv, key(&UNBONDING_FROM, &[&candidate.0]), &from)
}

/// Stakers with unbonding entries from `candidate`, sorted.
pub async fn unbonding_stakers(
    kv: &mut impl KvRead,
    candidate: &Address,
) -> Result<Vec<Address>, ExecError> {
    Ok(read_json(
        kv,
        &key(&UNBONDING_FROM, &[&candidate.0]),
        "unbonding stakers",
    )
    .await?
    .unwrap_or_default())
}

/// The stabilization entry targeting `member`, if any.
pub async fn stabilization(
    kv: &mut impl KvRead,
    target: &Address,
) -> Result<Option<Stabilization>, ExecError> {
    read_json(
        kv,
        &key(&STABILIZATION, &[&target.0]),
        "stabilization entry",
    )
    .await
}

/// Stores or removes the entry targeting `target`, keeping the target list.
pub async fn set_stabilization(
    kv: &mut impl KvWrite,
    target: &Address,
    entry: Option<&Stabilization>,
) -> Result<(), ExecError> {
    let k = key(&STABILIZATION, &[&target.0]);
    let mut targets = stabilization_targets(kv).await?;
    let at = targets.binary_search(target);
    match entry {
        None => {
            kv.delete(k)?;
            if let Ok(at) = at {
                targets.remove(at);
            }
        }
        Some(e) => {
            write_json(kv, k, e)?;
            if let Err(at) = at {
                targets.insert(at, *target);
            }
        }
    }
    write_json(kv, STABILIZATION_TARGETS.to_vec(), &targets)
}

/// Targets of pending stabilization entries, sorted.
pub async fn stabilization_targets(kv: &mut impl KvRead) -> Result<Vec<Address>, ExecError> {
    Ok(
        read_json(kv, &STABILIZATION_TARGETS, "stabilization targets")
            .await?
            .unwrap_or_default(),
    )
}

/// Challengers of pending stabilization entries (at most one entry per member, so at most
/// `max_members` reads).
pub async fn queued_challengers(kv: &mut impl KvRead) -> Result<Vec<Address>, ExecError> {
    let mut out = Vec::new();
    for target in stabilization_targets(kv).await? {
        if let Some(e) = stabilization(kv, &target).await? {
            out.push(e.challenger);
        }
    }
    Ok(out)
}

/// Members who voted to suspend `target`, sorted.
pub async fn suspend_votes(
    kv: &mut impl KvRead,
    target: &Address,
) -> Result<Vec<Address>, ExecError> {
    Ok(
        read_json(kv, &key(&SUSPEND_VOTES, &[&target.0]), "suspension votes")
            .await?
            .unwrap_or_default(),
    )
}

/// Stores the suspension votes against `target` (empty removes them).
pub fn set_suspend_votes(
    kv: &mut impl KvWrite,
    target: &Address,
    voters: &[Address],
) -> Result<(), ExecError> {
    let k = key(&SUSPEND_VOTES, &[&target.0]);
    if voters.is_empty() {
        return kv.delete(k);
    }
    write_json(kv, k, &voters)
}

/// Suspended members under review, sorted.
pub async fn suspended(kv: &mut impl KvRead) -> Result<Vec<Address>, ExecError> {
    Ok(read_json(kv, &SUSPENDED, "suspended list")
        .await?
        .unwrap_or_default())
}

/// Stores the suspended list.
pub fn set_suspended(kv: &mut impl KvWrite, list: &[Address]) -> Result<(), ExecError> {
    write_json(kv, SUSPENDED.to_vec(), &list)
}

/// Pending dissolution proposals.
pub async fn pending_dissolutions(kv: &mut impl KvRead) -> Result<u64, ExecError> {
    u64_at(kv, &PENDING_DISSOLUTIONS).await
}

/// Sets the number of pending dissolution proposals.
pub fn set_pending_dissolutions(kv: &mut impl KvWrite, n: u64) -> Result<(), ExecError> {
    kv.put(PENDING_DISSOLUTIONS.to_vec(), n.to_be_bytes().to_vec())
}

/// The group's description.
pub async fn description(kv: &mut impl KvRead) -> Result<String, ExecError> {
    let b = kv.get(&DESCRIPTION).await?.unwrap_or_default();
    String::from_utf8(b).map_err(|_| corrupt("description"))
}

/// Sets the group's description.
pub fn set_description(kv: &mut impl KvWrite, d: &str) -> Result<(), ExecError> {
    kv.put(DESCRIPTION.to_vec(), d.as_bytes().to_vec())
}

/// The last stipend period paid (periods count from the Unix epoch).
pub async fn last_stipend_period(kv: &mut impl KvRead) -> Result<Option<u64>, ExecError> {
    match kv.get(&LAST_STIPEND_PERIOD).await? {
        None => Ok(None),
        Some(b) => Ok(Some(u64::from_be_bytes(
            b.as_slice()
                .try_into()
                .map_err(|_| corrupt("stipend period"))?,
        ))),
    }
}

/// Records the last stipend period paid.
pub fn set_last_stipend_period(kv: &mut impl KvWrite, p: u64) -> Result<(), ExecError> {
    kv.put(LAST_STIPEND_PERIOD.to_vec(), p.to_be_bytes().to_vec())
}

/// The module account holding bonded and unbonding dCERT tokens.
pub fn dcert_address() -> Address {
    use sha2::{Digest, Sha256};
    let mut a = [0u8; 20];
    a.copy_from_slice(&Sha256::digest(b"dcert")[..20]);
    Address(a)
}
