//! `circuit` state: `[CIRCUIT, 1] ‖ route → BrokenRoute` (JSON); `[CIRCUIT, 2] ‖ route →`
//! the height its last accountable break lapsed (u64 BE) and that break's level (one byte).

use crate::context::{KvRead, KvWrite};
use crate::error::ExecError;
use crate::modules::ids::CIRCUIT;
use caspur_store::keys::key;
use serde::{Deserialize, Serialize};

const BROKEN: [u8; 2] = [CIRCUIT, 1];
const LAPSED: [u8; 2] = [CIRCUIT, 2];

/// A broken route and its provenance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokenRoute {
    /// The type URL or package prefix.
    pub route: String,
    /// Who broke it.
    pub by: String,
    /// Height at which it was broken.
    pub height: u64,
    /// Block time at which it was broken (ms since the Unix epoch).
    #[serde(default)]
    pub time_ms: u64,
    /// Why.
    pub reason: String,
    /// The dCERT break record holding it (0: a break under ADR 008's rules, standing until an
    /// upgrade reopens it; left out of the stored JSON then, as before records existed).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub break_id: u64,
    /// Part of safe mode (`*`): it spares the modules [`super::SAFE_MODE_ALLOWED`] lists.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub safe_mode: bool,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn route_key(route: &str) -> Vec<u8> {
    key(&BROKEN, &[route.as_bytes()])
}

/// The broken-route record for exactly `route`, if any.
pub async fn get_broken(
    kv: &mut impl KvRead,
    route: &str,
) -> Result<Option<BrokenRoute>, ExecError> {
    match kv.get(&route_key(route)).await? {
        None => Ok(None),
        Some(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| ExecError::logic(format!("corrupt broken route: {e}"))),
    }
}

/// Forgets a broken route (an upgrade reopening it).
pub fn remove_broken(kv: &mut impl KvWrite, route: &str) -> Result<(), ExecError> {
    kv.delete(route_key(route))
}

/// The key prefix of every broken-route record (queries and export scan it).
pub fn broken_prefix() -> Vec<u8> {
    BROKEN.to_vec()
}

/// Records a broken route.
pub fn set_broken(kv: &mut impl KvWrite, b: &BrokenRoute) -> Result<(), ExecError> {
    let bytes = serde_json::to_vec(b).map_err(|e| ExecError::logic(e.to_string()))?;
    kv.put(route_key(&b.route), bytes)
}

/// When an accountable break of exactly `route` last lapsed, if one did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lapse {
    /// The height of the lapse.
    pub height: u64,
    /// The lapsed break's level (0 one route, 1 a module prefix, 2 safe mode).
    pub level: u8,
}

/// The last lapse of an accountable break of exactly `route`, if any.
pub async fn lapsed(kv: &mut impl KvRead, route: &str) -> Result<Option<Lapse>, ExecError> {
    let Some(b) = kv.get(&key(&LAPSED, &[route.as_bytes()])).await? else {
        return Ok(None);
    };
    let corrupt = || ExecError::logic("corrupt lapsed-route record");
    let (height, level) = b.split_at_checked(8).ok_or_else(corrupt)?;
    Ok(Some(Lapse {
        height: u64::from_be_bytes(height.try_into().map_err(|_| corrupt())?),
        level: *level.first().ok_or_else(corrupt)?,
    }))
}

/// Remembers a lapse of a break of `route`.
pub fn set_lapsed(kv: &mut impl KvWrite, route: &str, lapse: Lapse) -> Result<(), ExecError> {
    let mut v = lapse.height.to_be_bytes().to_vec();
    v.push(lapse.level);
    kv.put(key(&LAPSED, &[route.as_bytes()]), v)
}
