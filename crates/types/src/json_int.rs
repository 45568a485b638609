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

#[cfg(test)]
mod tests {
    use crate::proto::upgrade::v1::Plan;

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
