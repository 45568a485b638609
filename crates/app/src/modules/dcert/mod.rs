//! `dcert`: the elected, bonded emergency-response group (SPEC §2). Stakers vote continuously
//! for candidates ([`election`]); candidates hold a dCERT bond ([`bonds`]); at the end of each
//! block seats are filled, challengers replace members (after the stabilization period), bonds
//! mature and stipends are paid. See `docs/dcert.md`.

pub mod bonds;
pub mod election;
pub mod msgs;
pub mod params;
pub mod state;

use crate::context::Ctx;
use caspur_store::StateRead;
use caspur_types::TxError;
use serde::{Deserialize, Serialize};

pub use params::DcertParams;

/// Genesis state of `dcert`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DcertGenesis {
    /// Parameters.
    #[serde(default)]
    pub params: DcertParams,
    /// An exported chain's dCERT state as (hex key, hex value) pairs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exported_state: Vec<(String, String)>,
}

/// Writes `dcert`'s genesis.
pub async fn init_genesis<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    g: &DcertGenesis,
) -> Result<(), TxError> {
    g.params.validate()?;
    state::set_params(ctx, &g.params)?;
    crate::genesis::write_exported(ctx, crate::modules::ids::DCERT, &g.exported_state).await
}

/// Reads `dcert` back into genesis form.
pub async fn export_genesis<S: caspur_store::StateScan>(s: &S) -> Result<DcertGenesis, TxError> {
    Ok(DcertGenesis {
        params: state::get_params(&mut crate::context::Unmetered(s)).await?,
        exported_state: crate::genesis::read_exported(s, crate::modules::ids::DCERT, &[0]).await?,
    })
}

/// End of block: matured unbondings, then seats.
pub async fn end_block<B: StateRead>(ctx: &mut Ctx<'_, B>, since_ms: u64) -> Result<(), TxError> {
    let params = state::get_params(ctx).await?;
    bonds::mature_unbondings(ctx, since_ms).await?;
    election::maintain_seats(ctx, &params, since_ms).await
}
