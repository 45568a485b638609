//! The ante handler: everything a tx must satisfy before its messages run — size, memo,
//! signer set, fee, account existence, public key, sequence and signatures. Its writes (fee
//! and sequence) persist even when a message later fails, which is what makes replay protection
//! and fee payment unconditional.

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::auth::{state as auth, AuthParams};
use crate::modules::bank::state as bank;
use base64::Engine as _;
use caspur_store::StateRead;
use caspur_types::tx::{sign_doc_bytes, verify_secp256k1, DecodedTx};
use caspur_types::{Address, Coins, Dec, Event, STAKE_DENOM};

/// The module account that collects fees (`sha256("fee_collector")[..20]`, as in Cosmos).
pub fn fee_collector() -> Address {
    static FEE_COLLECTOR: std::sync::LazyLock<Address> = std::sync::LazyLock::new(|| {
        use sha2::{Digest, Sha256};
        let h = Sha256::digest(b"fee_collector");
        let mut a = [0u8; 20];
        a.copy_from_slice(&h[..20]);
        Address(a)
    });
    *FEE_COLLECTOR
}

/// Checks that need no state, on a decoded tx. Returns the ordered, de-duplicated signers.
pub fn check_stateless(
    tx: &DecodedTx,
    params: &AuthParams,
    height: u64,
) -> Result<Vec<Address>, ExecError> {
    if tx.body.memo.chars().count() as u64 > params.max_memo_characters {
        return Err(ExecError::memo_too_large(format!(
            "memo is {} characters, the limit is {}",
            tx.body.memo.chars().count(),
            params.max_memo_characters
        )));
    }
    if tx.signatures.len() as u64 > params.tx_sig_limit {
        return Err(ExecError::too_many_signatures(format!(
            "{} signatures, the limit is {}",
            tx.signatures.len(),
            params.tx_sig_limit
        )));
    }
    check_timeout(tx, height)?;
    // The whole message tree is walked (and bounded) here, before any state is read.
    let signers = crate::msg_tree::tx_signers(&tx.body.messages)?;
    if signers.len() != tx.signatures.len() {
        return Err(ExecError::unauthorized(format!(
            "wrong number of signatures; expected {}, got {}",
            signers.len(),
            tx.signatures.len()
        )));
    }
    Ok(signers)
}

/// The one stateless check that depends on the block: a tx with a timeout height is refused
/// in any later block.
pub fn check_timeout(tx: &DecodedTx, height: u64) -> Result<(), ExecError> {
    if tx.body.timeout_height != 0 && height > tx.body.timeout_height {
        return Err(ExecError::timeout_height(format!(
            "block height {height} is past the tx's timeout height {}",
            tx.body.timeout_height
        )));
    }
    Ok(())
}

/// The fee a tx declares and its gas limit, checked for shape.
pub fn check_fee(tx: &DecodedTx) -> Result<(Coins, u64), ExecError> {
    let (fee, gas_limit) = tx.fee()?;
    if gas_limit == 0 {
        return Err(ExecError::invalid_gas_limit("gas limit must be positive"));
    }
    if let Some(f) = &tx.auth_info.fee {
        if !f.payer.is_empty() || !f.granter.is_empty() {
            return Err(ExecError::not_supported(
                "fee payer and fee granter are not supported",
            ));
        }
    }
    if let Some(c) = fee.as_slice().iter().find(|c| c.denom != STAKE_DENOM) {
        return Err(ExecError::insufficient_fee(format!(
            "fees are paid in {STAKE_DENOM}, not {}",
            c.denom
        )));
    }
    Ok((fee, gas_limit))
}

/// A node's fee floor (CheckTx only, as in Cosmos): `fee` must pay `min_gas_price` for each
/// unit of `gas_limit`.
pub fn check_min_gas_price(
    fee: &Coins,
    gas_limit: u64,
    min_gas_price: Dec,
) -> Result<(), ExecError> {
    let required = min_gas_price
        .mul_int_ceil(gas_limit as u128)
        .ok_or_else(|| ExecError::invalid_gas_limit("gas limit too large"))?;
    let paid = fee.amount_of(STAKE_DENOM);
    if paid < required {
        return Err(ExecError::insufficient_fee(format!(
            "insufficient fees; got: {paid}{STAKE_DENOM} required: {required}{STAKE_DENOM}"
        )));
    }
    Ok(())
}

