//! Upgrade plans (SPEC §4) on the state machine: a governance plan runs its handler at the
//! height (migration, reopened routes, applied record) while a binary without the handler
//! must halt there and a skipping one skips; the dCERT emergency track (quorum, min_notice,
//! cancel of its own plan only); readiness postponement and cancellation; a binary with a
//! handler refuses to run before the plan's height; cancel and readiness are unbreakable.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use caspur_app::modules::circuit::{self, state as circuit_state};
use caspur_app::modules::dcert::DcertParams;
use caspur_app::modules::gov::state::gov_address;
use caspur_app::modules::upgrade::{state as us, Migrating, UpgradeHandlers, UpgradeParams};
use caspur_app::App;
use caspur_types::proto::upgrade::v1 as pb;
use caspur_types::sign::to_any;
use common::*;
use std::collections::BTreeSet;
use std::sync::Arc;

const SEND: &str = "/cosmos.bank.v1beta1.MsgSend";

fn sha(n: u8) -> String {
    hex::encode([n; 32])
}

fn plan(name: &str, height: u64, reopen: &[&str]) -> pb::Plan {
    pb::Plan {
        name: name.into(),
        height: height as i64,
        info: format!(
            r#"{{"binaries":{{"linux/amd64":{{"url":"file:///bin/{name}","sha256":"{}"}}}}}}"#,
            sha(7)
        ),
        routes_to_reopen: reopen.iter().map(|r| r.to_string()).collect(),
    }
}

/// The v2 handlers: the migration records app version 2.
fn v2_handlers() -> UpgradeHandlers {
    UpgradeHandlers::default().with(
        "v2",
        Arc::new(|kv| {
            Box::pin(async move {
                us::set_app_version(&mut Migrating(kv), 2)?;
                Ok(())
            })
        }),
    )
}

fn with_binary(chain: &mut Chain, handlers: UpgradeHandlers, skip: &[u64]) {
    chain.app = chain
        .app
        .clone()
        .with_upgrades(handlers, skip.iter().copied().collect());
}

fn params(edit: impl FnOnce(&mut UpgradeParams)) -> UpgradeParams {
    let mut p = UpgradeParams {
        readiness_threshold: "0".into(),
        min_notice: 10,
        readiness_window: 5,
        ..UpgradeParams::default()
    };
    edit(&mut p);
    p
}

/// dCERT members 5, 6, 7; circuit breaking enabled; upgrade `params`.
fn chain(params: UpgradeParams) -> Chain {
    chain_with(params, |_| {})
}

/// [`chain`] with `edit` applied to the dCERT parameters.
fn chain_with(params: UpgradeParams, edit: impl FnOnce(&mut DcertParams)) -> Chain {
    let mut dcert = DcertParams {
        max_members: 3,
        min_member_stake: MIN_BOND.to_string(),
        stabilization_period_secs: 0,
        circuit_break_enabled: true,
        ..DcertParams::default()
    };
    edit(&mut dcert);
    let mut chain = dcert_chain_with(dcert, |g| {
        g.upgrade.params = params;
        // Plans are checked at submission against the voting period in blocks (about 20
        // here at one block a second); the harness still jumps each vote in one block.
        g.gov.params.voting_period_secs = 20;
        g.gov.params.expedited_voting_period_secs = 10;
    });
    candidates(&mut chain, &[5, 6, 7]);
    chain
}

/// [`chain`] where governance passed plan `v2`, 40 blocks after its submission; returns the
/// plan's height.
fn with_v2_plan(params: UpgradeParams) -> (Chain, u64) {
    let mut chain = chain(params);
    let h = chain.height + 40;
    decide(
        &mut chain,
        vec![software_upgrade(plan("v2", h, &[]))],
        10_000_000,
        true,
    );
    (chain, h)
}

fn scheduled(chain: &Chain) -> Option<pb::ScheduledPlan> {
    chain.read(async |kv| us::scheduled(kv).await.unwrap())
}

fn applied(chain: &Chain) -> Vec<pb::AppliedPlan> {
    chain.read(async |kv| us::applied(kv).await.unwrap())
}

fn pending(chain: &Chain, app: &App, height: u64) -> Option<String> {
    futures::executor::block_on(app.pending_upgrade(&chain.state, height))
        .unwrap()
        .map(|p| p.name)
}

