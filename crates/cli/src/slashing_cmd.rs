//! `query slashing …`: the parameters and a validator's signing info, as the SDK's CLI shows
//! them.

use crate::client::Client;
use anyhow::{anyhow, Result};
use clap::Subcommand;
use cosmos_sdk_proto::cosmos::slashing::v1beta1 as pb;
use serde_json::{json, Value};

/// `query slashing …`.
#[derive(Subcommand)]
pub enum SlashingQuery {
    /// The slashing parameters.
    Params,
    /// A validator's liveness record: give its consensus address (`caspurvalcons1…`, as
    /// `status` and `validators` show it) or its consensus public key in hex
    /// (`caspurd show-validator`).
    SigningInfo {
        /// Consensus address or hex public key.
        validator: String,
    },
}

/// An SDK LegacyDec carried as its atomics' text, as a decimal.
fn legacy_dec(bytes: &[u8]) -> Value {
    let atomics: u128 = std::str::from_utf8(bytes)
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    json!(caspur_types::Dec::from_atomics(atomics).to_string())
}

/// The consensus address of `validator`: itself, or that of a hex ed25519 key.
fn consensus_address(validator: &str) -> Result<String> {
    use sha2::{Digest, Sha256};
    const PREFIX: &str = caspur_app::modules::slashing::query::VALCONS_PREFIX;
    if caspur_types::Address::from_bech32(validator, PREFIX).is_ok() {
        return Ok(validator.to_string());
    }
    let key = hex::decode(validator)
        .ok()
        .filter(|k| k.len() == 32)
        .ok_or_else(|| anyhow!("give a {PREFIX}1… address or a 64-hex-digit consensus key"))?;
    let mut address = [0u8; 20];
    address.copy_from_slice(&Sha256::digest(key)[..20]);
    Ok(caspur_types::Address(address).to_bech32(PREFIX))
}

/// Runs a slashing query.
pub fn query(client: &Client, cmd: SlashingQuery) -> Result<Value> {
    const PREFIX: &str = caspur_app::modules::slashing::query::PREFIX;
    match cmd {
        SlashingQuery::Params => {
            let bytes = client.query(&format!("{PREFIX}Params"), &pb::QueryParamsRequest {})?;
            let p = <pb::QueryParamsResponse as prost::Message>::decode(bytes.as_slice())?
                .params
                .unwrap_or_default();
            let jail = p.downtime_jail_duration.unwrap_or_default();
            Ok(json!({
                "signed_blocks_window": p.signed_blocks_window.to_string(),
                "min_signed_per_window": legacy_dec(&p.min_signed_per_window),
                "downtime_jail_duration": format!("{}s", jail.seconds),
                "slash_fraction_double_sign": legacy_dec(&p.slash_fraction_double_sign),
                "slash_fraction_downtime": legacy_dec(&p.slash_fraction_downtime),
            }))
        }
        SlashingQuery::SigningInfo { validator } => client
            .ask_json::<_, pb::QuerySigningInfoResponse>(
                &format!("{PREFIX}SigningInfo"),
                &pb::QuerySigningInfoRequest {
                    cons_address: consensus_address(&validator)?,
                },
            )
            .map(caspur_app::msg_json::snake_keys),
    }
}
