//! Incidents (SPEC §5) through real signed txs: a report sealed to the dCERT members goes the
//! whole way to a post-mortem that discloses it; a member who joins later reads it after a
//! reseal and a removed member gets nothing new; deposits are refunded or burned at triage;
//! the SLA and disclosure deadlines are flagged by block time; the upgrade module moves a
//! linked incident; and every message × state × sender role is judged at CheckTx exactly as
//! the lifecycle table says (see `docs/incidents.md`).

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use caspur_app::modules::dcert::DcertParams;
use caspur_app::modules::incident::{escrow_address, lifecycle, state as ist};
use caspur_app::modules::upgrade::{UpgradeHandlers, UpgradeParams};
use caspur_types::proto::incident::v1::{self as pb, ReviewKind, Severity, State, Verdict};
use caspur_types::proto::upgrade::v1 as upb;
use caspur_types::seal;
use caspur_types::sign::to_any;
use common::*;
use cosmos_sdk_proto::Any;
use std::sync::Arc;

const REPORTER: u8 = 9;
const EXPERT: u8 = 10;
const LATE_MEMBER: u8 = 8;
const DEPOSIT: u128 = 10_000_000;
const HOUR_MS: u64 = 3_600_000;

fn url(name: &str) -> String {
    format!("/caspur.incident.v1.{name}")
}

fn member(n: u8) -> String {
    addr(n).to_string()
}

fn hash(n: u8) -> String {
    hex::encode([n; 32])
}

/// Members 5, 6, 7 (room for 8); emergency plans need 2 blocks' notice, no readiness; the
/// upgrade handlers of plans `fix-1`…`fix-9` are in the binary.
fn group() -> Chain {
    group_with(|_| {})
}

/// [`group`] with the dCERT parameters `edit` changes.
fn group_with(edit: impl FnOnce(&mut DcertParams)) -> Chain {
    let mut params = DcertParams {
        max_members: 4,
        min_member_stake: MIN_BOND.to_string(),
        stabilization_period_secs: 0,
        suspension_review_period_secs: 86_400,
        ..DcertParams::default()
    };
    edit(&mut params);
    let mut chain = dcert_chain_with(params, |g| {
        g.upgrade.params = UpgradeParams {
            readiness_threshold: "0".into(),
            min_notice: 2,
            readiness_window: 1,
            ..UpgradeParams::default()
        }
    });
    let mut handlers = UpgradeHandlers::default();
    for n in 1..=9 {
        handlers = handlers.with(
            &format!("fix-{n}"),
            Arc::new(|_| Box::pin(async { Ok(()) })),
        );
    }
    chain.app = chain
        .app
        .clone()
        .with_upgrades(handlers, Default::default());
    candidates(&mut chain, &[5, 6, 7]);
    assert_eq!(member_ids(&chain), vec![5, 6, 7]);
    chain
}

/// A report of `text` sealed to members `to`, and the disclosure the reporter keeps.
fn report_to(to: &[u8], text: &str) -> (Any, pb::Disclosure) {
    report_incident(REPORTER, to, text)
}

fn incident(chain: &Chain, id: u64) -> pb::Incident {
    chain.read(async |kv| ist::require(kv, id).await.unwrap())
}

fn sealed(chain: &Chain, id: u64) -> pb::SealedReport {
    chain.read(async |kv| ist::sealed(kv, id).await.unwrap())
}

fn state_of(chain: &Chain, id: u64) -> State {
    lifecycle::state_of(&incident(chain, id))
}

/// Every message of the lifecycle after the report, by key `n` about incident `id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Triage,
    Declare,
    Propose,
    Review(ReviewKind),
    Announce,
    Update,
    Link,
    Confirm,
    Resolve,
    Postmortem,
    Abort,
    Reseal,
}

const STEPS: [Step; 12] = [
    Step::Triage,
    Step::Declare,
    Step::Propose,
    Step::Review(ReviewKind::Technical),
    Step::Announce,
    Step::Update,
    Step::Link,
    Step::Confirm,
    Step::Resolve,
    Step::Postmortem,
    Step::Abort,
    Step::Reseal,
];

