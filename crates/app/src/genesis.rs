//! The `app_state` of genesis.json: each module's genesis, written at height 0 and exported
//! back in the same shape by `caspurd export`.

use crate::context::{Direct, Unmetered};
use crate::error::ExecError;
use crate::modules::auth::{self, AuthGenesis, GenesisAccount};
use crate::modules::bank::{self, BankGenesis, GenesisBalance, GenesisCoin};
use crate::modules::dcert::{self, DcertGenesis};
use crate::modules::distribution::{self, DistributionGenesis};
use crate::modules::gov::{self, GovGenesis};
use crate::modules::ids;
use crate::modules::slashing::{self, SlashingGenesis};
use crate::modules::staking::{self, StakingGenesis};
use caspur_store::keys::parts;
use caspur_store::{Overlay, StateRead, StateScan};
use caspur_types::Address;
use serde::{Deserialize, Serialize};

/// `app_state` of genesis.json.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppGenesis {
    /// `auth` module.
    pub auth: AuthGenesis,
    /// `bank` module.
    pub bank: BankGenesis,
    /// `staking` module.
    #[serde(default)]
    pub staking: StakingGenesis,
    /// `gov` module.
    #[serde(default)]
    pub gov: GovGenesis,
    /// `distribution` module.
    #[serde(default)]
    pub distribution: DistributionGenesis,
    /// `slashing` module.
    #[serde(default)]
    pub slashing: SlashingGenesis,
    /// `dcert` module.
    #[serde(default)]
    pub dcert: DcertGenesis,
    /// `circuit` module (broken routes of an exported chain).
    #[serde(default)]
    pub circuit: RawModuleGenesis,
    /// `authz` module (grants of an exported chain).
    #[serde(default)]
    pub authz: RawModuleGenesis,
    /// `upgrade` module.
    #[serde(default)]
    pub upgrade: crate::modules::upgrade::UpgradeGenesis,
    /// `incident` module.
    #[serde(default)]
    pub incident: crate::modules::incident::IncidentGenesis,
}

/// Genesis of a module whose state only an exported chain carries, as raw pairs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawModuleGenesis {
    /// (hex key, hex value) pairs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exported_state: Vec<(String, String)>,
}

impl AppGenesis {
    /// Default parameters with `accounts` (numbered in order) each holding `amount` ucsp.
    pub fn funded(accounts: &[Address], amount: u128) -> Self {
        AppGenesis {
            auth: AuthGenesis {
                params: Default::default(),
                accounts: accounts
                    .iter()
                    .enumerate()
                    .map(|(i, a)| GenesisAccount {
                        address: a.to_account_string(),
                        pub_key: None,
                        account_number: i as u64,
                        sequence: 0,
                    })
                    .collect(),
            },
            bank: BankGenesis {
                params: Default::default(),
                balances: accounts
                    .iter()
                    .map(|a| GenesisBalance {
                        address: a.to_account_string(),
                        coins: vec![GenesisCoin {
                            denom: caspur_types::STAKE_DENOM.into(),
                            amount: amount.to_string(),
                        }],
                    })
                    .collect(),
                supply: vec![],
            },
            staking: StakingGenesis::default(),
            gov: GovGenesis::default(),
            distribution: DistributionGenesis::default(),
            slashing: SlashingGenesis::default(),
            dcert: DcertGenesis::default(),
            circuit: RawModuleGenesis::default(),
            authz: RawModuleGenesis::default(),
            upgrade: Default::default(),
            incident: Default::default(),
        }
    }

    /// Writes every module's genesis into `state` (committing them as one layer) as part of
    /// `block` (the first).
    pub async fn init<B: StateRead>(
        &self,
        state: &mut Overlay<B>,
        block: &crate::BlockInfo,
        chain_id: &str,
    ) -> Result<(), ExecError> {
        let mut kv = Direct(state);
        auth::init_genesis(&mut kv, &self.auth).await?;
        // Module accounts exist from genesis (numbered after the genesis accounts, in this
        // order), so later account numbers do not depend on which block first paid them.
        for module in module_accounts() {
            auth::state::ensure_account(&mut kv, &module).await?;
        }
        bank::init_genesis(&mut kv, &self.bank).await?;
        // Genesis validators go through MsgCreateValidator's own path, which needs a context.
        let mut ctx =
            crate::context::Ctx::new(state, block, chain_id, u64::MAX, crate::gas::DEFAULT_COSTS);
        staking::init_genesis(&mut ctx, &self.staking).await?;
        gov::init_genesis(&mut ctx, &self.gov).await?;
        distribution::init_genesis(&mut ctx, &self.distribution).await?;
        slashing::init_genesis(&mut ctx, &self.slashing).await?;
        dcert::init_genesis(&mut ctx, &self.dcert).await?;
        write_exported(&mut ctx, ids::CIRCUIT, &self.circuit.exported_state).await?;
        write_exported(&mut ctx, ids::AUTHZ, &self.authz.exported_state).await?;
        crate::modules::upgrade::init_genesis(&mut ctx, &self.upgrade).await?;
        crate::modules::incident::init_genesis(&mut ctx, &self.incident).await?;
        drop(ctx);
        state.commit_tx();
        Ok(())
    }

