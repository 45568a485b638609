//! Cosmos transactions: decoding `TxRaw` → `TxBody` + `AuthInfo`, the `SIGN_MODE_DIRECT` sign
//! document; signatures are verified by [`crate::sigverify`].
//!
//! The sign document is built from `body_bytes` and `auth_info_bytes` exactly as received: a
//! re-encoding could differ from what the client signed (field order, unknown fields) and would
//! turn valid signatures invalid, or worse, make two byte strings share one signature.

use cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey as Secp256k1PubKey;
use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{mode_info, AuthInfo, SignDoc, TxBody, TxRaw};
use prost::Message;
use sha2::{Digest, Sha256};

use crate::canonical::decode_strict;
use crate::error::TxError;

/// The type URL of a secp256k1 public key.
pub const SECP256K1_PUBKEY_URL: &str = "/cosmos.crypto.secp256k1.PubKey";

/// A decoded transaction, keeping the raw parts that signatures cover.
#[derive(Clone, Debug)]
pub struct DecodedTx {
    /// SHA-256 of the raw tx bytes (the tx hash).
    pub hash: [u8; 32],
    /// Size of the raw tx in bytes.
    pub size: usize,
    /// The decoded body.
    pub body: TxBody,
    /// The decoded auth info.
    pub auth_info: AuthInfo,
    /// Body bytes as received.
    pub body_bytes: Vec<u8>,
    /// Auth info bytes as received.
    pub auth_info_bytes: Vec<u8>,
    /// One signature per signer.
    pub signatures: Vec<Vec<u8>>,
}

/// What one signer declared in `AuthInfo`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignerDecl {
    /// The compressed secp256k1 key, when the tx carries it.
    pub pubkey: Option<[u8; 33]>,
    /// The sequence the signer signed over.
    pub sequence: u64,
}

/// The tx hash: SHA-256 of the raw bytes.
pub fn tx_hash(raw: &[u8]) -> [u8; 32] {
    Sha256::digest(raw).into()
}

/// The tx hash as clients show it: uppercase hex.
pub fn tx_hash_hex(raw: &[u8]) -> String {
    hex::encode_upper(tx_hash(raw))
}

/// Decodes a raw tx, refusing anything larger than `max_bytes`.
pub fn decode_tx(raw: &[u8], max_bytes: usize) -> Result<DecodedTx, TxError> {
    if raw.len() > max_bytes {
        return Err(TxError::tx_too_large(format!(
            "tx is {} bytes, the limit is {max_bytes}",
            raw.len()
        )));
    }
    // Unknown fields are refused at every level, as the Cosmos SDK refuses them.
    let tx_raw: TxRaw = decode_strict(raw, "TxRaw", false)?;
    let body: TxBody = decode_strict(&tx_raw.body_bytes, "TxBody", true)?;
    let auth_info: AuthInfo = decode_strict(&tx_raw.auth_info_bytes, "AuthInfo", false)?;
    if body.messages.is_empty() {
        return Err(TxError::invalid_request(
            "tx must contain at least one message",
        ));
    }
    if !body.extension_options.is_empty() || !body.non_critical_extension_options.is_empty() {
        return Err(TxError::unknown_extension(
            "tx extension options are not supported",
        ));
    }
    if auth_info.signer_infos.is_empty() || tx_raw.signatures.is_empty() {
        return Err(TxError::no_signatures("tx carries no signatures"));
    }
    if auth_info.signer_infos.len() != tx_raw.signatures.len() {
        return Err(TxError::unauthorized(format!(
            "tx has {} signer infos but {} signatures",
            auth_info.signer_infos.len(),
            tx_raw.signatures.len()
        )));
    }
    Ok(DecodedTx {
        hash: tx_hash(raw),
        size: raw.len(),
        body,
        auth_info,
        body_bytes: tx_raw.body_bytes,
        auth_info_bytes: tx_raw.auth_info_bytes,
        signatures: tx_raw.signatures,
    })
}

