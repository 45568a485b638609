//! A committed tx as `query tx` shows it, decoded as the SDK's CLI does: the body (messages,
//! memo, timeout), the auth info (signers and their sequences, the fee and gas limit) and the
//! signatures. Messages of the types listed here appear as their JSON; any other as its type
//! and base64 bytes.

use base64::Engine as _;
use caspur_types::proto::{dcert::v1 as dcert, incident::v1 as incident, upgrade::v1 as upgrade};
use cosmos_sdk_proto::cosmos::tx::v1beta1::{AuthInfo, TxBody, TxRaw};
use cosmos_sdk_proto::cosmos::{bank::v1beta1 as bank, distribution::v1beta1 as dist};
use cosmos_sdk_proto::cosmos::{gov::v1 as gov, staking::v1beta1 as staking};
use cosmos_sdk_proto::Any;
use prost::Message as _;
use serde_json::{json, Value};

/// A message as JSON with its `@type`, or its type and base64 bytes.
fn message(any: &Any) -> Value {
    macro_rules! known {
        ($($url:literal => $ty:ty),* $(,)?) => {
            match any.type_url.as_str() {
                $($url => <$ty>::decode(any.value.as_slice())
                    .ok()
                    .and_then(|m| serde_json::to_value(m).ok()),)*
                _ => None,
            }
        };
    }
    let decoded = known! {
        "/cosmos.bank.v1beta1.MsgSend" => bank::MsgSend,
        "/cosmos.staking.v1beta1.MsgDelegate" => staking::MsgDelegate,
        "/cosmos.staking.v1beta1.MsgUndelegate" => staking::MsgUndelegate,
        "/cosmos.staking.v1beta1.MsgBeginRedelegate" => staking::MsgBeginRedelegate,
        "/cosmos.gov.v1.MsgVote" => gov::MsgVote,
        "/cosmos.gov.v1.MsgDeposit" => gov::MsgDeposit,
        "/cosmos.distribution.v1beta1.MsgWithdrawDelegatorReward" => dist::MsgWithdrawDelegatorReward,
        "/caspur.dcert.v1.MsgVoteDcert" => dcert::MsgVoteDcert,
        "/caspur.dcert.v1.MsgBondDcert" => dcert::MsgBondDcert,
        "/caspur.dcert.v1.MsgCircuitBreak" => dcert::MsgCircuitBreak,
        "/caspur.upgrade.v1.MsgSignalReady" => upgrade::MsgSignalReady,
        "/caspur.upgrade.v1.MsgApproveEmergencyUpgrade" => upgrade::MsgApproveEmergencyUpgrade,
        "/caspur.incident.v1.MsgTriageIncident" => incident::MsgTriageIncident,
    };
    match decoded.map(snake_keys) {
        Some(Value::Object(mut fields)) => {
            let mut out = serde_json::Map::new();
            out.insert("@type".into(), json!(any.type_url));
            out.append(&mut fields);
            Value::Object(out)
        }
        _ => json!({
            "@type": any.type_url,
            "value": base64::engine::general_purpose::STANDARD.encode(&any.value),
        }),
    }
}

/// `v` with every object key in snake_case, as the SDK's CLI prints messages (the Cosmos types'
/// proto3 JSON is lowerCamelCase; Caspur's are snake_case already).
fn snake_keys(v: Value) -> Value {
    match v {
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| {
                    let mut snake = String::with_capacity(k.len() + 4);
                    for c in k.chars() {
                        if c.is_ascii_uppercase() {
                            snake.push('_');
                            snake.push(c.to_ascii_lowercase());
                        } else {
                            snake.push(c);
                        }
                    }
                    (snake, snake_keys(v))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(snake_keys).collect()),
        other => other,
    }
}

/// The tx whose bytes are `b64`, decoded; `None` if they are not a tx.
pub fn decode(b64: &str) -> Option<Value> {
    let b64e = base64::engine::general_purpose::STANDARD;
    let raw = b64e.decode(b64).ok()?;
    let tx = TxRaw::decode(raw.as_slice()).ok()?;
    let body = TxBody::decode(tx.body_bytes.as_slice()).ok()?;
    let auth = AuthInfo::decode(tx.auth_info_bytes.as_slice()).ok()?;
    let fee = auth.fee.unwrap_or_default();
    Some(json!({
        "body": {
            "messages": body.messages.iter().map(message).collect::<Vec<_>>(),
            "memo": body.memo,
            "timeout_height": body.timeout_height.to_string(),
        },
        "auth_info": {
            "signer_infos": auth.signer_infos.iter().map(|s| json!({
                "public_key": s.public_key.as_ref().map(|k| {
                    let key = cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey::decode(k.value.as_slice())
                        .map(|p| b64e.encode(p.key))
                        .unwrap_or_else(|_| b64e.encode(&k.value));
                    json!({"@type": k.type_url, "key": key})
                }),
                "sequence": s.sequence.to_string(),
            })).collect::<Vec<_>>(),
            "fee": {
                "amount": fee.amount.iter().map(|c| json!({"denom": c.denom, "amount": c.amount})).collect::<Vec<_>>(),
                "gas_limit": fee.gas_limit.to_string(),
                "payer": fee.payer,
                "granter": fee.granter,
            },
        },
        "signatures": tx.signatures.iter().map(|s| b64e.encode(s)).collect::<Vec<_>>(),
    }))
}
