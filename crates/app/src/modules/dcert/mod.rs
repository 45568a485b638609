//! `dcert`: the elected, bonded emergency-response group (SPEC §2). Stakers vote continuously
//! for candidates ([`election`]); candidates hold a dCERT bond ([`bonds`]); at the end of each
//! block seats are filled, challengers replace members (after the stabilization period), bonds
//! mature and stipends are paid. See `docs/dcert.md`.

pub mod blast_radius;
pub mod bonds;
pub mod break_state;
pub mod breaks;
pub mod dissolution;
pub mod election;
pub mod heartbeat;
pub mod members;
pub mod msgs;
pub mod params;
pub mod query;
pub mod state;
pub mod stipend;
pub mod tripwire;
pub mod tripwire_break;
pub mod tripwire_state;

use crate::context::Ctx;
use crate::error::ExecError;
use caspur_store::StateRead;
use serde::{Deserialize, Serialize};

pub use params::DcertParams;

/// Genesis state of `dcert`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DcertGenesis {
    /// Parameters.
    #[serde(default)]
    pub params: DcertParams,
    /// Candidates of a new chain, bonded from their own genesis balance; those marked
    /// `member` hold seats from block 1 (bootstrapping a chain's first group).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<GenesisCandidate>,
    /// An exported chain's dCERT state as (hex key, hex value) pairs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exported_state: Vec<(String, String)>,
}

/// A candidate at genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisCandidate {
    /// Account address (`caspur1…`).
    pub address: String,
    /// Its description.
    #[serde(default)]
    pub description: String,
    /// Its key for confidential reports.
    #[serde(default)]
    pub encryption_key: String,
    /// dCERT bond taken from its genesis balance (an integer string, bond denom).
    pub bond: String,
    /// Seated from block 1.
    #[serde(default)]
    pub member: bool,
}

/// Writes `dcert`'s genesis.
pub async fn init_genesis<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    g: &DcertGenesis,
) -> Result<(), ExecError> {
    g.params.validate()?;
    state::set_params(ctx, &g.params)?;
    crate::genesis::write_exported(ctx, crate::modules::ids::DCERT, &g.exported_state).await?;
    let seats = g.candidates.iter().filter(|c| c.member).count();
    if seats > g.params.max_members as usize {
        return Err(ExecError::invalid_request(format!(
            "{seats} genesis dCERT members for {} seats",
            g.params.max_members
        )));
    }
    let denom = crate::modules::staking::state::get_params(ctx)
        .await?
        .bond_denom;
    for c in &g.candidates {
        let addr = caspur_types::Address::parse_account(&c.address)?;
        let bond: u128 = c.bond.parse().map_err(|_| {
            ExecError::invalid_request(format!("genesis dCERT bond {:?} is not an amount", c.bond))
        })?;
        election::update_candidate(ctx, &g.params, &addr, |rec| {
            rec.accepted = true;
            rec.description = c.description.clone();
            rec.encryption_key = c.encryption_key.clone();
            Ok(())
        })
        .await?;
        if bond > 0 {
            let coins = bonds::coins(&denom, bond)?;
            crate::modules::bank::state::send_coins(ctx, &addr, &state::dcert_address(), &coins)
                .await?;
            bonds::add_bond(ctx, &addr, &addr, bond).await?;
        }
        if c.member {
            if !state::candidate(ctx, &addr).await?.eligible(&g.params)? {
                return Err(ExecError::invalid_request(format!(
                    "genesis dCERT member {} needs a bond of at least {}",
                    c.address, g.params.min_member_stake
                )));
            }
            election::admit(ctx, &g.params, &addr).await?;
        }
    }
    Ok(())
}

/// Reads `dcert` back into genesis form.
pub async fn export_genesis<S: caspur_store::StateScan>(s: &S) -> Result<DcertGenesis, ExecError> {
    Ok(DcertGenesis {
        params: state::get_params(&mut crate::context::Unmetered(s)).await?,
        // Candidates and members travel in the raw state below.
        candidates: Vec::new(),
        exported_state: crate::genesis::read_exported(s, crate::modules::ids::DCERT, &[0]).await?,
    })
}

/// End of block: reviews that ran out close, matured unbondings pay out, unratified or expired
/// breaks lapse, tripwires are checked against the block (`results`: its txs'), seats are
/// maintained, stipends are paid when a period begins.
pub async fn end_block<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    since_ms: u64,
    results: &[crate::results::TxResult],
) -> Result<(), ExecError> {
    let params = state::get_params(ctx).await?;
    members::end_reviews(ctx, since_ms).await?;
    bonds::mature_unbondings(ctx, since_ms).await?;
    breaks::end_block(ctx, &params, since_ms).await?;
    tripwire::end_block(ctx, &params, since_ms, results).await?;
    blast_radius::end_block(ctx, since_ms).await?;
    election::maintain_seats(ctx, &params, since_ms).await?;
    stipend::pay(ctx, &params).await
}
