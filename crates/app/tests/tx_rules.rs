//! The tx acceptance rules: every rejection has its specific code and changes nothing; a
//! failing message keeps only fee and sequence; nested messages pass the circuit breaker.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use caspur_app::modules::bank::GenesisCoin;
use caspur_app::modules::circuit::state::{set_broken, BrokenRoute};
use caspur_app::{context::Direct, App, AppGenesis, BlockInfo};
use caspur_store::{MemState, Overlay, StateRead};
use caspur_types::sign::{sign_tx, to_any, AccountKey, TxParams};
use caspur_types::tx::sign_doc_bytes;
use caspur_types::{Coins, Dec, ErrorCode};
use cosmos_sdk_proto::cosmos::authz::v1beta1::MsgExec;
use cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend;
use cosmos_sdk_proto::cosmos::tx::v1beta1::TxRaw;
use prost::Message;

const CHAIN: &str = "caspur-test-1";

fn key(n: u8) -> AccountKey {
    AccountKey::from_secret(&[n; 32]).unwrap()
}

fn genesis() -> AppGenesis {
    AppGenesis::funded(&[key(1).address(), key(2).address()], 1_000_000_000)
}

fn state() -> MemState {
    futures::executor::block_on(async {
        let base = MemState::default();
        let mut o = Overlay::new(&base);
        genesis().init(&mut o, &GENESIS_BLOCK, CHAIN).await.unwrap();
        let w = o.into_writes();
        let mut s = MemState::default();
        s.apply(&w);
        s
    })
}

fn send(from: &AccountKey, to: &AccountKey, amount: u128) -> cosmos_sdk_proto::Any {
    to_any(
        "/cosmos.bank.v1beta1.MsgSend",
        &MsgSend {
            from_address: from.address().to_string(),
            to_address: to.address().to_string(),
            amount: Coins::normalize([caspur_types::Coin::new("ucsp", amount)])
                .unwrap()
                .to_proto(),
        },
    )
}

fn params(account_number: u64, sequence: u64) -> TxParams {
    TxParams {
        chain_id: CHAIN.into(),
        account_number,
        sequence,
        fee: "5000ucsp".parse().unwrap(),
        gas_limit: 200_000,
        memo: String::new(),
        include_pubkey: true,
    }
}

const GENESIS_BLOCK: BlockInfo = BlockInfo {
    height: 1,
    time_ms: 1_700_000_000_000,
};

const BLOCK: BlockInfo = BlockInfo {
    height: 2,
    time_ms: 1_700_000_000_000,
};

fn app() -> App {
    App::new(CHAIN, Some(10_000_000), genesis())
}

fn check(s: &MemState, raw: &[u8]) -> Result<(), (ErrorCode, String)> {
    futures::executor::block_on(async {
        let mut o = Overlay::new(s);
        let r = app()
            .check_tx(&mut o, raw, &BLOCK, Some("0.0025".parse::<Dec>().unwrap()))
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(e) => {
                assert!(
                    o.into_writes().is_empty(),
                    "a rejected tx must change nothing"
                );
                Err((e.code, e.message))
            }
        }
    })
}

fn code(s: &MemState, raw: &[u8]) -> ErrorCode {
    check(s, raw).expect_err("tx must be rejected").0
}

#[test]
fn valid_tx_is_admitted() {
    let s = state();
    check(
        &s,
        &sign_tx(&key(1), vec![send(&key(1), &key(3), 10)], &params(0, 0)),
    )
    .unwrap();
}

