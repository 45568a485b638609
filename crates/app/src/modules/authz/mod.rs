//! `authz`: `MsgExec`, which carries other messages for execution. Grants are not stored yet,
//! so only messages whose signer is the grantee itself are accepted (the Cosmos SDK's own
//! "granter == grantee needs no grant" rule). It exists now because it is the standard nested
//! path the circuit breaker must see through.

pub mod exec;
