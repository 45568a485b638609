//! The circuit breaker cannot be bypassed (SPEC §3). With `MsgSend` broken by a dCERT member,
//! a send is refused sent directly, inside `MsgExec` (with a real authz grant), inside an exec
//! inside an exec, inside a governance proposal at submission, inside a proposal that passed
//! after the break (it fails with a recorded reason, the block does not), in a batch with
//! other messages, through simulate, and at CheckTx (which also refuses nested ones). A module
//! prefix covers every message of the module and nothing else; the dissolution path stays open
//! even with governance broken; an upgrade's reopen restores the route.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use caspur_app::modules::circuit;
use caspur_app::modules::dcert::DcertParams;
use caspur_app::modules::gov::state::gov_address;
use caspur_app::BlockInfo;
use caspur_store::Overlay;
use caspur_types::proto::dcert::v1 as dpb;
use caspur_types::sign::to_any;
use caspur_types::ErrorCode;
use common::*;
use cosmos_sdk_proto::cosmos::authz::v1beta1 as authz;
use cosmos_sdk_proto::cosmos::gov::v1 as gov;
use prost::Message as _;

const SEND: &str = "/cosmos.bank.v1beta1.MsgSend";
const BROKEN: u32 = ErrorCode::RouteBroken as u32;

/// Member 5 seated, circuit breaking enabled.
fn chain() -> Chain {
    let mut chain = dcert_chain(DcertParams {
        max_members: 3,
        min_member_stake: MIN_BOND.to_string(),
        circuit_break_enabled: true,
        dissolution_deposit: "20000000".into(),
        ..DcertParams::default()
    });
    candidates(&mut chain, &[5]);
    chain
}

fn grant(granter: u8, grantee: u8, type_url: &str) -> cosmos_sdk_proto::Any {
    to_any(
        "/cosmos.authz.v1beta1.MsgGrant",
        &authz::MsgGrant {
            granter: addr(granter).to_string(),
            grantee: addr(grantee).to_string(),
            grant: Some(authz::Grant {
                authorization: Some(to_any(
                    "/cosmos.authz.v1beta1.GenericAuthorization",
                    &authz::GenericAuthorization {
                        msg: type_url.into(),
                    },
                )),
                expiration: None,
            }),
        },
    )
}

fn break_routes(chain: &mut Chain, routes: &[&str]) {
    chain.ok(
        5,
        to_any(
            "/caspur.dcert.v1.MsgCircuitBreak",
            &dpb::MsgCircuitBreak {
                member: addr(5).to_string(),
                routes: routes.iter().map(|r| r.to_string()).collect(),
                reason: "exploit in the wild".into(),
                incident_id: 0,
            },
        ),
    );
}

fn refused(r: &caspur_app::TxResult) {
    assert_eq!(r.code, BROKEN, "{}", r.log);
    assert!(
        r.log.contains("exploit in the wild"),
        "names the reason: {}",
        r.log
    );
}

fn gov_send(to: u8) -> cosmos_sdk_proto::Any {
    to_any(
        SEND,
        &cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend {
            from_address: gov_address().to_string(),
            to_address: addr(to).to_string(),
            amount: vec![caspur_types::Coin::new("ucsp", 1).to_proto()],
        },
    )
}

#[test]
fn a_broken_route_is_refused_at_every_depth_and_in_every_door() {
    let mut chain = chain();
    // Before the break: the exec path works with a real grant, and a proposal is submitted.
    chain.ok(3, grant(3, 2, SEND));
    chain.ok(2, exec(2, vec![send(3, 4)]));
    let r = chain.run(2, exec(2, vec![send(4, 2)]));
    assert_eq!(
        r.code,
        ErrorCode::Unauthorized as u32,
        "no grant from 4: {}",
        r.log
    );
    chain.ok(2, submit(2, vec![gov_send(4)], 10_000_000, false));

    break_routes(&mut chain, &[SEND]);
    refused(&chain.run(2, send(2, 4)));
    refused(&chain.run(2, exec(2, vec![send(3, 4)])));
    refused(&chain.run(2, exec(2, vec![exec(2, vec![send(2, 4)])])));
    refused(&chain.run(2, submit(2, vec![gov_send(4)], 10_000_000, false)));
    // A batch: one broken message fails the whole tx.
    let raw = chain.tx(2, vec![grant(2, 3, SEND), send(2, 4)]);
    refused(&chain.block(vec![raw], 1000)[0]);
    // The proposal submitted before the break passes its vote but fails to execute, with the
    // reason recorded; the block goes on.
    chain.ok(1, vote(1, 1, gov::VoteOption::Yes));
    let results = chain.block(Vec::new(), voting_ms());
    assert!(results.is_empty());
    let p = proposal(&chain, 1);
    assert_eq!(status(&p), gov::ProposalStatus::Failed);
    assert!(
        p.failed_reason.contains("circuit breaker"),
        "{}",
        p.failed_reason
    );
    // CheckTx refuses direct and nested sends before they reach a block.
    for msgs in [
        vec![send(2, 4)],
        vec![exec(2, vec![exec(2, vec![send(3, 4)])])],
    ] {
        let e = check_tx(&mut chain, 2, msgs).unwrap_err();
        assert_eq!(e.code, ErrorCode::RouteBroken, "{e:?}");
    }
    assert!(check_tx(&mut chain, 2, vec![delegate(2, 1, 5)]).is_ok());
    // Simulate answers the same refusal.
    let raw = chain.tx(2, vec![send(2, 4)]);
    let request = cosmos_sdk_proto::cosmos::tx::v1beta1::SimulateRequest {
        tx_bytes: raw,
        ..Default::default()
    }
    .encode_to_vec();
    let next = BlockInfo {
        height: chain.height + 1,
        time_ms: chain.time_ms,
    };
    let e =
        futures::executor::block_on(chain.app.simulate(&chain.state, &request, &next)).unwrap_err();
    assert_eq!(e.code, ErrorCode::RouteBroken, "{e:?}");
}

