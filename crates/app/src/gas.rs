//! Gas metering. Costs follow the Cosmos SDK's defaults so that clients' gas estimates and
//! the usual `gas_adjustment` factors behave as users expect.

use crate::error::ExecError;

/// Per-operation gas costs.
#[derive(Clone, Copy, Debug)]
pub struct GasCosts {
    /// Flat cost of a read.
    pub read_flat: u64,
    /// Cost per byte read (key + value).
    pub read_per_byte: u64,
    /// Flat cost of a write.
    pub write_flat: u64,
    /// Cost per byte written (key + value).
    pub write_per_byte: u64,
    /// Cost of a delete.
    pub delete: u64,
    /// Cost per byte of tx size.
    pub tx_size_per_byte: u64,
    /// Cost of one secp256k1 signature verification.
    pub sig_verify_secp256k1: u64,
}

/// The Cosmos SDK defaults (`KVGasConfig`, auth params).
pub const DEFAULT_COSTS: GasCosts = GasCosts {
    read_flat: 1000,
    read_per_byte: 3,
    write_flat: 2000,
    write_per_byte: 30,
    delete: 1000,
    tx_size_per_byte: 10,
    sig_verify_secp256k1: 1000,
};

/// Counts gas against a limit.
#[derive(Clone, Debug)]
pub struct GasMeter {
    limit: u64,
    used: u64,
}

impl GasMeter {
    /// A meter with the given limit.
    pub fn new(limit: u64) -> Self {
        GasMeter { limit, used: 0 }
    }

    /// Gas consumed so far (never above the limit).
    pub fn used(&self) -> u64 {
        self.used
    }

    /// The limit.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Consumes `amount`, failing with out-of-gas when the limit would be passed.
    pub fn consume(&mut self, amount: u64, what: &str) -> Result<(), ExecError> {
        let next = self.used.saturating_add(amount);
        if next > self.limit {
            self.used = self.limit;
            return Err(ExecError::out_of_gas(format!(
                "out of gas in location: {what}; gasWanted: {}, gasUsed: {next}",
                self.limit
            )));
        }
        self.used = next;
        Ok(())
    }
}