fn software_upgrade(p: pb::Plan) -> cosmos_sdk_proto::Any {
    to_any(
        "/caspur.upgrade.v1.MsgSoftwareUpgrade",
        &pb::MsgSoftwareUpgrade {
            authority: gov_address().to_string(),
            plan: Some(p),
        },
    )
}

fn approve(member: u8, p: &pb::Plan) -> cosmos_sdk_proto::Any {
    to_any(
        "/caspur.upgrade.v1.MsgApproveEmergencyUpgrade",
        &pb::MsgApproveEmergencyUpgrade {
            member: addr(member).to_string(),
            plan: Some(p.clone()),
        },
    )
}

fn cancel_emergency(member: u8, name: &str) -> cosmos_sdk_proto::Any {
    to_any(
        "/caspur.upgrade.v1.MsgCancelEmergencyUpgrade",
        &pb::MsgCancelEmergencyUpgrade {
            member: addr(member).to_string(),
            name: name.into(),
        },
    )
}

fn signal(validator: u8, plan: &str, checksum: &str) -> cosmos_sdk_proto::Any {
    to_any(
        "/caspur.upgrade.v1.MsgSignalReady",
        &pb::MsgSignalReady {
            validator: addr(validator).to_string(),
            plan: plan.into(),
            binary_sha256: checksum.into(),
        },
    )
}

fn run_to(chain: &mut Chain, height: u64) {
    while chain.height < height {
        chain.block(Vec::new(), 1000);
    }
}

/// Whether the last block's end emitted an event of `kind`.
fn has_event(chain: &Chain, kind: &str) -> bool {
    let events = chain.read(async |kv| caspur_app::read_block_events(&kv.0).await.unwrap());
    events.iter().any(|e| e.kind == kind)
}

#[test]
fn a_governance_plan_halts_old_binaries_and_runs_the_new_handler_at_its_height() {
    let (mut chain, h) = with_v2_plan(params(|_| {}));
    let s = scheduled(&chain).expect("the passed proposal scheduled the plan");
    assert_eq!(s.source, "governance");
    let old = chain.app.clone();
    run_to(&mut chain, h - 1);
    // The old binary may execute every block before the height, and must halt at it.
    assert_eq!(pending(&chain, &old, h - 1), None);
    assert_eq!(pending(&chain, &old, h).as_deref(), Some("v2"));
    // The same judgement from the raw record the consensus layer reads after each finalized block.
    let raw = chain.read(async |kv| {
        caspur_app::context::KvRead::get(kv, &us::PLAN)
            .await
            .unwrap()
    });
    let from_raw = old
        .pending_upgrade_in(raw.as_deref(), h)
        .unwrap()
        .map(|p| p.name);
    assert_eq!(from_raw.as_deref(), Some("v2"));
    assert_eq!(old.pending_upgrade_in(raw.as_deref(), h - 1).unwrap(), None);
    assert_eq!(old.pending_upgrade_in(None, h).unwrap(), None);
    let err = futures::executor::block_on(async {
        let mut o = caspur_store::Overlay::new(&chain.state);
        let info = caspur_app::BlockInfo {
            height: h,
            time_ms: chain.time_ms + 1000,
        };
        old.execute_block(&mut o, &info, &[]).await.map(|_| ())
    })
    .unwrap_err();
    assert!(err.0.contains("NEEDED"), "{err}");
    // The new binary refuses to run early, then runs the migration at the height.
    let new = old.clone().with_upgrades(v2_handlers(), BTreeSet::new());
    assert_eq!(pending(&chain, &new, h), None);
    assert!(futures::executor::block_on(new.check_not_early(&chain.state, None, None)).is_ok());
    with_binary(&mut chain, v2_handlers(), &[]);
    assert_eq!(chain.read(async |kv| us::app_version(kv).await.unwrap()), 1);
    chain.block(Vec::new(), 1000);
    assert_eq!(chain.read(async |kv| us::app_version(kv).await.unwrap()), 2);
    assert!(scheduled(&chain).is_none());
    assert_eq!(
        applied(&chain),
        vec![pb::AppliedPlan {
            name: "v2".into(),
            height: h as i64,
            outcome: "applied".into()
        }]
    );
    // A plan of a name that already ran cannot be proposed again (refused at submission).
    let again = submit(
        2,
        vec![software_upgrade(plan("v2", h + 50, &[]))],
        10_000_000,
        false,
    );
    let r = chain.run(2, again);
    assert!(r.log.contains("already ran"), "{}", r.log);
    assert!(scheduled(&chain).is_none());
}

