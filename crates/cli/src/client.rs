//! A CometBFT JSON-RPC client for the CLI's `tx`, `query` and `status` commands.

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine as _;
use prost::Message;
use serde_json::{json, Value};

/// A node's RPC endpoint.
pub struct Client {
    url: String,
}

impl Client {
    /// `node` is `tcp://host:port` or `http://host:port`.
    pub fn new(node: &str) -> Self {
        let url = match node.strip_prefix("tcp://") {
            Some(rest) => format!("http://{rest}"),
            None => node.to_string(),
        };
        Client { url }
    }

    /// Calls a method and returns its `result`.
    pub fn call(&self, method: &str, params: Value) -> Result<Value> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let response: Value = ureq::post(&self.url)
            .timeout(std::time::Duration::from_secs(30))
            .send_json(body)
            .map_err(|e| anyhow!("cannot reach the node at {}: {e}", self.url))?
            .into_json()
            .context("the node answered with something other than JSON")?;
        if let Some(err) = response.get("error") {
            let data = err.get("data").and_then(Value::as_str).unwrap_or_default();
            let msg = err
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("error");
            bail!("{msg}: {data}");
        }
        response
            .get("result")
            .cloned()
            .ok_or_else(|| anyhow!("the node's answer has no result"))
    }

    /// An ABCI query with a protobuf request; returns the protobuf response bytes.
    pub fn query<Req: Message>(&self, path: &str, req: &Req) -> Result<Vec<u8>> {
        let r = self.call(
            "abci_query",
            json!({"path": path, "data": hex::encode(req.encode_to_vec()), "prove": false}),
        )?;
        let resp = &r["response"];
        let code = resp["code"].as_u64().unwrap_or(0);
        if code != 0 {
            bail!(
                "{} (code {code})",
                resp["log"].as_str().unwrap_or("query failed")
            );
        }
        let value = resp["value"].as_str().unwrap_or_default();
        base64::engine::general_purpose::STANDARD
            .decode(value)
            .context("query value is not base64")
    }

    /// An ABCI query whose protobuf answer is returned in its JSON form.
    pub fn ask_json<Req: Message, Resp: Message + Default + serde::Serialize>(
        &self,
        path: &str,
        req: &Req,
    ) -> Result<serde_json::Value> {
        let bytes = self.query(path, req)?;
        let resp =
            Resp::decode(bytes.as_slice()).with_context(|| format!("bad {path} response"))?;
        Ok(serde_json::to_value(&resp)?)
    }
}
