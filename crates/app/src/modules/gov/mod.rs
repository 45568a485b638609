//! `gov` (Cosmos gov v1): proposals carrying messages, deposits, votes weighted by bonded stake
//! with delegators inheriting their validator's vote, quorum / threshold / veto, expedited
//! proposals, and execution of a passed proposal's messages through the message router with the
//! gov module account as signer — so the circuit breaker sees them, and a failing message fails
//! the proposal (with its reason), never the block.

pub mod chain_proposal;
pub mod deposits;
pub mod legacy;
pub mod msgs;
pub mod params;
pub mod query;
pub mod state;
pub mod tally;
pub mod votes;

use crate::context::Ctx;
use crate::error::ExecError;
use crate::router;
use caspur_store::StateRead;
use caspur_types::{Address, Event, TxError};
use cosmos_sdk_proto::cosmos::gov::v1 as pb;
use serde::{Deserialize, Serialize};

pub use params::GovParams;

/// Genesis state of `gov`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GovGenesis {
    /// Parameters.
    #[serde(default)]
    pub params: GovParams,
    /// The first proposal's id.
    #[serde(default = "one")]
    pub starting_proposal_id: u64,
    /// An exported chain's proposals, deposits, votes and queues as (hex key, hex value) pairs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exported_state: Vec<(String, String)>,
}

fn one() -> u64 {
    1
}

impl Default for GovGenesis {
    fn default() -> Self {
        GovGenesis {
            params: GovParams::default(),
            starting_proposal_id: 1,
            exported_state: Vec::new(),
        }
    }
}

/// Implements [`crate::router::MsgHandler`] for a module's `MsgUpdateParams`: signed by its
/// `authority`, which must be the gov account; `$check(&msg)` validates it statelessly (a
/// `Result`), `$apply(&msg, ctx)` stores the new parameters.
macro_rules! governed_params {
    // The common case: the message carries `params` that `$params::from_proto` validates, and
    // `$set` stores them.
    ($msg:ty, $response:ty, params = $params:ty, set = $set:path) => {
        fn check(msg: &$msg) -> Result<$params, crate::error::ExecError> {
            let p = msg
                .params
                .as_ref()
                .ok_or_else(|| crate::error::ExecError::invalid_request("params are required"))?;
            Ok(<$params>::from_proto(p)?)
        }

        async fn apply<B: caspur_store::StateRead>(
            msg: &$msg,
            ctx: &mut crate::context::Ctx<'_, B>,
        ) -> Result<(), crate::error::ExecError> {
            $set(ctx, &check(msg)?)
        }

        $crate::modules::gov::governed_params!($msg, $response, check = check, apply = apply);
    };
    ($msg:ty, $response:ty, check = $check:path, apply = $apply:path) => {
        impl $crate::router::MsgHandler for $msg {
            const TYPE_URL: &'static str = TYPE_URL;
            type Response = $response;

            fn signers(&self) -> Result<Vec<caspur_types::Address>, crate::error::ExecError> {
                Ok(vec![caspur_types::Address::parse_account(&self.authority)?])
            }

            fn check_stateless(&self) -> Result<(), crate::error::ExecError> {
                $crate::modules::gov::require_authority(&self.authority)?;
                $check(self).map(|_| ())
            }

            async fn execute<B: caspur_store::StateRead>(
                &self,
                ctx: &mut $crate::context::Ctx<'_, B>,
                _depth: u32,
            ) -> Result<Self::Response, crate::error::ExecError> {
                $apply(self, ctx).await?;
                Ok(<$response>::default())
            }
        }
    };
}
pub(crate) use governed_params;

/// The `submit_proposal` event of proposal `id` (as the Cosmos SDK emits it: the messages'
/// type URLs after a leading comma).
pub(crate) fn submitted_event(
    id: u64,
    messages: &[cosmos_sdk_proto::Any],
    proposer: &str,
) -> Event {
    let urls: Vec<&str> = messages.iter().map(|m| m.type_url.as_str()).collect();
    Event::new("submit_proposal")
        .attr("proposal_id", id.to_string())
        .attr("proposal_messages", format!(",{}", urls.join(",")))
        .attr("proposer", proposer.to_string())
}

