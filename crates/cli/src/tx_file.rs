//! Offline and delegated signing, the SDK's way: `tx sign` signs a tx file (from
//! `--generate-only` or another wallet), `tx broadcast` sends a signed one, `tx authz`
//! grants, revokes and uses authorizations, `tx bank multi-send` pays several recipients
//! in one message.

use crate::commands::{account, broadcast, positive_coins, TxContext};
use crate::tx_json::{read_tx_file, tx_to_json};
use anyhow::{anyhow, bail, Result};
use caspur_types::sign::{sign_parts, signer_info, to_any};
use caspur_types::Address;
use clap::Subcommand;
use cosmos_sdk_proto::cosmos::authz::v1beta1 as authz;
use cosmos_sdk_proto::cosmos::bank::v1beta1 as bank;
use cosmos_sdk_proto::cosmos::tx::v1beta1::TxRaw;
use prost::Message as _;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Most recipients of one `multi-send`.
pub const MAX_MULTI_SEND_RECIPIENTS: usize = 1_000;

/// `tx authz …`.
#[derive(Subcommand)]
pub enum AuthzTx {
    /// Let GRANTEE send messages of one type for you: `grant GRANTEE generic --msg-type URL`.
    Grant {
        /// The grantee's address.
        grantee: String,
        /// The authorization kind (`generic`: any message of `--msg-type`).
        kind: String,
        /// The message type URL granted, e.g. /cosmos.bank.v1beta1.MsgSend.
        #[arg(long)]
        msg_type: String,
        /// When the grant lapses, in Unix seconds (none: never).
        #[arg(long)]
        expiration: Option<u64>,
        /// Granter key name.
        #[arg(long)]
        from: String,
    },
    /// Withdraw GRANTEE's authorization for MSG_TYPE.
    Revoke {
        /// The grantee's address.
        grantee: String,
        /// The message type URL.
        msg_type: String,
        /// Granter key name.
        #[arg(long)]
        from: String,
    },
    /// Send, as grantee, the messages of a tx file (from `--generate-only` by the granter's
    /// address) under your grants.
    Exec {
        /// The tx file whose messages are executed.
        file: PathBuf,
        /// Grantee key name.
        #[arg(long)]
        from: String,
    },
}

/// Runs an authz tx command.
pub fn authz_tx(ctx: &TxContext<'_>, cmd: AuthzTx) -> Result<Value> {
    match cmd {
        AuthzTx::Grant {
            grantee,
            kind,
            msg_type,
            expiration,
            from,
        } => {
            if kind != "generic" {
                bail!("only `generic` authorizations exist on this chain, not {kind:?}");
            }
            account_address(&grantee)?;
            let authorization = to_any(
                "/cosmos.authz.v1beta1.GenericAuthorization",
                &authz::GenericAuthorization { msg: msg_type },
            );
            let expiration = expiration
                .map(|secs| {
                    i64::try_from(secs)
                        .map(|seconds| cosmos_sdk_proto::Timestamp { seconds, nanos: 0 })
                        .map_err(|_| anyhow!("--expiration is too large"))
                })
                .transpose()?;
            ctx.send(&from, |me| {
                Ok(vec![to_any(
                    "/cosmos.authz.v1beta1.MsgGrant",
                    &authz::MsgGrant {
                        granter: me.to_string(),
                        grantee,
                        grant: Some(authz::Grant {
                            authorization: Some(authorization),
                            expiration,
                        }),
                    },
                )])
            })
        }
        AuthzTx::Revoke {
            grantee,
            msg_type,
            from,
        } => {
            account_address(&grantee)?;
            ctx.send(&from, |me| {
                Ok(vec![to_any(
                    "/cosmos.authz.v1beta1.MsgRevoke",
                    &authz::MsgRevoke {
                        granter: me.to_string(),
                        grantee,
                        msg_type_url: msg_type,
                    },
                )])
            })
        }
        AuthzTx::Exec { file, from } => {
            let (body, _, _) = read_tx_file(&file)?;
            if body.messages.is_empty() {
                bail!("{} carries no messages", file.display());
            }
            ctx.send(&from, |me| {
                Ok(vec![to_any(
                    "/cosmos.authz.v1beta1.MsgExec",
                    &authz::MsgExec {
                        grantee: me.to_string(),
                        msgs: body.messages,
                    },
                )])
            })
        }
    }
}

