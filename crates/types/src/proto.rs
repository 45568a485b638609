//! Caspur's own protobuf packages, generated at build time from `proto/` (see `build.rs`).

/// `caspur.dcert.v1`: the dCERT group's messages, queries and records.
pub mod dcert {
    /// Version 1.
    pub mod v1 {
        #![allow(missing_docs)]
        include!(concat!(env!("OUT_DIR"), "/caspur.dcert.v1.rs"));
    }
}

/// `caspur.circuit.v1`: circuit-breaker queries.
pub mod circuit {
    /// Version 1.
    pub mod v1 {
        #![allow(missing_docs)]
        include!(concat!(env!("OUT_DIR"), "/caspur.circuit.v1.rs"));
    }
}

/// `caspur.upgrade.v1`: upgrade plans, the emergency track, readiness.
pub mod upgrade {
    /// Version 1.
    pub mod v1 {
        #![allow(missing_docs)]
        include!(concat!(env!("OUT_DIR"), "/caspur.upgrade.v1.rs"));
    }
}

/// `caspur.incident.v1`: incidents from a sealed report to a post-mortem.
pub mod incident {
    /// Version 1.
    pub mod v1 {
        #![allow(missing_docs)]
        include!(concat!(env!("OUT_DIR"), "/caspur.incident.v1.rs"));
    }
}
