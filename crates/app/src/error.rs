//! The error channel of execution: a tx failure or a fatal fault, never confused.
//!
//! Every handler, accessor and hook returns [`ExecError`]. A [`TxError`] is a deterministic
//! outcome every node reaches (the tx fails, its fee is kept); a [`StoreError`] is this node's
//! own fault (a disk, a corrupt record) and must stop the block instead — were it caught as a tx
//! failure, this node would commit a result the others did not and its app hash would diverge.
//! Catch sites turn an error into a tx failure only through [`ExecError::into_tx`], which hands
//! a fault back up: no catch site can swallow one by construction.

use caspur_store::StoreError;
use caspur_types::{ErrorCode, TxError};

/// An execution error: a deterministic tx failure, or a fault that stops the block.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// The tx (or message, or proposal) fails; every node reaches the same failure.
    #[error(transparent)]
    Tx(#[from] TxError),
    /// Storage failed under this node: execution must stop, not record a failure.
    #[error("fatal: {0}")]
    Fatal(#[from] StoreError),
}

macro_rules! exec_error_constructors {
    ($($name:ident => $code:ident),* $(,)?) => {
        impl ExecError {
            $(
                #[doc = concat!("A tx failure with code [`ErrorCode::", stringify!($code), "`].")]
                pub fn $name(message: impl Into<String>) -> Self {
                    ExecError::Tx(TxError::$name(message))
                }
            )*
        }
    };
}

caspur_types::with_error_constructors!(exec_error_constructors);

impl ExecError {
    /// The tx failure, handing a fault back as `Err`: the one way to catch an error as a
    /// failure (`let failure = e.into_tx()?;`).
    pub fn into_tx(self) -> Result<TxError, StoreError> {
        match self {
            ExecError::Tx(e) => Ok(e),
            ExecError::Fatal(e) => Err(e),
        }
    }

    /// The tx failure, if this is one.
    pub fn as_tx(&self) -> Option<&TxError> {
        match self {
            ExecError::Tx(e) => Some(e),
            ExecError::Fatal(_) => None,
        }
    }

    /// The code a client sees (`Io` for a fault).
    pub fn code(&self) -> ErrorCode {
        match self {
            ExecError::Tx(e) => e.code,
            ExecError::Fatal(_) => ErrorCode::Io,
        }
    }

    /// The error as a door outside consensus reports it (CheckTx, Simulate, a query): a fault
    /// becomes an `Io` reply to that one client and nothing else.
    pub fn into_reply(self) -> TxError {
        match self {
            ExecError::Tx(e) => e,
            ExecError::Fatal(e) => TxError::io(e.to_string()),
        }
    }

    /// This error with a tx failure's message rewritten (a fault passes unchanged).
    pub fn map_tx(self, f: impl FnOnce(TxError) -> TxError) -> Self {
        match self {
            ExecError::Tx(e) => ExecError::Tx(f(e)),
            fatal => fatal,
        }
    }
}

/// A result of execution.
pub type ExecResult<T> = Result<T, ExecError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_cannot_be_caught_as_a_failure() {
        let fault = ExecError::from(StoreError("disk".into()));
        assert_eq!(fault.clone().into_tx(), Err(StoreError("disk".into())));
        assert!(fault.as_tx().is_none());
        assert_eq!(fault.into_reply().code, ErrorCode::Io);
        let failure = ExecError::insufficient_funds("poor");
        assert_eq!(
            failure.into_tx().map(|e| e.code),
            Ok(ErrorCode::InsufficientFunds)
        );
    }
}
