//! Block preparation: decode and statelessly check every tx, then verify all signatures in
//! parallel against the account numbers and keys in the state *before* the block.
//!
//! Verification is a pure function of (key, sign doc, signature), so doing it early on other
//! threads cannot change any outcome: the ante handler still runs in order and skips the
//! verification only when the account number and key it sees at execution time are exactly
//! the ones verified here (an account created or re-keyed earlier in the same block is simply
//! verified again, in order).

use crate::ante;
use crate::context::Unmetered;
use crate::modules::auth::{self, AuthParams};
use caspur_store::{StateRead, StoreError};
use caspur_types::tx::{decode_tx, sign_doc_bytes, verify_secp256k1, DecodedTx};
use caspur_types::{Address, Coins, ErrorCode, TxError};

/// A signature already checked: valid for this account number and key.
pub type Verified = Option<(u64, [u8; 33])>;

/// A tx ready for in-order execution.
pub struct Prepared {
    /// The decoded tx.
    pub tx: DecodedTx,
    /// Its signers, in order.
    pub signers: Vec<Address>,
    /// Its fee.
    pub fee: Coins,
    /// Its gas limit.
    pub gas_limit: u64,
    /// Per signer, what its signature was verified against (if it was).
    pub verified: Vec<Verified>,
}

/// Decodes and statelessly checks one tx.
pub fn prepare_tx(raw: &[u8], params: &AuthParams, height: u64) -> Result<Prepared, TxError> {
    let tx = decode_tx(raw, params.max_tx_bytes as usize)?;
    let signers = ante::check_stateless(&tx, params, height)?;
    let (fee, gas_limit) = ante::check_fee(&tx, None)?;
    let verified = vec![None; signers.len()];
    Ok(Prepared {
        tx,
        signers,
        fee,
        gas_limit,
        verified,
    })
}

struct Job {
    tx: usize,
    signer: usize,
    account_number: u64,
    pubkey: [u8; 33],
    doc: Vec<u8>,
}

/// Below this many signatures, threads cost more than they save.
const PARALLEL_THRESHOLD: usize = 16;

/// Prepares every tx of a block; signatures are verified on all cores.
pub async fn prepare_block<B: StateRead>(
    state: &B,
    chain_id: &str,
    height: u64,
    txs: &[Vec<u8>],
) -> Result<Vec<Result<Prepared, TxError>>, StoreError> {
    let io = |e: TxError| StoreError(e.message);
    let params = auth::state::get_params(&mut Unmetered(state))
        .await
        .map_err(io)?;
    let mut prepared: Vec<Result<Prepared, TxError>> = txs
        .iter()
        .map(|raw| prepare_tx(raw, &params, height))
        .collect();

    let mut jobs = Vec::new();
    for (i, p) in prepared.iter().enumerate() {
        let Ok(p) = p else { continue };
        let Ok(decls) = p.tx.signer_decls() else {
            continue;
        };
        for (j, (signer, decl)) in p.signers.iter().zip(&decls).enumerate() {
            let account = match auth::state::get_account(&mut Unmetered(state), signer).await {
                Ok(Some(a)) => a,
                Ok(None) => continue,
                Err(e) if e.code == ErrorCode::Io => return Err(io(e)),
                Err(_) => continue,
            };
            let pubkey = match (account.pubkey, decl.pubkey) {
                (Some(known), Some(given)) if known != given => continue,
                (Some(known), _) => known,
                (None, Some(given)) => given,
                (None, None) => continue,
            };
            let doc = sign_doc_bytes(
                &p.tx.body_bytes,
                &p.tx.auth_info_bytes,
                chain_id,
                account.account_number,
            );
            jobs.push(Job {
                tx: i,
                signer: j,
                account_number: account.account_number,
                pubkey,
                doc,
            });
        }
    }

    let sig = |job: &Job, prepared: &[Result<Prepared, TxError>]| -> bool {
        match &prepared[job.tx] {
            Ok(p) => verify_secp256k1(&job.pubkey, &job.doc, &p.tx.signatures[job.signer]).is_ok(),
            Err(_) => false,
        }
    };
    let outcomes: Vec<bool> = if jobs.len() < PARALLEL_THRESHOLD {
        jobs.iter().map(|j| sig(j, &prepared)).collect()
    } else {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = jobs.len().div_ceil(threads);
        let shared = &prepared;
        std::thread::scope(|s| {
            let handles: Vec<_> = jobs
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || part.iter().map(|j| sig(j, shared)).collect::<Vec<bool>>())
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("verification thread"))
                .collect()
        })
    };
    for (job, ok) in jobs.iter().zip(outcomes) {
        if let (true, Ok(p)) = (ok, &mut prepared[job.tx]) {
            p.verified[job.signer] = Some((job.account_number, job.pubkey));
        }
    }
    Ok(prepared)
}
