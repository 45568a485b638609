//! `cosmos.tx.v1beta1.Service/Simulate`: runs a tx as the next block would, on a throwaway
//! layer over committed state, without checking its signatures, and reports the gas it used.
//! Wallets call it to size the gas limit before signing ("auto" fees), so it must charge
//! exactly what execution charges, signature verification gas included.

use crate::error::ExecError;
use crate::modules::auth::{self, state as accounts};
use crate::modules::bank::state as bank;
use crate::prepare::{Prepared, Ticket};
use crate::{context::Unmetered, App, BlockInfo, TxResult};
use caspur_store::{Overlay, StateRead};
use caspur_types::tx::decode_tx;
use caspur_types::{Coin, Coins, ErrorCode, TxError, STAKE_DENOM};
use cosmos_sdk_proto::cosmos::base::abci::v1beta1::{GasInfo, Result as AbciResult};
use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode;
use cosmos_sdk_proto::cosmos::tx::v1beta1::mode_info::Sum;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{SimulateRequest, SimulateResponse};
use prost::Message as _;

/// The query path.
pub const SIMULATE_PATH: &str = "/cosmos.tx.v1beta1.Service/Simulate";

/// Bytes of a secp256k1 signature (what an empty simulated signature will become).
const SIGNATURE_BYTES: usize = 64;

/// Gas limit a simulation runs under (the tx's own limit is not known yet).
const SIMULATION_GAS: u64 = 1 << 40;

impl App {
    /// Simulates the tx in a `SimulateRequest` (`tx_bytes`, or the deprecated `tx`) as part of
    /// `next_block`; a tx that would fail returns its error (a storage fault: `Io`).
    pub async fn simulate<S: StateRead>(
        &self,
        state: &S,
        request: &[u8],
        next_block: &BlockInfo,
    ) -> Result<Vec<u8>, TxError> {
        let request = SimulateRequest::decode(request)
            .map_err(|e| TxError::decode(format!("invalid SimulateRequest: {e}")))?;
        #[allow(deprecated)]
        let raw = match (request.tx_bytes.is_empty(), request.tx) {
            (false, _) => request.tx_bytes,
            (true, Some(tx)) => tx.encode_to_vec(),
            (true, None) => return Err(TxError::invalid_request("empty tx")),
        };
        let result = self.simulate_tx(state, &raw, next_block).await?;
        if result.code != 0 {
            return Err(TxError {
                code: ErrorCode::from_code(result.code).unwrap_or(ErrorCode::Logic),
                message: result.log,
            });
        }
        Ok(SimulateResponse {
            gas_info: Some(GasInfo {
                gas_wanted: result.gas_wanted,
                gas_used: result.gas_used,
            }),
            result: Some(empty_result()),
        }
        .encode_to_vec())
    }

    /// Runs `raw` with every signature treated as valid; the state is left untouched.
    pub async fn simulate_tx<S: StateRead>(
        &self,
        state: &S,
        raw: &[u8],
        next_block: &BlockInfo,
    ) -> Result<TxResult, TxError> {
        self.simulated(state, raw, next_block)
            .await
            .map_err(ExecError::into_reply)
    }

    async fn simulated<S: StateRead>(
        &self,
        state: &S,
        raw: &[u8],
        next_block: &BlockInfo,
    ) -> Result<TxResult, ExecError> {
        let params = auth::state::get_params(&mut Unmetered(state)).await?;
        let mut tx = decode_tx(raw, params.max_tx_bytes as usize)?;
        // Clients simulate with `SIGN_MODE_UNSPECIFIED` and empty signatures; signatures are
        // not checked here, so the mode only has to pass the shape check.
        for info in &mut tx.auth_info.signer_infos {
            if let Some(Sum::Single(single)) = info.mode_info.as_mut().and_then(|m| m.sum.as_mut())
            {
                if single.mode == SignMode::Unspecified as i32 {
                    single.mode = SignMode::Direct as i32;
                }
            }
        }
        let signers = crate::ante::check_stateless(&tx, &params, next_block.height)?;
        let (mut fee, _) = tx.fee()?;
        // Charge what the signed tx will cost: its signatures' bytes, and a fee transfer when
        // the payer can afford one (clients simulate with an empty fee and empty signatures).
        let missing = tx.signatures.iter().filter(|s| s.is_empty()).count();
        tx.size += missing * SIGNATURE_BYTES;
        if fee.is_empty() {
            if let Some(payer) = signers.first() {
                let spendable =
                    bank::get_balance(&mut Unmetered(state), payer, STAKE_DENOM).await?;
                if spendable > 0 {
                    fee = Coins::normalize([Coin::new(STAKE_DENOM, 1)])?;
                }
            }
        }
        // A ticket for the key the ante handler will check makes it skip verification (but
        // still charge its gas).
        let decls = tx.signer_decls()?;
        let mut verified = Vec::with_capacity(signers.len());
        for (signer, decl) in signers.iter().zip(&decls) {
            let account = accounts::get_account(&mut Unmetered(state), signer).await?;
            verified.push(account.and_then(|a| {
                a.pubkey
                    .or(decl.pubkey)
                    .map(|key| Ticket::verified(a.account_number, key))
            }));
        }
        let prepared = Prepared {
            tx,
            signers,
            fee,
            gas_limit: SIMULATION_GAS,
            decls: Ok(decls),
            verified,
        };
        let mut layer = Overlay::new(state);
        Ok(self.deliver_tx(&mut layer, next_block, prepared).await?)
    }
}

// `data` is deprecated in the SDK's proto but still a field to fill.
#[allow(deprecated)]
fn empty_result() -> AbciResult {
    AbciResult {
        data: Vec::new(),
        log: String::new(),
        events: Vec::new(),
        msg_responses: Vec::new(),
    }
}
