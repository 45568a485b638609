//! `distribution`: every block's fees and (optional) inflation go to the community pool
//! (`community_tax`) and to the bonded validators by power; each keeps its commission and its
//! delegators share the rest by shares (`MsgWithdrawDelegatorReward`; rewards are also paid
//! whenever a delegation changes). The community pool grows by `MsgFundCommunityPool` and pays
//! out only through [`rewards::pay_from_community_pool`], which never mints.

pub mod msgs;
pub mod params;
pub mod query;
pub mod rewards;
pub mod state;

use crate::context::Ctx;
use crate::error::ExecError;
use caspur_store::StateRead;
use serde::{Deserialize, Serialize};

pub use params::DistributionParams;

/// Genesis state of `distribution`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistributionGenesis {
    /// Parameters.
    #[serde(default)]
    pub params: DistributionParams,
    /// An exported chain's pool, accumulators and commissions as (hex key, hex value) pairs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exported_state: Vec<(String, String)>,
}

/// Writes `distribution`'s genesis.
pub async fn init_genesis<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    g: &DistributionGenesis,
) -> Result<(), ExecError> {
    g.params.validate()?;
    state::set_params(ctx, &g.params)?;
    crate::genesis::write_exported(ctx, crate::modules::ids::DISTRIBUTION, &g.exported_state).await
}

/// Reads `distribution` back into genesis form.
pub async fn export_genesis<S: caspur_store::StateScan>(
    state: &S,
) -> Result<DistributionGenesis, ExecError> {
    Ok(DistributionGenesis {
        params: state::get_params(&mut crate::context::Unmetered(state)).await?,
        exported_state: crate::genesis::read_exported(
            state,
            crate::modules::ids::DISTRIBUTION,
            &[0],
        )
        .await?,
    })
}

/// `distribution`'s end of block (see [`rewards::allocate`]).
pub use rewards::allocate as end_block;