#[test]
fn a_module_prefix_covers_the_module_and_nothing_else_and_reopening_restores_it() {
    let mut chain = chain();
    break_routes(&mut chain, &["/cosmos.bank.v1beta1."]);
    refused(&chain.run(2, send(2, 4)));
    let multi = multi_send(2, 4);
    assert_eq!(chain.run(2, multi).code, BROKEN);
    chain.ok(2, delegate(2, 1, 5));
    chain.ok(2, grant(2, 3, "/cosmos.staking.v1beta1.MsgDelegate"));
    // The upgrade path's keeper function reopens it.
    let writes = futures::executor::block_on(async {
        let mut o = Overlay::new(&chain.state);
        let info = BlockInfo {
            height: chain.height + 1,
            time_ms: chain.time_ms,
        };
        let mut ctx = caspur_app::context::Ctx::new(
            &mut o,
            &info,
            CHAIN,
            u64::MAX,
            caspur_app::gas::DEFAULT_COSTS,
        );
        let reopened = circuit::reopen_routes(&mut ctx, &["/cosmos.bank.v1beta1.".into()])
            .await
            .unwrap();
        assert_eq!(reopened[0].by, addr(5).to_string());
        assert!(circuit::reopen_routes(&mut ctx, &[SEND.into()])
            .await
            .is_err());
        drop(ctx);
        o.commit_tx();
        o.into_writes()
    });
    chain.state.apply(&writes);
    chain.ok(2, send(2, 4));
}

#[test]
fn the_dissolution_path_stays_open_with_governance_broken() {
    let mut chain = chain();
    break_routes(&mut chain, &["/cosmos.gov.v1."]);
    refused(&chain.run(2, submit(2, vec![gov_send(4)], 10_000_000, false)));
    let dissolve = dissolve();
    chain.ok(2, submit(2, vec![dissolve], 20_000_000, false));
    chain.ok(1, vote(1, 1, gov::VoteOption::Yes));
    chain.block(Vec::new(), voting_ms());
    assert_eq!(status(&proposal(&chain, 1)), gov::ProposalStatus::Passed);
    assert!(member_ids(&chain).is_empty());
    // Breaking the dissolution message itself, or a prefix covering it, is refused.
    let r = chain.run(
        5,
        to_any(
            "/caspur.dcert.v1.MsgCircuitBreak",
            &dpb::MsgCircuitBreak {
                member: addr(5).to_string(),
                routes: vec!["/caspur.dcert.v1.MsgDissolveDcert".into()],
                reason: "x".into(),
                incident_id: 0,
            },
        ),
    );
    assert!(r.log.contains("can never be broken"), "{}", r.log);
}

/// A gov v1beta1 (legacy) vote or deposit from key `n` on proposal `id`.
fn legacy(kind: &str, n: u8, id: u64) -> cosmos_sdk_proto::Any {
    use cosmos_sdk_proto::cosmos::gov::v1beta1 as legacy;
    match kind {
        "vote" => to_any(
            "/cosmos.gov.v1beta1.MsgVote",
            &legacy::MsgVote {
                proposal_id: id,
                voter: addr(n).to_string(),
                option: gov::VoteOption::Yes as i32,
            },
        ),
        _ => to_any(
            "/cosmos.gov.v1beta1.MsgDeposit",
            &legacy::MsgDeposit {
                proposal_id: id,
                depositor: addr(n).to_string(),
                amount: vec![caspur_types::Coin::new("ucsp", 1).to_proto()],
            },
        ),
    }
}

