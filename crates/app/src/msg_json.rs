//! Messages as JSON, the Cosmos SDK CLI's way: `{"@type": "/cosmos.bank.v1beta1.MsgSend",
//! "from_address": …}`, with the messages a message carries (authz `MsgExec`, gov proposals,
//! authorizations, keys) in the same form at any depth.
//!
//! One registry serves both directions: every routable message type (the router's list, see
//! [`crate::router::json_codec`]) plus the types that travel inside them as `Any`
//! (authorizations and public keys). Clients only: nothing here is part of consensus.

use crate::limits::MAX_NESTING_DEPTH;
use base64::Engine as _;
use cosmos_sdk_proto::Any;
use serde_json::{json, Map, Value};

/// Decoding and encoding of one registered type.
#[derive(Clone, Copy)]
pub struct JsonCodec {
    /// Protobuf bytes → proto3 JSON.
    pub to_json: fn(&[u8]) -> Result<Value, String>,
    /// Proto3 JSON (snake_case or lowerCamelCase field names) → protobuf bytes.
    pub from_json: fn(Value) -> Result<Vec<u8>, String>,
}

impl JsonCodec {
    /// The codec of `M`.
    pub fn of<M>() -> Self
    where
        M: prost::Message + Default + serde::Serialize + serde::de::DeserializeOwned,
    {
        JsonCodec {
            to_json: |bytes| {
                let m = M::decode(bytes).map_err(|e| e.to_string())?;
                serde_json::to_value(m).map_err(|e| e.to_string())
            },
            from_json: |v| {
                let m: M = serde_json::from_value(v).map_err(|e| e.to_string())?;
                Ok(m.encode_to_vec())
            },
        }
    }
}

/// The codec of `type_url`: a routable message, or a type carried inside one.
pub fn codec(type_url: &str) -> Option<JsonCodec> {
    use cosmos_sdk_proto::cosmos::authz::v1beta1::GenericAuthorization;
    use cosmos_sdk_proto::cosmos::crypto::{ed25519, secp256k1};
    crate::router::json_codec(type_url).or(match type_url {
        "/cosmos.authz.v1beta1.GenericAuthorization" => {
            Some(JsonCodec::of::<GenericAuthorization>())
        }
        "/cosmos.crypto.secp256k1.PubKey" => Some(JsonCodec::of::<secp256k1::PubKey>()),
        "/cosmos.crypto.ed25519.PubKey" => Some(JsonCodec::of::<ed25519::PubKey>()),
        _ => None,
    })
}

/// `any` as JSON with its `@type`, nested `Any`s expanded alike, field names in snake_case;
/// a type outside the registry (or bytes that do not decode) as `@type` and base64 `value`.
pub fn any_to_json(any: &Any) -> Value {
    expand(any, 0)
}

fn expand(any: &Any, depth: usize) -> Value {
    let decoded = codec(&any.type_url)
        .filter(|_| depth <= MAX_NESTING_DEPTH as usize)
        .and_then(|c| (c.to_json)(&any.value).ok());
    match decoded {
        Some(Value::Object(fields)) => {
            let mut out = Map::new();
            out.insert("@type".into(), json!(any.type_url));
            for (k, v) in fields {
                out.insert(snake_case(&k), expand_within(v, depth + 1));
            }
            Value::Object(out)
        }
        _ => json!({
            "@type": any.type_url,
            "value": base64::engine::general_purpose::STANDARD.encode(&any.value),
        }),
    }
}

/// `v` with its `Any`s (proto3 JSON `{"typeUrl", "value"}`) expanded and keys in snake_case.
fn expand_within(v: Value, depth: usize) -> Value {
    match v {
        Value::Object(fields) => match as_any(&fields) {
            Some(any) => expand(&any, depth),
            None => Value::Object(
                fields
                    .into_iter()
                    .map(|(k, v)| (snake_case(&k), expand_within(v, depth)))
                    .collect(),
            ),
        },
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| expand_within(v, depth)).collect())
        }
        other => other,
    }
}

/// The `Any` a proto3-JSON object stands for, if it is one.
fn as_any(fields: &Map<String, Value>) -> Option<Any> {
    let type_url = fields.get("typeUrl").or_else(|| fields.get("type_url"))?;
    if fields.len() > 2 || (fields.len() == 2 && !fields.contains_key("value")) {
        return None;
    }
    let value = match fields.get("value") {
        None => Vec::new(),
        Some(v) => base64::engine::general_purpose::STANDARD
            .decode(v.as_str()?)
            .ok()?,
    };
    Some(Any {
        type_url: type_url.as_str()?.to_string(),
        value,
    })
}