fn step(chain: &Chain, s: Step, n: u8, id: u64) -> Any {
    let m = member(n);
    match s {
        Step::Triage => to_any(
            &url("MsgTriageIncident"),
            &pb::MsgTriageIncident {
                member: m,
                id,
                verdict: Verdict::Verified as i32,
                severity: Severity::Critical as i32,
            },
        ),
        Step::Declare => to_any(
            &url("MsgDeclareEmergency"),
            &pb::MsgDeclareEmergency {
                member: m,
                id,
                experts: vec![member(EXPERT)],
            },
        ),
        Step::Propose => to_any(
            &url("MsgProposeResponsePlan"),
            &pb::MsgProposeResponsePlan {
                member: m,
                id,
                summary: "patch the overflow, hard fork".into(),
                plan_hash: hash(1),
                upgrade: String::new(),
            },
        ),
        Step::Review(kind) => to_any(
            &url("MsgReviewPlan"),
            &pb::MsgReviewPlan {
                member: m,
                id,
                kind: kind as i32,
                approve: true,
                notes_hash: hash(2),
            },
        ),
        Step::Announce => to_any(
            &url("MsgAnnounce"),
            &pb::MsgAnnounce {
                member: m,
                id,
                description: "a fix ships at the next upgrade".into(),
                temporary_measures: "MsgSend is broken".into(),
                plan: "emergency upgrade".into(),
                user_advice: "nothing to do".into(),
            },
        ),
        Step::Update => to_any(
            &url("MsgPostUpdate"),
            &pb::MsgPostUpdate {
                member: m,
                id,
                text: "binaries published".into(),
            },
        ),
        Step::Link => to_any(
            &url("MsgLinkUpgrade"),
            &pb::MsgLinkUpgrade {
                member: m,
                id,
                plan_name: format!("fix-{id}"),
            },
        ),
        Step::Confirm => to_any(
            &url("MsgConfirmResolution"),
            &pb::MsgConfirmResolution {
                member: m,
                id,
                checks_hash: hash(3),
            },
        ),
        Step::Resolve => to_any(
            &url("MsgResolveIncident"),
            &pb::MsgResolveIncident {
                member: m,
                id,
                summary: "fixed at the upgrade".into(),
            },
        ),
        Step::Postmortem => postmortem(n, id, None),
        Step::Abort => to_any(
            &url("MsgAbortIncident"),
            &pb::MsgAbortIncident {
                member: m,
                id,
                reason: "false alarm".into(),
            },
        ),
        Step::Reseal => reseal_as(chain, n, 5, id, &[LATE_MEMBER]),
    }
}

fn postmortem(n: u8, id: u64, disclosed: Option<pb::Disclosure>) -> Any {
    to_any(
        &url("MsgPublishPostmortem"),
        &pb::MsgPublishPostmortem {
            member: member(n),
            id,
            uri: "https://caspur.example/postmortems/1".into(),
            hash: hash(4),
            disclosed_report: disclosed,
        },
    )
}

/// Member `n` (who can read the report) wraps its key for `to`.
fn reseal(chain: &Chain, n: u8, id: u64, to: &[u8]) -> Any {
    reseal_as(chain, n, n, id, to)
}

/// A reseal sent by `sender` of wraps that `reader` (who can read the report) made for `to`.
fn reseal_as(chain: &Chain, sender: u8, reader: u8, id: u64, to: &[u8]) -> Any {
    let i = incident(chain, id);
    let keys = seal::rewrap(
        &sealed(chain, id),
        &i.commitment,
        &encryption_secret(reader),
        &recipients(to),
    )
    .unwrap();
    to_any(
        &url("MsgResealIncident"),
        &pb::MsgResealIncident {
            member: member(sender),
            id,
            keys,
        },
    )
}

