//! Structure-aware inputs: the fuzzer's bytes choose among values of the chain's own domain
//! (addresses, operator addresses, coins, decimals, registered type URLs), laid out as
//! canonical protobuf, so generated messages get past decoding and into the handlers.

use arbitrary::{Result, Unstructured};
use caspur_types::sign::AccountKey;
use caspur_types::Address;
use cosmos_sdk_proto::Any;
use prost::encoding::{encode_key, encode_varint, WireType};

/// Keys of the small state's funded accounts (key 1 is also its validator).
pub const KEYS: u8 = 4;

/// The keys with their addresses and operator addresses, derived once (deriving a public key
/// costs far more than a fuzz input's other work).
fn identities() -> &'static [(AccountKey, Address, String)] {
    static IDS: std::sync::OnceLock<Vec<(AccountKey, Address, String)>> =
        std::sync::OnceLock::new();
    IDS.get_or_init(|| {
        (1..=KEYS)
            .filter_map(|n| AccountKey::from_secret(&[n; 32]))
            .map(|k| {
                let a = k.address();
                let valoper = caspur_app::modules::staking::state::valoper(&a);
                (k, a, valoper)
            })
            .collect()
    })
}

fn identity(n: u8) -> &'static (AccountKey, Address, String) {
    // Secrets [n; 32] for n in 1..=KEYS are valid secp256k1 scalars: all KEYS exist.
    &identities()[usize::from(n.clamp(1, KEYS) - 1)]
}

/// Account key `n` (1-based).
pub fn key(n: u8) -> AccountKey {
    identity(n).0.clone()
}

/// Account address `n`.
pub fn addr(n: u8) -> Address {
    identity(n).1
}

fn string_pool(u: &mut Unstructured<'_>) -> Result<String> {
    let n = u.int_in_range(1..=KEYS)?;
    Ok(match u.int_in_range(0..=11)? {
        0 | 1 => addr(n).to_string(),
        2 => identity(n).2.clone(),
        3 => caspur_app::modules::gov::state::gov_address().to_string(),
        4 => "ucsp".into(),
        5 => u.int_in_range(0u64..=2_000_000)?.to_string(),
        6 => format!("0.{}", u.int_in_range(0u32..=999)?),
        7 => u.choose(caspur_app::router::ROUTES)?.to_string(),
        8 => format!("{}ucsp", u.int_in_range(0u64..=1_000_000)?),
        9 => hex_key(u)?,
        _ => u.arbitrary::<String>()?,
    })
}

fn hex_key(u: &mut Unstructured<'_>) -> Result<String> {
    let bytes: [u8; 32] = u.arbitrary()?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn varint_pool(u: &mut Unstructured<'_>) -> Result<u64> {
    Ok(match u.int_in_range(0..=3)? {
        0 => u.int_in_range(1..=8)?,
        1 => u.int_in_range(1..=1_000_000)?,
        2 => u64::MAX - u.int_in_range(0..=2)?,
        _ => u.arbitrary()?,
    })
}

/// A canonical protobuf message of up to 9 fields, in number order, whose values are drawn
/// from the pools; `depth` bounds nesting.
pub fn message(u: &mut Unstructured<'_>, depth: u32) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for number in 1..=9u32 {
        if u.is_empty() || !u.ratio(2, 3)? {
            continue;
        }
        let repeats = if u.ratio(1, 6)? {
            u.int_in_range(2..=4)?
        } else {
            1
        };
        for _ in 0..repeats {
            field(u, number, depth, &mut out)?;
        }
    }
    Ok(out)
}

fn field(u: &mut Unstructured<'_>, number: u32, depth: u32, out: &mut Vec<u8>) -> Result<()> {
    let kind = u.int_in_range(0..=5)?;
    match kind {
        0 => {
            let v = varint_pool(u)?;
            encode_key(number, WireType::Varint, out);
            encode_varint(v, out);
        }
        1 | 2 => bytes_field(number, string_pool(u)?.as_bytes(), out),
        3 if depth > 0 => {
            let coin = coin(u)?;
            bytes_field(number, &coin, out);
        }
        4 if depth > 0 => {
            let any = prost::Message::encode_to_vec(&any(u, depth - 1)?);
            bytes_field(number, &any, out);
        }
        _ if depth > 0 => {
            let nested = message(u, depth - 1)?;
            bytes_field(number, &nested, out);
        }
        _ => bytes_field(number, &u.arbitrary::<Vec<u8>>()?, out),
    }
    Ok(())
}

fn bytes_field(number: u32, bytes: &[u8], out: &mut Vec<u8>) {
    encode_key(number, WireType::LengthDelimited, out);
    encode_varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

fn coin(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    bytes_field(1, b"ucsp", &mut out);
    bytes_field(
        2,
        u.int_in_range(1u64..=5_000_000)?.to_string().as_bytes(),
        &mut out,
    );
    Ok(out)
}

/// A message of a registered type (or now and then an unknown one) with a generated body.
pub fn any(u: &mut Unstructured<'_>, depth: u32) -> Result<Any> {
    let type_url = if u.ratio(1, 20)? {
        u.arbitrary::<String>()?
    } else {
        u.choose(caspur_app::router::ROUTES)?.to_string()
    };
    let value = if u.ratio(1, 10)? {
        u.arbitrary()?
    } else {
        message(u, depth)?
    };
    Ok(Any { type_url, value })
}

/// One to three generated messages.
pub fn messages(u: &mut Unstructured<'_>, depth: u32) -> Result<Vec<Any>> {
    let n = u.int_in_range(1..=3)?;
    (0..n).map(|_| any(u, depth)).collect()
}