/// Fails unless `authority` is the gov module account (the signer of governance-only
/// messages such as every `MsgUpdateParams`).
pub fn require_authority(authority: &str) -> Result<Address, ExecError> {
    let addr = Address::parse_account(authority)?;
    let gov = state::gov_address();
    if addr != gov {
        return Err(ExecError::unauthorized(format!(
            "invalid authority; expected {gov}, got {authority}"
        )));
    }
    Ok(addr)
}

/// Writes `gov`'s genesis.
pub async fn init_genesis<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    g: &GovGenesis,
) -> Result<(), ExecError> {
    g.params.validate()?;
    state::set_params(ctx, &g.params)?;
    state::set_next_id(ctx, g.starting_proposal_id.max(1))?;
    crate::genesis::write_exported(ctx, crate::modules::ids::GOV, &g.exported_state).await
}

/// Reads `gov` back into genesis form.
pub async fn export_genesis<S: caspur_store::StateScan>(
    state: &S,
) -> Result<GovGenesis, ExecError> {
    let mut kv = crate::context::Unmetered(state);
    let params = state::get_params(&mut kv).await?;
    let next = match crate::context::KvRead::get(&mut kv, &[crate::modules::ids::GOV, 1]).await? {
        Some(b) => u64::from_be_bytes(
            b.as_slice()
                .try_into()
                .map_err(|_| ExecError::logic("corrupt proposal counter"))?,
        ),
        None => 1,
    };
    Ok(GovGenesis {
        params,
        starting_proposal_id: next,
        exported_state: crate::genesis::read_exported(state, crate::modules::ids::GOV, &[0, 1])
            .await?,
    })
}

/// `gov`'s end of block: drops proposals whose deposit period ran out, and decides those whose
/// voting period ended. `since_ms` is the previous block's time.
pub async fn end_block<B: StateRead>(ctx: &mut Ctx<'_, B>, since_ms: u64) -> Result<(), ExecError> {
    let now = ctx.block.time_ms;
    let params = state::get_params(ctx).await?;
    for due in state::DEPOSIT_QUEUE.pop_due(ctx, since_ms, now).await? {
        let id = proposal_id(&due.payload)?;
        let Some(p) = state::get_proposal(ctx, id).await? else {
            continue;
        };
        if p.status != pb::ProposalStatus::DepositPeriod as i32 {
            continue;
        }
        deposits::settle(ctx, id, params.burn_proposal_deposit_prevote).await?;
        crate::modules::dcert::dissolution::proposal_closed(ctx, &p.messages).await?;
        state::delete_proposal(ctx, id)?;
        ctx.emit(
            Event::new("inactive_proposal")
                .attr("proposal_id", id.to_string())
                .attr("proposal_result", "proposal_dropped"),
        );
    }
    for due in state::VOTING_QUEUE.pop_due(ctx, since_ms, now).await? {
        let id = proposal_id(&due.payload)?;
        let Some(p) = state::get_proposal(ctx, id).await? else {
            continue;
        };
        if p.status != pb::ProposalStatus::VotingPeriod as i32
            || crate::modules::staking::state::millis(&p.voting_end_time) > now
        {
            continue;
        }
        decide(ctx, p, &params).await?;
    }
    Ok(())
}

fn proposal_id(payload: &[u8]) -> Result<u64, ExecError> {
    Ok(u64::from_be_bytes(payload.try_into().map_err(|_| {
        ExecError::logic("corrupt gov queue entry")
    })?))
}