/// Active members approve emergency plan `fix-<id>` a few blocks ahead; returns the height it
/// was scheduled at.
fn schedule_fix(chain: &mut Chain, id: u64, voters: &[u8], ahead: u64) -> u64 {
    let height = chain.height + ahead;
    for n in voters {
        let plan = upb::Plan {
            name: format!("fix-{id}"),
            height: height as i64,
            info: format!(
                r#"{{"binaries":{{"linux/amd64":{{"url":"file:///bin/fix","sha256":"{}"}}}}}}"#,
                hash(7)
            ),
            routes_to_reopen: vec![],
        };
        chain.ok(
            *n,
            to_any(
                "/caspur.upgrade.v1.MsgApproveEmergencyUpgrade",
                &upb::MsgApproveEmergencyUpgrade {
                    member: member(*n),
                    plan: Some(plan),
                },
            ),
        );
    }
    chain.read(async |kv| {
        let s = caspur_app::modules::upgrade::state::scheduled(kv)
            .await
            .unwrap()
            .unwrap();
        s.plan.unwrap().height as u64
    })
}

/// Reports incident `id` (sealed to 5, 6, 7), seats member 8, and drives it to `target`
/// (members 5, 6, 7 vote; the expert is named at the declaration).
fn drive(chain: &mut Chain, target: State) -> u64 {
    let id = chain.read(async |kv| ist::next_id(kv).await.unwrap());
    chain.ok(REPORTER, report_to(&[5, 6, 7], "overflow in MsgSend").0);
    candidates(chain, &[LATE_MEMBER]);
    let path: Vec<(State, Vec<(u8, Step)>)> = vec![
        (State::Reported, vec![]),
        (State::Verified, vec![(5, Step::Triage)]),
        (
            State::EmergencyDeclared,
            vec![(5, Step::Declare), (6, Step::Declare), (7, Step::Declare)],
        ),
        (State::PlanProposed, vec![(EXPERT, Step::Propose)]),
        (
            State::PlanApproved,
            vec![
                (5, Step::Review(ReviewKind::Technical)),
                (6, Step::Review(ReviewKind::Risk)),
                (EXPERT, Step::Review(ReviewKind::Legal)),
            ],
        ),
        (
            State::Announced,
            vec![(5, Step::Announce), (6, Step::Update)],
        ),
    ];
    for (state, steps) in path {
        for (n, s) in steps {
            let msg = step(chain, s, n, id);
            chain.ok(n, msg);
        }
        assert_eq!(state_of(chain, id), state);
        if state == target {
            return id;
        }
    }
    let ahead = if target == State::UpgradeScheduled {
        50
    } else {
        3
    };
    let height = schedule_fix(chain, id, &[5, 6, 7], ahead);
    chain.ok(5, step(chain, Step::Link, 5, id));
    assert_eq!(state_of(chain, id), State::UpgradeScheduled);
    if target == State::UpgradeScheduled {
        return id;
    }
    while chain.height < height {
        chain.block(Vec::new(), 1000);
    }
    assert_eq!(state_of(chain, id), State::Executing);
    for (state, s) in [
        (State::Executing, None),
        (State::FixVerified, Some(Step::Confirm)),
        (State::Resolved, Some(Step::Resolve)),
        (State::Closed, Some(Step::Postmortem)),
    ] {
        if let Some(s) = s {
            chain.ok(6, step(chain, s, 6, id));
        }
        assert_eq!(state_of(chain, id), state);
        if state == target {
            return id;
        }
    }
    panic!("cannot drive to {target:?}");
}

