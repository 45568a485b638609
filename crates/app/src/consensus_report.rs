//! What consensus tells the state machine about a block besides its txs: who signed the
//! certificate of the previous block, and proven faults. Consensus derives the report from
//! the block's own content (a certificate and evidence every verifier checks), so all nodes
//! apply the same one; the app judges the validators named in it through `slashing` before
//! the block's txs run, as Cosmos chains do in `BeginBlock`.

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::{slashing, staking};
use caspur_store::StateRead;
use caspur_types::Address;

/// Participation in the certificate of the previous block, by consensus key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Liveness {
    /// Members of that block's epoch whose signatures are in the certificate.
    pub signed: Vec<[u8; 32]>,
    /// Members of that epoch whose signatures are not.
    pub missed: Vec<[u8; 32]>,
}

/// A proven consensus fault: two conflicting signed messages from one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// The offender's consensus key.
    pub pub_key: [u8; 32],
    /// First height the fault could have affected (stake bonded from then on is slashed).
    pub infraction_height: u64,
}

/// Everything consensus reports with one block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConsensusReport {
    /// Signers of the parent's certificate (`None` when the block carries none: then nobody is
    /// counted as missing it).
    pub liveness: Option<Liveness>,
    /// Faults proven by evidence in the block.
    pub faults: Vec<Fault>,
}

/// The operator whose validator uses `pub_key` (none: not a validator of this chain's staking).
async fn operator_of<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    pub_key: &[u8; 32],
) -> Result<Option<Address>, ExecError> {
    staking::state::operator_by_consensus_key(ctx, pub_key).await
}

async fn operators_of<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    keys: &[[u8; 32]],
) -> Result<Vec<Address>, ExecError> {
    let mut ops = Vec::with_capacity(keys.len());
    for k in keys {
        if let Some(op) = operator_of(ctx, k).await? {
            ops.push(op);
        }
    }
    Ok(ops)
}

/// Applies `report`: faults first (a tombstoned validator is not judged for liveness), then
/// liveness. Keys that belong to no staking validator are ignored.
pub async fn apply<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    report: &ConsensusReport,
) -> Result<(), ExecError> {
    for fault in &report.faults {
        if let Some(op) = operator_of(ctx, &fault.pub_key).await? {
            slashing::handle_double_sign(ctx, &op, fault.infraction_height).await?;
        }
    }
    if let Some(liveness) = &report.liveness {
        let signed = operators_of(ctx, &liveness.signed).await?;
        let missed = operators_of(ctx, &liveness.missed).await?;
        slashing::handle_signatures(ctx, &signed, &missed).await?;
    }
    Ok(())
}
