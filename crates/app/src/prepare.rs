//! Block preparation: decode and statelessly check every tx, and verify all signatures in
//! parallel against the account numbers and keys in the state *before* the block — chunk by
//! chunk, so the workers start on the first txs while later ones are still being decoded.
//!
//! Verification is a pure function of (key, sign doc, signature), so doing it early on other
//! threads cannot change any outcome: the ante handler still runs in order and skips the
//! verification only when the account number and key it sees at execution time are exactly
//! the ones verified here (an account created or re-keyed earlier in the same block is simply
//! verified again, in order).

use crate::ante;
use crate::context::Unmetered;
use crate::error::ExecError;
use crate::modules::auth::{self, AuthParams};
use crate::msg_tree::{self, MsgNode};
use crate::sig_cache::VerifiedSigs;
use crate::verifier::{Job, Verifier, VerifyQueue, VERIFY_CHUNK_TXS};
use caspur_store::{StateRead, StoreError};
use caspur_types::tx::{decode_tx, sign_doc_bytes, DecodedTx, SignerDecl};
use caspur_types::{Address, Coins, TxError};

/// A signature being checked off the execution thread: which job, and the account number
/// and key it is checked against.
#[derive(Clone)]
pub struct Ticket {
    /// The verifier holding the job; `None` when the signature was verified before (by the
    /// CheckTx that admitted the tx to the mempool).
    pub verifier: Option<Verifier>,
    /// The job's index.
    pub job: usize,
    /// Account number the sign doc used.
    pub account_number: u64,
    /// Key the signature is checked with.
    pub pubkey: [u8; 33],
}

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ticket")
            .field("pending", &self.verifier.is_some())
            .field("account_number", &self.account_number)
            .finish()
    }
}

impl Ticket {
    /// Whether the signature is known valid for exactly this account number and key.
    pub fn valid_for(&self, account_number: u64, pubkey: &[u8; 33]) -> bool {
        self.account_number == account_number
            && self.pubkey == *pubkey
            && self.verifier.as_ref().is_none_or(|v| v.is_valid(self.job))
    }

    /// A signature already verified for `account_number` and `pubkey`.
    pub fn verified(account_number: u64, pubkey: [u8; 33]) -> Self {
        Ticket {
            verifier: None,
            job: 0,
            account_number,
            pubkey,
        }
    }
}

/// A tx ready for in-order execution.
#[derive(Clone)]
pub struct Prepared {
    /// The decoded tx.
    pub tx: DecodedTx,
    /// Its signers, in order.
    pub signers: Vec<Address>,
    /// Its fee.
    pub fee: Coins,
    /// Its gas limit.
    pub gas_limit: u64,
    /// Its signers' declarations (key, sequence), parsed once for every check of it; or why
    /// they are unusable, which the ante handler reports in its turn.
    pub decls: Result<Vec<SignerDecl>, TxError>,
    /// Per signer, its signature's verification ticket (none when the pre-block state could
    /// not say which key and account number apply).
    pub verified: Vec<Option<Ticket>>,
}

/// A tx as the mempool admitted it: decoded and statelessly checked once, with the auth params
/// it was checked under. Its re-checks after each block reuse it while the params are the
/// same ones — [`prepare_tx`] is a function of the raw bytes, those params and the height,
/// and the height enters only through the timeout check ([`ante::check_timeout`]), which a
/// re-check repeats. Decoding was nearly a third of a loaded node's re-check (BENCHMARKS.md).
pub struct Admitted {
    /// The prepared tx (its tickets unused: a re-check takes them from the [`crate::CheckedTx`]).
    pub prepared: Prepared,
    /// The auth params it was checked under.
    pub params: AuthParams,
    /// Its message tree, walked at its first re-check (a function of the messages alone).
    tree: std::sync::OnceLock<Vec<MsgNode<'static>>>,
}

impl Admitted {
    /// `prepared`, checked under `params`.
    pub fn new(prepared: Prepared, params: AuthParams) -> Self {
        Admitted {
            prepared,
            params,
            tree: std::sync::OnceLock::new(),
        }
    }