#[test]
fn a_sealed_report_goes_the_whole_way_to_a_disclosing_postmortem() {
    let mut chain = group();
    let before = chain.balance(&addr(REPORTER));
    let (report, disclosure) = report_to(&[5, 6, 7], "overflow in MsgSend at amount 2^128");
    chain.ok(REPORTER, report);
    assert_eq!(chain.balance(&addr(REPORTER)), before - DEPOSIT);
    assert_eq!(chain.balance(&escrow_address()), DEPOSIT);
    let i = incident(&chain, 1);
    assert_eq!(lifecycle::state_of(&i), State::Reported);
    // Members open it; the public record carries only the commitment.
    let (opened, who) =
        seal::open(&sealed(&chain, 1), &i.commitment, &encryption_secret(6)).unwrap();
    assert_eq!((opened, who), (disclosure.clone(), member(6)));
    assert!(seal::open(
        &sealed(&chain, 1),
        &i.commitment,
        &encryption_secret(REPORTER)
    )
    .is_err());

    // A member seated later cannot read it until a member reseals it to them.
    candidates(&mut chain, &[LATE_MEMBER]);
    assert_eq!(member_ids(&chain), vec![5, 6, 7, 8]);
    let late = encryption_secret(LATE_MEMBER);
    assert!(matches!(
        seal::open(&sealed(&chain, 1), &i.commitment, &late),
        Err(seal::SealError::NotARecipient(_))
    ));
    chain.ok(6, reseal(&chain, 6, 1, &[LATE_MEMBER]));
    assert_eq!(
        seal::open(&sealed(&chain, 1), &i.commitment, &late)
            .unwrap()
            .0,
        disclosure
    );

    // Triage refunds the deposit; three of four members declare; the team (with the expert)
    // plans, reviews, announces and updates.
    chain.ok(5, step(&chain, Step::Triage, 5, 1));
    assert_eq!(chain.balance(&addr(REPORTER)), before);
    for n in [5, 6] {
        chain.ok(n, step(&chain, Step::Declare, n, 1));
        assert_eq!(state_of(&chain, 1), State::Verified);
    }
    chain.ok(8, step(&chain, Step::Declare, 8, 1));
    assert_eq!(state_of(&chain, 1), State::EmergencyDeclared);
    chain.ok(EXPERT, step(&chain, Step::Propose, EXPERT, 1));
    for (n, kind) in [
        (5, ReviewKind::Technical),
        (6, ReviewKind::Risk),
        (EXPERT, ReviewKind::Legal),
    ] {
        assert_eq!(state_of(&chain, 1), State::PlanProposed);
        chain.ok(n, step(&chain, Step::Review(kind), n, 1));
    }
    assert_eq!(state_of(&chain, 1), State::PlanApproved);
    chain.ok(5, step(&chain, Step::Announce, 5, 1));
    chain.ok(6, step(&chain, Step::Update, 6, 1));
    chain.ok(EXPERT, step(&chain, Step::Update, EXPERT, 1));

    // The fix ships as an emergency upgrade; linking is checked against the scheduled plan.
    let refused = chain.run(5, step(&chain, Step::Link, 5, 1));
    assert!(
        refused.log.contains("no upgrade plan is scheduled"),
        "{}",
        refused.log
    );
    let height = schedule_fix(&mut chain, 1, &[5, 6, 7], 3);
    chain.ok(5, step(&chain, Step::Link, 5, 1));
    assert_eq!(state_of(&chain, 1), State::UpgradeScheduled);
    while chain.height < height {
        chain.block(Vec::new(), 1000);
    }
    assert_eq!(state_of(&chain, 1), State::Executing);
    chain.ok(6, step(&chain, Step::Confirm, 6, 1));
    chain.ok(6, step(&chain, Step::Resolve, 6, 1));

    // A disclosure that does not match the commitment is refused; the real one closes it.
    let mut forged = disclosure.clone();
    forged.report = b"nothing to see".to_vec();
    let r = chain.run(5, postmortem(5, 1, Some(forged)));
    assert!(r.log.contains("does not match"), "{}", r.log);
    chain.ok(5, postmortem(5, 1, Some(disclosure.clone())));
    let i = incident(&chain, 1);
    assert_eq!(lifecycle::state_of(&i), State::Closed);
    assert_eq!(
        i.postmortem.unwrap().disclosed_report.unwrap().report,
        disclosure.report
    );
    // The timeline is a query: every step with its height and block time, in order.
    let closed = incident(&chain, 1);
    let timeline = chain.read(async |kv| {
        caspur_app::modules::incident::query::timeline(kv, &closed)
            .await
            .unwrap()
    });
    let actions: Vec<&str> = timeline.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "reported",
            "resealed",
            "triaged",
            "declare_vote",
            "declare_vote",
            "emergency_declared",
            "plan_proposed",
            "review",
            "review",
            "review",
            "announced",
            "update",
            "update",
            "upgrade_linked",
            "executing",
            "fix_verified",
            "resolved",
            "postmortem"
        ]
    );
    assert!(timeline.windows(2).all(|w| w[0].height <= w[1].height
        && w[0].time_ms <= w[1].time_ms
        && w[0].seq + 1 == w[1].seq));
}