fn account_address(s: &str) -> Result<Address> {
    Address::parse_account(s).map_err(|e| anyhow!("{s:?}: {e}"))
}

/// `tx bank multi-send FROM TO… AMOUNT`: each recipient gets AMOUNT (with `split`, AMOUNT is
/// divided among them, the remainder staying with the sender).
pub fn multi_send(
    ctx: &TxContext<'_>,
    from: &str,
    recipients: &[String],
    amount: &str,
    split: bool,
) -> Result<Value> {
    if recipients.is_empty() || recipients.len() > MAX_MULTI_SEND_RECIPIENTS {
        bail!("give between 1 and {MAX_MULTI_SEND_RECIPIENTS} recipients");
    }
    let recipients = recipients
        .iter()
        .map(|r| account_address(r))
        .collect::<Result<Vec<_>>>()?;
    let coins = positive_coins(amount)?;
    let n = recipients.len() as u128;
    let each: Vec<_> = coins
        .to_proto()
        .into_iter()
        .map(|mut c| {
            if split {
                let total: u128 = c.amount.parse().unwrap_or(0);
                c.amount = (total / n).to_string();
            }
            c
        })
        .collect();
    if each.iter().any(|c| c.amount == "0") {
        bail!("{amount} split {n} ways leaves a recipient nothing");
    }
    let total: Vec<_> = each
        .iter()
        .map(|c| {
            let one: u128 = c.amount.parse().unwrap_or(0);
            cosmos_sdk_proto::cosmos::base::v1beta1::Coin {
                denom: c.denom.clone(),
                amount: (one * n).to_string(),
            }
        })
        .collect();
    ctx.send(from, |me| {
        Ok(vec![to_any(
            "/cosmos.bank.v1beta1.MsgMultiSend",
            &bank::MsgMultiSend {
                inputs: vec![bank::Input {
                    address: me.to_string(),
                    coins: total,
                }],
                outputs: recipients
                    .iter()
                    .map(|r| bank::Output {
                        address: r.to_string(),
                        coins: each.clone(),
                    })
                    .collect(),
            },
        )])
    })
}

/// `tx sign FILE --from KEY`: the tx signed by KEY (single signer, direct mode), as JSON. The
/// account number and sequence come from the chain, or from `offline` (`--offline
/// --account-number N --sequence N`).
pub fn sign(
    ctx: &TxContext<'_>,
    file: &Path,
    from: &str,
    offline: Option<(u64, u64)>,
) -> Result<Value> {
    let (body, mut auth, _) = read_tx_file(file)?;
    let key = ctx.ring.signer(from)?;
    let (account_number, sequence) = match offline {
        Some(numbers) => numbers,
        None => {
            let me = key.address().to_string();
            let acct = account(ctx.client, &me)?
                .ok_or_else(|| anyhow!("account {me} does not exist on chain yet"))?;
            (acct.account_number, acct.sequence)
        }
    };
    auth.signer_infos = vec![signer_info(&key, sequence)];
    let signature = sign_parts(
        &key,
        &body.encode_to_vec(),
        &auth.encode_to_vec(),
        ctx.chain_id,
        account_number,
    );
    Ok(tx_to_json(&body, &auth, &[signature.to_vec()]))
}

/// `tx broadcast FILE`: sends a signed tx file.
pub fn broadcast_file(ctx: &TxContext<'_>, file: &Path) -> Result<Value> {
    let (body, auth, signatures) = read_tx_file(file)?;
    if signatures.is_empty() {
        bail!(
            "{} is not signed: run `caspurd tx sign` first",
            file.display()
        );
    }
    let raw = TxRaw {
        body_bytes: body.encode_to_vec(),
        auth_info_bytes: auth.encode_to_vec(),
        signatures,
    };
    broadcast(ctx.client, &raw.encode_to_vec(), ctx.wait)
}
