//! `slashing`: consequences of consensus faults. Downtime — missing more than
//! `1 − min_signed_per_window` of the last `signed_blocks_window` blocks — slashes
//! `slash_fraction_downtime` and jails for `downtime_jail_duration`; double-signing slashes
//! `slash_fraction_double_sign`, jails and tombstones (never to return). `MsgUnjail` brings a
//! jailed, untombstoned validator back once its jail time is over. Consensus reports who signed
//! and the evidence it saw through [`handle_signatures`] and [`handle_double_sign`]; the
//! changed bonded set reaches consensus at the next epoch like any staking change.

pub mod msgs;
pub mod params;
pub mod query;
pub mod state;

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::staking::{self, slash};
use caspur_store::StateRead;
use caspur_types::{Address, Event};
use serde::{Deserialize, Serialize};

pub use params::SlashingParams;

/// Genesis state of `slashing`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlashingGenesis {
    /// Parameters.
    #[serde(default)]
    pub params: SlashingParams,
    /// An exported chain's signing records as (hex key, hex value) pairs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exported_state: Vec<(String, String)>,
}

/// Writes `slashing`'s genesis.
pub async fn init_genesis<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    g: &SlashingGenesis,
) -> Result<(), ExecError> {
    g.params.validate()?;
    state::set_params(ctx, &g.params)?;
    crate::genesis::write_exported(ctx, crate::modules::ids::SLASHING, &g.exported_state).await
}

/// Reads `slashing` back into genesis form.
pub async fn export_genesis<S: caspur_store::StateScan>(
    s: &S,
) -> Result<SlashingGenesis, ExecError> {
    Ok(SlashingGenesis {
        params: state::get_params(&mut crate::context::Unmetered(s)).await?,
        exported_state: crate::genesis::read_exported(s, crate::modules::ids::SLASHING, &[0])
            .await?,
    })
}

/// Records who signed the previous block's certificate: `signed` and `missed` are the
/// operators of that block's consensus set (a validator outside it is not judged, so a
/// validator bonded mid-epoch is not counted missing before consensus lets it sign). A jailed
/// or tombstoned validator is skipped; one that missed too many of the window's blocks is
/// slashed and jailed.
pub async fn handle_signatures<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    signed: &[Address],
    missed: &[Address],
) -> Result<(), ExecError> {
    let params = state::get_params(ctx).await?;
    let window = params.signed_blocks_window;
    let max_missed = window
        - params
            .min_signed()?
            .mul_int_floor(window as u128)
            .unwrap_or(0) as u64;
    let judged = signed
        .iter()
        .map(|op| (op, false))
        .chain(missed.iter().map(|op| (op, true)));
    for (op, did_miss) in judged {
        let Some(v) = staking::state::get_validator(ctx, op).await? else {
            continue;
        };
        if v.jailed {
            continue;
        }
        let mut info = state::signing_info(ctx, op, ctx.block.height).await?;
        if info.tombstoned {
            continue;
        }
        record_block(ctx, op, &mut info, window, did_miss).await?;
        if info.index_offset >= window && info.missed_blocks_counter > max_missed {
            let height = ctx.block.height;
            slash::slash(
                ctx,
                op,
                height.saturating_sub(1),
                params.downtime_fraction()?,
                "missing_signature",
            )
            .await?;
            slash::jail(ctx, op).await?;
            info.jailed_until_ms = ctx
                .block
                .time_ms
                .saturating_add(params.downtime_jail_duration_secs.saturating_mul(1000));
            info.missed_blocks_counter = 0;
            info.index_offset = 0;
            state::clear_missed(ctx, op)?;
        }
        state::set_signing_info(ctx, op, &info)?;
    }
    Ok(())
}

/// Moves `op`'s window one block on, recording whether it missed that block.
async fn record_block<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    op: &Address,
    info: &mut state::SigningInfo,
    window: u64,
    missed: bool,
) -> Result<(), ExecError> {
    let index = info.index_offset % window;
    let was_missed = state::missed_bit(ctx, op, index).await?;
    if was_missed != missed {
        state::set_missed_bit(ctx, op, index, window, missed).await?;
        if missed {
            info.missed_blocks_counter += 1;
        } else {
            info.missed_blocks_counter = info.missed_blocks_counter.saturating_sub(1);
        }
    }
    info.index_offset += 1;
    if missed {
        ctx.emit(
            Event::new("liveness")
                .attr("address", staking::state::valoper(op))
                .attr("missed_blocks", info.missed_blocks_counter.to_string())
                .attr("height", ctx.block.height.to_string()),
        );
    }
    Ok(())
}

/// Evidence that `op` signed two conflicting messages at `infraction_height`: slashed, jailed
/// and tombstoned, once.
pub async fn handle_double_sign<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    op: &Address,
    infraction_height: u64,
) -> Result<(), ExecError> {
    let params = state::get_params(ctx).await?;
    let mut info = state::signing_info(ctx, op, ctx.block.height).await?;
    if info.tombstoned {
        return Ok(());
    }
    slash::slash(
        ctx,
        op,
        infraction_height,
        params.double_sign_fraction()?,
        "double_sign",
    )
    .await?;
    slash::jail(ctx, op).await?;
    info.tombstoned = true;
    info.jailed_until_ms = u64::MAX;
    state::set_signing_info(ctx, op, &info)
}