#[test]
fn removed_members_get_nothing_new_and_reports_need_a_readable_group() {
    let mut chain = group();
    chain.ok(REPORTER, report_to(&[5, 6, 7], "bug").0);
    // 7 is suspended (loses its seat); 8 is seated.
    for n in [5, 6] {
        chain.ok(
            n,
            to_any(
                "/caspur.dcert.v1.MsgVoteSuspend",
                &caspur_types::proto::dcert::v1::MsgVoteSuspend {
                    member: member(n),
                    target: member(7),
                },
            ),
        );
    }
    candidates(&mut chain, &[LATE_MEMBER]);
    assert_eq!(member_ids(&chain), vec![5, 6, 8]);
    // A reseal to the removed member is refused; the removed member cannot reseal either.
    let r = chain.run(5, reseal(&chain, 5, 1, &[7]));
    assert!(r.log.contains("not an active dCERT member"), "{}", r.log);
    let r = chain.run(7, reseal(&chain, 7, 1, &[LATE_MEMBER]));
    assert_ne!(r.code, 0);
    // A reseal by a current member drops the removed member's wrap.
    chain.ok(5, reseal(&chain, 5, 1, &[LATE_MEMBER]));
    let members: Vec<String> = sealed(&chain, 1)
        .keys
        .into_iter()
        .map(|w| w.member)
        .collect();
    assert_eq!(members, [member(5), member(6), member(8)]);
    // A new report must be sealed to exactly the current members.
    let r = chain.run(REPORTER, report_to(&[5, 6, 7], "stale group").0);
    assert!(
        r.log.contains("missing") && r.log.contains(&member(8)),
        "{}",
        r.log
    );
    chain.ok(REPORTER, report_to(&[5, 6, 8], "current group").0);
}

#[test]
fn a_group_without_encryption_keys_cannot_receive_reports() {
    let mut chain = dcert_chain(DcertParams {
        max_members: 3,
        min_member_stake: MIN_BOND.to_string(),
        stabilization_period_secs: 0,
        ..DcertParams::default()
    });
    chain.ok(
        5,
        to_any(
            "/caspur.dcert.v1.MsgAcceptCandidacy",
            &caspur_types::proto::dcert::v1::MsgAcceptCandidacy {
                candidate: member(5),
                description: String::new(),
                encryption_key: String::new(),
            },
        ),
    );
    chain.ok(5, bond(5, 5, MIN_BOND));
    assert_eq!(member_ids(&chain), vec![5]);
    let fake = seal::seal(b"x", &recipients(&[5])).unwrap().0;
    let msg = pb::MsgReportIncident {
        reporter: member(REPORTER),
        severity_claim: Severity::Low as i32,
        public_title: String::new(),
        sealed_report: Some(fake),
        commitment: hash(9),
    };
    let err = check_tx(
        &mut chain,
        REPORTER,
        vec![to_any(&url("MsgReportIncident"), &msg)],
    )
    .unwrap_err();
    assert!(
        err.message
            .contains("no active dCERT member has registered an encryption key"),
        "{err}"
    );
    // And a key that is not X25519 is refused at candidacy.
    let bad = to_any(
        "/caspur.dcert.v1.MsgAcceptCandidacy",
        &caspur_types::proto::dcert::v1::MsgAcceptCandidacy {
            candidate: member(6),
            description: String::new(),
            encryption_key: "age1notakey".into(),
        },
    );
    assert!(check_tx(&mut chain, 6, vec![bad])
        .unwrap_err()
        .message
        .contains("64 hex"));
}