    /// Its message tree ([`msg_tree::walk`]), walked once.
    pub fn tree(&self) -> Result<&[MsgNode<'static>], ExecError> {
        if let Some(tree) = self.tree.get() {
            return Ok(tree);
        }
        let walked = msg_tree::walk(&self.prepared.tx.body.messages, 0)?;
        let tree = self
            .tree
            .get_or_init(|| walked.into_iter().map(MsgNode::into_owned).collect());
        Ok(tree)
    }
}

impl std::fmt::Debug for Admitted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admitted")
            .field("hash", &hex::encode_upper(self.prepared.tx.hash))
            .field("params", &self.params)
            .finish()
    }
}

/// Decodes and statelessly checks one tx.
pub fn prepare_tx(raw: &[u8], params: &AuthParams, height: u64) -> Result<Prepared, ExecError> {
    let tx = decode_tx(raw, params.max_tx_bytes as usize)?;
    let signers = ante::check_stateless(&tx, params, height)?;
    let (fee, gas_limit) = ante::check_fee(&tx)?;
    let verified = vec![None; signers.len()];
    let decls = tx.signer_decls();
    Ok(Prepared {
        tx,
        signers,
        fee,
        gas_limit,
        decls,
        verified,
    })
}

/// Prepares every tx of a block and verifies its signatures on the other cores as it goes
/// (those this node verified in CheckTx, `known`, are not verified again).
pub async fn prepare_block<B: StateRead>(
    state: &B,
    chain_id: &str,
    height: u64,
    txs: &[Vec<u8>],
    known: &VerifiedSigs,
) -> Result<Vec<Result<Prepared, ExecError>>, StoreError> {
    let io = |e: ExecError| StoreError(e.to_string());
    let params = auth::state::get_params(&mut Unmetered(state))
        .await
        .map_err(io)?;
    let queue = VerifyQueue::for_block(txs.len());
    let mut prepared = Vec::with_capacity(txs.len());
    for chunk in txs.chunks(VERIFY_CHUNK_TXS) {
        let mut batch: Vec<_> = chunk
            .iter()
            .map(|raw| prepare_tx(raw, &params, height))
            .collect();
        start_verifying(state, chain_id, &mut batch, known, &queue).await?;
        prepared.append(&mut batch);
    }
    Ok(prepared)
}

/// Gives every signature of `batch` its ticket: already verified (`known`), or a job of one
/// new chunk submitted to `queue`.
async fn start_verifying<B: StateRead>(
    state: &B,
    chain_id: &str,
    batch: &mut [Result<Prepared, ExecError>],
    known: &VerifiedSigs,
    queue: &VerifyQueue,
) -> Result<(), StoreError> {
    let mut jobs = Vec::new();
    let mut slots = Vec::new();
    for (i, p) in batch.iter_mut().enumerate() {
        let Ok(p) = p else { continue };
        let Ok(decls) = &p.decls else {
            continue;
        };
        for (j, (signer, decl)) in p.signers.iter().zip(decls).enumerate() {
            let account = match auth::state::get_account(&mut Unmetered(state), signer).await {
                Ok(Some(a)) => a,
                Ok(None) => continue,
                Err(ExecError::Fatal(e)) => return Err(e),
                Err(ExecError::Tx(_)) => continue,
            };
            let pubkey = match (account.pubkey, decl.pubkey) {
                (Some(known), Some(given)) if known != given => continue,
                (Some(known), _) => known,
                (None, Some(given)) => given,
                (None, None) => continue,
            };
            if known.contains(&p.tx.hash, j, account.account_number, &pubkey) {
                p.verified[j] = Some(Ticket::verified(account.account_number, pubkey));
                continue;
            }
            let doc = sign_doc_bytes(
                &p.tx.body_bytes,
                &p.tx.auth_info_bytes,
                chain_id,
                account.account_number,
            );
            slots.push((i, j, account.account_number, pubkey));
            jobs.push(Job {
                pubkey,
                doc,
                sig: p.tx.signatures[j].clone(),
            });
        }
    }
    if jobs.is_empty() {
        return Ok(());
    }
    let verifier = queue.submit(jobs);
    for (job, (i, j, account_number, pubkey)) in slots.into_iter().enumerate() {
        if let Some(Ok(p)) = batch.get_mut(i) {
            p.verified[j] = Some(Ticket {
                verifier: Some(verifier.clone()),
                job,
                account_number,
                pubkey,
            });
        }
    }
    Ok(())
}