#[test]
fn a_binary_with_the_handler_refuses_to_run_before_the_height_and_skipping_skips() {
    let (mut chain, h) = with_v2_plan(params(|_| {}));
    let early = chain
        .app
        .clone()
        .with_upgrades(v2_handlers(), BTreeSet::new());
    let err =
        futures::executor::block_on(early.check_not_early(&chain.state, None, None)).unwrap_err();
    assert!(err.contains("run the previous binary"), "{err}");
    // The previous binary's halt record for this plan lets it start a block or two early.
    let halted = caspur_types::upgrade_info::UpgradeInfo {
        name: "v2".into(),
        height: h,
        info: String::new(),
        committed_height: h - 2,
    };
    assert!(
        futures::executor::block_on(early.check_not_early(&chain.state, Some(&halted), None))
            .is_ok()
    );
    let other = caspur_types::upgrade_info::UpgradeInfo {
        height: h + 1,
        ..halted
    };
    assert!(
        futures::executor::block_on(early.check_not_early(&chain.state, Some(&other), None))
            .is_err()
    );
    run_to(&mut chain, h - 1);
    with_binary(&mut chain, UpgradeHandlers::default(), &[h]);
    assert_eq!(pending(&chain, &chain.app, h), None);
    chain.block(Vec::new(), 1000);
    assert!(has_event(&chain, "upgrade_skipped"));
    assert_eq!(chain.read(async |kv| us::app_version(kv).await.unwrap()), 1);
    assert_eq!(applied(&chain)[0].outcome, "skipped");
    assert!(scheduled(&chain).is_none());
}

#[test]
fn the_emergency_track_schedules_after_min_notice_and_the_upgrade_reopens_broken_routes() {
    let mut chain = chain(params(|p| p.min_notice = 30));
    chain.ok(5, member_break(5, &[SEND], 0));
    // Asks for a height sooner than min_notice allows.
    let p = plan("v2", chain.height + 2, &[SEND]);
    let r = chain.ok(5, approve(5, &p));
    assert!(
        scheduled(&chain).is_none(),
        "1 of 3 is below the 2/3 quorum"
    );
    assert!(r
        .events
        .iter()
        .any(|e| e.kind == "upgrade_emergency_approval"));
    assert_ne!(chain.run(5, approve(5, &p)).code, 0, "approving twice");
    assert_ne!(chain.run(2, approve(2, &p)).code, 0, "not a member");
    chain.ok(6, approve(6, &p));
    let s = scheduled(&chain).expect("2 of 3 reach the quorum");
    assert_eq!(s.source, "emergency");
    let h = s.plan.unwrap().height as u64;
    assert_eq!(h, chain.height + 30, "moved to min_notice blocks ahead");
    // Governance's own plan cannot be replaced by the group, and the group cannot cancel a
    // governance plan; the group's own plan it can cancel (tested below).
    run_to(&mut chain, h - 1);
    with_binary(&mut chain, v2_handlers(), &[]);
    chain.block(Vec::new(), 1000);
    assert!(chain
        .read(async |kv| circuit_state::get_broken(kv, SEND).await.unwrap())
        .is_none());
    assert_eq!(chain.ok(2, bank_send(2, 3)).code, 0, "sends work again");
    assert_eq!(applied(&chain)[0].height, h as i64);
}

#[test]
fn an_upgrade_reopening_an_accountable_break_ends_its_record() {
    // max_break_blocks on: the break gets a record, with a lifetime longer than the test.
    let mut chain = chain_with(params(|p| p.min_notice = 30), |d| {
        d.max_break_blocks = 1_000
    });
    let r = chain.ok(5, member_break(5, &[SEND], 0));
    let break_id: u64 = r
        .events
        .iter()
        .filter(|e| e.kind == "dcert_break")
        .flat_map(|e| &e.attributes)
        .find(|a| a.key == "break_id")
        .map(|a| a.value.parse().unwrap())
        .expect("an accountable break");
    assert!(break_record(&chain, break_id).standing);
    let p = plan("v2", chain.height + 2, &[SEND]);
    chain.ok(5, approve(5, &p));
    chain.ok(6, approve(6, &p));
    let h = scheduled(&chain).unwrap().plan.unwrap().height as u64;
    run_to(&mut chain, h - 1);
    with_binary(&mut chain, v2_handlers(), &[]);
    chain.block(Vec::new(), 1000);
    assert!(broken_route(&chain, SEND).is_none());
    let r = break_record(&chain, break_id);
    assert!(!r.standing);
    assert_eq!(r.lapse_reason, "reopened by an upgrade");
    assert_eq!(r.lapsed_height, h);
    // Its expiry comes due later and finds nothing to do.
    run_to(&mut chain, r.expires_height + 1);
    assert_eq!(
        break_record(&chain, break_id).lapse_reason,
        "reopened by an upgrade"
    );
}

