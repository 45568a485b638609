//! Protobuf records in state: one reader for every module that stores its records as
//! protobuf, so a record that does not decode is always the same kind of error (corrupt
//! state: a logic error naming the record, never a tx's fault).

use crate::context::KvRead;
use crate::error::ExecError;
use prost::Message;

/// The record at `key`, if any; `what` names it in the corruption error.
pub async fn read<M: Message + Default>(
    kv: &mut impl KvRead,
    key: &[u8],
    what: &str,
) -> Result<Option<M>, ExecError> {
    match kv.get(key).await? {
        None => Ok(None),
        Some(b) => M::decode(b.as_slice())
            .map(Some)
            .map_err(|_| ExecError::logic(format!("corrupt {what}"))),
    }
}