#[test]
fn rejections_have_specific_codes() {
    let s = state();
    let k = key(1);
    let good = |p: &TxParams| sign_tx(&k, vec![send(&k, &key(3), 10)], p);

    // Bad signature: flip a bit of a valid one.
    let mut raw = TxRaw::decode(good(&params(0, 0)).as_slice()).unwrap();
    raw.signatures[0][5] ^= 1;
    assert_eq!(code(&s, &raw.encode_to_vec()), ErrorCode::Unauthorized);

    // Wrong chain id and wrong account number: the signature covers both.
    let mut p = params(0, 0);
    p.chain_id = "other-chain".into();
    let (c, msg) = check(&s, &good(&p)).unwrap_err();
    assert_eq!(c, ErrorCode::Unauthorized);
    assert!(msg.contains("chain-id (caspur-test-1)"), "{msg}");
    assert_eq!(code(&s, &good(&params(7, 0))), ErrorCode::Unauthorized);

    // Skipped sequence, then a reused one after the first is admitted.
    assert_eq!(code(&s, &good(&params(0, 1))), ErrorCode::WrongSequence);
    futures::executor::block_on(async {
        let mut o = Overlay::new(&s);
        let a = app();
        a.check_tx(&mut o, &good(&params(0, 0)), &BLOCK, None)
            .await
            .unwrap();
        let again = a
            .check_tx(&mut o, &good(&params(0, 0)), &BLOCK, None)
            .await
            .unwrap_err();
        assert_eq!(again.code, ErrorCode::WrongSequence);
        a.check_tx(&mut o, &good(&params(0, 1)), &BLOCK, None)
            .await
            .unwrap();
    });

    // Insufficient fee for the node's minimum gas price (200000 × 0.0025 = 500).
    let mut p = params(0, 0);
    p.fee = "499ucsp".parse().unwrap();
    assert_eq!(code(&s, &good(&p)), ErrorCode::InsufficientFee);

    // Insufficient funds to pay the fee.
    let mut p = params(0, 0);
    p.fee = "2000000000ucsp".parse().unwrap();
    assert_eq!(code(&s, &good(&p)), ErrorCode::InsufficientFunds);

    // Unknown message type.
    let unknown = cosmos_sdk_proto::Any {
        type_url: "/cosmos.nope.v1.MsgNope".into(),
        value: vec![],
    };
    assert_eq!(
        code(&s, &sign_tx(&k, vec![unknown], &params(0, 0))),
        ErrorCode::UnknownRequest
    );

    // Malformed protobuf, at the top and inside a message.
    assert_eq!(code(&s, &[0x0a, 0xff, 0xff, 0x01]), ErrorCode::TxDecode);
    let broken = cosmos_sdk_proto::Any {
        type_url: "/cosmos.bank.v1beta1.MsgSend".into(),
        value: vec![0x0a, 0x50],
    };
    assert_eq!(
        code(&s, &sign_tx(&k, vec![broken], &params(0, 0))),
        ErrorCode::TxDecode
    );

    // Oversized body (auth's max_tx_bytes is 1 MiB).
    let mut p = params(0, 0);
    p.memo = "x".repeat(1 << 20);
    assert_eq!(code(&s, &good(&p)), ErrorCode::TxTooLarge);

    // High-S signature: the same signature with s replaced by n - s still verifies
    // mathematically, and must be refused.
    let raw = TxRaw::decode(good(&params(0, 0)).as_slice()).unwrap();
    let sig = k256::ecdsa::Signature::from_slice(&raw.signatures[0]).unwrap();
    let (r, s_scalar) = sig.split_scalars();
    let high = k256::ecdsa::Signature::from_scalars(r, -*s_scalar).unwrap();
    let mut raw_high = raw.clone();
    raw_high.signatures[0] = high.to_bytes().to_vec();
    let (c, msg) = check(&s, &raw_high.encode_to_vec()).unwrap_err();
    assert_eq!(c, ErrorCode::Unauthorized);
    assert!(msg.contains("low-S"), "{msg}");
    // Sanity: the sign doc the node rebuilds is the one the wallet signed.
    let doc = sign_doc_bytes(&raw.body_bytes, &raw.auth_info_bytes, CHAIN, 0);
    assert_eq!(key(1).sign(&doc).to_vec(), raw.signatures[0]);

    // Unknown signer account (never received coins).
    let stranger = key(9);
    assert_eq!(
        code(
            &s,
            &sign_tx(&stranger, vec![send(&stranger, &k, 1)], &params(0, 0))
        ),
        ErrorCode::UnknownAddress
    );
}

async fn balance(s: &impl StateRead, k: &AccountKey) -> u128 {
    let mut kv = caspur_app::context::Unmetered(s);
    caspur_app::modules::bank::state::get_balance(&mut kv, &k.address(), "ucsp")
        .await
        .unwrap()
}

