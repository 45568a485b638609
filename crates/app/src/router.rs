//! The message router: every message, top-level or nested inside another message, is
//! dispatched by [`dispatch`]. That single path is where the circuit breaker is consulted
//! (SPEC §3), so no message can reach a handler without passing it.

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::{
    auth, authz, bank, circuit, dcert, distribution, gov, incident, slashing, staking, upgrade,
};
use crate::msg_tree::{Nested, Visited};
use caspur_store::StateRead;
use caspur_types::Address;
use cosmos_sdk_proto::Any;
use prost::Message as _;
use std::future::Future;
use std::pin::Pin;

pub use crate::limits::MAX_NESTING_DEPTH;

/// A message type the router knows: decoding, signers, stateless and stateful handling.
pub trait MsgHandler: prost::Message + Default + Sized + Send + Sync {
    /// The protobuf type URL.
    const TYPE_URL: &'static str;

    /// The route it executes as: its own type URL, or for a legacy alias (gov `v1beta1`
    /// `MsgVote`) the canonical one it acts as. The circuit breaker treats every spelling of a
    /// route alike ([`spellings`]).
    const ROUTE: &'static str = Self::TYPE_URL;

    /// What a successful execution returns (`…Response`, reported in the tx's `TxMsgData`).
    type Response: prost::Message;

    /// The addresses that must sign a tx carrying this message.
    fn signers(&self) -> Result<Vec<Address>, ExecError>;

    /// Checks that need no state: shapes, addresses, amounts. Messages it carries are checked
    /// by the walker ([`crate::msg_tree`]), not here.
    fn check_stateless(&self) -> Result<(), ExecError>;

    /// The messages it carries and will run (containers: authz exec, gov proposals).
    fn nested(&self) -> Nested<'_> {
        Nested::NONE
    }

    /// Checks against state and executes. `depth` is this message's nesting depth.
    fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        depth: u32,
    ) -> impl Future<Output = Result<Self::Response, ExecError>> + Send;
}

/// Registers every message type once: the list of routes, signer extraction and dispatch
/// are all generated from it, so a type cannot be routable in one and missing in another.
macro_rules! routes {
    ($($msg:ty),* $(,)?) => {
        /// Every routable type URL, in a stable order.
        pub const ROUTES: &[&str] = &[$(<$msg as MsgHandler>::TYPE_URL),*];

        /// Decodes one message (not what it carries), checks it statelessly and returns its
        /// route, signers and nested messages: the walker's view of it.
        pub fn visit(any: &Any) -> Result<Visited, ExecError> {
            fn go<M: MsgHandler>(any: &Any) -> Result<Visited, ExecError> {
                let m: M = decode(any)?;
                m.check_stateless()?;
                let nested = m.nested();
                Ok(Visited {
                    route: M::ROUTE,
                    signers: m.signers()?,
                    nested: nested.msgs.to_vec(),
                    required_signer: nested.required_signer,
                })
            }
            $(if any.type_url == <$msg as MsgHandler>::TYPE_URL {
                return go::<$msg>(any);
            })*
            Err(unknown(&any.type_url))
        }

        /// The route a registered type URL executes as.
        pub fn route_of(type_url: &str) -> Option<&'static str> {
            $(if type_url == <$msg as MsgHandler>::TYPE_URL {
                return Some(<$msg as MsgHandler>::ROUTE);
            })*
            None
        }

        /// The JSON codec of a registered type URL (see [`crate::msg_json`]).
        pub fn json_codec(type_url: &str) -> Option<crate::msg_json::JsonCodec> {
            $(if type_url == <$msg as MsgHandler>::TYPE_URL {
                return Some(crate::msg_json::JsonCodec::of::<$msg>());
            })*
            None
        }

        /// Every registered type URL that executes as `route`.
        fn spellings_of(route: &str) -> Vec<&'static str> {
            let mut out = Vec::new();
            $(if <$msg as MsgHandler>::ROUTE == route {
                out.push(<$msg as MsgHandler>::TYPE_URL);
            })*
            out
        }

        async fn route<B: StateRead>(
            ctx: &mut Ctx<'_, B>,
            any: &Any,
            depth: u32,
        ) -> Result<Any, ExecError> {
            $(if any.type_url == <$msg as MsgHandler>::TYPE_URL {
                return run::<$msg, B>(ctx, any, depth).await;
            })*
            Err(unknown(&any.type_url))
        }
    };
}

