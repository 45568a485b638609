//! The state machine's structural bounds, in one place (docs/ARCHITECTURE.md lists them with
//! every other bound of the node). Each is checked before the thing it bounds is processed:
//! the message tree ([`crate::msg_tree`]) before any handler runs or any signer is extracted,
//! a tx's events after each of its top-level messages, a block's stored results in chunks that
//! always fit the store's value limit.
//!
//! Parameters a chain may tune (tx bytes, memo characters, signatures) are governance
//! parameters of `auth`; the constants here are part of the protocol: changing one changes
//! which blocks are valid, so it takes an upgrade.

use crate::error::ExecError;

/// Deepest nesting of a message inside messages. Top-level messages are at depth 0; a message
/// inside a `MsgExec` or a proposal is one deeper. The same constant bounds the walker
/// (CheckTx, Simulate, block execution, proposal submission) and the router.
pub const MAX_NESTING_DEPTH: u32 = 6;

/// Most messages in one tx, counting every message of the tree (nested ones included).
pub const MAX_TX_MSGS: usize = 256;

/// Most messages a governance proposal may carry (top level; nested ones count against
/// [`MAX_TX_MSGS`] too).
pub const MAX_PROPOSAL_MSGS: usize = 32;

/// Most events one tx may emit (ante events included).
pub const MAX_TX_EVENTS: usize = 4096;

/// Most bytes of event types, attribute keys and values one tx may emit.
pub const MAX_TX_EVENT_BYTES: usize = 512 << 10;

/// Largest chunk of a block's stored results or events; a blob is split into chunks of this
/// size, far below the store's value limit (`caspur_store::qmdb::MAX_VALUE_LEN`), so a block
/// that fits the byte and gas limits can always be stored and read back.
pub const RESULT_CHUNK_BYTES: usize = 1 << 20;

/// Most chunks one stored blob may have (1 GiB): a bound for the reader, far above what a
/// block can produce.
pub const MAX_RESULT_CHUNKS: u32 = 1024;

/// Refuses a count above `max` with [`caspur_types::ErrorCode::LimitExceeded`].
pub fn at_most(what: &str, count: usize, max: usize) -> Result<(), ExecError> {
    if count > max {
        return Err(ExecError::limit_exceeded(format!(
            "{what}: {count}, the limit is {max}"
        )));
    }
    Ok(())
}

/// Checks the events a tx has emitted so far (its ante handler's, then its messages') against
/// [`MAX_TX_EVENTS`] and [`MAX_TX_EVENT_BYTES`].
pub fn check_events(
    ante: &[caspur_types::Event],
    messages: &[caspur_types::Event],
) -> Result<(), ExecError> {
    let count = ante.len() + messages.len();
    if count > MAX_TX_EVENTS {
        return Err(ExecError::result_too_large(format!(
            "the tx emitted {count} events, the limit is {MAX_TX_EVENTS}"
        )));
    }
    let bytes: usize = ante
        .iter()
        .chain(messages)
        .map(caspur_types::Event::byte_len)
        .sum();
    if bytes > MAX_TX_EVENT_BYTES {
        return Err(ExecError::result_too_large(format!(
            "the tx emitted {bytes} bytes of events, the limit is {MAX_TX_EVENT_BYTES}"
        )));
    }
    Ok(())
}