#[test]
fn spam_burns_the_deposit_and_deadlines_are_flagged_by_block_time() {
    let mut chain = group();
    let supply = chain.supply();
    chain.ok(REPORTER, report_to(&[5, 6, 7], "spam").0);
    let spam = pb::MsgTriageIncident {
        member: member(5),
        id: 1,
        verdict: Verdict::Spam as i32,
        severity: 0,
    };
    chain.ok(5, to_any(&url("MsgTriageIncident"), &spam));
    assert_eq!(state_of(&chain, 1), State::Rejected);
    assert_eq!(chain.supply(), supply - DEPOSIT);
    assert_eq!(chain.balance(&escrow_address()), 0);

    // Verification SLA: one hour of block time in REPORTED.
    chain.ok(REPORTER, report_to(&[5, 6, 7], "real").0);
    chain.block(Vec::new(), HOUR_MS - 5_000);
    assert!(!incident(&chain, 2).sla_overdue);
    let events = chain_events_after(&mut chain, 10_000);
    assert!(incident(&chain, 2).sla_overdue);
    assert!(
        events.iter().any(|e| e.contains("verification_sla")),
        "{events:?}"
    );
    // Triage after the deadline still works; the flag stays as history.
    chain.ok(5, step(&chain, Step::Triage, 5, 2));
    assert!(incident(&chain, 2).sla_overdue);

    // Disclosure deadline: 90 days of block time after RESOLVED.
    let id = drive(&mut chain, State::Resolved);
    chain.block(Vec::new(), 89 * 24 * HOUR_MS);
    assert!(!incident(&chain, id).disclosure_overdue);
    chain.block(Vec::new(), 2 * 24 * HOUR_MS);
    assert!(incident(&chain, id).disclosure_overdue);
}

/// Runs an empty block `advance_ms` later; returns its end-block events as `type:attrs`.
fn chain_events_after(chain: &mut Chain, advance_ms: u64) -> Vec<String> {
    chain.block(Vec::new(), advance_ms);
    let raw = futures::executor::block_on(caspur_app::blob::get(
        &chain.state,
        &caspur_app::LAST_BLOCK_EVENTS_KEY,
    ))
    .unwrap()
    .unwrap_or_default();
    let events: Vec<caspur_types::Event> = serde_json::from_slice(&raw).unwrap();
    events
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e.kind,
                serde_json::to_string(&e.attributes).unwrap()
            )
        })
        .collect()
}

#[test]
fn a_cancelled_plan_aborts_its_incident() {
    let mut chain = group();
    let id = drive(&mut chain, State::UpgradeScheduled);
    for n in [5, 6, 7] {
        chain.ok(
            n,
            to_any(
                "/caspur.upgrade.v1.MsgCancelEmergencyUpgrade",
                &upb::MsgCancelEmergencyUpgrade {
                    member: member(n),
                    name: format!("fix-{id}"),
                },
            ),
        );
    }
    let i = incident(&chain, id);
    assert_eq!(lifecycle::state_of(&i), State::Aborted);
    assert!(i.abort_reason.contains("cancelled"), "{}", i.abort_reason);
}

/// The senders of the table: an active member, an expert named at the declaration, an
/// outsider, and a suspended member.
#[derive(Clone, Copy, Debug)]
enum Role {
    Member,
    Expert,
    Outsider,
    Suspended,
}

impl Role {
    fn key(self) -> u8 {
        match self {
            Role::Member => 5,
            Role::Expert => EXPERT,
            Role::Outsider => 11,
            Role::Suspended => 7,
        }
    }
}

