//! The consensus part of genesis.json: chain id, genesis time, validators, block limits.

use serde::{Deserialize, Serialize};

/// A genesis validator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisValidator {
    /// A human-readable name.
    pub name: String,
    /// Hex of the ed25519 consensus public key.
    pub pub_key: String,
    /// Voting power.
    pub power: u64,
    /// Where peers can dial it (`host:port`).
    #[serde(default)]
    pub address: String,
}

/// Consensus settings fixed at genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsensusGenesis {
    /// Block gas limit (`None`: unlimited).
    pub block_max_gas: Option<u64>,
    /// Largest block, in tx bytes.
    pub block_max_bytes: u64,
    /// Blocks per epoch: the validator set changes only between epochs.
    #[serde(default = "default_epoch_length")]
    pub epoch_length: u64,
}

fn default_epoch_length() -> u64 {
    10_000
}

impl Default for ConsensusGenesis {
    fn default() -> Self {
        ConsensusGenesis {
            block_max_gas: Some(100_000_000),
            block_max_bytes: 4 << 20,
            epoch_length: default_epoch_length(),
        }
    }
}
