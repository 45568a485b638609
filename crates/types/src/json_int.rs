//! 64-bit integers in JSON as proto3 JSON writes them (a decimal string) or as a number: the
//! generated Caspur message types read both (proposal files, CLI input).

use serde::{de::Error as _, Deserialize, Deserializer};

/// Deserializes an integer from a JSON number or a decimal string.
pub fn int_or_string<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr + Deserialize<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either<T> {
        Number(T),
        Text(String),
    }
    match Either::<T>::deserialize(d)? {
        Either::Number(n) => Ok(n),
        Either::Text(s) => s
            .trim()
            .parse()
            .map_err(|_| D::Error::custom(format!("expected a whole number, got {s:?}"))),
    }
}

/// Deserializes a tripwire kind from its number, its protobuf name
/// (`TRIPWIRE_KIND_SUPPLY_CHANGE`) or its short name (`supply_change`).
pub fn tripwire_kind<'de, D>(d: D) -> Result<i32, D::Error>
where
    D: Deserializer<'de>,
{
    use crate::proto::dcert::v1::TripwireKind;
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Number(i32),
        Text(String),
    }
    match Either::deserialize(d)? {
        Either::Number(n) => Ok(n),
        Either::Text(s) => {
            let upper = s.trim().to_ascii_uppercase();
            TripwireKind::from_str_name(&upper)
                .or_else(|| TripwireKind::from_str_name(&format!("TRIPWIRE_KIND_{upper}")))
                .map(|k| k as i32)
                .ok_or_else(|| {
                    D::Error::custom(format!(
                        "unknown tripwire kind {s:?}: supply_change, bonded_ratio_drop, \
                         block_interval or account_outflow"
                    ))
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::proto::upgrade::v1::Plan;

    #[test]
    fn a_tripwire_kind_reads_as_a_number_or_a_name() {
        use crate::proto::dcert::v1::{Tripwire, TripwireKind};
        for json in [
            r#"{"kind":1}"#,
            r#"{"kind":"TRIPWIRE_KIND_SUPPLY_CHANGE"}"#,
            r#"{"kind":"supply_change"}"#,
        ] {
            let t: Tripwire = serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"));
            assert_eq!(t.kind, TripwireKind::SupplyChange as i32);
        }
        assert!(serde_json::from_str::<Tripwire>(r#"{"kind":"supply"}"#).is_err());
    }

    #[test]
    fn a_plan_height_reads_as_a_number_or_a_string() {
        for json in [
            r#"{"name":"v2","height":2043}"#,
            r#"{"name":"v2","height":"2043"}"#,
        ] {
            let plan: Plan = serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"));
            assert_eq!(plan.height, 2043);
        }
        assert!(serde_json::from_str::<Plan>(r#"{"height":"20x"}"#).is_err());
        // Missing stays the default.
        let plan: Plan = serde_json::from_str(r#"{"name":"v2"}"#).unwrap_or_default();
        assert_eq!(plan.height, 0);
    }
}
