//! One tx's execution, the same for CheckTx, Simulate and block execution: the ante handler,
//! then every message through the router ([`run_messages`]: the circuit breaker and each
//! handler's authorization and state checks run there, at every depth), with the tx's events
//! bounded as they grow.
//!
//! CheckTx runs the whole tx against the check-state (committed state plus the txs admitted
//! before), so a tx the next block would refuse — a non-member's dCERT message, a wrong state,
//! a disabled privilege, an insufficient balance, a broken route — is refused before it costs
//! a fee. The admitted tx's writes stay in the check-state, so later txs see its effects as
//! the block will.
//!
//! The re-check of pending txs after each block ([`App::recheck_tx`]) runs the ante handler and
//! the circuit breaker over the whole message tree, not the messages themselves — as the
//! Cosmos SDK's ReCheckTx runs its ante handler alone. It keeps what makes a block invalid
//! (a broken route: no proposer may carry it) and what makes a tx impossible (its sequence
//! taken, its fee unpayable) out of the mempool; a message that stopped succeeding since
//! admission fails in its block, paying its fee, as it would in the SDK. Executing every
//! pending tx's messages after every block was most of a loaded node's work (BENCHMARKS.md).

use crate::context::{Ctx, Unmetered};
use crate::error::ExecError;
use crate::modules::auth;
use crate::{ante, limits, msg_tree, prepare, router, App, BlockInfo, CheckedTx, TxResult};
use caspur_store::{Overlay, StateRead, StoreError};
use caspur_types::{Dec, Event, TxError};
use cosmos_sdk_proto::Any;
use prost::Message as _;
use std::sync::Arc;

/// What a mempool admission runs after the ante handler.
#[derive(Clone, Copy)]
enum Admission<'a> {
    /// Every message, through the router (CheckTx: every signature verified).
    WholeTx,
    /// The circuit breaker over every message of the tree (the re-check after a block), with
    /// the tx as it was admitted: its decoding and the tickets of the signatures verified then.
    AnteAndBreaker(&'a CheckedTx),
}

/// Runs `messages` in order through the router; the responses, or the first failure. The tx's
/// events (its ante handler's included) are checked against the per-tx bounds after each one.
async fn run_messages<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    messages: &[Any],
    ante_events: &[Event],
) -> Result<Vec<Any>, ExecError> {
    let mut responses = Vec::with_capacity(messages.len());
    for msg in messages {
        responses.push(router::dispatch(ctx, msg, 0).await?);
        limits::check_events(ante_events, &ctx.events)?;
    }
    Ok(responses)
}

impl App {
    /// Admission check for the mempool: decoding, stateless checks, fee against the node's
    /// `min_gas_price`, then the whole tx — ante handler and messages — against `state` (the
    /// committed state plus the txs admitted before). On success its writes are kept in
    /// `state`, so the same account's next sequence (and any tx relying on this one's effects)
    /// is accepted next; on failure nothing is kept. The signatures it verified are remembered
    /// ([`App::verified_sigs`]), so the block carrying the tx does not verify them again.
    pub async fn check_tx<B: StateRead>(
        &self,
        state: &mut Overlay<B>,
        raw: &[u8],
        next_block: &BlockInfo,
        min_gas_price: Option<Dec>,
    ) -> Result<CheckedTx, TxError> {
        let checked = self
            .admit(state, raw, next_block, min_gas_price, Admission::WholeTx)
            .await?;
        // Verified here, with no ticket handed in: block execution may rely on them.
        self.verified_sigs.record(checked.hash, &checked.verified);
        Ok(checked)
    }

    /// The re-check of a tx admitted before, after a block: [`App::check_tx`]'s checks and
    /// ante handler, then the circuit breaker over every message of the tree instead of
    /// running them (see the module doc). The tx's decoding at admission is reused while the
    /// auth params are unchanged ([`prepare::Admitted`]); its signatures (`admitted.verified`)
    /// need no new verification while account numbers and keys are unchanged.
    pub async fn recheck_tx<B: StateRead>(
        &self,
        state: &mut Overlay<B>,
        raw: &[u8],
        next_block: &BlockInfo,
        min_gas_price: Option<Dec>,
        admitted: &CheckedTx,
    ) -> Result<CheckedTx, TxError> {
        let admission = Admission::AnteAndBreaker(admitted);
        self.admit(state, raw, next_block, min_gas_price, admission)
            .await
    }

    /// `raw` decoded and statelessly checked under the current auth params — or the decoding
    /// of an earlier admission, when it was made under the same params.
    async fn decoded<B: StateRead>(
        &self,
        state: &Overlay<B>,
        raw: &[u8],
        height: u64,
        earlier: Option<&Arc<prepare::Admitted>>,
    ) -> Result<Arc<prepare::Admitted>, ExecError> {
        let params = auth::state::get_params(&mut Unmetered(state)).await?;
        match earlier {
            Some(a) if a.params == params => {
                ante::check_timeout(&a.prepared.tx, height)?;
                Ok(Arc::clone(a))
            }
            _ => Ok(Arc::new(prepare::Admitted::new(
                prepare::prepare_tx(raw, &params, height)?,
                params,
            ))),
        }
    }

