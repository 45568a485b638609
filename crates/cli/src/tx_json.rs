//! Txs as JSON, as the SDK's CLI writes and reads them: the body (messages with their
//! `@type`, memo, timeout), the auth info (signers and their sequences, the fee and gas limit)
//! and the signatures. `query tx` shows a committed tx this way, `--generate-only` writes an
//! unsigned one, `tx sign` reads and writes one, `tx broadcast` reads a signed one. Messages go
//! through the app's one JSON registry (`caspur_app::msg_json`).

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine as _;
use caspur_app::msg_json::{any_from_json, any_to_json};
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin;
use cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{
    mode_info, AuthInfo, Fee, ModeInfo, SignerInfo, TxBody, TxRaw,
};
use cosmos_sdk_proto::Any;
use prost::Message as _;
use serde_json::{json, Value};

/// Largest tx file `tx sign`, `tx broadcast` and `tx authz exec` read.
pub const MAX_TX_FILE_BYTES: u64 = 8 << 20;

const SECP256K1_PUBKEY: &str = "/cosmos.crypto.secp256k1.PubKey";

/// The tx whose bytes are `b64`, decoded; `None` if they are not a tx.
pub fn decode(b64: &str) -> Option<Value> {
    let raw = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    let tx = TxRaw::decode(raw.as_slice()).ok()?;
    let body = TxBody::decode(tx.body_bytes.as_slice()).ok()?;
    let auth = AuthInfo::decode(tx.auth_info_bytes.as_slice()).ok()?;
    Some(tx_to_json(&body, &auth, &tx.signatures))
}

/// A tx's parts as the SDK's JSON.
pub fn tx_to_json(body: &TxBody, auth: &AuthInfo, signatures: &[Vec<u8>]) -> Value {
    let b64 = base64::engine::general_purpose::STANDARD;
    let fee = auth.fee.clone().unwrap_or_default();
    json!({
        "body": {
            "messages": body.messages.iter().map(any_to_json).collect::<Vec<_>>(),
            "memo": body.memo,
            "timeout_height": body.timeout_height.to_string(),
        },
        "auth_info": {
            "signer_infos": auth.signer_infos.iter().map(|s| json!({
                "public_key": s.public_key.as_ref().map(|k| {
                    let key = PubKey::decode(k.value.as_slice())
                        .map(|p| b64.encode(p.key))
                        .unwrap_or_else(|_| b64.encode(&k.value));
                    json!({"@type": k.type_url, "key": key})
                }),
                "mode_info": {"single": {"mode": "SIGN_MODE_DIRECT"}},
                "sequence": s.sequence.to_string(),
            })).collect::<Vec<_>>(),
            "fee": {
                "amount": fee.amount.iter().map(|c| json!({"denom": c.denom, "amount": c.amount})).collect::<Vec<_>>(),
                "gas_limit": fee.gas_limit.to_string(),
                "payer": fee.payer,
                "granter": fee.granter,
            },
        },
        "signatures": signatures.iter().map(|s| b64.encode(s)).collect::<Vec<_>>(),
    })
}

fn u64_field(v: &Value, what: &str) -> Result<u64> {
    match v {
        Value::Null => Ok(0),
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| anyhow!("{what} must be a whole number")),
        Value::String(s) if s.is_empty() => Ok(0),
        Value::String(s) => s
            .parse()
            .map_err(|_| anyhow!("{what} must be a whole number, not {s:?}")),
        _ => bail!("{what} must be a whole number"),
    }
}

fn str_field(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn signer_from_json(v: &Value) -> Result<SignerInfo> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let public_key = match &v["public_key"] {
        Value::Null => None,
        k => {
            let type_url = k["@type"].as_str().unwrap_or(SECP256K1_PUBKEY);
            if type_url != SECP256K1_PUBKEY {
                bail!("signer public keys must be {SECP256K1_PUBKEY}, not {type_url}");
            }
            let key = b64
                .decode(k["key"].as_str().unwrap_or_default())
                .context("a signer's public key is not base64")?;
            Some(Any {
                type_url: type_url.to_string(),
                value: PubKey { key }.encode_to_vec(),
            })
        }
    };
    Ok(SignerInfo {
        public_key,
        mode_info: Some(ModeInfo {
            sum: Some(mode_info::Sum::Single(mode_info::Single {
                mode: cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode::Direct as i32,
            })),
        }),
        sequence: u64_field(&v["sequence"], "sequence")?,
    })
}

/// A tx's parts from the SDK's JSON (what [`tx_to_json`] writes): body, auth info, signatures.
pub fn tx_from_json(v: &Value) -> Result<(TxBody, AuthInfo, Vec<Vec<u8>>)> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let body = &v["body"];
    let messages = body["messages"]
        .as_array()
        .ok_or_else(|| anyhow!("the tx has no body.messages list"))?
        .iter()
        .enumerate()
        .map(|(i, m)| any_from_json(m.clone()).map_err(|e| anyhow!("message {i}: {e}")))
        .collect::<Result<Vec<_>>>()?;
    let body = TxBody {
        messages,
        memo: str_field(&body["memo"]),
        timeout_height: u64_field(&body["timeout_height"], "timeout_height")?,
        ..Default::default()
    };
    let auth = &v["auth_info"];
    let fee = &auth["fee"];
    let amount = fee["amount"]
        .as_array()
        .map(|coins| {
            coins
                .iter()
                .map(|c| Coin {
                    denom: str_field(&c["denom"]),
                    amount: str_field(&c["amount"]),
                })
                .collect()
        })
        .unwrap_or_default();
    let signer_infos = auth["signer_infos"]
        .as_array()
        .map(|s| s.iter().map(signer_from_json).collect::<Result<Vec<_>>>())
        .transpose()?
        .unwrap_or_default();
    let auth = AuthInfo {
        signer_infos,
        fee: Some(Fee {
            amount,
            gas_limit: u64_field(&fee["gas_limit"], "fee.gas_limit")?,
            payer: str_field(&fee["payer"]),
            granter: str_field(&fee["granter"]),
        }),
        ..Default::default()
    };
    let signatures = v["signatures"]
        .as_array()
        .map(|s| {
            s.iter()
                .map(|sig| {
                    b64.decode(sig.as_str().unwrap_or_default())
                        .context("a signature is not base64")
                })
                .collect::<Result<Vec<_>>>()
        })
        .transpose()?
        .unwrap_or_default();
    Ok((body, auth, signatures))
}

/// Reads a tx JSON file (at most [`MAX_TX_FILE_BYTES`]).
pub fn read_tx_file(path: &std::path::Path) -> Result<(TxBody, AuthInfo, Vec<Vec<u8>>)> {
    use std::io::Read as _;
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut text = String::new();
    file.take(MAX_TX_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if text.len() as u64 > MAX_TX_FILE_BYTES {
        bail!(
            "{} is larger than {MAX_TX_FILE_BYTES} bytes",
            path.display()
        );
    }
    let v: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    tx_from_json(&v).with_context(|| format!("{} is not a tx", path.display()))
}
