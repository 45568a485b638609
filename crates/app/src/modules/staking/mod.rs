//! `staking`: validators, delegations and their shares, unbonding and redelegation with the
//! global unbonding time, and the bonded set — the `max_validators` validators with the most
//! power — which becomes the consensus validator set of the next epoch (`validators::set_next`,
//! the seam the network reads at each epoch's last block). Other modules follow delegations
//! through [`hooks`].

pub mod bonding;
pub mod delegation;
pub mod hooks;
pub mod msgs;
pub mod params;
pub mod query;
pub mod slash;
pub mod state;

use crate::context::Ctx;
use crate::error::ExecError;
use caspur_store::StateRead;
use caspur_types::{Address, Dec};
use cosmos_sdk_proto::cosmos::staking::v1beta1 as pb;
use serde::{Deserialize, Serialize};

pub use params::StakingParams;

/// Genesis state of `staking`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakingGenesis {
    /// Parameters.
    #[serde(default)]
    pub params: StakingParams,
    /// Validators created at genesis, each with its operator's self-delegation (taken from the
    /// operator's genesis balance), as gentxs do in Cosmos chains.
    #[serde(default)]
    pub validators: Vec<GenesisValidator>,
    /// An exported chain's staking state as (hex key, hex value) pairs, written back as is so
    /// that a re-imported chain continues with the same validators, delegations and queues.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exported_state: Vec<(String, String)>,
}

/// A validator created at genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisValidator {
    /// Operator account (`caspur1…`); its validator address is the `caspurvaloper1…` form.
    pub operator: String,
    /// Hex of the ed25519 consensus key.
    pub consensus_pubkey: String,
    /// Moniker.
    pub moniker: String,
    /// Commission rate as a decimal (`"0.1"`); max rate 1, max change rate 0.01.
    #[serde(default = "default_commission")]
    pub commission_rate: String,
    /// Self-delegation in the bond denom (an integer string).
    pub self_delegation: String,
}

fn default_commission() -> String {
    "0.1".into()
}

/// RFC 3339 of block milliseconds, as event attributes carry times.
pub fn rfc3339(ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(ms as i64)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// Writes `staking`'s genesis: parameters, then each genesis validator through the same path
/// as `MsgCreateValidator` (so a bad entry fails genesis with that message's error).
pub async fn init_genesis<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    g: &StakingGenesis,
) -> Result<(), ExecError> {
    g.params.validate()?;
    state::set_params(ctx, &g.params)?;
    crate::genesis::write_exported(ctx, crate::modules::ids::STAKING, &g.exported_state).await?;
    for gv in &g.validators {
        let operator = Address::parse_account(&gv.operator)?;
        let key = hex::decode(&gv.consensus_pubkey)
            .map_err(|e| ExecError::invalid_pubkey(format!("genesis validator key: {e}")))?;
        let rate: Dec = gv.commission_rate.parse()?;
        #[allow(deprecated)]
        let msg = pb::MsgCreateValidator {
            description: Some(pb::Description {
                moniker: gv.moniker.clone(),
                ..Default::default()
            }),
            commission: Some(pb::CommissionRates {
                rate: rate.atomics().to_string(),
                max_rate: Dec::ONE.atomics().to_string(),
                max_change_rate: "10000000000000000".into(),
            }),
            min_self_delegation: "1".into(),
            delegator_address: String::new(),
            validator_address: state::valoper(&operator),
            pubkey: Some(cosmos_sdk_proto::Any {
                type_url: state::ED25519_KEY_URL.into(),
                value: prost::Message::encode_to_vec(
                    &cosmos_sdk_proto::cosmos::crypto::ed25519::PubKey { key },
                ),
            }),
            value: Some(cosmos_sdk_proto::cosmos::base::v1beta1::Coin {
                denom: g.params.bond_denom.clone(),
                amount: gv.self_delegation.clone(),
            }),
        };
        use crate::router::MsgHandler as _;
        let named = |e: ExecError| {
            e.map_tx(|e| {
                caspur_types::TxError::invalid_request(format!(
                    "genesis validator {}: {}",
                    gv.moniker, e.message
                ))
            })
        };
        msg.check_stateless().map_err(named)?;
        msg.execute(ctx, 0).await.map_err(named)?;
    }
    Ok(())
}

/// `staking`'s end of block (see [`bonding::end_block`]).
pub use bonding::end_block;

/// Reads `staking` back into genesis form: parameters and the exported state.
pub async fn export_genesis<S: caspur_store::StateScan>(
    state: &S,
) -> Result<StakingGenesis, ExecError> {
    let params = state::get_params(&mut crate::context::Unmetered(state)).await?;
    Ok(StakingGenesis {
        params,
        validators: Vec::new(),
        exported_state: crate::genesis::read_exported(state, crate::modules::ids::STAKING, &[0])
            .await?,
    })
}
