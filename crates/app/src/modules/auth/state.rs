//! `auth` state: `[AUTH, 1] ‖ addr → BaseAccount`, `[AUTH, 2] → next account number`,
//! `[AUTH, 0] → params`.

use super::params::AuthParams;
use crate::context::{KvRead, KvWrite};
use crate::error::ExecError;
use crate::modules::ids::AUTH;
use caspur_store::keys::key;
use caspur_types::tx::SECP256K1_PUBKEY_URL;
use caspur_types::Address;
use cosmos_sdk_proto::cosmos::auth::v1beta1::BaseAccount;
use cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey;
use cosmos_sdk_proto::Any;
use prost::Message;

const PARAMS: [u8; 2] = [AUTH, 0];
const ACCOUNT: [u8; 2] = [AUTH, 1];
const NEXT_ACCOUNT_NUMBER: [u8; 2] = [AUTH, 2];

/// The type URL of a stored account.
pub const BASE_ACCOUNT_URL: &str = "/cosmos.auth.v1beta1.BaseAccount";

/// An account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// Address.
    pub address: Address,
    /// Compressed secp256k1 key, recorded by the account's first tx.
    pub pubkey: Option<[u8; 33]>,
    /// Number assigned when the account first received funds.
    pub account_number: u64,
    /// Number of txs this account has signed that were included.
    pub sequence: u64,
}

impl Account {
    /// The Cosmos `BaseAccount` form.
    pub fn to_proto(&self) -> BaseAccount {
        BaseAccount {
            address: self.address.to_account_string(),
            pub_key: self.pubkey.map(|pk| Any {
                type_url: SECP256K1_PUBKEY_URL.to_string(),
                value: PubKey { key: pk.to_vec() }.encode_to_vec(),
            }),
            account_number: self.account_number,
            sequence: self.sequence,
        }
    }

    /// From the stored form; `address` is the key it was stored under (no bech32 decoding).
    fn from_proto(b: BaseAccount, address: Address) -> Result<Self, ExecError> {
        let pubkey = match b.pub_key {
            None => None,
            Some(any) => {
                let pk = PubKey::decode(any.value.as_slice())
                    .map_err(|e| ExecError::logic(e.to_string()))?;
                Some(
                    pk.key
                        .as_slice()
                        .try_into()
                        .map_err(|_| ExecError::logic("stored pubkey is not 33 bytes"))?,
                )
            }
        };
        Ok(Account {
            address,
            pubkey,
            account_number: b.account_number,
            sequence: b.sequence,
        })
    }
}

fn account_key(addr: &Address) -> Vec<u8> {
    key(&ACCOUNT, &[&addr.0])
}

/// The account at `addr`, if it exists.
pub async fn get_account(
    kv: &mut impl KvRead,
    addr: &Address,
) -> Result<Option<Account>, ExecError> {
    match kv.get(&account_key(addr)).await? {
        None => Ok(None),
        Some(bytes) => {
            let b = BaseAccount::decode(bytes.as_slice())
                .map_err(|e| ExecError::logic(format!("corrupt account: {e}")))?;
            Account::from_proto(b, *addr).map(Some)
        }
    }
}

/// The raw stored `BaseAccount` bytes, for queries that return them as they are.
pub async fn get_account_bytes(
    kv: &mut impl KvRead,
    addr: &Address,
) -> Result<Option<Vec<u8>>, ExecError> {
    kv.get(&account_key(addr)).await
}

/// Stores an account.
pub fn set_account(kv: &mut impl KvWrite, a: &Account) -> Result<(), ExecError> {
    kv.put(account_key(&a.address), a.to_proto().encode_to_vec())
}

/// Returns the account at `addr`, creating it with the next account number if it is new
/// (accounts come into being when they first receive coins, as in Cosmos).
pub async fn ensure_account(kv: &mut impl KvWrite, addr: &Address) -> Result<Account, ExecError> {
    if let Some(a) = get_account(kv, addr).await? {
        return Ok(a);
    }
    let number = next_account_number(kv).await?;
    set_next_account_number(kv, number + 1)?;
    let a = Account {
        address: *addr,
        pubkey: None,
        account_number: number,
        sequence: 0,
    };
    set_account(kv, &a)?;
    Ok(a)
}

async fn next_account_number(kv: &mut impl KvRead) -> Result<u64, ExecError> {
    Ok(match kv.get(&NEXT_ACCOUNT_NUMBER).await? {
        None => 0,
        Some(b) => u64::from_be_bytes(
            b.as_slice()
                .try_into()
                .map_err(|_| ExecError::logic("corrupt account counter"))?,
        ),
    })
}

/// Sets the next account number.
pub fn set_next_account_number(kv: &mut impl KvWrite, n: u64) -> Result<(), ExecError> {
    kv.put(NEXT_ACCOUNT_NUMBER.to_vec(), n.to_be_bytes().to_vec())
}

/// The parameters (defaults if never set).
pub async fn get_params(kv: &mut impl KvRead) -> Result<AuthParams, ExecError> {
    crate::params::read(kv, &PARAMS).await
}

/// Stores the parameters.
pub fn set_params(kv: &mut impl KvWrite, p: &AuthParams) -> Result<(), ExecError> {
    crate::params::write(kv, &PARAMS, p)
}
