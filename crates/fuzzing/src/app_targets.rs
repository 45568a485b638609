//! Targets over the state machine: tx decoding and stateless checks, the message walker, and
//! every message handler through the router on a small state.

use crate::gen;
use arbitrary::Unstructured;
use caspur_app::context::Unmetered;
use caspur_app::limits::{MAX_NESTING_DEPTH, MAX_TX_MSGS};
use caspur_app::modules::auth;
use caspur_app::modules::staking::GenesisValidator;
use caspur_app::{msg_tree, prepare, router, App, AppGenesis, BlockInfo};
use caspur_store::{MemState, Overlay};
use caspur_types::sign::{sign_tx, TxParams};
use std::sync::OnceLock;

const CHAIN: &str = "caspur-fuzz-1";
const NEXT: BlockInfo = BlockInfo {
    height: 4,
    time_ms: 1_700_000_004_000,
};

/// The txs of blocks 2 and 3: key 1 joins the dCERT (with an encryption key) and key 2
/// reports incident 1 sealed to it, so the incident handlers get past authorization.
fn setup_txs(height: u64) -> Vec<Vec<u8>> {
    use caspur_types::proto::dcert::v1 as dpb;
    use caspur_types::proto::incident::v1 as ipb;
    use caspur_types::sign::to_any;
    let signed = |n: u8, sequence: u64, msg: cosmos_sdk_proto::Any| {
        let params = TxParams {
            chain_id: CHAIN.into(),
            account_number: u64::from(n - 1),
            sequence,
            fee: caspur_types::Coins::default(),
            gas_limit: 10_000_000,
            memo: String::new(),
            include_pubkey: true,
        };
        sign_tx(&gen::key(n), vec![msg], &params)
    };
    let member = gen::addr(1).to_string();
    let Ok(secret) = caspur_types::seal::SecretKey::parse(&hex::encode([1u8; 32])) else {
        return Vec::new();
    };
    let Ok(public) = secret.public() else {
        return Vec::new();
    };
    match height {
        2 => vec![
            signed(
                1,
                0,
                to_any(
                    "/caspur.dcert.v1.MsgAcceptCandidacy",
                    &dpb::MsgAcceptCandidacy {
                        candidate: member.clone(),
                        description: "fuzz".into(),
                        encryption_key: public.to_hex(),
                    },
                ),
            ),
            signed(
                1,
                1,
                to_any(
                    "/caspur.dcert.v1.MsgBondDcert",
                    &dpb::MsgBondDcert {
                        staker: member.clone(),
                        candidate: member.clone(),
                        amount: Some(caspur_types::Coin::new("ucsp", 10_000_000_000).to_proto()),
                    },
                ),
            ),
        ],
        3 => {
            let Ok((sealed, d)) = caspur_types::seal::seal(b"fuzz report", &[(member, public)])
            else {
                return Vec::new();
            };
            let report = ipb::MsgReportIncident {
                reporter: gen::addr(2).to_string(),
                severity_claim: ipb::Severity::High as i32,
                public_title: "fuzz".into(),
                sealed_report: Some(sealed),
                commitment: caspur_types::seal::commitment(&d.salt, &d.report),
            };
            vec![signed(
                2,
                0,
                to_any("/caspur.incident.v1.MsgReportIncident", &report),
            )]
        }
        _ => Vec::new(),
    }
}

/// The small state: keys 1–4 funded, key 1 a bonded validator and the dCERT's one member,
/// incident 1 reported by key 2, after three blocks.
pub fn chain() -> &'static (App, MemState) {
    static CHAIN_STATE: OnceLock<(App, MemState)> = OnceLock::new();
    CHAIN_STATE.get_or_init(|| {
        let accounts: Vec<_> = (1..=gen::KEYS).map(gen::addr).collect();
        let mut genesis = AppGenesis::funded(&accounts, 1_000_000_000_000);
        genesis.staking.validators = vec![GenesisValidator {
            operator: gen::addr(1).to_string(),
            consensus_pubkey: "01".repeat(32),
            moniker: "one".into(),
            commission_rate: "0.1".into(),
            self_delegation: "10000000000".into(),
        }];
        let app = App::new(CHAIN, Some(100_000_000), genesis);
        let mut state = MemState::default();
        for height in 1..NEXT.height {
            let info = BlockInfo {
                height,
                time_ms: NEXT.time_ms - 1000 * (NEXT.height - height),
            };
            let txs = setup_txs(height);
            let writes = futures::executor::block_on(async {
                let mut overlay = Overlay::new(&state);
                app.execute_block(&mut overlay, &info, &txs)
                    .await
                    .map(|r| (r, overlay.into_writes()))
            });
            match writes {
                Ok((results, w)) if results.iter().all(|r| r.code == 0) => state.apply(&w),
                Ok((results, _)) => panic!("the fuzz chain's setup failed: {results:?}"),
                Err(e) => panic!("the fuzz chain's genesis does not execute: {e}"),
            }
        }
        (app, state)
    })
}