fn bank_send(from: u8, to: u8) -> cosmos_sdk_proto::Any {
    to_any(
        SEND,
        &cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend {
            from_address: addr(from).to_string(),
            to_address: addr(to).to_string(),
            amount: vec![caspur_types::Coin::new("ucsp", 5).to_proto()],
        },
    )
}

#[test]
fn the_group_cancels_its_own_plan_by_quorum_but_not_a_governance_plan() {
    let mut chain = chain(params(|_| {}));
    let p = plan("hotfix", chain.height + 100, &[]);
    let other = plan("other", chain.height + 200, &[]);
    // A member backs one plan at a time: switching withdraws the earlier approval.
    chain.ok(5, approve(5, &other));
    chain.ok(5, approve(5, &p));
    let approvals = chain.read(async |kv| us::approvals(kv).await.unwrap());
    assert_eq!(approvals.len(), 1);
    assert_eq!(approvals[0].plan.as_ref(), Some(&p));
    assert_eq!(approvals[0].members, vec![addr(5).to_string()]);
    chain.ok(7, approve(7, &p));
    assert!(scheduled(&chain).is_some());
    assert_ne!(
        chain.run(6, approve(6, &other)).code,
        0,
        "a plan is already scheduled"
    );
    assert_ne!(
        chain.run(5, cancel_emergency(5, "other")).code,
        0,
        "wrong name"
    );
    let r = chain.ok(5, cancel_emergency(5, "hotfix"));
    assert!(r
        .events
        .iter()
        .any(|e| e.kind == "upgrade_emergency_cancel_vote"));
    assert!(scheduled(&chain).is_some());
    let r = chain.ok(6, cancel_emergency(6, "hotfix"));
    assert!(r.events.iter().any(|e| e.kind == "upgrade_cancelled"));
    assert!(scheduled(&chain).is_none());
    // A governance plan: the group cannot cancel it, governance can.
    let h = chain.height + 60;
    decide(
        &mut chain,
        vec![software_upgrade(plan("gov-plan", h, &[]))],
        10_000_000,
        true,
    );
    assert_ne!(chain.run(5, cancel_emergency(5, "gov-plan")).code, 0);
    let cancel = to_any(
        "/caspur.upgrade.v1.MsgCancelUpgrade",
        &pb::MsgCancelUpgrade {
            authority: gov_address().to_string(),
        },
    );
    decide(&mut chain, vec![cancel], 10_000_000, true);
    assert!(scheduled(&chain).is_none());
}

#[test]
fn readiness_below_threshold_postpones_then_cancels_and_signals_let_it_through() {
    let threshold = params(|p| {
        p.readiness_threshold = "0.666666666666666666".into();
        p.readiness_window = 5;
        p.max_postponements = 1;
    });
    // Unready: postponed once by the window, then cancelled.
    let (mut chain, h) = with_v2_plan(threshold.clone());
    run_to(&mut chain, h - 6);
    assert_eq!(scheduled(&chain).unwrap().plan.unwrap().height as u64, h);
    chain.block(Vec::new(), 1000);
    assert!(has_event(&chain, "upgrade_postponed"));
    let s = scheduled(&chain).unwrap();
    assert_eq!((s.plan.unwrap().height as u64, s.postponements), (h + 5, 1));
    run_to(&mut chain, h - 1);
    chain.block(Vec::new(), 1000);
    assert!(has_event(&chain, "upgrade_cancelled"));
    assert!(scheduled(&chain).is_none());

    // Ready after one postponement: the validator (all the bonded power) signals.
    let (mut chain, h) = with_v2_plan(threshold);
    run_to(&mut chain, h - 5);
    assert_eq!(scheduled(&chain).unwrap().postponements, 1);
    assert_ne!(
        chain.run(1, signal(1, "v2", &sha(8))).code,
        0,
        "checksum of no binary"
    );
    assert_ne!(
        chain.run(2, signal(2, "v2", &sha(7))).code,
        0,
        "not a validator operator"
    );
    chain.ok(1, signal(1, "v2", &sha(7)));
    run_to(&mut chain, h + 4);
    let s = scheduled(&chain).unwrap();
    assert_eq!((s.plan.unwrap().height as u64, s.postponements), (h + 5, 1));
    assert_eq!(s.judged_height as u64, h + 5, "judged ready");
    with_binary(&mut chain, v2_handlers(), &[]);
    chain.block(Vec::new(), 1000);
    assert_eq!(applied(&chain)[0].height as u64, h + 5);
}

