//! The one walker over a tx's message tree. Container messages (`MsgExec`, `MsgSubmitProposal`,
//! any future one) declare what they carry through [`crate::router::MsgHandler::nested`]; no
//! list of containers is kept anywhere else. [`walk`] serves signer extraction (the ante
//! handler), CheckTx, Simulate and block execution (through the ante handler), proposal
//! submission ([`check_breaker`]) and proposal execution (gov re-walks what it stored) alike.
//!
//! It is iterative (an explicit stack, no recursion), checks the depth of a container's
//! children before decoding any of them and counts every message against
//! [`MAX_TX_MSGS`](crate::limits::MAX_TX_MSGS) before it is pushed, so no input can make it
//! allocate or work beyond the tx's own bytes times the depth bound.

use crate::context::KvRead;
use crate::error::ExecError;
use crate::limits::{self, MAX_NESTING_DEPTH, MAX_TX_MSGS};
use crate::router;
use caspur_types::Address;
use cosmos_sdk_proto::Any;
use std::borrow::Cow;

/// What a container message carries: the messages it will run and, when the container runs
/// them as one fixed account (a proposal runs as the gov module account), that account.
pub struct Nested<'a> {
    /// The inner messages, in order.
    pub msgs: &'a [Any],
    /// The only signer every inner message may have, if the container fixes one.
    pub required_signer: Option<Address>,
}

impl Nested<'_> {
    /// A message that carries nothing.
    pub const NONE: Nested<'static> = Nested {
        msgs: &[],
        required_signer: None,
    };
}

/// One message of a tree, decoded and checked statelessly.
#[derive(Clone, Debug)]
pub struct MsgNode<'a> {
    /// The message as sent (borrowed at the top level, owned once taken out of a container).
    pub any: Cow<'a, Any>,
    /// The route it executes as (its canonical type URL; aliases share it).
    pub route: &'static str,
    /// 0 for a tx's (or proposal's) own messages, one more per container.
    pub depth: u32,
    /// Its signers.
    pub signers: Vec<Address>,
    /// Where it sits: indices from the top (`[0, 2]` = message 2 inside message 0).
    pub path: Vec<u16>,
}

/// What the router tells the walker about one decoded message.
pub struct Visited {
    /// The route it executes as.
    pub route: &'static str,
    /// Its signers.
    pub signers: Vec<Address>,
    /// The messages it carries (cloned out of the decoded container).
    pub nested: Vec<Any>,
    /// The signer its nested messages must have, if the container fixes one.
    pub required_signer: Option<Address>,
}

/// A message waiting on the walker's stack: (message, depth, path, signer required by its
/// container).
type Pending<'a> = (Cow<'a, Any>, u32, Vec<u16>, Option<Address>);

/// Walks `msgs` (at `depth`) and everything nested in them, depth first in execution order:
/// decodes each message once, runs its stateless check, collects its signers and checks the
/// container's signer rule, the depth bound and the message count. Fails on the first
/// violation, naming where it is.
pub fn walk(msgs: &[Any], depth: u32) -> Result<Vec<MsgNode<'_>>, ExecError> {
    limits::at_most("messages in the tx", msgs.len(), MAX_TX_MSGS)?;
    if depth > MAX_NESTING_DEPTH {
        return Err(too_deep(&[]));
    }
    let mut stack: Vec<Pending<'_>> = Vec::with_capacity(msgs.len());
    for (i, m) in msgs.iter().enumerate().rev() {
        stack.push((Cow::Borrowed(m), depth, vec![index(i)], None));
    }
    let mut seen = msgs.len();
    let mut nodes = Vec::with_capacity(msgs.len());
    while let Some((any, depth, path, required)) = stack.pop() {
        let visited = router::visit(&any).map_err(|e| at(&path, e))?;
        if let Some(required) = required {
            if visited.signers != [required] {
                return Err(at(
                    &path,
                    ExecError::unauthorized(format!(
                        "{} must have {required} (the account its container runs it as, e.g. the gov module account) as its only signer",
                        any.type_url
                    )),
                ));
            }
        }
        if !visited.nested.is_empty() {
            if depth + 1 > MAX_NESTING_DEPTH {
                return Err(too_deep(&path));
            }
            seen += visited.nested.len();
            limits::at_most(
                "messages in the tx, nested ones included",
                seen,
                MAX_TX_MSGS,
            )?;
            for (i, inner) in visited.nested.into_iter().enumerate().rev() {
                let mut p = path.clone();
                p.push(index(i));
                stack.push((Cow::Owned(inner), depth + 1, p, visited.required_signer));
            }
        }
        nodes.push(MsgNode {
            any,
            route: visited.route,
            depth,
            signers: visited.signers,
            path,
        });
    }
    Ok(nodes)
}

