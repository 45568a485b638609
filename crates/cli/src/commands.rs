//! `tx …`, `query …` and `status`: client commands against a running node.

use crate::client::Client;
use crate::keys::Keyring;
use anyhow::{anyhow, bail, Context, Result};
use base64::Engine as _;
use caspur_types::sign::{msg_send, sign_tx, TxParams};
use caspur_types::{Address, Coins, Dec, STAKE_DENOM};
use cosmos_sdk_proto::cosmos::auth::v1beta1::{
    BaseAccount, QueryAccountRequest, QueryAccountResponse,
};
use cosmos_sdk_proto::cosmos::bank::v1beta1::{QueryAllBalancesRequest, QueryAllBalancesResponse};
use cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey;
use prost::Message;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Fee and gas settings of a tx command.
pub struct FeeOptions {
    /// Explicit fee (`5000ucsp`).
    pub fees: Option<String>,
    /// Gas limit.
    pub gas: u64,
    /// Gas price used when no fee is given.
    pub gas_price: String,
}

/// The chain's account record of an address, or `None` if it has never received coins.
pub fn account(client: &Client, address: &str) -> Result<Option<BaseAccount>> {
    let req = QueryAccountRequest {
        address: address.to_string(),
    };
    match client.query("/cosmos.auth.v1beta1.Query/Account", &req) {
        Ok(bytes) => {
            let resp =
                QueryAccountResponse::decode(bytes.as_slice()).context("bad account response")?;
            let any = resp
                .account
                .ok_or_else(|| anyhow!("account response carries no account"))?;
            Ok(Some(
                BaseAccount::decode(any.value.as_slice()).context("bad account")?,
            ))
        }
        Err(e) if e.to_string().contains("not found") => Ok(None),
        Err(e) => Err(e),
    }
}

/// Everything a tx command needs besides its messages.
pub struct TxContext<'a> {
    /// The node.
    pub client: &'a Client,
    /// The keyring holding the signer.
    pub ring: &'a Keyring,
    /// Chain id signed over.
    pub chain_id: &'a str,
    /// Fee and gas.
    pub fee: &'a FeeOptions,
    /// Memo.
    pub memo: &'a str,
    /// Wait until committed.
    pub wait: bool,
}

impl TxContext<'_> {
    /// Signs and broadcasts one message of type `url` whose encoding `build` makes from the
    /// signer's address (`caspur1…`).
    pub fn send_one(
        &self,
        from: &str,
        url: &str,
        build: &dyn Fn(String) -> Vec<u8>,
    ) -> Result<Value> {
        self.send(from, |me| {
            Ok(vec![cosmos_sdk_proto::Any {
                type_url: url.to_string(),
                value: build(me.to_string()),
            }])
        })
    }

    /// Signs the messages `build` makes for the key `from`'s address and broadcasts them.
    pub fn send(
        &self,
        from: &str,
        build: impl FnOnce(&Address) -> Result<Vec<cosmos_sdk_proto::Any>>,
    ) -> Result<Value> {
        let key = self.ring.signer(from)?;
        let from_addr = key.address();
        let msgs = build(&from_addr)?;
        let acct = account(self.client, &from_addr.to_string())?.ok_or_else(|| {
            anyhow!("account {from_addr} does not exist on chain yet: send it some coins first")
        })?;
        let fees: Coins = match &self.fee.fees {
            Some(f) => f.parse().map_err(|e| anyhow!("fees: {e}"))?,
            None => {
                let price: Dec = self
                    .fee
                    .gas_price
                    .strip_suffix(STAKE_DENOM)
                    .ok_or_else(|| anyhow!("--gas-prices must end in {STAKE_DENOM}"))?
                    .parse()
                    .map_err(|e| anyhow!("--gas-prices: {e}"))?;
                let amount = price
                    .mul_int_ceil(self.fee.gas as u128)
                    .ok_or_else(|| anyhow!("fee overflow"))?;
                format!("{amount}{STAKE_DENOM}")
                    .parse()
                    .map_err(|e| anyhow!("{e}"))?
            }
        };
        let params = TxParams {
            chain_id: self.chain_id.to_string(),
            account_number: acct.account_number,
            sequence: acct.sequence,
            fee: fees,
            gas_limit: self.fee.gas,
            memo: self.memo.to_string(),
            include_pubkey: true,
        };
        let raw = sign_tx(&key, msgs, &params);
        broadcast(self.client, &raw, self.wait)
    }
}

/// Signs and broadcasts a `MsgSend`.
pub fn bank_send(tx: &TxContext<'_>, from: &str, to: &str, amount: &str) -> Result<Value> {
    let recipient = Address::parse_account(to).map_err(|e| anyhow!("recipient: {e}"))?;
    let amount = positive_coins(amount)?;
    tx.send(from, |from_addr| {
        Ok(vec![msg_send(from_addr, &recipient, &amount)])
    })
}