#[test]
fn failed_message_keeps_only_fee_and_sequence() {
    let s = state();
    futures::executor::block_on(async {
        let mut o = Overlay::new(&s);
        let too_much = sign_tx(
            &key(1),
            vec![send(&key(1), &key(2), 5_000_000_000)],
            &params(0, 0),
        );
        let ok = sign_tx(&key(1), vec![send(&key(1), &key(2), 100)], &params(0, 1));
        let results = app()
            .execute_block(&mut o, &BLOCK, &[too_much, ok])
            .await
            .unwrap();
        assert_eq!(results[0].code, ErrorCode::InsufficientFunds.code());
        assert_eq!(results[1].code, 0, "{}", results[1].log);
        assert!(results[1].gas_used > 0 && results[1].gas_used <= results[1].gas_wanted);
        assert_eq!(
            balance(&o, &key(1)).await,
            1_000_000_000 - 5000 - 5000 - 100
        );
        assert_eq!(balance(&o, &key(2)).await, 1_000_000_000 + 100);
        let acct = caspur_app::modules::auth::state::get_account(
            &mut caspur_app::context::Unmetered(&o),
            &key(1).address(),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(acct.sequence, 2);
        assert_eq!(acct.pubkey, Some(key(1).public_key()));
    });
}

#[test]
fn nested_messages_pass_the_circuit_breaker() {
    let s = state();
    futures::executor::block_on(async {
        let k = key(1);
        let exec = to_any(
            "/cosmos.authz.v1beta1.MsgExec",
            &MsgExec {
                grantee: k.address().to_string(),
                msgs: vec![send(&k, &key(2), 7)],
            },
        );
        // Unbroken: the nested send executes.
        let mut o = Overlay::new(&s);
        let r = app()
            .execute_block(
                &mut o,
                &BLOCK,
                &[sign_tx(&k, vec![exec.clone()], &params(0, 0))],
            )
            .await
            .unwrap();
        assert_eq!(r[0].code, 0, "{}", r[0].log);
        assert_eq!(balance(&o, &key(2)).await, 1_000_000_007);

        // Break the bank package: the send nested in an exec is refused, and so is a direct one.
        for route in [
            "/cosmos.bank.v1beta1.MsgSend",
            "/cosmos.bank.v1beta1.",
            "/cosmos.bank.",
        ] {
            let mut o = Overlay::new(&s);
            set_broken(
                &mut Direct(&mut o),
                &BrokenRoute {
                    route: route.into(),
                    by: "test".into(),
                    height: 1,
                    time_ms: 0,
                    reason: "test".into(),
                    break_id: 0,
                    safe_mode: false,
                },
            )
            .unwrap();
            o.commit_tx();
            let txs = [
                sign_tx(&k, vec![exec.clone()], &params(0, 0)),
                sign_tx(&k, vec![send(&k, &key(2), 7)], &params(0, 1)),
            ];
            let r = app().execute_block(&mut o, &BLOCK, &txs).await.unwrap();
            assert_eq!(
                r[0].code,
                ErrorCode::RouteBroken.code(),
                "nested via {route}: {}",
                r[0].log
            );
            assert_eq!(
                r[1].code,
                ErrorCode::RouteBroken.code(),
                "direct via {route}: {}",
                r[1].log
            );
            assert_eq!(balance(&o, &key(2)).await, 1_000_000_000);
        }
    });
    // Exec on behalf of someone else fails without a grant (checked when it executes, as in
    // the SDK: authz grants are state).
    futures::executor::block_on(async {
        let k = key(1);
        let foreign = to_any(
            "/cosmos.authz.v1beta1.MsgExec",
            &MsgExec {
                grantee: k.address().to_string(),
                msgs: vec![send(&key(2), &k, 7)],
            },
        );
        let mut o = Overlay::new(&s);
        let r = app()
            .execute_block(&mut o, &BLOCK, &[sign_tx(&k, vec![foreign], &params(0, 0))])
            .await
            .unwrap();
        assert_eq!(r[0].code, ErrorCode::Unauthorized.code(), "{}", r[0].log);
    });
}

#[test]
fn genesis_export_roundtrips() {
    let s = state();
    let exported = futures::executor::block_on(AppGenesis::export(&s)).unwrap();
    assert_eq!(exported.bank.balances.len(), 2);
    assert_eq!(
        exported.bank.supply,
        vec![GenesisCoin {
            denom: "ucsp".into(),
            amount: "2000000000".into()
        }]
    );
    let reimported = futures::executor::block_on(async {
        let base = MemState::default();
        let mut o = Overlay::new(&base);
        exported.init(&mut o, &GENESIS_BLOCK, CHAIN).await.unwrap();
        let mut m = MemState::default();
        m.apply(&o.into_writes());
        m
    });
    assert_eq!(reimported, s);
}

#[test]
fn parallel_preverification_matches_sequential_execution() {
    let s = state();
    let mut txs = Vec::new();
    for seq in 0..20u64 {
        txs.push(sign_tx(
            &key(1),
            vec![send(&key(1), &key(3), 1 + seq as u128)],
            &params(0, seq),
        ));
        txs.push(sign_tx(
            &key(2),
            vec![send(&key(2), &key(4), 1)],
            &params(1, seq),
        ));
    }
    // Corrupt one signature of key(2): it fails, and its later txs are out of sequence.
    let mut raw = TxRaw::decode(txs[11].as_slice()).unwrap();
    raw.signatures[0][7] ^= 0x40;
    txs[11] = raw.encode_to_vec();
    // key(3) receives coins in this block and signs its first tx (carrying its pubkey) in it.
    // Account numbers: genesis 0 and 1, the module accounts after them, then key(3).
    let first_free = 2 + caspur_app::genesis::module_accounts().len() as u64;
    let mut cheap = params(first_free, 0);
    cheap.fee = "100ucsp".parse().unwrap();
    txs.push(sign_tx(&key(3), vec![send(&key(3), &key(1), 1)], &cheap));

    let run = |per_block: usize| {
        futures::executor::block_on(async {
            let mut o = Overlay::new(&s);
            let mut results = Vec::new();
            for (i, chunk) in txs.chunks(per_block).enumerate() {
                let block = BlockInfo {
                    height: 2 + i as u64,
                    time_ms: 1,
                };
                let mut r = app().execute_block(&mut o, &block, chunk).await.unwrap();
                for x in &mut r {
                    x.events.clear();
                }
                results.extend(r);
            }
            let mut w = o.into_writes();
            // Block events are a chunked blob: drop the head and every chunk.
            w.retain(|k, _| {
                ![
                    &caspur_app::LAST_HEIGHT_KEY[..],
                    &caspur_app::LAST_TIME_KEY[..],
                    &caspur_app::LAST_BLOCK_EVENTS_KEY[..],
                ]
                .iter()
                .any(|p| k.starts_with(p))
            });
            (results, w)
        })
    };
    let (parallel, parallel_state) = run(txs.len());
    let (sequential, sequential_state) = run(1);
    assert_eq!(
        parallel.iter().map(|r| r.code).collect::<Vec<_>>(),
        sequential.iter().map(|r| r.code).collect::<Vec<_>>()
    );
    // Gas may differ by the fee collector's balance read: one block per tx starts each tx with
    // an empty collector (the end of block hands fees to distribution), one big block does not.
    for (p, q) in parallel.iter().zip(&sequential) {
        assert_eq!((p.code, &p.log, &p.data), (q.code, &q.log, &q.data));
        assert!(
            p.gas_used.abs_diff(q.gas_used) <= 64,
            "{} vs {}",
            p.gas_used,
            q.gas_used
        );
    }
    assert_eq!(parallel_state, sequential_state);
    assert_eq!(parallel[11].code, ErrorCode::Unauthorized.code());
    assert_eq!(parallel[13].code, ErrorCode::WrongSequence.code());
    assert_eq!(parallel[40].code, 0, "{}", parallel[40].log);
    assert_eq!(parallel.iter().filter(|r| r.code == 0).count(), 20 + 5 + 1);
}

/// A valid send of key 1 and a copy whose signature has one bit flipped.
fn send_and_tampered_copy() -> (Vec<u8>, Vec<u8>) {
    let k = key(1);
    let good = sign_tx(&k, vec![send(&k, &key(3), 10)], &params(0, 0));
    let mut bad = TxRaw::decode(good.as_slice()).unwrap();
    bad.signatures[0][5] ^= 1;
    (good, bad.encode_to_vec())
}

#[test]
fn recheck_skips_verification_only_for_the_same_account_number_and_key() {
    let s = state();
    let (good, bad) = send_and_tampered_copy();
    futures::executor::block_on(async {
        let a = app();
        let checked = a
            .check_tx(&mut Overlay::new(&s), &good, &BLOCK, None)
            .await
            .unwrap();
        assert_eq!(checked.verified.len(), 1);
        // The tampered copy as if admitted with the admitted tx's tickets.
        let params = caspur_app::modules::auth::AuthParams::default();
        let decoded = caspur_app::prepare::prepare_tx(&bad, &params, BLOCK.height).unwrap();
        let tampered = |verified| caspur_app::CheckedTx {
            verified,
            admitted: std::sync::Arc::new(caspur_app::prepare::Admitted::new(
                decoded.clone(),
                params.clone(),
            )),
            ..checked.clone()
        };
        // With the ticket of the admitted tx, the signature is not verified again: even a
        // tampered copy passes, which shows the verification was skipped.
        let admitted = tampered(checked.verified.clone());
        a.recheck_tx(&mut Overlay::new(&s), &bad, &BLOCK, None, &admitted)
            .await
            .unwrap();
        // A ticket for another account number or key does not apply: verified, and refused.
        let other = caspur_app::prepare::Ticket::verified(5, checked.verified[0].pubkey);
        let e = a
            .recheck_tx(
                &mut Overlay::new(&s),
                &bad,
                &BLOCK,
                None,
                &tampered(vec![other]),
            )
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Unauthorized);
        let e = a
            .check_tx(&mut Overlay::new(&s), &bad, &BLOCK, None)
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Unauthorized);
    });
}