/// The signers of a tx whose messages are `msgs`: the top-level messages' signers, in order,
/// without repeats (nested messages are authorized by their containers). Walks the whole tree,
/// so a tx that breaks any bound is refused here, before any state is read.
pub fn tx_signers(msgs: &[Any]) -> Result<Vec<Address>, ExecError> {
    let mut signers: Vec<Address> = Vec::new();
    for node in walk(msgs, 0)?.iter().filter(|n| n.depth == 0) {
        for s in &node.signers {
            if !signers.contains(s) {
                signers.push(*s);
            }
        }
    }
    Ok(signers)
}

/// Checks every message of `msgs` (at `depth`) and everything nested in them against the
/// circuit breaker: what proposal submission does before storing messages that will run
/// later (whatever runs now is checked by the router). The rule itself is
/// `circuit::check_message`, the router's too.
pub async fn check_breaker(
    kv: &mut impl KvRead,
    msgs: &[Any],
    depth: u32,
) -> Result<(), ExecError> {
    check_breaker_walked(kv, &walk(msgs, depth)?).await
}

/// [`check_breaker`] over a tree [`walk`] returned before (the mempool's re-check keeps each
/// pending tx's tree).
pub async fn check_breaker_walked(
    kv: &mut impl KvRead,
    nodes: &[MsgNode<'_>],
) -> Result<(), ExecError> {
    for node in nodes {
        crate::modules::circuit::check_message(kv, &node.any)
            .await
            .map_err(|e| at(&node.path, e))?;
    }
    Ok(())
}

impl MsgNode<'_> {
    /// The node owning its message.
    pub fn into_owned(self) -> MsgNode<'static> {
        MsgNode {
            any: Cow::Owned(self.any.into_owned()),
            route: self.route,
            depth: self.depth,
            signers: self.signers,
            path: self.path,
        }
    }
}

fn index(i: usize) -> u16 {
    // The count bound keeps every index far below u16::MAX.
    u16::try_from(i).unwrap_or(u16::MAX)
}

fn too_deep(path: &[u16]) -> ExecError {
    at(
        path,
        ExecError::limit_exceeded(format!(
            "messages nested deeper than {MAX_NESTING_DEPTH} levels"
        )),
    )
}

/// Prefixes an error in a nested message with where in the tree it happened
/// (`message 0.2: …`); a top-level message's error stays as its handler worded it.
fn at(path: &[u16], e: ExecError) -> ExecError {
    if path.len() < 2 {
        return e;
    }
    let place: Vec<String> = path.iter().map(u16::to_string).collect();
    e.map_tx(|e| caspur_types::TxError {
        code: e.code,
        message: format!("message {}: {}", place.join("."), e.message),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use caspur_types::sign::to_any;
    use cosmos_sdk_proto::cosmos::authz::v1beta1::MsgExec;
    use cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend;

    fn account(n: u8) -> Address {
        Address([n; 20])
    }

    fn send(from: u8) -> Any {
        to_any(
            "/cosmos.bank.v1beta1.MsgSend",
            &MsgSend {
                from_address: account(from).to_string(),
                to_address: account(9).to_string(),
                amount: vec![caspur_types::Coin::new("ucsp", 1).to_proto()],
            },
        )
    }

    fn exec(grantee: u8, msgs: Vec<Any>) -> Any {
        to_any(
            "/cosmos.authz.v1beta1.MsgExec",
            &MsgExec {
                grantee: account(grantee).to_string(),
                msgs,
            },
        )
    }

    #[test]
    fn walks_depth_first_in_execution_order_with_depths_and_paths() {
        let tx = [exec(1, vec![send(2), exec(1, vec![send(3)])]), send(4)];
        let nodes = walk(&tx, 0).unwrap();
        let seen: Vec<(u32, Vec<u16>)> = nodes.iter().map(|n| (n.depth, n.path.clone())).collect();
        assert_eq!(
            seen,
            vec![
                (0, vec![0]),
                (1, vec![0, 0]),
                (1, vec![0, 1]),
                (2, vec![0, 1, 0]),
                (0, vec![1]),
            ]
        );
        // Only the top level signs the tx.
        assert_eq!(
            tx_signers(&[exec(1, vec![send(2)]), send(4)]).unwrap(),
            vec![account(1), account(4)]
        );
    }

    #[test]
    fn a_nested_error_names_where_it_is_and_depth_is_checked_before_decoding() {
        let broken = Any {
            type_url: "/cosmos.bank.v1beta1.MsgSend".into(),
            value: vec![0xff, 0xff],
        };
        let e = walk(&[exec(1, vec![send(2), broken])], 0)
            .unwrap_err()
            .into_reply();
        assert!(e.message.starts_with("message 0.1: "), "{}", e.message);
        // Undecodable bytes one level past the bound: refused for depth, never decoded.
        let mut deep = Any {
            type_url: "/cosmos.bank.v1beta1.MsgSend".into(),
            value: vec![0xff],
        };
        for _ in 0..=MAX_NESTING_DEPTH {
            deep = exec(1, vec![deep]);
        }
        let e = walk(&[deep], 0).unwrap_err().into_reply();
        assert_eq!(e.code, caspur_types::ErrorCode::LimitExceeded, "{e:?}");
    }
}