/// The lifecycle table: the states a step is allowed in.
fn allowed_in(s: Step) -> Vec<State> {
    match s {
        Step::Triage => vec![State::Reported],
        Step::Declare => vec![State::Verified],
        Step::Propose => vec![State::EmergencyDeclared, State::PlanProposed],
        Step::Review(_) => vec![State::PlanProposed],
        Step::Announce => vec![State::PlanApproved],
        Step::Update => lifecycle::ANNOUNCED.to_vec(),
        Step::Link => vec![State::Announced],
        Step::Confirm => vec![State::Executing],
        Step::Resolve => vec![State::FixVerified],
        Step::Postmortem => vec![State::Resolved],
        Step::Abort => lifecycle::ACTIVE.to_vec(),
        Step::Reseal => {
            let mut v = lifecycle::ACTIVE.to_vec();
            v.extend([State::Reported, State::Resolved, State::Aborted]);
            v
        }
    }
}

/// Whether `role` may send `s` about an incident in `state`.
fn authorized(role: Role, s: Step, state: State) -> bool {
    let member_only = matches!(s, Step::Triage | Step::Declare | Step::Reseal);
    let declared = !matches!(state, State::Reported | State::Verified | State::Rejected);
    match role {
        Role::Member => true,
        Role::Expert => !member_only && declared,
        Role::Outsider | Role::Suspended => false,
    }
}

#[test]
fn every_step_in_every_state_from_every_sender_is_judged_at_check_tx() {
    let states = [
        State::Reported,
        State::Verified,
        State::Rejected,
        State::EmergencyDeclared,
        State::PlanProposed,
        State::PlanApproved,
        State::Announced,
        State::UpgradeScheduled,
        State::Executing,
        State::FixVerified,
        State::Resolved,
        State::Closed,
        State::Aborted,
    ];
    let base = group();
    let mut judged = 0;
    for target in states {
        let mut chain = base.clone();
        let id = match target {
            State::Rejected => {
                let id = drive(&mut chain, State::Reported);
                let reject = pb::MsgTriageIncident {
                    member: member(5),
                    id,
                    verdict: Verdict::Rejected as i32,
                    severity: 0,
                };
                chain.ok(5, to_any(&url("MsgTriageIncident"), &reject));
                id
            }
            State::Aborted => {
                let id = drive(&mut chain, State::EmergencyDeclared);
                chain.ok(6, step(&chain, Step::Abort, 6, id));
                id
            }
            State::Announced => {
                let id = drive(&mut chain, target);
                schedule_fix(&mut chain, id, &[5, 6, 7], 50);
                id
            }
            _ => drive(&mut chain, target),
        };
        assert_eq!(state_of(&chain, id), target);
        // Member 7 is suspended (by the votes of the others).
        for n in [5, 6, 8] {
            chain.ok(
                n,
                to_any(
                    "/caspur.dcert.v1.MsgVoteSuspend",
                    &caspur_types::proto::dcert::v1::MsgVoteSuspend {
                        member: member(n),
                        target: member(7),
                    },
                ),
            );
        }
        assert_eq!(member_ids(&chain), vec![5, 6, 8]);
        for s in STEPS {
            for role in [Role::Member, Role::Expert, Role::Outsider, Role::Suspended] {
                let msg = step(&chain, s, role.key(), id);
                let got = check_tx(&mut chain, role.key(), vec![msg]);
                let case = format!("{s:?} by {role:?} in {target:?}");
                match (authorized(role, s, target), allowed_in(s).contains(&target)) {
                    (true, true) => assert!(got.is_ok(), "{case}: {got:?}"),
                    (false, _) => {
                        let e = got.expect_err(&case);
                        assert_eq!(e.code, caspur_types::ErrorCode::Unauthorized, "{case}: {e}");
                        assert!(e.message.contains(&member(role.key())), "{case}: {e}");
                    }
                    (true, false) => {
                        let e = got.expect_err(&case);
                        assert_eq!(
                            e.code,
                            caspur_types::ErrorCode::InvalidRequest,
                            "{case}: {e}"
                        );
                        let now = format!("is {}", lifecycle::name(target));
                        assert!(
                            e.message.contains(&now) && e.message.contains("allowed only"),
                            "{case}: {e}"
                        );
                    }
                }
                judged += 1;
            }
        }
        // A second review of the same side by the same member is refused too.
        if target == State::PlanProposed {
            chain.ok(5, step(&chain, Step::Review(ReviewKind::Risk), 5, id));
            let again = step(&chain, Step::Review(ReviewKind::Risk), 5, id);
            let e = check_tx(&mut chain, 5, vec![again]).unwrap_err();
            assert!(e.message.contains("already reviewed the risk side"), "{e}");
        }
    }
    assert_eq!(judged, 13 * 12 * 4);
}

