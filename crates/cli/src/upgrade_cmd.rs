//! `tx upgrade …` and `query upgrade …` (SPEC §4): readiness signals, the dCERT emergency
//! track, and the plan, applied plans, readiness, approvals and app version. Governance's
//! `MsgSoftwareUpgrade` / `MsgCancelUpgrade` / `MsgUpdateParams` go in a proposal file.

use crate::client::Client;
use crate::commands::TxContext;
use anyhow::{Context, Result};
use caspur_types::proto::upgrade::v1 as pb;
use clap::Subcommand;
use prost::Message;
use serde_json::Value;

/// `tx upgrade …`.
#[derive(Subcommand)]
pub enum UpgradeTx {
    /// Attest, as a validator operator, that the plan's binary is in place (by checksum).
    SignalReady {
        /// The scheduled plan's name.
        plan: String,
        /// The binary's SHA-256 (hex); or give --binary to compute it.
        #[arg(long, required_unless_present = "binary")]
        sha256: Option<String>,
        /// The binary whose SHA-256 to send.
        #[arg(long)]
        binary: Option<std::path::PathBuf>,
        /// Validator operator key.
        #[arg(long)]
        from: String,
    },
    /// Approve an emergency plan (active dCERT members); the quorum schedules it.
    ApproveEmergency {
        /// Plan name.
        name: String,
        /// Requested height; the chain moves it to at least `min_notice` blocks ahead, so the
        /// default (1) means "as early as the notice allows".
        #[arg(long, default_value_t = 1)]
        height: i64,
        /// Plan info: {"binaries": {"linux/amd64": {"url": …, "sha256": …}}}.
        #[arg(long)]
        info: String,
        /// Broken routes the upgrade reopens, comma-separated.
        #[arg(long, value_delimiter = ',')]
        reopen: Vec<String>,
        /// Member key.
        #[arg(long)]
        from: String,
    },
    /// Print a plan's `info` for a proposal file or `approve-emergency --info` (no tx is sent):
    /// the binary's SHA-256 per platform and where to fetch it; repeat the three flags for
    /// more platforms.
    PlanInfo {
        /// The binary of each platform.
        #[arg(long, required = true)]
        binary: Vec<std::path::PathBuf>,
        /// Where the visors fetch it (https://, http:// or file://), one per --binary.
        #[arg(long, required = true)]
        url: Vec<String>,
        /// `<os>/<arch>` of each binary (default: this machine's).
        #[arg(long)]
        platform: Vec<String>,
    },
    /// Vote to cancel the group's own emergency plan (active dCERT members).
    CancelEmergency {
        /// Plan name.
        name: String,
        /// Member key.
        #[arg(long)]
        from: String,
    },
}

/// `query upgrade …`.
#[derive(Subcommand)]
pub enum UpgradeQuery {
    /// The scheduled plan (source, postponements, original height).
    Plan,
    /// Plans applied or skipped, with heights.
    Applied,
    /// Share of bonded voting power ready for the scheduled plan.
    Readiness,
    /// Module parameters.
    Params,
    /// Emergency plans being approved and their approvers.
    Approvals,
    /// The app version the last upgrade set.
    AppVersion,
}

/// `tx upgrade plan-info`: the info JSON (as the string a plan carries), checked as the chain
/// checks it.
pub fn plan_info(
    binaries: &[std::path::PathBuf],
    urls: &[String],
    platforms: &[String],
) -> Result<String> {
    use caspur_types::upgrade_info::{platform, PlanInfo};
    if binaries.len() != urls.len() || (!platforms.is_empty() && platforms.len() != binaries.len())
    {
        anyhow::bail!("give one --url (and, with --platform, one platform) per --binary");
    }
    let mut map = serde_json::Map::new();
    for (i, (binary, url)) in binaries.iter().zip(urls).enumerate() {
        let os_arch = platforms.get(i).cloned().unwrap_or_else(platform);
        map.insert(
            os_arch,
            serde_json::json!({"url": url, "sha256": file_sha256(binary)?}),
        );
    }
    let info = serde_json::json!({ "binaries": map }).to_string();
    PlanInfo::parse(&info).map_err(|e| anyhow::anyhow!(e))?;
    Ok(info)
}

/// The lower-case hex SHA-256 of a file.
pub(crate) fn file_sha256(path: &std::path::Path) -> Result<String> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    caspur_types::upgrade_info::sha256_hex(file)
        .with_context(|| format!("cannot read {}", path.display()))
}

/// Runs an upgrade tx command.
pub fn tx(ctx: &TxContext<'_>, cmd: UpgradeTx) -> Result<Value> {
    match cmd {
        UpgradeTx::SignalReady {
            plan,
            sha256,
            binary,
            from,
        } => {
            let sha256 = match (sha256, binary) {
                (Some(s), _) => s,
                (None, Some(path)) => file_sha256(&path)?,
                (None, None) => anyhow::bail!("give --sha256 or --binary"),
            };
            ctx.send_one(&from, "/caspur.upgrade.v1.MsgSignalReady", &|validator| {
                pb::MsgSignalReady {
                    validator,
                    plan: plan.clone(),
                    binary_sha256: sha256.clone(),
                }
                .encode_to_vec()
            })
        }
        UpgradeTx::ApproveEmergency {
            name,
            height,
            info,
            reopen,
            from,
        } => {
            let plan = pb::Plan {
                name,
                height,
                info,
                routes_to_reopen: reopen,
            };
            ctx.send_one(
                &from,
                "/caspur.upgrade.v1.MsgApproveEmergencyUpgrade",
                &|member| {
                    pb::MsgApproveEmergencyUpgrade {
                        member,
                        plan: Some(plan.clone()),
                    }
                    .encode_to_vec()
                },
            )
        }
        UpgradeTx::PlanInfo { .. } => {
            anyhow::bail!("plan-info sends no tx: it is answered before any node is asked")
        }
        UpgradeTx::CancelEmergency { name, from } => ctx.send_one(
            &from,
            "/caspur.upgrade.v1.MsgCancelEmergencyUpgrade",
            &|member| {
                pb::MsgCancelEmergencyUpgrade {
                    member,
                    name: name.clone(),
                }
                .encode_to_vec()
            },
        ),
    }
}

/// Runs an upgrade query.
pub fn query(client: &Client, cmd: UpgradeQuery) -> Result<Value> {
    let path = |m: &str| format!("/caspur.upgrade.v1.Query/{m}");
    match cmd {
        UpgradeQuery::Plan => client.ask_json::<_, pb::QueryCurrentPlanResponse>(
            &path("CurrentPlan"),
            &pb::QueryCurrentPlanRequest {},
        ),
        UpgradeQuery::Applied => client.ask_json::<_, pb::QueryAppliedPlansResponse>(
            &path("AppliedPlans"),
            &pb::QueryAppliedPlansRequest {},
        ),
        UpgradeQuery::Readiness => client.ask_json::<_, pb::QueryReadinessResponse>(
            &path("Readiness"),
            &pb::QueryReadinessRequest {},
        ),
        UpgradeQuery::Params => client
            .ask_json::<_, pb::QueryParamsResponse>(&path("Params"), &pb::QueryParamsRequest {}),
        UpgradeQuery::Approvals => client.ask_json::<_, pb::QueryEmergencyApprovalsResponse>(
            &path("EmergencyApprovals"),
            &pb::QueryEmergencyApprovalsRequest {},
        ),
        UpgradeQuery::AppVersion => client.ask_json::<_, pb::QueryAppVersionResponse>(
            &path("AppVersion"),
            &pb::QueryAppVersionRequest {},
        ),
    }
}