#[test]
fn a_route_is_an_identity_legacy_aliases_are_broken_with_it() {
    // Breaking the v1 spelling, the v1beta1 spelling, or the v1 package refuses both forms.
    for routes in [
        &["/cosmos.gov.v1.MsgVote", "/cosmos.gov.v1.MsgDeposit"][..],
        &[
            "/cosmos.gov.v1beta1.MsgVote",
            "/cosmos.gov.v1beta1.MsgDeposit",
        ][..],
        &["/cosmos.gov.v1."][..],
    ] {
        let mut chain = chain();
        chain.ok(2, submit(2, vec![gov_send(4)], 10_000_000, false));
        break_routes(&mut chain, routes);
        refused(&chain.run(1, legacy("vote", 1, 1)));
        refused(&chain.run(1, vote(1, 1, gov::VoteOption::Yes)));
        refused(&chain.run(3, legacy("deposit", 3, 1)));
        let e = check_tx(&mut chain, 1, vec![legacy("vote", 1, 1)]).unwrap_err();
        assert_eq!(e.code, ErrorCode::RouteBroken, "{routes:?}: {e:?}");
    }
}

#[test]
fn the_unbreakable_exemption_belongs_to_the_message_alone() {
    let mut chain = chain();
    let dissolve = dissolve();
    let cancel = to_any(
        "/caspur.upgrade.v1.MsgCancelUpgrade",
        &caspur_types::proto::upgrade::v1::MsgCancelUpgrade {
            authority: gov_address().to_string(),
        },
    );
    let spend = to_any(
        "/cosmos.distribution.v1beta1.MsgCommunityPoolSpend",
        &cosmos_sdk_proto::cosmos::distribution::v1beta1::MsgCommunityPoolSpend {
            authority: gov_address().to_string(),
            recipient: addr(2).to_string(),
            amount: vec![caspur_types::Coin::new("ucsp", 1).to_proto()],
        },
    );
    break_routes(&mut chain, &["/cosmos.gov.v1."]);
    // Riding the exemption: an unbreakable message beside a spend gets no pass.
    for msgs in [
        vec![dissolve.clone(), spend.clone()],
        vec![cancel.clone(), spend.clone()],
    ] {
        let proposal = submit(2, msgs, 20_000_000, false);
        refused(&chain.run(2, proposal.clone()));
        assert_eq!(
            check_tx(&mut chain, 2, vec![proposal.clone()])
                .unwrap_err()
                .code,
            ErrorCode::RouteBroken
        );
        assert_eq!(
            simulate(&mut chain, 2, vec![proposal]).unwrap_err().code,
            ErrorCode::RouteBroken
        );
    }
    // The unbreakable messages alone still pass.
    chain.ok(2, submit(2, vec![dissolve], 20_000_000, false));
    chain.ok(2, submit(2, vec![cancel], 10_000_000, false));
}

#[test]
fn a_proposal_carrying_a_broken_message_at_any_depth_is_refused_by_every_door() {
    let mut chain = chain();
    break_routes(&mut chain, &[SEND]);
    // [MsgExec(gov){MsgSend}]: Simulate once accepted what CheckTx refused.
    let proposal = submit(
        2,
        vec![to_any(
            "/cosmos.authz.v1beta1.MsgExec",
            &authz::MsgExec {
                grantee: gov_address().to_string(),
                msgs: vec![gov_send(4)],
            },
        )],
        10_000_000,
        false,
    );
    for e in [
        check_tx(&mut chain, 2, vec![proposal.clone()]).unwrap_err(),
        simulate(&mut chain, 2, vec![proposal.clone()]).unwrap_err(),
    ] {
        assert_eq!(e.code, ErrorCode::RouteBroken, "{e:?}");
    }
    refused(&chain.run(2, proposal));
}

#[test]
fn check_tx_and_the_router_agree_on_depth_around_a_broken_message() {
    // The jam: exec⁶ around a broken send passed CheckTx (which counted from 1) and was then
    // left out of every proposal. Now CheckTx refuses it at every depth the router would run.
    let mut chain = chain();
    break_routes(&mut chain, &[SEND]);
    let mut msg = send(2, 4);
    for depth in 1..=caspur_app::limits::MAX_NESTING_DEPTH + 1 {
        msg = exec(2, vec![msg]);
        let e = check_tx(&mut chain, 2, vec![msg.clone()]).unwrap_err();
        let expected = if depth <= caspur_app::limits::MAX_NESTING_DEPTH {
            ErrorCode::RouteBroken
        } else {
            ErrorCode::LimitExceeded
        };
        assert_eq!(e.code, expected, "depth {depth}: {e:?}");
        let r = chain.run(2, msg.clone());
        assert_eq!(r.code, expected.code(), "depth {depth}: {}", r.log);
        assert!(r.bars_block(), "no block may carry it");
    }
}

/// A gov-signed `MsgDissolveDcert` without a slash.
fn dissolve() -> cosmos_sdk_proto::Any {
    to_any(
        "/caspur.dcert.v1.MsgDissolveDcert",
        &dpb::MsgDissolveDcert {
            authority: gov_address().to_string(),
            slash_fraction: String::new(),
            reason: "compromised".into(),
        },
    )
}
