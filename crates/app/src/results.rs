//! A tx's outcome, and the part of it consensus commits to.
//!
//! The results hash in a block header covers a tx's code, codespace, gas wanted and used, events
//! and data — values of our own types — and never its human log. A log is text: it quotes other
//! crates' error `Display` output (prost, bech32, …), which a dependency update or a rewording
//! may change; hashed, such text would fork the chain on a `cargo update` (CometBFT leaves the
//! log out of its results hash for this reason).
//!
//! Results are not part of the state (as in CometBFT, where the application's state does not
//! hold them either): the header's results hash commits consensus to them, and the node hands
//! the results of the execution itself, logs included, to its index.

use caspur_types::{ErrorCode, Event, TxError};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

/// Most bytes of a tx's log kept (a longer one is cut at a character boundary, with `…`).
pub const MAX_LOG_BYTES: usize = 2048;

/// Codes of txs no valid block may carry: a tx the circuit breaker refuses, one that breaks a
/// structural bound CheckTx checks before anything else (too large, nested too deep, too many
/// messages), and bytes that do not decode as a tx (garbage, unknown fields — as the Cosmos
/// SDK's ProcessProposal rejects undecodable txs; such bytes would otherwise ride in blocks
/// without paying a fee). An honest proposer leaves such txs out; a verifier rejects a block
/// carrying one.
pub const BARRED_CODES: [ErrorCode; 4] = [
    ErrorCode::RouteBroken,
    ErrorCode::LimitExceeded,
    ErrorCode::TxTooLarge,
    ErrorCode::TxDecode,
];

/// The outcome of one tx in a block, as `tx_search` and `block_results` report it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxResult {
    /// 0 on success, otherwise an [`ErrorCode`].
    pub code: u32,
    /// Error namespace (`sdk`, …); empty on success.
    pub codespace: String,
    /// The error explained to a person; empty on success. Never hashed (see the module doc).
    pub log: String,
    /// Gas limit the tx declared.
    pub gas_wanted: u64,
    /// Gas it used.
    pub gas_used: u64,
    /// Events, ante events first.
    pub events: Vec<Event>,
    /// On success, `TxMsgData{msg_responses}`: one `…Response` per message, as the SDK reports.
    #[serde(default, with = "hex_bytes")]
    pub data: Vec<u8>,
}

impl TxResult {
    /// The result of a tx that failed with `err`.
    pub(crate) fn failed(
        err: &TxError,
        gas_wanted: u64,
        gas_used: u64,
        events: Vec<Event>,
    ) -> Self {
        TxResult {
            code: err.code.code(),
            codespace: err.codespace().to_string(),
            log: bounded_log(err.log()),
            gas_wanted,
            gas_used,
            events,
            data: Vec::new(),
        }
    }

    /// Whether a block carrying this result is invalid ([`BARRED_CODES`]).
    pub fn bars_block(&self) -> bool {
        BARRED_CODES.iter().any(|c| c.code() == self.code)
    }
}

fn bounded_log(mut log: String) -> String {
    if log.len() > MAX_LOG_BYTES {
        let mut cut = MAX_LOG_BYTES;
        while !log.is_char_boundary(cut) {
            cut -= 1;
        }
        log.truncate(cut);
        log.push('…');
    }
    log
}

/// A result as consensus sees it: every field but the log, in declaration order.
struct Committed<'a>(&'a TxResult);

impl Serialize for Committed<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut st = s.serialize_struct("TxResult", 6)?;
        st.serialize_field("code", &r.code)?;
        st.serialize_field("codespace", &r.codespace)?;
        st.serialize_field("gas_wanted", &r.gas_wanted)?;
        st.serialize_field("gas_used", &r.gas_used)?;
        st.serialize_field("events", &r.events)?;
        st.serialize_field("data", &hex::encode(&r.data))?;
        st.end()
    }
}

/// Below this many results one thread encodes them all.
const PARALLEL_ENCODE_THRESHOLD: usize = 256;

/// The canonical encoding of a block's tx results (what the block header's results hash
/// covers): no logs. A compact JSON array, so a large block's halves are encoded on two threads
/// and joined with a comma — the same bytes as one encoder's (a test holds the two to each
/// other).
pub fn encode_results(results: &[TxResult]) -> Vec<u8> {
    if results.len() < PARALLEL_ENCODE_THRESHOLD {
        return encode_array(results);
    }
    let (front, back) = results.split_at(results.len() / 2);
    let (front, back) = std::thread::scope(|s| {
        let back = s.spawn(|| encode_array(back));
        // A worker that panicked (it cannot: serializing our own types) is encoded again here.
        (encode_array(front), back.join().ok())
    });
    let back = back.unwrap_or_else(|| encode_array(&results[results.len() / 2..]));
    // "[a,b]" and "[c]" → "[a,b,c]".
    let mut joined = front;
    joined.pop();
    joined.push(b',');
    joined.extend_from_slice(back.get(1..).unwrap_or_default());
    joined
}

fn encode_array(results: &[TxResult]) -> Vec<u8> {
    let committed: Vec<Committed<'_>> = results.iter().map(Committed).collect();
    // Struct fields serialize in a fixed order and there are no maps: deterministic. Our own
    // types serialize infallibly; an empty encoding would fail every hash comparison loudly.
    serde_json::to_vec(&committed).unwrap_or_default()
}

/// `data` as hex in stored JSON.
mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        hex::decode(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(log: &str) -> TxResult {
        TxResult {
            code: ErrorCode::InsufficientFunds.code(),
            codespace: "sdk".into(),
            log: log.into(),
            gas_wanted: 10,
            gas_used: 7,
            events: vec![Event::new("tx").attr("fee", "1ucsp")],
            data: vec![1, 2],
        }
    }

    #[test]
    fn the_log_is_not_committed() {
        let a = encode_results(&[failed("5ucsp is smaller than 9ucsp: insufficient funds")]);
        let b = encode_results(&[failed("something else entirely")]);
        assert_eq!(a, b);
        assert!(!String::from_utf8_lossy(&a).contains("smaller"));
        let mut other = failed("x");
        other.gas_used = 8;
        assert_ne!(a, encode_results(&[other]));
    }

    #[test]
    fn a_long_log_is_cut_at_a_character_boundary() {
        let log = bounded_log("é".repeat(MAX_LOG_BYTES));
        assert!(log.len() <= MAX_LOG_BYTES + '…'.len_utf8());
        assert!(log.ends_with('…'));
    }

    #[test]
    fn two_threads_encode_the_bytes_one_does() {
        for n in [
            0,
            1,
            PARALLEL_ENCODE_THRESHOLD - 1,
            PARALLEL_ENCODE_THRESHOLD,
            1001,
        ] {
            let results: Vec<TxResult> = (0..n)
                .map(|i| {
                    let mut r = failed("x");
                    r.gas_used = i as u64;
                    r
                })
                .collect();
            assert_eq!(
                encode_results(&results),
                encode_array(&results),
                "{n} results"
            );
        }
    }
}