#[test]
fn a_block_does_not_verify_again_what_check_tx_verified_for_the_same_account_and_key() {
    let s = state();
    let (good, bad) = send_and_tampered_copy();
    let execute = |a: &App, raw: &[u8]| {
        let mut o = Overlay::new(&s);
        let r = futures::executor::block_on(a.execute_block(&mut o, &BLOCK, &[raw.to_vec()]));
        (r.unwrap(), o.into_writes())
    };
    let a = app();
    let checked =
        futures::executor::block_on(a.check_tx(&mut Overlay::new(&s), &good, &BLOCK, None))
            .unwrap();
    let pubkey = checked.verified[0].pubkey;
    assert!(a.verified_sigs.contains(&checked.hash, 0, 0, &pubkey));
    // The block runs as on a node that never saw the tx.
    assert_eq!(execute(&a, &good), execute(&app(), &good));
    assert_eq!(execute(&a, &good).0[0].code, 0);
    // A tampered copy is another tx: CheckTx refuses it and records nothing, the block
    // verifies it and refuses it.
    assert!(
        futures::executor::block_on(a.check_tx(&mut Overlay::new(&s), &bad, &BLOCK, None)).is_err()
    );
    assert_eq!(execute(&a, &bad).0[0].code, ErrorCode::Unauthorized.code());
    // Only an entry for its own hash would spare it the verification (what CheckTx never
    // records for an invalid signature): this shows the block does consult the record.
    let bad_hash = caspur_types::tx::tx_hash(&bad);
    a.verified_sigs.record(
        bad_hash,
        &[caspur_app::prepare::Ticket::verified(0, pubkey)],
    );
    assert_eq!(execute(&a, &bad).0[0].code, 0);
    // Another account number or key than the recorded one: verified again.
    let other = app();
    other.verified_sigs.record(
        bad_hash,
        &[caspur_app::prepare::Ticket::verified(5, pubkey)],
    );
    assert_eq!(
        execute(&other, &bad).0[0].code,
        ErrorCode::Unauthorized.code()
    );
}

