//! What the chain checks of a sealed report (it cannot decrypt one): its shape, that it is
//! sealed to exactly the active members who registered encryption keys (each with the key it
//! registered), and that reseals only add members who could not read it yet.

use super::MAX_KEY_WRAPS;
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::dcert;
use caspur_store::StateRead;
use caspur_types::proto::incident::v1 as pb;
use caspur_types::seal::{self, PublicKey};
use caspur_types::Address;

/// Stateless checks of key wraps: count, sizes, addresses.
pub fn check_wraps(keys: &[pb::KeyWrap]) -> Result<(), ExecError> {
    if keys.len() > MAX_KEY_WRAPS {
        return Err(ExecError::invalid_request(format!(
            "a sealed report carries at most {MAX_KEY_WRAPS} key wraps, got {}",
            keys.len()
        )));
    }
    for w in keys {
        Address::parse_account(&w.member)?;
        if w.recipient_key.len() != seal::KEY_LEN
            || w.enc.len() != seal::ENC_LEN
            || w.wrapped_key.len() != seal::WRAPPED_KEY_LEN
        {
            return Err(ExecError::invalid_request(format!(
                "the key wrap for {} is malformed: recipient key {} bytes, enc {} bytes, \
                 wrapped key {} bytes (want {}, {}, {})",
                w.member,
                w.recipient_key.len(),
                w.enc.len(),
                w.wrapped_key.len(),
                seal::KEY_LEN,
                seal::ENC_LEN,
                seal::WRAPPED_KEY_LEN
            )));
        }
    }
    Ok(())
}

/// Stateless checks of a sealed report.
pub fn check_sealed(s: Option<&pb::SealedReport>) -> Result<&pb::SealedReport, ExecError> {
    let s = s.ok_or_else(|| ExecError::invalid_request("a sealed report is required"))?;
    let least = seal::SALT_LEN + 16;
    if s.ciphertext.len() < least || s.ciphertext.len() > seal::MAX_CIPHERTEXT_BYTES {
        return Err(ExecError::invalid_request(format!(
            "the sealed report's ciphertext must be {least}–{} bytes, got {}",
            seal::MAX_CIPHERTEXT_BYTES,
            s.ciphertext.len()
        )));
    }
    check_wraps(&s.keys)?;
    Ok(s)
}

/// The active members who can receive reports (their registered key parses), with the key.
pub async fn recipients<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
) -> Result<Vec<(String, PublicKey)>, ExecError> {
    let mut out = Vec::new();
    for (member, _) in dcert::state::members(ctx).await? {
        let c = dcert::state::candidate(ctx, &member).await?;
        if let Ok(key) = PublicKey::parse(&c.encryption_key) {
            out.push((member.to_string(), key));
        }
    }
    Ok(out)
}

fn names(list: &[String]) -> String {
    if list.is_empty() {
        "none".into()
    } else {
        list.join(", ")
    }
}

/// A new report must be sealed to exactly the current recipients, each with its current key.
pub async fn check_addressed<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    s: &pb::SealedReport,
) -> Result<(), ExecError> {
    let recipients = recipients(ctx).await?;
    if recipients.is_empty() {
        return Err(ExecError::invalid_request(
            "no active dCERT member has registered an encryption key, so nobody could read the \
             report; contact the dCERT group out of band",
        ));
    }
    let missing: Vec<String> = recipients
        .iter()
        .filter(|(m, k)| {
            !s.keys
                .iter()
                .any(|w| &w.member == m && w.recipient_key == k.0)
        })
        .map(|(m, _)| m.clone())
        .collect();
    let extra: Vec<String> = s
        .keys
        .iter()
        .filter(|w| {
            !recipients
                .iter()
                .any(|(m, k)| &w.member == m && w.recipient_key == k.0)
        })
        .map(|w| w.member.clone())
        .collect();
    if !missing.is_empty() || !extra.is_empty() || s.keys.len() != recipients.len() {
        return Err(ExecError::invalid_request(format!(
            "the report must be sealed once to each active member's registered key (the \
             membership changed? seal again): missing {}, not current {}",
            names(&missing),
            names(&extra)
        )));
    }
    Ok(())
}

/// Applies a reseal by `member` (who must be able to read the report with its current key):
/// each new wrap is for a current recipient not yet covered with its current key. Wraps of
/// members no longer active are dropped, so the record shows who can read it now.
pub async fn reseal<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    sealed: &mut pb::SealedReport,
    member: &str,
    new: &[pb::KeyWrap],
) -> Result<(), ExecError> {
    let recipients = recipients(ctx).await?;
    let covered = |s: &pb::SealedReport, m: &str, k: &PublicKey| {
        s.keys
            .iter()
            .any(|w| w.member == m && w.recipient_key == k.0)
    };
    let own = recipients.iter().find(|(m, _)| m == member);
    if !own.is_some_and(|(m, k)| covered(sealed, m, k)) {
        return Err(ExecError::unauthorized(format!(
            "{member} cannot read this report with its registered key, so it cannot reseal it"
        )));
    }
    if new.is_empty() {
        return Err(ExecError::invalid_request(
            "a reseal needs at least one key wrap",
        ));
    }
    sealed
        .keys
        .retain(|w| recipients.iter().any(|(m, _)| *m == w.member));
    for w in new {
        let current = recipients
            .iter()
            .find(|(m, k)| *m == w.member && w.recipient_key == k.0);
        match current {
            None => {
                return Err(ExecError::invalid_request(format!(
                    "{} is not an active dCERT member with that registered encryption key",
                    w.member
                )))
            }
            Some((m, k)) if covered(sealed, m, k) => {
                return Err(ExecError::invalid_request(format!(
                    "{m} can already read the report"
                )))
            }
            Some(_) => sealed.keys.push(w.clone()),
        }
    }
    if sealed.keys.len() > MAX_KEY_WRAPS {
        return Err(ExecError::invalid_request(format!(
            "a sealed report carries at most {MAX_KEY_WRAPS} key wraps"
        )));
    }
    Ok(())
}