/// Stateful ante checks and their writes: fee deduction, public keys, sequences, signatures.
/// Returns, per signer, the account number and key its signature is valid for.
pub async fn check_and_apply<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    p: &crate::prepare::Prepared,
    verified: &[Option<crate::prepare::Ticket>],
) -> Result<Vec<crate::prepare::Ticket>, ExecError> {
    let (tx, signers, fee) = (&p.tx, &p.signers, &p.fee);
    let costs = ctx.costs();
    ctx.gas
        .consume(costs.tx_size_per_byte * tx.size as u64, "txSize")?;
    let decls = p.decls.as_ref().map_err(|e| e.clone())?;
    let payer = signers[0];
    // Every signer's account must exist; each is read once here.
    let mut accounts = Vec::with_capacity(signers.len());
    for signer in signers {
        accounts.push(
            auth::get_account(ctx, signer)
                .await?
                .ok_or_else(|| unknown_account(signer))?,
        );
    }
    if !fee.is_empty() {
        bank::sub_coins(ctx, &payer, fee).await.map_err(|e| {
            e.map_tx(|e| {
                caspur_types::TxError::insufficient_funds(format!(
                    "{payer} cannot pay the fee {fee}: {}",
                    e.message
                ))
            })
        })?;
        bank::add_coins(ctx, &fee_collector(), fee).await?;
    }
    ctx.emit_with(|| {
        Event::new("tx")
            .attr("fee", fee.to_string())
            .attr("fee_payer", payer.to_string())
    });
    let mut valid = Vec::with_capacity(signers.len());
    let signed = signers.iter().zip(decls).zip(&tx.signatures).zip(accounts);
    for (i, (((signer, decl), sig), mut account)) in signed.enumerate() {
        let pubkey = match (account.pubkey, decl.pubkey) {
            (Some(known), Some(given)) if known != given => {
                return Err(ExecError::invalid_pubkey(format!(
                    "pubkey does not match the one recorded for {signer}"
                )))
            }
            (Some(known), _) => known,
            (None, Some(given)) => {
                if Address::from_pubkey(&given) != *signer {
                    return Err(ExecError::invalid_pubkey(format!(
                        "pubkey does not belong to signer {signer}"
                    )));
                }
                given
            }
            (None, None) => {
                return Err(ExecError::invalid_pubkey(format!(
                    "the first tx of {signer} must carry its pubkey"
                )))
            }
        };
        if decl.sequence != account.sequence {
            return Err(ExecError::wrong_sequence(format!(
                "account sequence mismatch, expected {}, got {}",
                account.sequence, decl.sequence
            )));
        }
        ctx.gas.consume(
            costs.sig_verify_secp256k1,
            "secp256k1 signature verification",
        )?;
        let already = verified
            .get(i)
            .and_then(Option::as_ref)
            .is_some_and(|t| t.valid_for(account.account_number, &pubkey));
        if !already {
            let doc = sign_doc_bytes(
                &tx.body_bytes,
                &tx.auth_info_bytes,
                ctx.chain_id,
                account.account_number,
            );
            verify_secp256k1(&pubkey, &doc, sig).map_err(|e| {
                ExecError::unauthorized(format!(
                    "{}; please verify account number ({}) and chain-id ({})",
                    e.message, account.account_number, ctx.chain_id
                ))
            })?;
        }
        let sequence = account.sequence;
        ctx.emit_with(|| Event::new("tx").attr("acc_seq", format!("{signer}/{sequence}")));
        ctx.emit_with(|| {
            let sig = base64::engine::general_purpose::STANDARD.encode(sig);
            Event::new("tx").attr("signature", sig)
        });
        valid.push(crate::prepare::Ticket::verified(
            account.account_number,
            pubkey,
        ));
        account.pubkey = Some(pubkey);
        account.sequence += 1;
        auth::set_account(ctx, &account)?;
    }
    Ok(valid)
}

fn unknown_account(addr: &Address) -> ExecError {
    ExecError::unknown_address(format!(
        "account {addr} does not exist; it must receive coins first"
    ))
}
