//! The chain's health as the node's monitoring shows it (metrics, alerts, the status board):
//! the figures of staking and of the emergency system, read from committed state after each
//! block. Each module reads its own part (its `query.rs`); this only gathers them.

use crate::error::ExecError;
use crate::modules::{circuit, dcert, incident, staking, upgrade};
use caspur_store::StateScan;
use caspur_types::proto::incident::v1 as incident_pb;

/// Everything monitoring reads from one committed state.
#[derive(Clone, Debug, Default)]
pub struct ChainHealth {
    /// Bonded, not bonded and total supply of the bond denom.
    pub pool: staking::query::PoolTokens,
    /// The dCERT group: seats, tallies, queue, suspensions.
    pub dcert: dcert::query::Health,
    /// Open incidents by id (public records).
    pub incidents: Vec<incident_pb::Incident>,
    /// Whether more incidents are open than [`incident::query::MAX_OPEN_READ`].
    pub incidents_cut: bool,
    /// The scheduled upgrade plan and its readiness.
    pub plan: Option<upgrade::query::PlanHealth>,
    /// Routes the circuit breaker disables, with who, when and why.
    pub broken_routes: Vec<circuit::state::BrokenRoute>,
    /// The records of the accountable breaks holding those routes (ratification, lifetime),
    /// by break id.
    pub breaks: std::collections::BTreeMap<u64, caspur_types::proto::dcert::v1::BreakRecord>,
}

/// Reads [`ChainHealth`] from `s`.
pub async fn read<S: StateScan>(s: &S) -> Result<ChainHealth, ExecError> {
    let (incidents, incidents_cut) = incident::query::open_incidents(s).await?;
    let broken_routes = circuit::query::broken_routes(s).await?;
    let mut breaks = std::collections::BTreeMap::new();
    for id in broken_routes
        .iter()
        .map(|b| b.break_id)
        .filter(|id| *id != 0)
    {
        if let std::collections::btree_map::Entry::Vacant(e) = breaks.entry(id) {
            let mut kv = crate::context::Unmetered(s);
            if let Some(r) = dcert::break_state::get(&mut kv, id).await? {
                e.insert(r);
            }
        }
    }
    Ok(ChainHealth {
        pool: staking::query::pool_tokens(s).await?,
        dcert: dcert::query::health(s).await?,
        incidents,
        incidents_cut,
        plan: upgrade::query::plan_health(s).await?,
        broken_routes,
        breaks,
    })
}
