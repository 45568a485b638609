//! The authorization table (issue 15): every restricted message × every signer role —
//! non-member, candidate, member, suspended member, the gov authority, a validator, an unknown
//! account — is allowed or refused as the SPEC says, and CheckTx answers exactly what block
//! execution does (same success, same code) on the same state: the differential check.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use caspur_app::modules::dcert::DcertParams;
use caspur_app::modules::gov::state::gov_address;
use caspur_types::proto::{dcert::v1 as dpb, upgrade::v1 as upb};
use caspur_types::sign::to_any;
use caspur_types::{Address, Coin};
use common::*;
use cosmos_sdk_proto::cosmos::gov::v1 as gov;
use cosmos_sdk_proto::Any;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    NonMember,
    Candidate,
    Member,
    Suspended,
    Gov,
    Validator,
    Unknown,
}

const ROLES: [Role; 7] = [
    Role::NonMember,
    Role::Candidate,
    Role::Member,
    Role::Suspended,
    Role::Gov,
    Role::Validator,
    Role::Unknown,
];

/// Members 5, 6 and one of 9/10 active; 7 suspended; the other of 9/10 a candidate; circuit
/// breaking enabled. Returns the chain and the candidate's key.
fn setup() -> (Chain, u8) {
    let params = DcertParams {
        max_members: 3,
        min_member_stake: MIN_BOND.to_string(),
        stabilization_period_secs: 0,
        circuit_break_enabled: true,
        dissolution_deposit: "10000000".into(),
        ..DcertParams::default()
    };
    let mut chain = dcert_chain(params);
    candidates(&mut chain, &[5, 6, 7]);
    for voter in [5, 6] {
        chain.ok(
            voter,
            to_any(
                "/caspur.dcert.v1.MsgVoteSuspend",
                &dpb::MsgVoteSuspend {
                    member: addr(voter).to_string(),
                    target: addr(7).to_string(),
                },
            ),
        );
    }
    candidates(&mut chain, &[9, 10]);
    chain.ok(
        3,
        to_any(
            "/cosmos.distribution.v1beta1.MsgFundCommunityPool",
            &cosmos_sdk_proto::cosmos::distribution::v1beta1::MsgFundCommunityPool {
                depositor: addr(3).to_string(),
                amount: vec![Coin::new("ucsp", 1_000).to_proto()],
            },
        ),
    );
    let seated = member_ids(&chain);
    assert!(seated.contains(&5) && seated.contains(&6) && !seated.contains(&7));
    let candidate = if seated.contains(&9) { 10 } else { 9 };
    (chain, candidate)
}

/// The key that plays `role` (the gov authority has none: its messages run in proposals).
fn key_of(role: Role, candidate: u8) -> Option<u8> {
    match role {
        Role::NonMember => Some(8),
        Role::Candidate => Some(candidate),
        Role::Member => Some(5),
        Role::Suspended => Some(7),
        Role::Gov => None,
        Role::Validator => Some(1),
        Role::Unknown => Some(20),
    }
}

/// A restricted message, signed as `signer`, and the roles the SPEC allows to send it.
struct Row {
    name: &'static str,
    msg: fn(&Address) -> Any,
    allowed: &'static [Role],
}

fn plan() -> upb::Plan {
    upb::Plan {
        name: "v2".into(),
        // Far past the two-day vote at the harness's second per block (checked at submission).
        height: 10_000_000,
        info: format!(
            r#"{{"binaries":{{"linux/amd64":{{"url":"file:///bin/v2","sha256":"{}"}}}}}}"#,
            "ab".repeat(32)
        ),
        routes_to_reopen: Vec::new(),
    }
}

