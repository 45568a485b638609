//! Strict protobuf decoding: what prost would silently skip is refused.
//!
//! prost drops fields it does not know, so a TxBody padded with field 999 (a kilobyte of
//! anything) would decode, be signed over, and be committed — carrying bytes no node can
//! interpret. The Cosmos SDK refuses unknown fields in `TxRaw`, `AuthInfo`, `TxBody` (except
//! its "non-critical" fields: numbers ≥ 1024 with bit 11 set) and in messages. We decode with
//! prost, re-encode, and require the bytes back: prost's encoding is canonical (fields in
//! number order, defaults omitted), as CosmJS, cosmpy and the Go SDK write them, so an honest
//! client's bytes survive the round trip and any unknown field — at any depth — does not.
//! (This also refuses a non-canonical encoding of known fields, which the SDK tolerates; no
//! client we know writes one.)

use crate::TxError;
use prost::bytes::Buf;
use prost::encoding::{decode_key, decode_varint, WireType};

/// A field number the SDK lets a TxBody carry unknown: ≥ 1024 with bit 11 (1024) set.
pub fn is_non_critical(number: u32) -> bool {
    number & 1024 != 0
}

/// Decodes `bytes` as `M` (named `what` in errors), refusing unknown fields and non-canonical
/// encodings; with `allow_non_critical`, unknown non-critical fields (TxBody's) are ignored.
pub fn decode_strict<M: prost::Message + Default>(
    bytes: &[u8],
    what: &str,
    allow_non_critical: bool,
) -> Result<M, TxError> {
    let message = M::decode(bytes).map_err(|e| TxError::decode(format!("invalid {what}: {e}")))?;
    let canonical = message.encode_to_vec();
    if canonical == bytes {
        return Ok(message);
    }
    let fields =
        top_level_fields(bytes).map_err(|e| TxError::decode(format!("invalid {what}: {e}")))?;
    let known = top_level_fields(&canonical)
        .map_err(|e| TxError::decode(format!("invalid {what}: {e}")))?;
    let is_known = |n: u32| known.iter().any(|(k, _)| *k == n);
    let unknown: Vec<u32> = fields
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| !(is_known(*n) || allow_non_critical && is_non_critical(*n)))
        .collect();
    if let Some(first) = unknown.first() {
        return Err(TxError::decode(format!(
            "{what} carries unknown field {first}: refused, as the Cosmos SDK refuses unknown fields"
        )));
    }
    if allow_non_critical {
        // Unknown non-critical fields aside, the rest must be canonical.
        let mut kept = Vec::with_capacity(bytes.len());
        for (n, range) in &fields {
            if is_known(*n) || !is_non_critical(*n) {
                kept.extend_from_slice(&bytes[range.clone()]);
            }
        }
        if kept == canonical {
            return Ok(message);
        }
    }
    Err(TxError::decode(format!(
        "{what} is not canonically encoded (an unknown field in a nested message, fields out of \
         order, or a default value written out): encode it as protobuf does"
    )))
}

/// The top-level fields of a protobuf message: (number, byte range of key and value).
fn top_level_fields(bytes: &[u8]) -> Result<Vec<(u32, std::ops::Range<usize>)>, String> {
    let mut buf = bytes;
    let mut out = Vec::new();
    while buf.has_remaining() {
        let start = bytes.len() - buf.remaining();
        let (number, wire) = decode_key(&mut buf).map_err(|e| e.to_string())?;
        let skip = match wire {
            WireType::Varint => {
                decode_varint(&mut buf).map_err(|e| e.to_string())?;
                0
            }
            WireType::SixtyFourBit => 8,
            WireType::ThirtyTwoBit => 4,
            WireType::LengthDelimited => {
                let len = decode_varint(&mut buf).map_err(|e| e.to_string())?;
                usize::try_from(len).map_err(|_| "length overflows".to_string())?
            }
            WireType::StartGroup | WireType::EndGroup => {
                return Err(format!(
                    "field {number} uses groups, which are not supported"
                ))
            }
        };
        if skip > buf.remaining() {
            return Err(format!("field {number} runs past the end"));
        }
        buf.advance(skip);
        out.push((number, start..bytes.len() - buf.remaining()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmos_sdk_proto::cosmos::tx::v1beta1::TxBody;
    use prost::Message as _;

    fn body() -> Vec<u8> {
        TxBody {
            memo: "hi".into(),
            timeout_height: 7,
            ..Default::default()
        }
        .encode_to_vec()
    }

    /// `bytes` with field `number` (length-delimited, `len` bytes of padding) appended.
    fn with_field(mut bytes: Vec<u8>, number: u32, len: usize) -> Vec<u8> {
        prost::encoding::encode_key(number, WireType::LengthDelimited, &mut bytes);
        prost::encoding::encode_varint(len as u64, &mut bytes);
        bytes.extend(std::iter::repeat_n(0xab, len));
        bytes
    }

    #[test]
    fn unknown_fields_are_refused_and_canonical_bytes_pass() {
        assert!(decode_strict::<TxBody>(&body(), "TxBody", true).is_ok());
        let padded = with_field(body(), 999, 1000);
        let e = decode_strict::<TxBody>(&padded, "TxBody", true).unwrap_err();
        assert_eq!(e.code, crate::ErrorCode::TxDecode);
        assert!(e.message.contains("unknown field 999"), "{}", e.message);
        // A non-critical field (bit 11 set) is tolerated in a TxBody, not elsewhere.
        let extended = with_field(body(), 1024 + 5, 3);
        assert!(decode_strict::<TxBody>(&extended, "TxBody", true).is_ok());
        assert!(decode_strict::<TxBody>(&extended, "TxBody", false).is_err());
    }

    #[test]
    fn a_default_written_out_or_truncated_bytes_are_refused() {
        let mut explicit_zero = body();
        prost::encoding::encode_key(3, WireType::Varint, &mut explicit_zero);
        prost::encoding::encode_varint(0, &mut explicit_zero);
        assert!(decode_strict::<TxBody>(&explicit_zero, "TxBody", false).is_err());
        assert!(top_level_fields(&[0x0a, 0x05, 0x01]).is_err());
        assert!(top_level_fields(&[0x0b]).is_err());
    }
}
