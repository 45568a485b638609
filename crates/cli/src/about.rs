//! Commands about the binary and its encodings, answered without a node: `version --long`
//! and `debug addr`.

use anyhow::{Context, Result};
use serde_json::json;

/// `debug addr`: one address in its bech32 account, validator-operator and hex forms.
pub fn debug_addr(input: &str) -> Result<serde_json::Value> {
    use caspur_types::Address;
    let valoper = caspur_app::modules::staking::state::VALOPER_PREFIX;
    let bytes: [u8; 20] = if let Ok(a) = Address::parse_account(input) {
        a.0
    } else if let Ok(a) = Address::from_bech32(input, valoper) {
        a.0
    } else {
        let hex = input.trim_start_matches("0x");
        hex::decode(hex)
            .ok()
            .and_then(|b| b.try_into().ok())
            .with_context(|| {
                format!("{input:?} is neither a caspur1… or {valoper}1… address nor 20 hex bytes")
            })?
    };
    let a = Address(bytes);
    Ok(json!({
        "address": a.to_account_string(),
        "validator_operator": a.to_bech32(valoper),
        "hex": hex::encode_upper(bytes),
    }))
}

/// `version --long`: what this binary is and how it was built.
pub fn build_facts() -> serde_json::Value {
    json!({
        "name": "caspurd",
        "version": env!("CARGO_PKG_VERSION"),
        "commit": env!("CASPUR_GIT_COMMIT"),
        "rustc": env!("CASPUR_RUSTC_VERSION"),
        "target": env!("CASPUR_TARGET"),
        "profile": env!("CASPUR_PROFILE"),
        "cometbft_rpc": caspur_node::rpc::COMET_VERSION,
        "cosmos_sdk_api": caspur_node::queries::SDK_API_VERSION,
    })
}
