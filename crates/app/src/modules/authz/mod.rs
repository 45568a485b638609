//! `authz`: a granter lets a grantee send messages of one type on its behalf
//! (`MsgGrant` with a `GenericAuthorization`, optional expiration; `MsgRevoke`), and `MsgExec`
//! carries such messages — the standard nested path the circuit breaker must see through (the
//! router checks every inner message like a top-level one).

pub mod exec;
pub mod grant;
pub mod revoke;
pub mod state;