#[test]
fn simulation_charges_what_execution_charges_without_checking_signatures() {
    let s = state();
    let raw = sign_tx(&key(1), vec![send(&key(1), &key(2), 10)], &params(0, 0));
    futures::executor::block_on(async {
        let simulated = app().simulate_tx(&s, &raw, &BLOCK).await.unwrap();
        let mut o = Overlay::new(&s);
        let executed = app()
            .execute_block(&mut o, &BLOCK, std::slice::from_ref(&raw))
            .await
            .unwrap();
        assert_eq!(simulated.code, 0, "{}", simulated.log);
        assert_eq!(simulated.gas_used, executed[0].gas_used);
        // A wrong signature does not matter to a simulation; a failing message does.
        let mut tx = TxRaw::decode(raw.as_slice()).unwrap();
        tx.signatures[0] = vec![0; 64];
        let forged = tx.encode_to_vec();
        assert_eq!(
            app().simulate_tx(&s, &forged, &BLOCK).await.unwrap().code,
            0
        );
        let too_much = sign_tx(
            &key(1),
            vec![send(&key(1), &key(2), 10_000_000_000)],
            &params(0, 0),
        );
        let failed = app().simulate_tx(&s, &too_much, &BLOCK).await.unwrap();
        assert_eq!(failed.code, ErrorCode::InsufficientFunds.code());
        assert!(
            failed.log.ends_with(": insufficient funds"),
            "{}",
            failed.log
        );
    });
}