/// Tallies a proposal whose voting ended and acts on the outcome.
async fn decide<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    mut p: pb::Proposal,
    params: &GovParams,
) -> Result<(), ExecError> {
    let id = p.id;
    let outcome = tally::tally(ctx, id, p.expedited, params).await?;
    if p.expedited && !outcome.passes && !outcome.burn_deposits {
        // An expedited proposal that misses its higher bar becomes a regular one: it keeps its
        // votes and deposits and votes on until the regular period ends.
        let start = crate::modules::staking::state::millis(&p.voting_start_time);
        let end = start.saturating_add(params.voting_period_ms(false));
        p.expedited = false;
        p.voting_end_time = Some(crate::modules::staking::state::timestamp(end));
        state::VOTING_QUEUE
            .push(ctx, ctx.block.time_ms, end, id.to_be_bytes().to_vec())
            .await?;
        state::set_proposal(ctx, &p)?;
        ctx.emit(
            Event::new("active_proposal")
                .attr("proposal_id", id.to_string())
                .attr("proposal_result", "expedited_proposal_rejected"),
        );
        return Ok(());
    }
    state::clear_votes(ctx, id).await?;
    let dissolution = crate::modules::dcert::dissolution::proposal_closed(ctx, &p.messages).await?;
    if dissolution && !outcome.passes && !outcome.burn_deposits {
        // A dissolution that fails costs its author (SPEC §2.6): the proposer's deposit burns.
        let proposer = Address::parse_account(&p.proposer)?;
        deposits::burn_one(ctx, id, &proposer).await?;
    }
    deposits::settle(ctx, id, outcome.burn_deposits).await?;
    let result = if outcome.passes {
        match execute(ctx, &p.messages).await? {
            Ok(()) => {
                p.status = pb::ProposalStatus::Passed as i32;
                "proposal_passed"
            }
            Err(failure) => {
                tracing::info!(proposal = id, error = %failure.error, "passed proposal failed to apply");
                p.status = pb::ProposalStatus::Failed as i32;
                p.failed_reason = failure.reason();
                "proposal_failed"
            }
        }
    } else {
        p.status = pb::ProposalStatus::Rejected as i32;
        "proposal_rejected"
    };
    p.final_tally_result = Some(outcome.tally.to_proto());
    state::set_proposal(ctx, &p)?;
    ctx.emit(
        Event::new("active_proposal")
            .attr("proposal_id", id.to_string())
            .attr("proposal_result", result),
    );
    Ok(())
}

/// Why a passed proposal's messages did not apply.
struct ProposalFailure {
    /// The failing message's index (`None`: the messages as a whole break a rule now).
    message: Option<usize>,
    /// The failure.
    error: TxError,
}

impl ProposalFailure {
    /// The reason the proposal keeps in state: our own fixed words around typed values (the
    /// message index, codespace, code and the code's registered description). The error's
    /// own message is logged, never stored: it may quote other crates' text, which a
    /// dependency update could change — and state is hashed.
    fn reason(&self) -> String {
        let which = match self.message {
            Some(i) => format!("message {i}"),
            None => "the messages".to_string(),
        };
        format!(
            "{which} failed: {} code {}: {}",
            self.error.codespace(),
            self.error.code.code(),
            self.error.code.description()
        )
    }
}

/// Runs a passed proposal's messages through the router, all or nothing: a failing message
/// undoes the others' writes and events and becomes the proposal's failure.
async fn execute<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    messages: &[cosmos_sdk_proto::Any],
) -> Result<Result<(), ProposalFailure>, ExecError> {
    ctx.state.commit_tx();
    // The same walker as at submission (bounds, shapes, the gov account as the only signer):
    // what was stored is re-checked against the rules in force now.
    if let Err(e) = crate::msg_tree::walk(messages, 1) {
        let error = e.into_tx()?;
        return Ok(Err(ProposalFailure {
            message: None,
            error,
        }));
    }
    let events_before = ctx.events.len();
    for (i, msg) in messages.iter().enumerate() {
        if let Err(e) = router::dispatch(ctx, msg, 1).await {
            let error = e.into_tx()?;
            ctx.state.discard_tx();
            ctx.events.truncate(events_before);
            return Ok(Err(ProposalFailure {
                message: Some(i),
                error,
            }));
        }
    }
    ctx.state.commit_tx();
    Ok(Ok(()))
}
