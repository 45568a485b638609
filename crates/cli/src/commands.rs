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

/// A tx's gas limit: given, or `auto` (simulated first).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Gas {
    /// Simulate the tx and use the gas it used × the adjustment.
    Auto,
    /// This limit.
    Limit(u64),
}

/// `--gas`: a whole number or `auto`.
pub fn parse_gas(s: &str) -> std::result::Result<Gas, String> {
    if s == "auto" {
        return Ok(Gas::Auto);
    }
    s.parse()
        .map(Gas::Limit)
        .map_err(|_| format!("--gas must be a whole number or auto, not {s:?}"))
}

/// Largest `--gas-adjustment`.
pub const MAX_GAS_ADJUSTMENT: f64 = 10.0;

/// Fee and gas settings of a tx command.
pub struct FeeOptions {
    /// Explicit fee (`5000ucsp`).
    pub fees: Option<String>,
    /// Gas limit.
    pub gas: Gas,
    /// With `Gas::Auto`: the simulated gas is multiplied by this.
    pub adjustment: f64,
    /// Gas price used when no fee is given.
    pub gas_price: String,
}

impl FeeOptions {
    /// The fee: `--fees`, else the gas limit × the gas price.
    fn fee(&self, gas: u64) -> Result<Coins> {
        if let Some(f) = &self.fees {
            return crate::denoms::parse_coins(f).map_err(|e| anyhow!("--fees: {e}"));
        }
        let price: Dec = self
            .gas_price
            .strip_suffix(STAKE_DENOM)
            .ok_or_else(|| anyhow!("--gas-prices must end in {STAKE_DENOM}"))?
            .parse()
            .map_err(|e| anyhow!("--gas-prices: {e}"))?;
        let amount = price
            .mul_int_ceil(gas as u128)
            .ok_or_else(|| anyhow!("fee overflow"))?;
        format!("{amount}{STAKE_DENOM}")
            .parse()
            .map_err(|e| anyhow!("{e}"))
    }
}

/// The gas a tx uses, as the node's `Simulate` runs it.
fn simulate(client: &Client, raw: &[u8]) -> Result<u64> {
    use cosmos_sdk_proto::cosmos::tx::v1beta1::{SimulateRequest, SimulateResponse};
    let req = SimulateRequest {
        tx_bytes: raw.to_vec(),
        ..Default::default()
    };
    let bytes = client
        .query("/cosmos.tx.v1beta1.Service/Simulate", &req)
        .context("simulating the tx for --gas auto")?;
    let resp = SimulateResponse::decode(bytes.as_slice()).context("bad simulation response")?;
    Ok(resp.gas_info.map_or(0, |g| g.gas_used))
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
    /// Print the unsigned tx as JSON instead of signing and broadcasting it
    /// (`--generate-only`; the sender may then be an address, no key needed).
    pub generate_only: bool,
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

    /// Signs the messages `build` makes for the key `from`'s address and broadcasts them (with
    /// `generate_only`: prints them as an unsigned tx; `from` may then be an address).
    pub fn send(
        &self,
        from: &str,
        build: impl FnOnce(&Address) -> Result<Vec<cosmos_sdk_proto::Any>>,
    ) -> Result<Value> {
        let key = match (self.ring.signer(from), self.generate_only) {
            (Ok(key), _) => Some(key),
            (Err(_), true) if Address::parse_account(from).is_ok() => None,
            (Err(e), _) => return Err(e),
        };
        let from_addr = match &key {
            Some(k) => k.address(),
            None => Address::parse_account(from).map_err(|e| anyhow!("{e}"))?,
        };
        let msgs = build(&from_addr)?;
        let mut params = TxParams {
            chain_id: self.chain_id.to_string(),
            account_number: 0,
            sequence: 0,
            fee: Coins::default(),
            gas_limit: 0,
            memo: self.memo.to_string(),
            include_pubkey: true,
        };
        if !self.generate_only || self.fee.gas == Gas::Auto {
            let acct = account(self.client, &from_addr.to_string())?.ok_or_else(|| {
                anyhow!("account {from_addr} does not exist on chain yet: send it some coins first")
            })?;
            params.account_number = acct.account_number;
            params.sequence = acct.sequence;
        }
        params.gas_limit = self.gas_limit(key.as_ref(), &msgs, &mut params)?;
        params.fee = self.fee.fee(params.gas_limit)?;
        match key {
            _ if self.generate_only => Ok(unsigned_tx(msgs, &params)),
            Some(key) => broadcast(self.client, &sign_tx(&key, msgs, &params), self.wait),
            None => bail!("no key {from:?} in the keyring to sign with"),
        }
    }

    /// The gas limit: `--gas N`, or for `--gas auto` what the node's simulation used × the
    /// adjustment (a simulation needs the key: it runs the signed tx).
    fn gas_limit(
        &self,
        key: Option<&caspur_types::sign::AccountKey>,
        msgs: &[cosmos_sdk_proto::Any],
        params: &mut TxParams,
    ) -> Result<u64> {
        match self.fee.gas {
            Gas::Limit(g) => Ok(g),
            Gas::Auto => {
                let a = self.fee.adjustment;
                if !(a > 0.0 && a <= MAX_GAS_ADJUSTMENT) {
                    bail!("--gas-adjustment must be in (0, {MAX_GAS_ADJUSTMENT}], got {a}");
                }
                let key = key.ok_or_else(|| {
                    anyhow!("--gas auto simulates the signed tx: give a key name, or --gas N")
                })?;
                // Simulation ignores the limit and the signatures but charges for the tx's
                // bytes and its fee as the block would: the default limit and its fee stand
                // in (their encodings are as long as most real ones).
                params.gas_limit = 200_000;
                params.fee = self.fee.fee(params.gas_limit)?;
                let used = simulate(self.client, &sign_tx(key, msgs.to_vec(), params))?;
                let gas = (used as f64 * a).ceil() as u64;
                eprintln!("gas estimate: {gas}");
                Ok(gas)
            }
        }
    }
}

