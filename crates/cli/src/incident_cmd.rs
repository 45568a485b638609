//! Incidents from the command line (SPEC §5; `docs/incidents.md`): `incident keygen` and
//! `incident open` (a member's encryption key and reading a sealed report), `tx incident …`
//! (report — sealed here, to the members the chain lists — and every lifecycle step) and
//! `query incident …`. Files given for plans, notes, checks and post-mortems are hashed
//! (SHA-256) so only their hash goes on chain.

use crate::client::Client;
use crate::commands::TxContext;
use anyhow::{anyhow, bail, Context, Result};
use caspur_app::modules::incident::view;
use caspur_types::proto::dcert::v1 as dpb;
use caspur_types::proto::incident::v1::{self as pb, ReviewKind, Severity, Verdict};
use caspur_types::seal::{self, PublicKey, SecretKey};
use clap::{Args, Subcommand};
use prost::Message;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// `incident …` (local key handling; `open` reads from the node).
#[derive(Subcommand)]
pub enum IncidentCmd {
    /// Make an X25519 key pair for sealed reports: the secret goes to FILE (mode 0600), the
    /// public key is printed for `tx dcert accept-candidacy --encryption-key`.
    Keygen {
        /// Where to write the secret key.
        #[arg(long)]
        out: PathBuf,
    },
    /// Open (decrypt) a sealed report with your secret key and check it against its public
    /// commitment.
    Open {
        /// Incident id.
        id: u64,
        /// Your secret key file (from `incident keygen`).
        #[arg(long)]
        key: PathBuf,
        /// Write the disclosure (salt and report, JSON) here for a later post-mortem.
        #[arg(long)]
        disclosure_out: Option<PathBuf>,
        /// Node RPC (default: client.toml's `node`).
        #[arg(long, env = "CASPUR_NODE")]
        node: Option<String>,
    },
}

/// The incident a step is about and the key that signs it.
#[derive(Args)]
pub struct Target {
    /// Incident id.
    pub id: u64,
    /// Signer key.
    #[arg(long)]
    pub from: String,
}

/// A SHA-256 given directly or computed from a file.
#[derive(Args)]
pub struct HashOrFile {
    /// Hex SHA-256.
    #[arg(long)]
    pub hash: Option<String>,
    /// A file to hash instead.
    #[arg(long)]
    pub file: Option<PathBuf>,
}