/// Parses a positive amount such as `1000ucsp`.
pub fn positive_coins(amount: &str) -> Result<Coins> {
    let coins: Coins = amount.parse().map_err(|e| anyhow!("amount: {e}"))?;
    if coins.is_empty() {
        bail!("amount must be positive, e.g. 1000ucsp");
    }
    Ok(coins)
}

/// Broadcasts raw tx bytes; a refused tx is an error. With `wait`, polls until it is committed.
pub fn broadcast(client: &Client, raw: &[u8], wait: bool) -> Result<Value> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
    let r = client.call("broadcast_tx_sync", json!({"tx": b64}))?;
    let code = r["code"].as_u64().unwrap_or(0);
    let hash = r["hash"].as_str().unwrap_or_default().to_string();
    if code != 0 {
        bail!(
            "tx {hash} refused: {} (code {code})",
            r["log"].as_str().unwrap_or_default()
        );
    }
    if !wait {
        return Ok(
            json!({"height": "0", "txhash": hash, "code": 0, "codespace": "", "raw_log": "", "gas_wanted": "0", "gas_used": "0"}),
        );
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(found) = tx(client, &hash) {
            let code = found["code"].as_u64().unwrap_or(0);
            if code != 0 {
                bail!(
                    "tx {hash} failed in block {}: {} (code {code})",
                    found["height"],
                    found["raw_log"].as_str().unwrap_or_default()
                );
            }
            return Ok(found);
        }
        if Instant::now() > deadline {
            bail!("tx {hash} was accepted but not committed within 60s");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A committed tx in the Cosmos `TxResponse` JSON shape.
pub fn tx(client: &Client, hash: &str) -> Result<Value> {
    let hash = hash.trim().to_uppercase();
    if hash.len() != 64 || hex::decode(&hash).is_err() {
        bail!("tx hash must be 64 hex characters");
    }
    let r = client.call("tx_search", json!({"query": format!("tx.hash='{hash}'")}))?;
    let found = r["txs"]
        .as_array()
        .and_then(|a| a.first())
        .cloned()
        .ok_or_else(|| anyhow!("tx {hash} not found"))?;
    let res = &found["tx_result"];
    let height: u64 = found["height"]
        .as_str()
        .and_then(|h| h.parse().ok())
        .unwrap_or(0);
    let time = client
        .call("block", json!({"height": height.to_string()}))
        .ok()
        .and_then(|b| b["block"]["header"]["time"].as_str().map(String::from))
        .unwrap_or_default();
    Ok(json!({
        "height": found["height"],
        "txhash": hash,
        "codespace": res["codespace"],
        "code": res["code"],
        "raw_log": res["log"],
        "gas_wanted": res["gas_wanted"],
        "gas_used": res["gas_used"],
        "events": res["events"],
        "tx": found["tx"],
        "timestamp": time,
    }))
}

/// `query bank balances`.
pub fn balances(client: &Client, address: &str) -> Result<Value> {
    Address::parse_account(address).map_err(|e| anyhow!("{e}"))?;
    let bytes = client.query(
        "/cosmos.bank.v1beta1.Query/AllBalances",
        &QueryAllBalancesRequest {
            address: address.to_string(),
            pagination: None,
            resolve_denom: false,
        },
    )?;
    let resp =
        QueryAllBalancesResponse::decode(bytes.as_slice()).context("bad balances response")?;
    let balances: Vec<Value> = resp
        .balances
        .iter()
        .map(|c| json!({"denom": c.denom, "amount": c.amount}))
        .collect();
    let total = balances.len().to_string();
    Ok(json!({"balances": balances, "pagination": {"next_key": null, "total": total}}))
}

/// `query auth account`.
pub fn auth_account(client: &Client, address: &str) -> Result<Value> {
    Address::parse_account(address).map_err(|e| anyhow!("{e}"))?;
    let a = account(client, address)?.ok_or_else(|| anyhow!("account {address} not found"))?;
    let pub_key = a.pub_key.as_ref().and_then(|any| PubKey::decode(any.value.as_slice()).ok()).map(|pk| {
        json!({"@type": "/cosmos.crypto.secp256k1.PubKey", "key": base64::engine::general_purpose::STANDARD.encode(pk.key)})
    });
    Ok(json!({"account": {
        "@type": "/cosmos.auth.v1beta1.BaseAccount",
        "address": a.address,
        "pub_key": pub_key,
        "account_number": a.account_number.to_string(),
        "sequence": a.sequence.to_string(),
    }}))
}