/// Member 5 breaks `route` answering incident `id` and governance ratifies it.
fn ratified_break(chain: &mut Chain, id: u64, route: &str) -> u64 {
    let msg = to_any(
        "/caspur.dcert.v1.MsgCircuitBreak",
        &caspur_types::proto::dcert::v1::MsgCircuitBreak {
            member: member(5),
            routes: vec![route.into()],
            reason: "drain".into(),
            incident_id: id,
        },
    );
    let r = chain.ok(5, msg);
    let attr = |key: &str| -> u64 {
        r.events
            .iter()
            .filter(|e| e.kind == "dcert_break")
            .flat_map(|e| e.attributes.iter())
            .find(|a| a.key == key)
            .map(|a| a.value.parse().unwrap())
            .unwrap()
    };
    let (break_id, proposal_id) = (attr("break_id"), attr("proposal_id"));
    chain.ok(
        1,
        vote(
            1,
            proposal_id,
            cosmos_sdk_proto::cosmos::gov::v1::VoteOption::Yes,
        ),
    );
    chain.block(Vec::new(), HOUR_MS);
    break_id
}

fn break_record(chain: &Chain, id: u64) -> caspur_types::proto::dcert::v1::BreakRecord {
    chain.read(async |kv| {
        caspur_app::modules::dcert::break_state::require(kv, id)
            .await
            .unwrap()
    })
}

/// Members 5–8 may break, with ratification and a quarter slashed; an incident driven to
/// `resolved` with member 5's break of `MsgSend` naming it, ratified. Returns the chain, the
/// incident, the break and member 5's bond.
fn resolved_with_ratified_break() -> (Chain, u64, u64, u128) {
    let mut chain = group_with(|p| {
        p.circuit_break_enabled = true;
        p.break_ratification_period_secs = HOUR_MS / 1000;
        p.unratified_break_slash = "0.25".into();
    });
    let id = drive(&mut chain, State::Resolved);
    let break_id = ratified_break(&mut chain, id, "/cosmos.bank.v1beta1.MsgSend");
    assert_eq!(break_record(&chain, break_id).slashed_unratified, "");
    let bond = member_bond(&chain, 5);
    (chain, id, break_id, bond)
}

fn member_bond(chain: &Chain, n: u8) -> u128 {
    chain.read(async |kv| {
        caspur_app::modules::dcert::state::candidate(kv, &addr(n))
            .await
            .unwrap()
            .bond
    })
}

#[test]
fn breakers_are_slashed_when_a_post_mortem_closes_their_incident_undisclosed() {
    let (mut chain, id, break_id, before) = resolved_with_ratified_break();
    chain.ok(6, postmortem(6, id, None));
    let r = break_record(&chain, break_id);
    assert_eq!(r.slashed_undisclosed, format!("{}ucsp", before / 4));
    assert_eq!(member_bond(&chain, 5), before - before / 4);
}

#[test]
fn breakers_are_slashed_once_when_their_incident_passes_the_disclosure_deadline() {
    let (mut chain, id, break_id, before) = resolved_with_ratified_break();
    let deadline = chain
        .read(async |kv| ist::get_params(kv).await.unwrap())
        .disclosure_deadline_secs;
    chain.block(Vec::new(), deadline * 1000);
    assert!(incident(&chain, id).disclosure_overdue);
    let r = break_record(&chain, break_id);
    assert_eq!(r.slashed_undisclosed, format!("{}ucsp", before / 4));
    // Once per break: the post-mortem that closes it late, undisclosed, slashes no more.
    let after = member_bond(&chain, 5);
    chain.ok(6, postmortem(6, id, None));
    assert_eq!(member_bond(&chain, 5), after);
}