/// `tx incident …`.
#[derive(Subcommand)]
pub enum IncidentTx {
    /// Report a vulnerability, sealed to the active dCERT members (pays the report deposit).
    Report {
        /// The report (any text, e.g. Markdown).
        #[arg(long)]
        file: PathBuf,
        /// Your severity estimate: low, medium, high, critical.
        #[arg(long)]
        severity: String,
        /// A public title (say nothing that helps an attacker).
        #[arg(long, default_value = "")]
        title: String,
        /// Where to keep the disclosure (salt and report) [default: FILE.disclosure.json].
        #[arg(long)]
        disclosure_out: Option<PathBuf>,
        /// Reporter key.
        #[arg(long)]
        from: String,
    },
    /// Triage a report (members): verified, rejected or spam.
    Triage {
        #[command(flatten)]
        target: Target,
        /// verified, rejected (deposit refunded) or spam (deposit burned).
        #[arg(long)]
        verdict: String,
        /// Severity (required when verified).
        #[arg(long, default_value = "unspecified")]
        severity: String,
    },
    /// Vote to declare an emergency (members), naming experts for the response team.
    Declare {
        #[command(flatten)]
        target: Target,
        /// Expert addresses, comma-separated.
        #[arg(long, value_delimiter = ',')]
        experts: Vec<String>,
    },
    /// Propose the response plan (team).
    ProposePlan {
        #[command(flatten)]
        target: Target,
        /// Public summary.
        #[arg(long)]
        summary: String,
        #[command(flatten)]
        plan: HashOrFile,
        /// The upgrade plan name the fix will ship as.
        #[arg(long, default_value = "")]
        upgrade: String,
    },
    /// Review the plan (team): one side, approve or reject, with the notes' hash.
    Review {
        #[command(flatten)]
        target: Target,
        /// technical, risk or legal.
        #[arg(long)]
        kind: String,
        /// Reject instead of approve.
        #[arg(long)]
        reject: bool,
        #[command(flatten)]
        notes: HashOrFile,
    },
    /// Announce the incident publicly (team).
    Announce {
        #[command(flatten)]
        target: Target,
        /// What is happening.
        #[arg(long)]
        description: String,
        /// Temporary measures in force.
        #[arg(long, default_value = "")]
        temporary_measures: String,
        /// The plan, as the public may know it.
        #[arg(long, default_value = "")]
        plan: String,
        /// What users should do.
        #[arg(long, default_value = "")]
        user_advice: String,
    },
    /// Post a public update (team).
    Update {
        #[command(flatten)]
        target: Target,
        /// The update.
        text: String,
    },
    /// Link the scheduled upgrade plan that ships the fix (team).
    LinkUpgrade {
        #[command(flatten)]
        target: Target,
        /// The scheduled plan's name.
        plan: String,
    },
    /// Confirm the fix works (team), with the hash of the checks run.
    Confirm {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        checks: HashOrFile,
    },
    /// Announce completion (team).
    Resolve {
        #[command(flatten)]
        target: Target,
        /// Completion announcement.
        #[arg(long)]
        summary: String,
    },
    /// Publish the post-mortem (team), optionally disclosing the report.
    Postmortem {
        #[command(flatten)]
        target: Target,
        /// Where the post-mortem is published.
        #[arg(long)]
        uri: String,
        #[command(flatten)]
        document: HashOrFile,
        /// Disclose the report: a disclosure file (from `report` or `incident open`).
        #[arg(long)]
        disclose: Option<PathBuf>,
    },
    /// Abort an active incident (team).
    Abort {
        #[command(flatten)]
        target: Target,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Reseal the report to active members who cannot read it yet (members who can).
    Reseal {
        #[command(flatten)]
        target: Target,
        /// Your secret key file.
        #[arg(long)]
        key: PathBuf,
    },
}

/// `query incident …`.
#[derive(Subcommand)]
pub enum IncidentQuery {
    /// One incident with its timeline.
    Show {
        /// Incident id.
        id: u64,
    },
    /// Incidents, newest first.
    List {
        /// Only this state (e.g. reported, announced).
        #[arg(long)]
        state: Option<String>,
        /// Page size (at most 100).
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Ids below this one (the previous page's next_before).
        #[arg(long, default_value_t = 0)]
        before: u64,
    },
    /// Module parameters.
    Params,
}

const QUERY: &str = "/caspur.incident.v1.Query/";

fn url(msg: &str) -> String {
    format!("/caspur.incident.v1.{msg}")
}

fn severity(s: &str) -> Result<Severity> {
    Severity::from_str_name(&format!("SEVERITY_{}", s.to_ascii_uppercase()))
        .ok_or_else(|| anyhow!("severity is low, medium, high or critical, got {s:?}"))
}

fn verdict(s: &str) -> Result<Verdict> {
    Verdict::from_str_name(&format!("VERDICT_{}", s.to_ascii_uppercase()))
        .ok_or_else(|| anyhow!("verdict is verified, rejected or spam, got {s:?}"))
}

fn review_kind(s: &str) -> Result<ReviewKind> {
    ReviewKind::from_str_name(&format!("REVIEW_KIND_{}", s.to_ascii_uppercase()))
        .ok_or_else(|| anyhow!("kind is technical, risk or legal, got {s:?}"))
}

fn state_number(s: &str) -> Result<i32> {
    pb::State::from_str_name(&format!("STATE_{}", s.to_ascii_uppercase()))
        .map(|s| s as i32)
        .ok_or_else(|| anyhow!("unknown state {s:?}"))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

impl HashOrFile {
    fn resolve(&self, what: &str) -> Result<String> {
        match (&self.hash, &self.file) {
            (Some(h), None) => Ok(h.to_ascii_lowercase()),
            (None, Some(f)) => {
                use sha2::{Digest, Sha256};
                Ok(hex::encode(Sha256::digest(read(f)?)))
            }
            _ => bail!("give the {what} as --hash HEX or --file PATH (one of them)"),
        }
    }
}

fn secret(path: &Path) -> Result<SecretKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the secret key {}", path.display()))?;
    SecretKey::parse(text.trim()).map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// The active members who can receive reports (as the chain decides: a parseable key).
fn recipients(client: &Client) -> Result<Vec<(String, PublicKey)>> {
    let bytes = client.query(
        "/caspur.dcert.v1.Query/Members",
        &dpb::QueryMembersRequest {},
    )?;
    let members = dpb::QueryMembersResponse::decode(bytes.as_slice())?.members;
    Ok(members
        .into_iter()
        .filter_map(|m| Some((m.address, PublicKey::parse(&m.encryption_key).ok()?)))
        .collect())
}

fn sealed_report(client: &Client, id: u64) -> Result<pb::QuerySealedReportResponse> {
    let bytes = client.query(
        &format!("{QUERY}SealedReport"),
        &pb::QuerySealedReportRequest { id },
    )?;
    Ok(pb::QuerySealedReportResponse::decode(bytes.as_slice())?)
}

fn write_disclosure(path: &Path, d: &pb::Disclosure) -> Result<()> {
    let v = json!({"salt": hex::encode(&d.salt), "report": hex::encode(&d.report)});
    crate::home::write_file(path, serde_json::to_string_pretty(&v)?.as_bytes())
}

fn read_disclosure(path: &Path) -> Result<pb::Disclosure> {
    let v: Value = serde_json::from_slice(&read(path)?)
        .with_context(|| format!("{} is not a disclosure file", path.display()))?;
    let field = |k: &str| -> Result<Vec<u8>> {
        hex::decode(v[k].as_str().unwrap_or_default())
            .with_context(|| format!("{}: {k} is not hex", path.display()))
    };
    Ok(pb::Disclosure {
        salt: field("salt")?,
        report: field("report")?,
    })
}

/// Runs `incident keygen|open`.
pub fn run(cmd: IncidentCmd, default_node: &str) -> Result<Value> {
    match cmd {
        IncidentCmd::Keygen { out } => {
            if out.exists() {
                bail!("{} exists; refusing to overwrite a key", out.display());
            }
            let key = SecretKey::generate();
            crate::home::write_secret(&out, format!("{}\n", key.to_hex()).as_bytes())?;
            let public = key.public()?.to_hex();
            Ok(json!({"encryption_key": public, "secret_key_file": out}))
        }
        IncidentCmd::Open {
            id,
            key,
            disclosure_out,
            node,
        } => {
            let client = Client::new(node.as_deref().unwrap_or(default_node));
            let sealed = sealed_report(&client, id)?;
            let report = sealed
                .sealed_report
                .ok_or_else(|| anyhow!("incident {id} has no sealed report"))?;
            let (d, member) = seal::open(&report, &sealed.commitment, &secret(&key)?)?;
            if let Some(path) = disclosure_out {
                write_disclosure(&path, &d)?;
            }
            Ok(json!({
                "id": id,
                "sealed_to": member,
                "commitment": sealed.commitment,
                "report": String::from_utf8_lossy(&d.report),
            }))
        }
    }
}

/// Runs an incident tx command.
pub fn tx(ctx: &TxContext<'_>, cmd: IncidentTx) -> Result<Value> {
    match cmd {
        IncidentTx::Report {
            file,
            severity: s,
            title,
            disclosure_out,
            from,
        } => {
            let text = read(&file)?;
            let (sealed, d) = seal::seal(&text, &recipients(ctx.client)?)?;
            let keep = disclosure_out.unwrap_or_else(|| {
                let mut p = file.clone().into_os_string();
                p.push(".disclosure.json");
                PathBuf::from(p)
            });
            write_disclosure(&keep, &d)?;
            let msg = pb::MsgReportIncident {
                reporter: String::new(),
                severity_claim: severity(&s)? as i32,
                public_title: title,
                sealed_report: Some(sealed),
                commitment: seal::commitment(&d.salt, &d.report),
            };
            send(ctx, &from, "MsgReportIncident", move |me| {
                let mut m = msg.clone();
                m.reporter = me;
                m.encode_to_vec()
            })
        }
        IncidentTx::Reseal { target, key } => {
            let sealed = sealed_report(ctx.client, target.id)?;
            let report = sealed
                .sealed_report
                .ok_or_else(|| anyhow!("incident {} has no sealed report", target.id))?;
            let missing: Vec<(String, PublicKey)> = recipients(ctx.client)?
                .into_iter()
                .filter(|(m, k)| {
                    !report
                        .keys
                        .iter()
                        .any(|w| &w.member == m && w.recipient_key == k.0)
                })
                .collect();
            if missing.is_empty() {
                bail!(
                    "every active member with a key can already read incident {}",
                    target.id
                );
            }
            let keys = seal::rewrap(&report, &sealed.commitment, &secret(&key)?, &missing)?;
            let id = target.id;
            send(ctx, &target.from, "MsgResealIncident", move |member| {
                pb::MsgResealIncident {
                    member,
                    id,
                    keys: keys.clone(),
                }
                .encode_to_vec()
            })
        }
        other => step(ctx, other),
    }
}

fn send(
    ctx: &TxContext<'_>,
    from: &str,
    msg: &str,
    build: impl Fn(String) -> Vec<u8>,
) -> Result<Value> {
    ctx.send_one(from, &url(msg), &build)
}

/// Encodes a step's message from the signer's address and the incident id.
type Build = Box<dyn Fn(String, u64) -> Vec<u8>>;

/// The lifecycle steps: each a message about one incident signed by `--from`.
fn step(ctx: &TxContext<'_>, cmd: IncidentTx) -> Result<Value> {
    let (target, name, msg): (Target, &str, Build) = match cmd {
        IncidentTx::Triage {
            target,
            verdict: v,
            severity: s,
        } => {
            let verdict = verdict(&v)? as i32;
            let severity = if s == "unspecified" {
                0
            } else {
                severity(&s)? as i32
            };
            let f = move |member, id| {
                pb::MsgTriageIncident {
                    member,
                    id,
                    verdict,
                    severity,
                }
                .encode_to_vec()
            };
            (target, "MsgTriageIncident", Box::new(f))
        }
        IncidentTx::Declare { target, experts } => {
            let f = move |member, id| {
                let experts = experts.clone();
                pb::MsgDeclareEmergency {
                    member,
                    id,
                    experts,
                }
                .encode_to_vec()
            };
            (target, "MsgDeclareEmergency", Box::new(f))
        }
        IncidentTx::ProposePlan {
            target,
            summary,
            plan,
            upgrade,
        } => {
            let plan_hash = plan.resolve("plan document")?;
            let f = move |member, id| {
                let (summary, plan_hash, upgrade) =
                    (summary.clone(), plan_hash.clone(), upgrade.clone());
                pb::MsgProposeResponsePlan {
                    member,
                    id,
                    summary,
                    plan_hash,
                    upgrade,
                }
                .encode_to_vec()
            };
            (target, "MsgProposeResponsePlan", Box::new(f))
        }
        IncidentTx::Review {
            target,
            kind,
            reject,
            notes,
        } => {
            let kind = review_kind(&kind)? as i32;
            let notes_hash = notes.resolve("review notes")?;
            let f = move |member, id| {
                let notes_hash = notes_hash.clone();
                pb::MsgReviewPlan {
                    member,
                    id,
                    kind,
                    approve: !reject,
                    notes_hash,
                }
                .encode_to_vec()
            };
            (target, "MsgReviewPlan", Box::new(f))
        }
        IncidentTx::Announce {
            target,
            description,
            temporary_measures,
            plan,
            user_advice,
        } => {
            let f = move |member, id| {
                pb::MsgAnnounce {
                    member,
                    id,
                    description: description.clone(),
                    temporary_measures: temporary_measures.clone(),
                    plan: plan.clone(),
                    user_advice: user_advice.clone(),
                }
                .encode_to_vec()
            };
            (target, "MsgAnnounce", Box::new(f))
        }
        IncidentTx::Update { target, text } => {
            let f = move |member, id| {
                let text = text.clone();
                pb::MsgPostUpdate { member, id, text }.encode_to_vec()
            };
            (target, "MsgPostUpdate", Box::new(f))
        }
        IncidentTx::LinkUpgrade { target, plan } => {
            let f = move |member, id| {
                let plan_name = plan.clone();
                pb::MsgLinkUpgrade {
                    member,
                    id,
                    plan_name,
                }
                .encode_to_vec()
            };
            (target, "MsgLinkUpgrade", Box::new(f))
        }
        IncidentTx::Confirm { target, checks } => {
            let checks_hash = checks.resolve("checks")?;
            let f = move |member, id| {
                let checks_hash = checks_hash.clone();
                pb::MsgConfirmResolution {
                    member,
                    id,
                    checks_hash,
                }
                .encode_to_vec()
            };
            (target, "MsgConfirmResolution", Box::new(f))
        }
        IncidentTx::Resolve { target, summary } => {
            let f = move |member, id| {
                let summary = summary.clone();
                pb::MsgResolveIncident {
                    member,
                    id,
                    summary,
                }
                .encode_to_vec()
            };
            (target, "MsgResolveIncident", Box::new(f))
        }
        IncidentTx::Postmortem {
            target,
            uri,
            document,
            disclose,
        } => {
            let hash = document.resolve("post-mortem document")?;
            let disclosed_report = disclose.as_deref().map(read_disclosure).transpose()?;
            let f = move |member, id| {
                pb::MsgPublishPostmortem {
                    member,
                    id,
                    uri: uri.clone(),
                    hash: hash.clone(),
                    disclosed_report: disclosed_report.clone(),
                }
                .encode_to_vec()
            };
            (target, "MsgPublishPostmortem", Box::new(f))
        }
        IncidentTx::Abort { target, reason } => {
            let f = move |member, id| {
                let reason = reason.clone();
                pb::MsgAbortIncident { member, id, reason }.encode_to_vec()
            };
            (target, "MsgAbortIncident", Box::new(f))
        }
        IncidentTx::Report { .. } | IncidentTx::Reseal { .. } => {
            bail!("report and reseal are not lifecycle steps")
        }
    };
    let id = target.id;
    send(ctx, &target.from, name, move |me| msg(me, id))
}

/// Runs an incident query.
pub fn query(client: &Client, cmd: IncidentQuery) -> Result<Value> {
    match cmd {
        IncidentQuery::Show { id } => {
            let bytes = client.query(
                &format!("{QUERY}Incident"),
                &pb::QueryIncidentRequest { id },
            )?;
            let r = pb::QueryIncidentResponse::decode(bytes.as_slice())?;
            let i = r
                .incident
                .ok_or_else(|| anyhow!("incident {id} does not exist"))?;
            Ok(view::incident_json(&i, &r.timeline))
        }
        IncidentQuery::List {
            state,
            limit,
            before,
        } => {
            let state = state.as_deref().map(state_number).transpose()?.unwrap_or(0);
            let req = pb::QueryIncidentsRequest {
                state,
                before,
                limit,
            };
            let bytes = client.query(&format!("{QUERY}Incidents"), &req)?;
            let r = pb::QueryIncidentsResponse::decode(bytes.as_slice())?;
            let list: Vec<Value> = r
                .incidents
                .iter()
                .map(|i| view::incident_json(i, &[]))
                .collect();
            Ok(json!({"incidents": list, "next_before": r.next_before}))
        }
        IncidentQuery::Params => client.ask_json::<_, pb::QueryParamsResponse>(
            &format!("{QUERY}Params"),
            &pb::QueryParamsRequest {},
        ),
    }
}