    /// Reads every module's state back into genesis form.
    pub async fn export<S: StateScan>(state: &S) -> Result<Self, ExecError> {
        let err = crate::context::store_err;
        let mut accounts = Vec::new();
        let prefix = [crate::modules::ids::AUTH, 1];
        for (k, _) in state.scan_prefix(&prefix, usize::MAX).await.map_err(err)? {
            let p = parts(&prefix, &k).ok_or_else(|| ExecError::logic("corrupt account key"))?;
            let addr = Address(
                p[0].try_into()
                    .map_err(|_| ExecError::logic("corrupt account key"))?,
            );
            let a = auth::state::get_account(&mut Unmetered(state), &addr)
                .await?
                .ok_or_else(|| ExecError::logic("account vanished during export"))?;
            accounts.push(GenesisAccount {
                address: addr.to_account_string(),
                pub_key: a.pubkey.map(hex::encode),
                account_number: a.account_number,
                sequence: a.sequence,
            });
        }
        accounts.sort_by_key(|a| a.account_number);
        let mut balances = Vec::new();
        for a in &accounts {
            let addr = Address::parse_account(&a.address)?;
            let coins = bank::query::all_balances_of(state, &addr).await?;
            if !coins.is_empty() {
                balances.push(GenesisBalance {
                    address: a.address.clone(),
                    coins: coins.iter().map(GenesisCoin::from_coin).collect(),
                });
            }
        }
        let supply = bank::query::total_supply_of(state)
            .await?
            .iter()
            .map(GenesisCoin::from_coin)
            .collect();
        Ok(AppGenesis {
            auth: AuthGenesis {
                params: auth::state::get_params(&mut Unmetered(state)).await?,
                accounts,
            },
            bank: BankGenesis {
                params: bank::state::get_params(&mut Unmetered(state)).await?,
                balances,
                supply,
            },
            staking: staking::export_genesis(state).await?,
            gov: gov::export_genesis(state).await?,
            distribution: distribution::export_genesis(state).await?,
            slashing: slashing::export_genesis(state).await?,
            dcert: dcert::export_genesis(state).await?,
            circuit: RawModuleGenesis {
                exported_state: read_exported(state, ids::CIRCUIT, &[]).await?,
            },
            authz: RawModuleGenesis {
                exported_state: read_exported(state, ids::AUTHZ, &[]).await?,
            },
            upgrade: crate::modules::upgrade::export_genesis(state).await?,
            incident: crate::modules::incident::export_genesis(state).await?,
        })
    }
}

/// The module accounts, in the order genesis creates them.
pub fn module_accounts() -> [Address; 7] {
    [
        crate::ante::fee_collector(),
        crate::modules::distribution::state::distribution_address(),
        crate::modules::staking::delegation::bonded_pool(),
        crate::modules::staking::delegation::not_bonded_pool(),
        crate::modules::gov::state::gov_address(),
        crate::modules::dcert::state::dcert_address(),
        crate::modules::incident::escrow_address(),
    ]
}

/// Writes a module's exported raw state back (each key must belong to `module`).
pub(crate) async fn write_exported<B: StateRead>(
    ctx: &mut crate::context::Ctx<'_, B>,
    module: u8,
    pairs: &[(String, String)],
) -> Result<(), ExecError> {
    for (k, v) in pairs {
        let key =
            hex::decode(k).map_err(|e| ExecError::invalid_request(format!("exported key: {e}")))?;
        if key.first() != Some(&module) {
            return Err(ExecError::invalid_request(format!(
                "exported state of module {module:#04x} holds a foreign key {k}"
            )));
        }
        let value = hex::decode(v)
            .map_err(|e| ExecError::invalid_request(format!("exported value: {e}")))?;
        crate::context::KvWrite::put(ctx, key, value)?;
    }
    Ok(())
}

/// A module's state as (hex key, hex value) pairs, leaving out the kinds in `skip` (those its
/// genesis carries in readable form).
pub(crate) async fn read_exported<S: StateScan>(
    state: &S,
    module: u8,
    skip: &[u8],
) -> Result<Vec<(String, String)>, ExecError> {
    let rows = state
        .scan_prefix(&[module], usize::MAX)
        .await
        .map_err(crate::context::store_err)?;
    Ok(rows
        .into_iter()
        .filter(|(k, _)| {
            !k.get(1)
                .is_some_and(|kind| k.len() == 2 && skip.contains(kind))
        })
        .map(|(k, v)| (hex::encode(k), hex::encode(v)))
        .collect())
}