#[test]
fn cancel_and_readiness_messages_are_unbreakable() {
    for url in [
        "/caspur.upgrade.v1.MsgCancelUpgrade",
        "/caspur.upgrade.v1.MsgCancelEmergencyUpgrade",
        "/caspur.upgrade.v1.MsgSignalReady",
        "/caspur.upgrade.v1.",
    ] {
        assert!(circuit::validate_route(url).is_err(), "{url}");
    }
    assert!(circuit::validate_route("/caspur.upgrade.v1.MsgApproveEmergencyUpgrade").is_ok());
    // A proposal cancelling the upgrade passes a broken gov route.
    let mut chain = chain(params(|_| {}));
    chain.ok(5, member_break(5, &["/cosmos.gov.v1.MsgSubmitProposal"], 0));
    let cancel = to_any(
        "/caspur.upgrade.v1.MsgCancelUpgrade",
        &pb::MsgCancelUpgrade {
            authority: gov_address().to_string(),
        },
    );
    chain.ok(2, submit(2, vec![cancel], 10_000_000, false));
    assert_ne!(
        chain
            .run(2, submit(2, vec![bank_send(2, 3)], 10_000_000, false))
            .code,
        0
    );
}

#[test]
fn a_plan_that_comes_before_the_vote_ends_or_reuses_a_name_is_refused_at_submission() {
    // Too soon: the 20 s vote spans about 20 blocks, the readiness window 5 more.
    let mut chain = chain(params(|_| {}));
    let soon = plan("v2", chain.height + 10, &[]);
    let r = chain.run(
        2,
        submit(2, vec![software_upgrade(soon)], 10_000_000, false),
    );
    assert_ne!(r.code, 0);
    assert!(r.log.contains("comes too soon"), "{}", r.log);
    let past = plan("v2", chain.height - 1, &[]);
    let r = chain.run(
        2,
        submit(2, vec![software_upgrade(past)], 10_000_000, false),
    );
    assert!(r.log.contains("comes too soon"), "{}", r.log);

    // A name that already ran, even if the new plan is otherwise fine.
    let (mut chain, h) = with_v2_plan(params(|_| {}));
    with_binary(&mut chain, v2_handlers(), &[]);
    run_to(&mut chain, h + 1);
    assert_eq!(applied(&chain)[0].name, "v2");
    let again = plan("v2", chain.height + 100, &[]);
    let r = chain.run(
        2,
        submit(2, vec![software_upgrade(again)], 10_000_000, false),
    );
    assert_ne!(r.code, 0);
    assert!(r.log.contains("already ran"), "{}", r.log);
}

#[test]
fn a_plan_scheduled_inside_the_readiness_window_is_not_postponed_before_anyone_could_signal() {
    // Emergency plans come min_notice (10) blocks ahead, inside the 20-block window.
    let mut chain = chain(params(|p| {
        p.readiness_threshold = "0.666666666666666666".into();
        p.readiness_window = 20;
        p.min_notice = 10;
    }));
    let p = plan("v2", chain.height + 2, &[]);
    chain.ok(5, approve(5, &p));
    chain.ok(6, approve(6, &p));
    let s = scheduled(&chain).expect("scheduled by the quorum");
    let h = s.plan.unwrap().height as u64;
    assert_eq!(
        s.postponements, 0,
        "not judged in the block that scheduled it"
    );
    assert!(!has_event(&chain, "upgrade_postponed"));
    // The validator signals a few blocks later; judged ready the block before the height.
    run_to(&mut chain, h - 5);
    assert_eq!(scheduled(&chain).unwrap().postponements, 0);
    chain.ok(1, signal(1, "v2", &sha(7)));
    run_to(&mut chain, h - 1);
    let s = scheduled(&chain).unwrap();
    assert_eq!((s.postponements, s.judged_height as u64), (0, h), "{s:?}");
}
