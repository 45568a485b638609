//! Every operator and operand of the grammar, as a table: the query, and which attribute
//! values pass.

use super::*;

fn attr(query: &str) -> Attr {
    let p = parse(query, "tx.height").unwrap_or_else(|e| panic!("{query}: {e:?}"));
    assert_eq!(p.attrs.len(), 1, "{query}");
    p.attrs[0].clone()
}

#[test]
fn every_operator_passes_and_refuses_the_right_values() {
    let table: &[(&str, &[&str], &[&str])] = &[
        (
            "transfer.amount = '5ucsp'",
            &["5ucsp"],
            &["5", "55ucsp", ""],
        ),
        ("transfer.amount = 5", &["5", " 5", "5.0"], &["6", "5ucsp"]),
        (
            "transfer.amount < 5",
            &["4", "-3", "4.5"],
            &["5", "6", "abc"],
        ),
        ("transfer.amount <= 5", &["5", "4"], &["6"]),
        (
            "transfer.amount > 5",
            &["6", "5.5", "100000000000000000000"],
            &["5", "x"],
        ),
        ("transfer.amount >= 5", &["5", "6"], &["4"]),
        ("transfer.amount > -2", &["-1", "0"], &["-2", "-3"]),
        ("transfer.amount >= 2.5", &["2.5", "3"], &["2.4"]),
        (
            "transfer.memo CONTAINS 'drill'",
            &["a drill", "drill"],
            &["dril", ""],
        ),
        ("transfer.memo EXISTS", &["", "anything"], &[]),
        (
            "block.day >= DATE 2026-12-01",
            &["2026-12-01", "2026-12-04T10:00:00Z"],
            &["2026-11-30", "not a date"],
        ),
        (
            "block.at < TIME 2026-12-04T10:00:00Z",
            &["2026-12-04T09:59:59.999Z", "2026-12-04T11:00:00+02:00"],
            &["2026-12-04T10:00:00Z", "garbage"],
        ),
    ];
    for (query, pass, refuse) in table {
        let a = attr(query);
        for v in *pass {
            assert!(a.passes(v), "{query} should pass {v:?}");
        }
        for v in *refuse {
            assert!(!a.passes(v), "{query} should refuse {v:?}");
        }
    }
    assert_eq!(attr("message.sender = 'x'").exact(), Some("x"));
    assert_eq!(attr("message.sender CONTAINS 'x'").exact(), None);
}

#[test]
fn the_height_key_narrows_and_other_keys_are_refused_by_name() {
    let h = |q: &str| parse(q, "tx.height").map(|p| p.heights);
    assert_eq!(h("tx.height = 5").ok(), Some(5..=5));
    assert_eq!(h("tx.height >= 5 AND tx.height <= 9").ok(), Some(5..=9));
    assert_eq!(h("tx.height > 5 AND tx.height < 9").ok(), Some(6..=8));
    assert!(h("tx.height < 0").is_ok_and(|r| r.is_empty()));
    assert!(h("tx.height = 3 AND tx.height = 4").is_ok_and(|r| r.is_empty()));
    let p = parse("block.height > 10 AND end_block.kind = 'x'", "block.height").unwrap();
    assert_eq!((p.heights, p.attrs.len()), (11..=u64::MAX, 1));
    let p = parse(
        &format!("tm.event = 'Tx' AND tx.hash = '{}'", "AB".repeat(32)),
        "tx.height",
    )
    .unwrap();
    assert_eq!(p.event.as_deref(), Some("Tx"));
    assert_eq!(p.hash, Some([0xab; 32]));
    assert_eq!(
        parse("tm.event = 'Incident' AND incident.id = '3'", "tx.height")
            .unwrap()
            .event
            .as_deref(),
        Some("Incident")
    );
    for bad in [
        "tx.height > 'abc'",
        "tx.height CONTAINS '1'",
        "sender = 'x'",
        "tx.hash = 'zz'",
        "message.sender == 'x'",
        "message.sender = 'x' OR a.b = 'y'",
        "tm.event = 'Tx' AND tm.event = 'NewBlock'",
    ] {
        assert!(parse(bad, "tx.height").is_err(), "{bad} accepted");
    }
    // tx.hash belongs to tx_search only.
    assert!(parse(&format!("tx.hash = '{}'", "AB".repeat(32)), "block.height").is_err());
    let long = format!("a.b = '{}'", "x".repeat(MAX_QUERY_BYTES));
    assert!(parse(&long, "tx.height").is_err());
    let many = vec!["a.b EXISTS"; MAX_CONDITIONS + 1].join(" AND ");
    assert!(parse(&many, "tx.height").is_err());
}
