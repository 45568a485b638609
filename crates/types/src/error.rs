//! Error codes returned to clients, numbered like the Cosmos SDK's root codespace (`sdk`) so
//! that wallets and explorers interpret them as they already do.

use std::fmt;

/// A Cosmos SDK error code in the `sdk` codespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u32)]
pub enum ErrorCode {
    /// Success.
    Ok = 0,
    /// The tx bytes could not be decoded.
    TxDecode = 2,
    /// A signature did not verify (also: wrong chain id or account number).
    Unauthorized = 4,
    /// An account cannot pay an amount.
    InsufficientFunds = 5,
    /// A message or query path is not known.
    UnknownRequest = 6,
    /// An address is malformed.
    InvalidAddress = 7,
    /// A public key is missing, malformed, or does not match the signer.
    InvalidPubKey = 8,
    /// An account does not exist.
    UnknownAddress = 9,
    /// A coin amount or denomination is malformed.
    InvalidCoins = 10,
    /// The tx ran out of gas.
    OutOfGas = 11,
    /// The memo is longer than allowed.
    MemoTooLarge = 12,
    /// The fee is below the minimum.
    InsufficientFee = 13,
    /// More signatures than allowed.
    TooManySignatures = 14,
    /// No signatures were provided.
    NoSignatures = 15,
    /// A request is malformed.
    InvalidRequest = 18,
    /// The same tx is already in the mempool.
    TxInMempoolCache = 19,
    /// The mempool is full.
    MempoolIsFull = 20,
    /// The tx is larger than allowed.
    TxTooLarge = 21,
    /// A queried key does not exist (the SDK's gRPC NotFound over ABCI).
    KeyNotFound = 22,
    /// The requested height is not available.
    InvalidHeight = 26,
    /// The tx names another chain.
    InvalidChainId = 28,
    /// A value has the wrong type.
    InvalidType = 29,
    /// The tx's timeout height has passed.
    TxTimeoutHeight = 30,
    /// The tx carries extension options we do not understand.
    UnknownExtensionOptions = 31,
    /// The tx's sequence is not the account's next one.
    WrongSequence = 32,
    /// An `Any` could not be unpacked.
    UnpackAny = 34,
    /// An internal invariant failed.
    Logic = 35,
    /// The operation is not supported.
    NotSupported = 37,
    /// The requested item does not exist.
    NotFound = 38,
    /// A storage operation failed.
    Io = 39,
    /// The gas limit is invalid.
    InvalidGasLimit = 41,
    /// A route is disabled by the circuit breaker.
    RouteBroken = 1001,
    /// A tx breaks a structural bound (nesting depth, message count, …) that CheckTx checks
    /// before anything else: no block may carry it.
    LimitExceeded = 1002,
    /// A tx's execution produced more events or result bytes than one tx may keep.
    ResultTooLarge = 1003,
}

impl ErrorCode {
    /// The numeric code clients see.
    pub fn code(self) -> u32 {
        self as u32
    }

    /// The error with numeric code `code`, if it is one of ours.
    pub fn from_code(code: u32) -> Option<ErrorCode> {
        use ErrorCode::*;
        [
            Ok,
            TxDecode,
            Unauthorized,
            InsufficientFunds,
            UnknownRequest,
            InvalidAddress,
            InvalidPubKey,
            UnknownAddress,
            InvalidCoins,
            OutOfGas,
            MemoTooLarge,
            InsufficientFee,
            TooManySignatures,
            NoSignatures,
            InvalidRequest,
            KeyNotFound,
            TxInMempoolCache,
            MempoolIsFull,
            TxTooLarge,
            InvalidHeight,
            InvalidChainId,
            InvalidType,
            TxTimeoutHeight,
            UnknownExtensionOptions,
            WrongSequence,
            UnpackAny,
            Logic,
            NotSupported,
            NotFound,
            Io,
            InvalidGasLimit,
            RouteBroken,
            LimitExceeded,
            ResultTooLarge,
        ]
        .into_iter()
        .find(|c| c.code() == code)
    }

    /// The Cosmos SDK's registered description of the code: the suffix of every log, which
    /// clients and users match on ("…: insufficient funds").
    pub fn description(self) -> &'static str {
        use ErrorCode::*;
        match self {
            Ok => "",
            TxDecode => "tx parse error",
            Unauthorized => "unauthorized",
            InsufficientFunds => "insufficient funds",
            UnknownRequest => "unknown request",
            InvalidAddress => "invalid address",
            InvalidPubKey => "invalid pubkey",
            UnknownAddress => "unknown address",
            InvalidCoins => "invalid coins",
            OutOfGas => "out of gas",
            MemoTooLarge => "memo too large",
            InsufficientFee => "insufficient fee",
            TooManySignatures => "maximum number of signatures exceeded",
            NoSignatures => "no signatures supplied",
            InvalidRequest => "invalid request",
            KeyNotFound => "key not found",
            TxInMempoolCache => "tx already in mempool",
            MempoolIsFull => "mempool is full",
            TxTooLarge => "tx too large",
            InvalidHeight => "invalid height",
            InvalidChainId => "invalid chain-id",
            InvalidType => "invalid type",
            TxTimeoutHeight => "tx timeout height",
            UnknownExtensionOptions => "unknown extension options",
            WrongSequence => "incorrect account sequence",
            UnpackAny => "failed unpacking protobuf message from Any",
            Logic => "internal logic error",
            NotSupported => "feature not supported",
            NotFound => "not found",
            Io => "Internal IO error",
            InvalidGasLimit => "invalid gas limit",
            RouteBroken => "route disabled by the circuit breaker",
            LimitExceeded => "limit exceeded",
            ResultTooLarge => "tx result too large",
        }
    }
}