/// Tx bytes → decode (strict) → stateless checks (sizes, signatures' shape, the walker).
pub fn tx_decode(data: &[u8]) {
    let params = auth::AuthParams::default();
    if let Ok(p) = prepare::prepare_tx(data, &params, NEXT.height) {
        // What decodes strictly is exactly its canonical encoding (the body aside, which may
        // carry the SDK's non-critical fields): the signed bytes are the bytes nodes interpret.
        let again = cosmos_sdk_proto::cosmos::tx::v1beta1::TxRaw {
            body_bytes: p.tx.body_bytes.clone(),
            auth_info_bytes: prost::Message::encode_to_vec(&p.tx.auth_info),
            signatures: p.tx.signatures.clone(),
        };
        assert_eq!(
            prost::Message::encode_to_vec(&again),
            data,
            "a strictly decoded tx is not canonical"
        );
    }
}

/// A generated tree of messages (containers nested in containers) → the walker; what it
/// accepts respects the depth and count bounds.
pub fn msg_walker(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(msgs) = nested_tree(&mut u, 0) else {
        return;
    };
    if let Ok(nodes) = msg_tree::walk(&msgs, 0) {
        assert!(nodes.len() <= MAX_TX_MSGS);
        assert!(nodes.iter().all(|n| n.depth <= MAX_NESTING_DEPTH));
    }
}

fn nested_tree(
    u: &mut Unstructured<'_>,
    level: usize,
) -> arbitrary::Result<Vec<cosmos_sdk_proto::Any>> {
    let mut msgs = gen::messages(u, 2)?;
    // Wrap some in authz MsgExec or a gov proposal, beyond the depth bound now and then.
    if level < MAX_NESTING_DEPTH as usize + 2 && u.ratio(1, 2)? {
        let inner = nested_tree(u, level + 1)?;
        let wrapped = if u.ratio(1, 2)? {
            caspur_types::sign::to_any(
                "/cosmos.authz.v1beta1.MsgExec",
                &cosmos_sdk_proto::cosmos::authz::v1beta1::MsgExec {
                    grantee: gen::addr(u.int_in_range(1..=gen::KEYS)?).to_string(),
                    msgs: inner,
                },
            )
        } else {
            caspur_types::sign::to_any(
                "/cosmos.gov.v1.MsgSubmitProposal",
                &cosmos_sdk_proto::cosmos::gov::v1::MsgSubmitProposal {
                    messages: inner,
                    initial_deposit: Vec::new(),
                    proposer: gen::addr(u.int_in_range(1..=gen::KEYS)?).to_string(),
                    metadata: String::new(),
                    title: "t".into(),
                    summary: "s".into(),
                    expedited: u.arbitrary()?,
                },
            )
        };
        msgs.push(wrapped);
    }
    Ok(msgs)
}

/// Generated messages, signed by their signer when it is one of the funded keys, through
/// CheckTx and block execution on the small state: no panic, execution is deterministic (checked
/// on the inputs whose first byte is a multiple of 8), and CheckTx admits exactly what the
/// block executes successfully.
pub fn msg_handlers(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(msgs) = gen::messages(&mut u, 3) else {
        return;
    };
    let (app, state) = chain();
    let signer = msgs
        .first()
        .and_then(|m| router::signers_of(m).ok())
        .and_then(|s| s.first().cloned())
        .and_then(|a| (1..=gen::KEYS).find(|n| gen::addr(*n) == a))
        .unwrap_or(1);
    let sequence = futures::executor::block_on(auth::state::get_account(
        &mut Unmetered(state),
        &gen::addr(signer),
    ))
    .ok()
    .flatten()
    .map_or(0, |a| a.sequence);
    let raw = sign_tx(
        &gen::key(signer),
        msgs,
        &TxParams {
            chain_id: CHAIN.into(),
            account_number: u64::from(signer - 1),
            sequence,
            fee: caspur_types::Coins::default(),
            gas_limit: 10_000_000,
            memo: String::new(),
            include_pubkey: true,
        },
    );
    let run = || {
        futures::executor::block_on(async {
            let mut overlay = Overlay::new(state);
            let results = app
                .execute_block(&mut overlay, &NEXT, std::slice::from_ref(&raw))
                .await;
            results.map(|r| (r, overlay.into_writes()))
        })
    };
    let first = run();
    // Determinism is checked on one input in eight (chosen by the input, so a failure
    // reproduces): executing twice doubles the cost of every input.
    if data.first().is_some_and(|b| b % 8 == 0) {
        assert_eq!(first, run(), "execution is not deterministic");
    }
    let checked = futures::executor::block_on(async {
        let mut overlay = Overlay::new(state);
        app.check_tx(&mut overlay, &raw, &NEXT, None).await
    });
    if let Ok((results, _)) = &first {
        let executed_ok = results.first().is_some_and(|r| r.code == 0);
        assert_eq!(
            checked.is_ok(),
            executed_ok,
            "CheckTx and the block disagree: {checked:?} vs {:?}",
            results.first().map(|r| (&r.code, &r.log))
        );
    }
}