/// `bytes` with field `number` (length-delimited, `len` bytes of padding) appended.
fn padded(mut bytes: Vec<u8>, number: u32, len: usize) -> Vec<u8> {
    use prost::encoding::{encode_key, encode_varint, WireType};
    encode_key(number, WireType::LengthDelimited, &mut bytes);
    encode_varint(len as u64, &mut bytes);
    bytes.extend(std::iter::repeat_n(0u8, len));
    bytes
}

/// A tx of key 1 signed over `body` and `auth` exactly as given.
fn signed_parts(body: Vec<u8>, auth: Vec<u8>) -> Vec<u8> {
    let doc = sign_doc_bytes(&body, &auth, CHAIN, 0);
    TxRaw {
        body_bytes: body,
        auth_info_bytes: auth,
        signatures: vec![key(1).sign(&doc).to_vec()],
    }
    .encode_to_vec()
}

#[test]
fn unknown_fields_are_refused_in_the_body_the_auth_info_and_messages_at_any_depth() {
    use caspur_types::sign::unsigned_parts;
    let s = state();
    let (body, auth) = unsigned_parts(&key(1), vec![send(&key(1), &key(3), 10)], &params(0, 0));
    assert!(check(&s, &signed_parts(body.clone(), auth.clone())).is_ok());
    let refused = |raw: Vec<u8>, field: &str| {
        let (code, message) = check(&s, &raw).expect_err("unknown field admitted");
        assert_eq!(code, ErrorCode::TxDecode, "{message}");
        assert!(message.contains(field), "{message}");
        raw
    };
    // The case: field 999 with a kilobyte of padding, signed over.
    let body_999 = refused(
        signed_parts(padded(body.clone(), 999, 1000), auth.clone()),
        "TxBody carries unknown field 999",
    );
    refused(
        signed_parts(body.clone(), padded(auth.clone(), 77, 8)),
        "AuthInfo carries unknown field 77",
    );
    let mut raw = signed_parts(body.clone(), auth.clone());
    raw = padded(raw, 9, 4);
    refused(raw, "TxRaw carries unknown field 9");
    // In a message, and in a message nested in authz MsgExec.
    let mut msg = send(&key(1), &key(3), 10);
    msg.value = padded(msg.value, 50, 16);
    let sign = |msgs| sign_tx(&key(1), msgs, &params(0, 0));
    refused(
        sign(vec![msg.clone()]),
        "/cosmos.bank.v1beta1.MsgSend carries unknown field 50",
    );
    let exec = to_any(
        "/cosmos.authz.v1beta1.MsgExec",
        &MsgExec {
            grantee: key(1).address().to_string(),
            msgs: vec![msg],
        },
    );
    refused(sign(vec![exec]), "unknown field 50");
    // A block carrying such a tx is invalid: its result bars the block.
    let results = futures::executor::block_on(async {
        let mut o = Overlay::new(&s);
        app()
            .execute_block(&mut o, &BLOCK, &[body_999])
            .await
            .unwrap()
    });
    assert_eq!(results[0].code, ErrorCode::TxDecode.code());
    assert!(results[0].bars_block());
}
