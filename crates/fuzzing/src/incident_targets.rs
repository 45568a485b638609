//! Sealed incident reports: what a member's client opens comes from the chain, so from
//! anyone. A generated report is sealed to generated members, then bytes of the sealed form
//! (ciphertext, wraps, member names, keys) and of the commitment are mutated by the input; the
//! chain's stateless checks and `seal::open` run on the result.

use arbitrary::Unstructured;
use caspur_app::modules::incident::sealing;
use caspur_types::proto::incident::v1 as pb;
use caspur_types::seal::{self, PublicKey, SecretKey};
use std::sync::OnceLock;

/// Three members' keys (key generation is the costly part; done once).
fn members() -> &'static [(String, SecretKey, PublicKey)] {
    static KEYS: OnceLock<Vec<(String, SecretKey, PublicKey)>> = OnceLock::new();
    KEYS.get_or_init(|| {
        (1..=3u8)
            .filter_map(|n| {
                let secret = SecretKey::parse(&hex::encode([n; 32])).ok()?;
                let public = secret.public().ok()?;
                Some((crate::gen::addr(n).to_string(), secret, public))
            })
            .collect()
    })
}

fn flip(u: &mut Unstructured<'_>, bytes: &mut [u8]) -> arbitrary::Result<()> {
    if !bytes.is_empty() {
        let at = u.choose_index(bytes.len())?;
        bytes[at] ^= u.int_in_range(1..=255u8)?;
    }
    Ok(())
}

/// Mutates `s` (and maybe the commitment) as the input says; returns whether anything changed.
fn mutate(
    u: &mut Unstructured<'_>,
    s: &mut pb::SealedReport,
    commitment: &mut String,
) -> arbitrary::Result<bool> {
    let mut changed = false;
    for _ in 0..u.int_in_range(0..=3u8)? {
        let before = (s.clone(), commitment.clone());
        match u.int_in_range(0..=6u8)? {
            0 => flip(u, &mut s.ciphertext)?,
            1 => s
                .ciphertext
                .truncate(u.int_in_range(0..=s.ciphertext.len())?),
            2 if !s.keys.is_empty() => {
                let i = u.choose_index(s.keys.len())?;
                flip(u, &mut s.keys[i].wrapped_key)?;
            }
            3 if !s.keys.is_empty() => {
                let i = u.choose_index(s.keys.len())?;
                flip(u, &mut s.keys[i].enc)?;
            }
            4 if !s.keys.is_empty() => {
                let i = u.choose_index(s.keys.len())?;
                s.keys[i].member = u.arbitrary()?;
            }
            5 => {
                let mut c = commitment.clone().into_bytes();
                flip(u, &mut c)?;
                *commitment = String::from_utf8_lossy(&c).into_owned();
            }
            _ => s.ciphertext.extend(u.arbitrary::<Vec<u8>>()?),
        }
        changed |= before != (s.clone(), commitment.clone());
    }
    Ok(changed)
}

/// Seal → mutate → stateless checks and open: an unmutated report opens to what was sealed
/// for every member; a mutated one is refused or (a mutation that changed nothing the
/// member's copy depends on, e.g. another member's wrap) opens to the same report.
pub fn sealed_reports(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(report) = u.arbitrary::<Vec<u8>>() else {
        return;
    };
    let to: Vec<(String, PublicKey)> = members().iter().map(|(m, _, p)| (m.clone(), *p)).collect();
    let Ok((mut sealed, disclosure)) = seal::seal(&report, &to) else {
        return;
    };
    let mut commitment = seal::commitment(&disclosure.salt, &disclosure.report);
    let Ok(changed) = mutate(&mut u, &mut sealed, &mut commitment) else {
        return;
    };
    // The chain's stateless check must not panic on any shape.
    let _ = sealing::check_sealed(Some(&sealed));
    for (member, secret, _) in members() {
        match seal::open(&sealed, &commitment, secret) {
            Ok((d, who)) => {
                assert_eq!(d, disclosure, "a sealed report opened to something else");
                assert_eq!(&who, member, "opened as another member");
            }
            Err(e) => assert!(changed, "an untouched report does not open: {e}"),
        }
    }
}
