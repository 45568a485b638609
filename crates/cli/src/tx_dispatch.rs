//! `caspurd tx …`: builds the tx context (node, keyring, chain id, fee, broadcast mode)
//! from flags, the environment and client.toml, and runs the tx command.

use super::*;
use anyhow::{bail, Context, Result};
use output::Format;
use serde_json::json;

/// `caspurd tx …`: `plan-info` answers without a node; every other command signs (or, with
/// `--generate-only`, writes) a tx for the node client.toml or the flags name.
pub(crate) fn run_tx(
    opts: TxOpts,
    command: TxCmd,
    home: &home::Home,
    defaults: &client_config::ClientConfig,
    out: Format,
) -> Result<()> {
    if let TxCmd::Upgrade(upgrade_cmd::UpgradeTx::PlanInfo {
        binary,
        url,
        platform,
    }) = command
    {
        output::outln!("{}", upgrade_cmd::plan_info(&binary, &url, &platform)?);
        return Ok(());
    }
    let client = client::Client::new(opts.node.as_deref().unwrap_or(&defaults.node));
    let backend = match opts.keyring_backend {
        Some(b) => b,
        None => defaults.keyring()?,
    };
    let ring = keys::Keyring::open(&home.0, backend);
    let chain_id = match opts.chain_id {
        Some(c) => c,
        None if !defaults.chain_id.is_empty() => defaults.chain_id.clone(),
        None => client.call("status", json!({}))?["node_info"]["network"]
            .as_str()
            .map(String::from)
            .context("the node did not report its chain id; pass --chain-id")?,
    };
    let wait = client_config::broadcast_waits(
        opts.broadcast_mode
            .as_deref()
            .unwrap_or(&defaults.broadcast_mode),
    )?;
    let fee = commands::FeeOptions {
        fees: opts.fees,
        gas: opts.gas,
        adjustment: opts.gas_adjustment,
        gas_price: opts.gas_prices,
    };
    let tx = commands::TxContext {
        client: &client,
        ring: &ring,
        chain_id: &chain_id,
        fee: &fee,
        memo: &opts.note,
        wait,
        generate_only: opts.generate_only,
    };
    // An unsigned or signed tx is JSON whatever the output format: it is a file to
    // sign or send next.
    let out = if opts.generate_only || matches!(command, TxCmd::Sign { .. }) {
        output::Format::Json
    } else {
        out
    };
    match command {
        TxCmd::Bank(BankTx::Send { args, from }) => {
            let (from, to, amount) = match (args.as_slice(), from) {
                ([f, t, a], None) => (f.clone(), t, a),
                ([t, a], Some(f)) => (f, t, a),
                ([f, t, a], Some(flag)) if *f == flag => (flag, t, a),
                ([_, _, _], Some(_)) => {
                    bail!(
                        "the sender is given twice, differently: drop --from or the first argument"
                    )
                }
                _ => bail!("give the sender: send FROM TO AMOUNT, or send TO AMOUNT --from KEY"),
            };
            output::print(&commands::bank_send(&tx, &from, to, amount)?, out);
        }
        TxCmd::Staking(cmd) => output::print(&staking_cmd::tx(&tx, home, cmd)?, out),
        TxCmd::Gov(cmd) => output::print(&gov_cmd::gov_tx(&tx, cmd)?, out),
        TxCmd::Dcert(cmd) => output::print(&dcert_cmd::tx(&tx, cmd)?, out),
        TxCmd::Upgrade(cmd) => output::print(&upgrade_cmd::tx(&tx, cmd)?, out),
        TxCmd::Incident(cmd) => output::print(&incident_cmd::tx(&tx, cmd)?, out),
        TxCmd::Distribution(cmd) => output::print(&gov_cmd::distribution_tx(&tx, cmd)?, out),
        TxCmd::Slashing(cmd) => output::print(&gov_cmd::slashing_tx(&tx, cmd)?, out),
        TxCmd::Bank(BankTx::MultiSend { args, from, split }) => {
            let (from, rest) = match (from, args.split_first()) {
                (Some(flag), Some((first, rest))) if *first == flag => (flag, rest),
                (Some(flag), _) => (flag, args.as_slice()),
                (None, Some((first, rest))) => (first.clone(), rest),
                (None, None) => bail!("give FROM TO… AMOUNT"),
            };
            let (amount, to) = rest.split_last().context("give TO… AMOUNT")?;
            output::print(&tx_file::multi_send(&tx, &from, to, amount, split)?, out)
        }
        TxCmd::Authz(cmd) => output::print(&tx_file::authz_tx(&tx, cmd)?, out),
        TxCmd::Sign {
            file,
            from,
            output_document,
        } => {
            let offline = opts
                .offline
                .then_some(opts.account_number.zip(opts.sequence))
                .flatten();
            let signed = tx_file::sign(&tx, &file, &from, offline)?;
            match output_document {
                Some(path) => std::fs::write(&path, serde_json::to_string_pretty(&signed)? + "\n")
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => output::print(&signed, out),
            }
        }
        TxCmd::Broadcast { file } => output::print(&tx_file::broadcast_file(&tx, &file)?, out),
    }
    Ok(())
}