routes![
    bank::msgs::send::Msg,
    bank::msgs::multi_send::Msg,
    bank::msgs::update_params::Msg,
    auth::msgs::update_params::Msg,
    authz::exec::Msg,
    authz::grant::Msg,
    authz::revoke::Msg,
    staking::msgs::create_validator::Msg,
    staking::msgs::edit_validator::Msg,
    staking::msgs::delegate::Msg,
    staking::msgs::undelegate::Msg,
    staking::msgs::redelegate::Msg,
    staking::msgs::cancel_unbonding::Msg,
    staking::msgs::update_params::Msg,
    gov::msgs::submit_proposal::Msg,
    gov::msgs::deposit::Msg,
    gov::msgs::vote::Msg,
    gov::msgs::vote_weighted::Msg,
    gov::msgs::update_params::Msg,
    cosmos_sdk_proto::cosmos::gov::v1beta1::MsgVote,
    cosmos_sdk_proto::cosmos::gov::v1beta1::MsgVoteWeighted,
    cosmos_sdk_proto::cosmos::gov::v1beta1::MsgDeposit,
    distribution::msgs::withdraw_reward::Msg,
    distribution::msgs::withdraw_commission::Msg,
    distribution::msgs::fund_community_pool::Msg,
    distribution::msgs::community_pool_spend::Msg,
    distribution::msgs::update_params::Msg,
    slashing::msgs::unjail::Msg,
    slashing::msgs::update_params::Msg,
    dcert::msgs::vote::Msg,
    dcert::msgs::accept_candidacy::Msg,
    dcert::msgs::bond::Msg,
    dcert::msgs::unbond::Msg,
    dcert::msgs::update_params::Msg,
    dcert::msgs::slash_member::Msg,
    dcert::msgs::update_description::Msg,
    dcert::msgs::vote_suspend::Msg,
    dcert::msgs::circuit_break::Msg,
    dcert::msgs::ratify_break::Msg,
    dcert::msgs::heartbeat::Msg,
    dcert::msgs::register_tripwire::Msg,
    dcert::msgs::remove_tripwire::Msg,
    dcert::msgs::confirm_tripwire::Msg,
    dcert::msgs::release_tripwire::Msg,
    dcert::msgs::dissolve::Msg,
    upgrade::msgs::software_upgrade::Msg,
    upgrade::msgs::cancel_upgrade::Msg,
    upgrade::msgs::update_params::Msg,
    upgrade::msgs::approve_emergency::Msg,
    upgrade::msgs::cancel_emergency::Msg,
    upgrade::msgs::signal_ready::Msg,
    incident::msgs::report::Msg,
    incident::msgs::triage::Msg,
    incident::msgs::declare::Msg,
    incident::msgs::propose_plan::Msg,
    incident::msgs::review::Msg,
    incident::msgs::announce::Msg,
    incident::msgs::post_update::Msg,
    incident::msgs::link_upgrade::Msg,
    incident::msgs::confirm::Msg,
    incident::msgs::resolve::Msg,
    incident::msgs::postmortem::Msg,
    incident::msgs::abort::Msg,
    incident::msgs::reseal::Msg,
    incident::msgs::update_params::Msg,
];

/// Every spelling of the route `type_url` executes as (itself first): what the circuit breaker
/// checks, so that breaking a legacy alias or its canonical URL breaks both.
pub fn spellings(type_url: &str) -> Vec<&str> {
    let mut out = vec![type_url];
    if let Some(route) = route_of(type_url) {
        out.extend(spellings_of(route).into_iter().filter(|s| *s != type_url));
    }
    out
}

/// Signers of one message (decoded and checked statelessly, nested messages aside).
pub fn signers_of(any: &Any) -> Result<Vec<Address>, ExecError> {
    Ok(visit(any)?.signers)
}

/// The one decoder of messages, at every depth: unknown fields are refused (as the Cosmos SDK
/// refuses them), so no message carries bytes a node cannot interpret.
fn decode<M: MsgHandler>(any: &Any) -> Result<M, ExecError> {
    Ok(caspur_types::canonical::decode_strict(
        &any.value,
        M::TYPE_URL,
        false,
    )?)
}

fn unknown(url: &str) -> ExecError {
    ExecError::unknown_request(format!(
        "unrecognized message type {url:?}: no handler is registered for it"
    ))
}

/// Routes one message to its handler, after the circuit breaker admits its type URL; returns
/// the handler's response packed as the SDK does (`<type URL>Response`).
pub fn dispatch<'a, 'c, B: StateRead>(
    ctx: &'a mut Ctx<'c, B>,
    any: &'a Any,
    depth: u32,
) -> Pin<Box<dyn Future<Output = Result<Any, ExecError>> + Send + 'a>>
where
    'c: 'a,
{
    Box::pin(async move {
        // The walker refused deeper trees before anything ran; this keeps the router bounded
        // on its own (messages stored in proposals are dispatched from end of block).
        if depth > MAX_NESTING_DEPTH {
            return Err(ExecError::limit_exceeded(format!(
                "messages nested deeper than {MAX_NESTING_DEPTH} levels"
            )));
        }
        circuit::check_message(ctx, any).await?;
        route(ctx, any, depth).await
    })
}

async fn run<M: MsgHandler, B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    any: &Any,
    depth: u32,
) -> Result<Any, ExecError> {
    let msg: M = decode(any)?;
    msg.check_stateless()?;
    // As the Cosmos SDK: a `message` event (action, sender, module) precedes the message's own.
    let mut event = caspur_types::Event::new("message").attr("action", M::TYPE_URL);
    if let Some(sender) = msg.signers()?.first() {
        event = event.attr("sender", sender.to_string());
    }
    ctx.emit(event.attr("module", module_of(M::TYPE_URL)));
    let response = msg.execute(ctx, depth).await?;
    Ok(Any {
        type_url: format!("{}Response", M::TYPE_URL),
        value: response.encode_to_vec(),
    })
}

/// The module name in a type URL: `/cosmos.bank.v1beta1.MsgSend` → `bank`.
fn module_of(type_url: &str) -> &str {
    type_url
        .trim_start_matches('/')
        .split('.')
        .nth(1)
        .unwrap_or_default()
}