impl DecodedTx {
    /// The signers' declarations, checking that each uses a single-key `SIGN_MODE_DIRECT`
    /// secp256k1 signature.
    pub fn signer_decls(&self) -> Result<Vec<SignerDecl>, TxError> {
        self.auth_info
            .signer_infos
            .iter()
            .map(|info| {
                let mode = info
                    .mode_info
                    .as_ref()
                    .and_then(|m| m.sum.as_ref())
                    .ok_or_else(|| TxError::invalid_request("signer info has no sign mode"))?;
                match mode {
                    mode_info::Sum::Single(single) if single.mode == SignMode::Direct as i32 => {}
                    mode_info::Sum::Single(single) => {
                        return Err(TxError::not_supported(format!(
                            "sign mode {} is not supported; use SIGN_MODE_DIRECT",
                            single.mode
                        )))
                    }
                    mode_info::Sum::Multi(_) => {
                        return Err(TxError::not_supported("multisig signers are not supported"))
                    }
                }
                let pubkey = match &info.public_key {
                    None => None,
                    Some(any) if any.type_url == SECP256K1_PUBKEY_URL => {
                        let pk = Secp256k1PubKey::decode(any.value.as_slice())
                            .map_err(|e| TxError::invalid_pubkey(format!("invalid PubKey: {e}")))?;
                        let key: [u8; 33] = pk.key.as_slice().try_into().map_err(|_| {
                            TxError::invalid_pubkey(format!(
                                "secp256k1 pubkey must be 33 compressed bytes, got {}",
                                pk.key.len()
                            ))
                        })?;
                        Some(key)
                    }
                    Some(any) => {
                        return Err(TxError::invalid_pubkey(format!(
                            "unsupported pubkey type {}",
                            any.type_url
                        )))
                    }
                };
                Ok(SignerDecl {
                    pubkey,
                    sequence: info.sequence,
                })
            })
            .collect()
    }

    /// The fee and gas limit declared in `AuthInfo`.
    pub fn fee(&self) -> Result<(crate::Coins, u64), TxError> {
        let fee = self
            .auth_info
            .fee
            .as_ref()
            .ok_or_else(|| TxError::insufficient_fee("tx declares no fee"))?;
        Ok((crate::Coins::from_proto(&fee.amount)?, fee.gas_limit))
    }
}

/// The bytes a `SIGN_MODE_DIRECT` signer signs.
pub fn sign_doc_bytes(
    body_bytes: &[u8],
    auth_info_bytes: &[u8],
    chain_id: &str,
    account_number: u64,
) -> Vec<u8> {
    SignDoc {
        body_bytes: body_bytes.to_vec(),
        auth_info_bytes: auth_info_bytes.to_vec(),
        chain_id: chain_id.to_string(),
        account_number,
    }
    .encode_to_vec()
}

/// The chain's signature rule ([`crate::sigverify`]), where tx code has always found it.
pub use crate::sigverify::verify_secp256k1;

#[cfg(test)]
mod tests {
    use super::*;
    use k256::ecdsa::signature::Signer;
    use k256::ecdsa::{Signature, SigningKey};

    #[test]
    fn low_s_enforced() {
        let sk = SigningKey::from_slice(&[9u8; 32]).unwrap();
        let pk: [u8; 33] = sk
            .verifying_key()
            .to_encoded_point(true)
            .as_bytes()
            .try_into()
            .unwrap();
        let msg = b"hello";
        let sig: Signature = sk.sign(msg);
        let sig = sig.normalize_s().unwrap_or(sig);
        verify_secp256k1(&pk, msg, &sig.to_bytes()).unwrap();
        // Flip s to n - s: still mathematically valid, must be refused.
        let (r, s) = sig.split_scalars();
        let high = Signature::from_scalars(r, -*s).unwrap();
        let err = verify_secp256k1(&pk, msg, &high.to_bytes()).unwrap_err();
        assert!(err.message.contains("low-S"));
        assert!(verify_secp256k1(&pk, b"other", &sig.to_bytes()).is_err());
    }

    #[test]
    fn rejects_garbage_and_oversize() {
        assert_eq!(
            decode_tx(&[0xff, 0xff, 0xff], 100).unwrap_err().code,
            crate::ErrorCode::TxDecode
        );
        assert_eq!(
            decode_tx(&[0u8; 101], 100).unwrap_err().code,
            crate::ErrorCode::TxTooLarge
        );
    }
}