/// An unsigned tx as JSON (what `--generate-only` prints): the messages, memo and fee, no
/// signer yet (`tx sign` adds it), as the SDK writes it.
fn unsigned_tx(msgs: Vec<cosmos_sdk_proto::Any>, p: &TxParams) -> Value {
    let (body, auth) = caspur_types::sign::tx_parts(msgs, p, None);
    crate::tx_json::tx_to_json(&body, &auth, &[])
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
    let coins = crate::denoms::parse_coins(amount)?;
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
    Ok(tx_response(client, &found))
}

/// Most txs one `query txs` page shows (the node's `tx_search` page bound).
pub const MAX_TXS_PAGE: u64 = 100;

/// `query txs --query Q`: committed txs matching a CometBFT event query, one page.
pub fn txs(client: &Client, query: &str, page: u64, limit: u64) -> Result<Value> {
    if !(1..=MAX_TXS_PAGE).contains(&limit) {
        bail!("--limit must be between 1 and {MAX_TXS_PAGE}");
    }
    let r = client.call(
        "tx_search",
        json!({"query": query, "page": page.max(1).to_string(), "per_page": limit.to_string(), "order_by": "asc"}),
    )?;
    let total: u64 = r["total_count"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let txs: Vec<Value> = r["txs"]
        .as_array()
        .map(|found| found.iter().map(|f| tx_response(client, f)).collect())
        .unwrap_or_default();
    Ok(json!({
        "total_count": total.to_string(),
        "count": txs.len().to_string(),
        "page_number": page.max(1).to_string(),
        "page_total": total.div_ceil(limit).max(1).to_string(),
        "limit": limit.to_string(),
        "txs": txs,
    }))
}

/// A `tx_search` entry as the SDK's `TxResponse` JSON, the tx decoded.
fn tx_response(client: &Client, found: &Value) -> Value {
    let hash = found["hash"].as_str().unwrap_or_default().to_string();
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
    json!({
        "height": found["height"],
        "txhash": hash,
        "codespace": res["codespace"],
        "code": res["code"],
        "raw_log": res["log"],
        "gas_wanted": res["gas_wanted"],
        "gas_used": res["gas_used"],
        "events": res["events"],
        "tx": found["tx"]
            .as_str()
            .and_then(crate::tx_json::decode)
            .unwrap_or_else(|| found["tx"].clone()),
        "raw_tx": found["tx"],
        "timestamp": time,
    })
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
    Ok(coin_page("balances", &resp.balances))
}

/// A list of coins under `name`, with the SDK's single-page pagination.
fn coin_page(name: &str, coins: &[cosmos_sdk_proto::cosmos::base::v1beta1::Coin]) -> Value {
    let list: Vec<Value> = coins
        .iter()
        .map(|c| json!({"denom": c.denom, "amount": c.amount}))
        .collect();
    let total = list.len().to_string();
    json!({ name: list, "pagination": {"next_key": null, "total": total} })
}

/// `query bank total`: every denomination's supply.
pub fn total_supply(client: &Client) -> Result<Value> {
    use cosmos_sdk_proto::cosmos::bank::v1beta1::{
        QueryTotalSupplyRequest, QueryTotalSupplyResponse,
    };
    let bytes = client.query(
        "/cosmos.bank.v1beta1.Query/TotalSupply",
        &QueryTotalSupplyRequest { pagination: None },
    )?;
    let resp = QueryTotalSupplyResponse::decode(bytes.as_slice()).context("bad supply response")?;
    Ok(coin_page("supply", &resp.supply))
}

/// `query auth params`.
pub fn auth_params(client: &Client) -> Result<Value> {
    use cosmos_sdk_proto::cosmos::auth::v1beta1::{QueryParamsRequest, QueryParamsResponse};
    let bytes = client.query("/cosmos.auth.v1beta1.Query/Params", &QueryParamsRequest {})?;
    let p = QueryParamsResponse::decode(bytes.as_slice())
        .context("bad auth params response")?
        .params
        .unwrap_or_default();
    Ok(json!({"params": {
        "max_memo_characters": p.max_memo_characters.to_string(),
        "tx_sig_limit": p.tx_sig_limit.to_string(),
        "tx_size_cost_per_byte": p.tx_size_cost_per_byte.to_string(),
        "sig_verify_cost_ed25519": p.sig_verify_cost_ed25519.to_string(),
        "sig_verify_cost_secp256k1": p.sig_verify_cost_secp256k1.to_string(),
    }}))
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