/// An error from tx processing or a query: a code and a message a user can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct TxError {
    /// The error code.
    pub code: ErrorCode,
    /// A human-readable explanation.
    pub message: String,
}

impl fmt::Display for TxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (code {})", self.message, self.code.code())
    }
}

/// Calls `$callback! { name => Code, … }` with every error constructor: one list for
/// [`TxError`]'s constructors here and for those of error types that wrap it (the app's
/// `ExecError`).
#[macro_export]
macro_rules! with_error_constructors {
    ($callback:ident) => {
        $callback! {
            decode => TxDecode,
            unauthorized => Unauthorized,
            insufficient_funds => InsufficientFunds,
            unknown_request => UnknownRequest,
            invalid_address => InvalidAddress,
            invalid_pubkey => InvalidPubKey,
            unknown_address => UnknownAddress,
            invalid_coins => InvalidCoins,
            out_of_gas => OutOfGas,
            memo_too_large => MemoTooLarge,
            insufficient_fee => InsufficientFee,
            too_many_signatures => TooManySignatures,
            no_signatures => NoSignatures,
            invalid_request => InvalidRequest,
            key_not_found => KeyNotFound,
            tx_in_mempool => TxInMempoolCache,
            mempool_full => MempoolIsFull,
            tx_too_large => TxTooLarge,
            invalid_height => InvalidHeight,
            invalid_chain_id => InvalidChainId,
            timeout_height => TxTimeoutHeight,
            unknown_extension => UnknownExtensionOptions,
            wrong_sequence => WrongSequence,
            unpack_any => UnpackAny,
            logic => Logic,
            not_supported => NotSupported,
            not_found => NotFound,
            invalid_gas_limit => InvalidGasLimit,
            route_broken => RouteBroken,
            limit_exceeded => LimitExceeded,
            result_too_large => ResultTooLarge,
        }
    };
}

macro_rules! tx_error_constructors {
    ($($name:ident => $code:ident),* $(,)?) => {
        impl TxError {
            $(
                #[doc = concat!("An error with code [`ErrorCode::", stringify!($code), "`].")]
                pub fn $name(message: impl Into<String>) -> Self {
                    TxError { code: ErrorCode::$code, message: rewording::apply(message.into()) }
                }
            )*
        }
    };
}

with_error_constructors!(tx_error_constructors);

impl TxError {
    /// An error with code [`ErrorCode::Io`]: how a storage fault is *reported* to a client at a
    /// door outside consensus (CheckTx, a query). Inside execution a storage fault is never a
    /// `TxError` (the app's `ExecError::Fatal`).
    pub fn io(message: impl Into<String>) -> Self {
        TxError {
            code: ErrorCode::Io,
            message: rewording::apply(message.into()),
        }
    }
}

impl TxError {
    /// The codespace clients see; every code here lives in `sdk` except our own.
    /// The log clients see, in the Cosmos SDK's wrapped form: `"<message>: <description>"`.
    pub fn log(&self) -> String {
        rewording::apply(format!("{}: {}", self.message, self.code.description()))
    }

    /// The codespace clients see with the code.
    pub fn codespace(&self) -> &'static str {
        match self.code {
            ErrorCode::RouteBroken => "circuit",
            ErrorCode::LimitExceeded | ErrorCode::ResultTooLarge => "limits",
            _ => "sdk",
        }
    }
}

/// A test hook proving that no error text reaches consensus: switched on, every error message
/// and log is reworded (reversed, and marked). A chain replayed with it on must reach the same
/// app hashes; only what people read may differ.
pub mod rewording {
    use std::sync::atomic::{AtomicBool, Ordering};

    static ON: AtomicBool = AtomicBool::new(false);

    /// Switches rewording on or off for this process (tests only).
    pub fn set(on: bool) {
        ON.store(on, Ordering::SeqCst);
    }

    /// `text`, reworded when the hook is on.
    pub(crate) fn apply(text: String) -> String {
        if ON.load(Ordering::Relaxed) {
            format!("[reworded] {}", text.chars().rev().collect::<String>())
        } else {
            text
        }
    }
}
