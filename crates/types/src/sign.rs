//! Building and signing transactions, as a wallet does: `SIGN_MODE_DIRECT`, one secp256k1
//! signer. Used by the CLI, benchmarks and tests.

use crate::tx::{sign_doc_bytes, SECP256K1_PUBKEY_URL};
use crate::{Address, Coins};
use cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey;
use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{
    mode_info, AuthInfo, Fee, ModeInfo, SignerInfo, TxBody, TxRaw,
};
use cosmos_sdk_proto::Any;
use k256::ecdsa::signature::Signer;
use k256::ecdsa::{Signature, SigningKey};
use prost::Message;

/// A secp256k1 account key.
#[derive(Clone)]
pub struct AccountKey(SigningKey);

impl AccountKey {
    /// From 32 secret bytes.
    pub fn from_secret(bytes: &[u8; 32]) -> Option<Self> {
        SigningKey::from_slice(bytes).ok().map(AccountKey)
    }

    /// The underlying key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.0
    }

    /// The compressed public key.
    pub fn public_key(&self) -> [u8; 33] {
        let point = self.0.verifying_key().to_encoded_point(true);
        let mut out = [0u8; 33];
        out.copy_from_slice(point.as_bytes());
        out
    }

    /// The account address.
    pub fn address(&self) -> Address {
        Address::from_pubkey(&self.public_key())
    }

    /// Signs `msg` (SHA-256 inside), returning the low-S 64-byte form.
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        let sig: Signature = self.0.sign(msg);
        let sig = sig.normalize_s().unwrap_or(sig);
        sig.to_bytes().into()
    }
}

/// What a tx needs besides its messages.
#[derive(Clone, Debug)]
pub struct TxParams {
    /// Chain id.
    pub chain_id: String,
    /// The signer's account number.
    pub account_number: u64,
    /// The signer's sequence.
    pub sequence: u64,
    /// Fee.
    pub fee: Coins,
    /// Gas limit.
    pub gas_limit: u64,
    /// Memo.
    pub memo: String,
    /// Whether to include the public key (required on an account's first tx; Cosmos wallets
    /// always include it).
    pub include_pubkey: bool,
}

/// A tx's body and auth info before signing: the messages and memo, `signer` (`None`: no
/// signer yet, as an unsigned tx file carries), and `p`'s fee and gas limit.
pub fn tx_parts(msgs: Vec<Any>, p: &TxParams, signer: Option<SignerInfo>) -> (TxBody, AuthInfo) {
    let body = TxBody {
        messages: msgs,
        memo: p.memo.clone(),
        ..Default::default()
    };
    let auth = AuthInfo {
        signer_infos: signer.into_iter().collect(),
        fee: Some(Fee {
            amount: p.fee.to_proto(),
            gas_limit: p.gas_limit,
            payer: String::new(),
            granter: String::new(),
        }),
        ..Default::default()
    };
    (body, auth)
}

/// The body and auth-info bytes of an unsigned tx.
pub fn unsigned_parts(key: &AccountKey, msgs: Vec<Any>, p: &TxParams) -> (Vec<u8>, Vec<u8>) {
    let mut signer = signer_info(key, p.sequence);
    if !p.include_pubkey {
        signer.public_key = None;
    }
    let (body, auth) = tx_parts(msgs, p, Some(signer));
    (body.encode_to_vec(), auth.encode_to_vec())
}

/// The `SignerInfo` of `key` signing in direct mode at `sequence`, with its public key.
pub fn signer_info(key: &AccountKey, sequence: u64) -> SignerInfo {
    SignerInfo {
        public_key: Some(Any {
            type_url: SECP256K1_PUBKEY_URL.into(),
            value: PubKey {
                key: key.public_key().to_vec(),
            }
            .encode_to_vec(),
        }),
        mode_info: Some(ModeInfo {
            sum: Some(mode_info::Sum::Single(mode_info::Single {
                mode: SignMode::Direct as i32,
            })),
        }),
        sequence,
    }
}

/// `key`'s direct-mode signature over a tx's body and auth-info bytes for `chain_id` and
/// `account_number`.
pub fn sign_parts(
    key: &AccountKey,
    body_bytes: &[u8],
    auth_info_bytes: &[u8],
    chain_id: &str,
    account_number: u64,
) -> [u8; 64] {
    key.sign(&sign_doc_bytes(
        body_bytes,
        auth_info_bytes,
        chain_id,
        account_number,
    ))
}

/// Builds and signs a tx, returning the `TxRaw` bytes to broadcast.
pub fn sign_tx(key: &AccountKey, msgs: Vec<Any>, p: &TxParams) -> Vec<u8> {
    let (body_bytes, auth_info_bytes) = unsigned_parts(key, msgs, p);
    let sig = sign_parts(
        key,
        &body_bytes,
        &auth_info_bytes,
        &p.chain_id,
        p.account_number,
    );
    TxRaw {
        body_bytes,
        auth_info_bytes,
        signatures: vec![sig.to_vec()],
    }
    .encode_to_vec()
}

/// Packs a protobuf message into an `Any` with its type URL.
pub fn to_any<M: Message>(type_url: &str, m: &M) -> Any {
    Any {
        type_url: type_url.to_string(),
        value: m.encode_to_vec(),
    }
}

/// The type URL of `MsgSend`.
pub const MSG_SEND_URL: &str = "/cosmos.bank.v1beta1.MsgSend";

/// A `MsgSend` of `amount` from `from` to `to`, packed as an `Any`.
pub fn msg_send(from: &Address, to: &Address, amount: &Coins) -> Any {
    let msg = cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend {
        from_address: from.to_account_string(),
        to_address: to.to_account_string(),
        amount: amount.to_proto(),
    };
    to_any(MSG_SEND_URL, &msg)
}