    /// Decodes, checks and applies `raw` to the check-state `state`: the ante handler, then
    /// what `admission` asks for; its writes are kept on success, dropped on failure.
    async fn admit<B: StateRead>(
        &self,
        state: &mut Overlay<B>,
        raw: &[u8],
        next_block: &BlockInfo,
        min_gas_price: Option<Dec>,
        admission: Admission<'_>,
    ) -> Result<CheckedTx, TxError> {
        let (earlier, verified): (_, Vec<Option<prepare::Ticket>>) = match admission {
            Admission::WholeTx => (None, Vec::new()),
            Admission::AnteAndBreaker(c) => (
                Some(&c.admitted),
                c.verified.iter().cloned().map(Some).collect(),
            ),
        };
        // A storage fault is reported to this one client (`Io`): CheckTx is no consensus door.
        let admitted = async {
            let a = self.decoded(state, raw, next_block.height, earlier).await?;
            if let Some(price) = min_gas_price {
                ante::check_min_gas_price(&a.prepared.fee, a.prepared.gas_limit, price)?;
            }
            self.check_block_gas(a.prepared.gas_limit)?;
            Ok::<_, ExecError>(a)
        }
        .await
        .map_err(ExecError::into_reply)?;
        let p = &admitted.prepared;
        let mut ctx = Ctx::new(state, next_block, &self.chain_id, p.gas_limit, self.costs);
        ctx.keeps_events = matches!(admission, Admission::WholeTx);
        let outcome = async {
            let valid = ante::check_and_apply(&mut ctx, p, &verified).await?;
            let messages = &p.tx.body.messages;
            match admission {
                Admission::WholeTx => {
                    let ante_events = std::mem::take(&mut ctx.events);
                    run_messages(&mut ctx, messages, &ante_events).await?;
                }
                Admission::AnteAndBreaker(_) => {
                    msg_tree::check_breaker_walked(&mut ctx, admitted.tree()?).await?
                }
            }
            Ok::<_, ExecError>(valid)
        }
        .await;
        drop(ctx);
        match outcome {
            Ok(valid) => {
                state.commit_tx();
                Ok(CheckedTx {
                    hash: p.tx.hash,
                    gas_wanted: p.gas_limit,
                    verified: valid,
                    admitted: Arc::clone(&admitted),
                })
            }
            Err(e) => {
                state.discard_tx();
                Err(e.into_reply())
            }
        }
    }

    fn check_block_gas(&self, gas_limit: u64) -> Result<(), ExecError> {
        match self.block_max_gas {
            Some(max) if gas_limit > max => Err(ExecError::invalid_gas_limit(format!(
                "tx gas limit {gas_limit} exceeds the block gas limit {max}"
            ))),
            _ => Ok(()),
        }
    }

    /// Executes one prepared tx in a block (or a simulation): the ante handler's writes (fee,
    /// sequence) are committed first and kept even when a message fails; the messages' writes
    /// are kept only when all succeed. A storage fault is no tx failure: it stops the block.
    pub(crate) async fn deliver_tx<B: StateRead>(
        &self,
        state: &mut Overlay<B>,
        block: &BlockInfo,
        prepared: prepare::Prepared,
    ) -> Result<TxResult, StoreError> {
        let gas_limit = prepared.gas_limit;
        let mut ctx = Ctx::new(state, block, &self.chain_id, gas_limit, self.costs);
        if let Err(e) = ante::check_and_apply(&mut ctx, &prepared, &prepared.verified).await {
            let used = ctx.gas.used();
            state.discard_tx();
            return Ok(TxResult::failed(&e.into_tx()?, gas_limit, used, Vec::new()));
        }
        let ante_events = std::mem::take(&mut ctx.events);
        let gas = ctx.gas.clone();
        drop(ctx);
        state.commit_tx();

        let mut ctx = Ctx::new(state, block, &self.chain_id, gas_limit, self.costs);
        ctx.gas = gas;
        let outcome = run_messages(&mut ctx, &prepared.tx.body.messages, &ante_events).await;
        let used = ctx.gas.used();
        let msg_events = std::mem::take(&mut ctx.events);
        drop(ctx);
        match outcome {
            Ok(msg_responses) => {
                state.commit_tx();
                let mut events = ante_events;
                events.extend(msg_events);
                Ok(TxResult {
                    code: 0,
                    codespace: String::new(),
                    log: String::new(),
                    gas_wanted: gas_limit,
                    gas_used: used,
                    events,
                    data: cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxMsgData {
                        #[allow(deprecated)]
                        data: Vec::new(),
                        msg_responses,
                    }
                    .encode_to_vec(),
                })
            }
            Err(e) => {
                state.discard_tx();
                Ok(TxResult::failed(
                    &e.into_tx()?,
                    gas_limit,
                    used,
                    ante_events,
                ))
            }
        }
    }
}
