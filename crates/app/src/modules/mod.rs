//! Chain modules. Each has the same shape: `state.rs` (keys and typed accessors), `params.rs`,
//! `msgs/` (one file per message: stateless check, then stateful check and execution),
//! `query.rs`, `events.rs` where it emits events, and genesis in `mod.rs`.

pub mod auth;
pub mod authz;
pub mod bank;
pub mod circuit;
pub mod dcert;
pub mod distribution;
pub mod gov;
pub mod incident;
pub mod slashing;
pub mod staking;
pub mod upgrade;

/// One-byte module ids that start every state key (see `caspur_store::keys`).
pub mod ids {
    /// `auth`
    pub const AUTH: u8 = 0x01;
    /// `bank`
    pub const BANK: u8 = 0x02;
    /// `circuit`
    pub const CIRCUIT: u8 = 0x03;
    /// `staking`
    pub const STAKING: u8 = 0x04;
    /// `gov`
    pub const GOV: u8 = 0x05;
    /// `distribution`
    pub const DISTRIBUTION: u8 = 0x06;
    /// `slashing`
    pub const SLASHING: u8 = 0x07;
    /// `dcert`
    pub const DCERT: u8 = 0x08;
    /// `authz`
    pub const AUTHZ: u8 = 0x09;
    /// `upgrade`
    pub const UPGRADE: u8 = 0x0A;
    /// `incident`
    pub const INCIDENT: u8 = 0x0B;
}