/// `v` with every object key in snake_case, as the SDK's CLI prints protobuf JSON (the
/// Cosmos types' proto3 JSON is lowerCamelCase; Caspur's are snake_case already).
pub fn snake_keys(v: Value) -> Value {
    match v {
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (snake_case(&k), snake_keys(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(snake_keys).collect()),
        other => other,
    }
}

/// `lowerCamelCase` → `snake_case` (snake_case stays).
fn snake_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A message given as JSON with its `@type` (nested messages in the same form, or as
/// `{"type_url", "value"}`) packed as an `Any`. Nesting deeper than the chain's
/// [`MAX_NESTING_DEPTH`] is refused, as the chain would refuse it.
pub fn any_from_json(v: Value) -> Result<Any, String> {
    pack(v, 0)
}

fn pack(v: Value, depth: usize) -> Result<Any, String> {
    if depth > MAX_NESTING_DEPTH as usize {
        return Err(format!(
            "messages nest deeper than {MAX_NESTING_DEPTH} levels"
        ));
    }
    let Value::Object(mut fields) = v else {
        return Err("a message must be a JSON object with an \"@type\"".into());
    };
    let type_url = match fields.remove("@type") {
        Some(Value::String(t)) => t,
        _ => return Err("a message needs an \"@type\" naming its type".into()),
    };
    let codec = codec(&type_url)
        .ok_or_else(|| format!("{type_url} is not a message type of this chain"))?;
    let mut inner = Map::new();
    for (k, v) in fields {
        inner.insert(k, pack_within(v, depth + 1)?);
    }
    let value = (codec.from_json)(Value::Object(inner)).map_err(|e| format!("{type_url}: {e}"))?;
    Ok(Any { type_url, value })
}

/// `v` with every `{"@type", …}` object inside replaced by its `Any`'s proto3 JSON.
fn pack_within(v: Value, depth: usize) -> Result<Value, String> {
    match v {
        Value::Object(fields) if fields.contains_key("@type") => {
            let any = pack(Value::Object(fields), depth)?;
            Ok(json!({
                "type_url": any.type_url,
                "value": base64::engine::general_purpose::STANDARD.encode(&any.value),
            }))
        }
        Value::Object(fields) => Ok(Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| Ok((k, pack_within(v, depth)?)))
                .collect::<Result<_, String>>()?,
        )),
        Value::Array(items) => Ok(Value::Array(
            items
                .into_iter()
                .map(|v| pack_within(v, depth))
                .collect::<Result<_, String>>()?,
        )),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_authz_exec_round_trips_with_its_nested_send() {
        let send = json!({
            "@type": "/cosmos.bank.v1beta1.MsgSend",
            "from_address": "caspur1a",
            "to_address": "caspur1b",
            "amount": [{"denom": "ucsp", "amount": "5"}],
        });
        let exec = json!({
            "@type": "/cosmos.authz.v1beta1.MsgExec",
            "grantee": "caspur1c",
            "msgs": [send.clone()],
        });
        let any = any_from_json(exec.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(any.type_url, "/cosmos.authz.v1beta1.MsgExec");
        let back = any_to_json(&any);
        assert_eq!(back["msgs"][0], send, "{back}");
        assert_eq!(back["grantee"], "caspur1c");
    }

    #[test]
    fn unknown_types_and_deep_nesting_are_refused_and_unknown_bytes_shown_raw() {
        let e = any_from_json(json!({"@type": "/x.Y"}))
            .err()
            .unwrap_or_default();
        assert!(e.contains("not a message type"), "{e}");
        let mut v = json!({"@type": "/cosmos.bank.v1beta1.MsgSend"});
        for _ in 0..(MAX_NESTING_DEPTH + 2) {
            v = json!({"@type": "/cosmos.authz.v1beta1.MsgExec", "grantee": "g", "msgs": [v]});
        }
        let e = any_from_json(v).err().unwrap_or_default();
        assert!(e.contains("nest deeper"), "{e}");
        let raw = any_to_json(&Any {
            type_url: "/x.Y".into(),
            value: vec![1, 2],
        });
        assert_eq!(raw, json!({"@type": "/x.Y", "value": "AQI="}));
    }
}