fn rows() -> Vec<Row> {
    vec![
        Row {
            name: "MsgCircuitBreak",
            msg: |s| {
                to_any(
                    "/caspur.dcert.v1.MsgCircuitBreak",
                    &dpb::MsgCircuitBreak {
                        member: s.to_string(),
                        routes: vec!["/cosmos.staking.v1beta1.MsgDelegate".into()],
                        reason: "exploit".into(),
                        incident_id: 0,
                    },
                )
            },
            allowed: &[Role::Member],
        },
        Row {
            name: "MsgVoteSuspend",
            msg: |s| {
                to_any(
                    "/caspur.dcert.v1.MsgVoteSuspend",
                    &dpb::MsgVoteSuspend {
                        member: s.to_string(),
                        target: addr(6).to_string(),
                    },
                )
            },
            allowed: &[Role::Member],
        },
        Row {
            name: "MsgUpdateGroupDescription",
            msg: |s| {
                to_any(
                    "/caspur.dcert.v1.MsgUpdateGroupDescription",
                    &dpb::MsgUpdateGroupDescription {
                        member: s.to_string(),
                        description: "we answer within the hour".into(),
                    },
                )
            },
            allowed: &[Role::Member],
        },
        Row {
            name: "MsgApproveEmergencyUpgrade",
            msg: |s| {
                to_any(
                    "/caspur.upgrade.v1.MsgApproveEmergencyUpgrade",
                    &upb::MsgApproveEmergencyUpgrade {
                        member: s.to_string(),
                        plan: Some(plan()),
                    },
                )
            },
            allowed: &[Role::Member],
        },
        Row {
            name: "MsgSlashDcertMember",
            msg: |s| {
                to_any(
                    "/caspur.dcert.v1.MsgSlashDcertMember",
                    &dpb::MsgSlashDcertMember {
                        authority: s.to_string(),
                        member: addr(7).to_string(),
                        fraction: "0.1".into(),
                        reason: "leaked".into(),
                    },
                )
            },
            allowed: &[Role::Gov],
        },
        Row {
            name: "MsgSoftwareUpgrade",
            msg: |s| {
                to_any(
                    "/caspur.upgrade.v1.MsgSoftwareUpgrade",
                    &upb::MsgSoftwareUpgrade {
                        authority: s.to_string(),
                        plan: Some(plan()),
                    },
                )
            },
            allowed: &[Role::Gov],
        },
        Row {
            name: "MsgCommunityPoolSpend",
            msg: |s| {
                to_any(
                    "/cosmos.distribution.v1beta1.MsgCommunityPoolSpend",
                    &cosmos_sdk_proto::cosmos::distribution::v1beta1::MsgCommunityPoolSpend {
                        authority: s.to_string(),
                        recipient: addr(2).to_string(),
                        amount: vec![Coin::new("ucsp", 1).to_proto()],
                    },
                )
            },
            allowed: &[Role::Gov],
        },
        Row {
            name: "MsgDissolveDcert",
            msg: |s| {
                to_any(
                    "/caspur.dcert.v1.MsgDissolveDcert",
                    &dpb::MsgDissolveDcert {
                        authority: s.to_string(),
                        slash_fraction: String::new(),
                        reason: "compromised".into(),
                    },
                )
            },
            allowed: &[Role::Gov],
        },
        Row {
            name: "bank MsgUpdateParams",
            msg: |s| {
                to_any(
                    "/cosmos.bank.v1beta1.MsgUpdateParams",
                    &cosmos_sdk_proto::cosmos::bank::v1beta1::MsgUpdateParams {
                        authority: s.to_string(),
                        params: Some(cosmos_sdk_proto::cosmos::bank::v1beta1::Params {
                            default_send_enabled: true,
                            ..Default::default()
                        }),
                    },
                )
            },
            allowed: &[Role::Gov],
        },
        Row {
            name: "MsgSend (own funds)",
            msg: |s| {
                to_any(
                    "/cosmos.bank.v1beta1.MsgSend",
                    &cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend {
                        from_address: s.to_string(),
                        to_address: addr(2).to_string(),
                        amount: vec![Coin::new("ucsp", 1).to_proto()],
                    },
                )
            },
            // The gov module account holds no spendable funds here.
            allowed: &[
                Role::NonMember,
                Role::Candidate,
                Role::Member,
                Role::Suspended,
                Role::Validator,
            ],
        },
    ]
}

/// A signer's message: CheckTx and block execution on copies of the same state agree; returns
/// whether it was allowed.
fn differential(base: &Chain, n: u8, msg: Any, what: &str) -> bool {
    let mut checked = base.clone();
    let mut executed = base.clone();
    let check = check_tx(&mut checked, n, vec![msg.clone()]);
    let raw = executed.tx(n, vec![msg]);
    let result = executed.block(vec![raw], 1000).remove(0);
    match &check {
        Ok(()) => assert_eq!(
            result.code, 0,
            "{what}: CheckTx admitted, block refused: {}",
            result.log
        ),
        Err(e) => assert_eq!(
            result.code,
            e.code.code(),
            "{what}: CheckTx refused with {e:?}, the block answered {}",
            result.log
        ),
    }
    check.is_ok()
}

/// The gov authority's message: submitted in a proposal (submission admitted alike by CheckTx
/// and the block), passed, and executed; whether it ran.
fn through_governance(base: &Chain, msg: Any, what: &str) -> bool {
    let mut chain = base.clone();
    let submit_msg = submit(2, vec![msg], 10_000_000, false);
    assert!(
        differential(&chain, 2, submit_msg.clone(), what),
        "{what}: submission refused"
    );
    let id: u64 = chain
        .ok(2, submit_msg)
        .events
        .iter()
        .find_map(|e| e.get("proposal_id"))
        .and_then(|id| id.parse().ok())
        .unwrap();
    chain.ok(1, vote(1, id, gov::VoteOption::Yes));
    chain.block(Vec::new(), voting_ms());
    let p = proposal(&chain, id);
    match status(&p) {
        gov::ProposalStatus::Passed => true,
        gov::ProposalStatus::Failed => false,
        other => panic!("{what}: proposal ended {other:?}"),
    }
}

#[test]
fn every_restricted_message_by_every_role_at_check_tx_and_execution_alike() {
    let (chain, candidate) = setup();
    let mut table = Vec::new();
    for row in rows() {
        for role in ROLES {
            let what = format!("{} by {role:?}", row.name);
            let allowed = match key_of(role, candidate) {
                Some(n) => differential(&chain, n, (row.msg)(&addr(n)), &what),
                None => through_governance(&chain, (row.msg)(&gov_address()), &what),
            };
            table.push(format!(
                "{what}: {}",
                if allowed { "allowed" } else { "refused" }
            ));
            assert_eq!(allowed, row.allowed.contains(&role), "{what}");
        }
    }
    println!("{}", table.join("\n"));
}
