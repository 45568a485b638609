//! Key layout helpers. Every key starts with a module byte and a kind byte (see each module's
//! `state.rs`), followed by length-delimited parts, so no key of one kind can prefix another's.

/// Builds a key: `prefix || for each part: len(u8) || part`.
pub fn key(prefix: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(prefix.len() + parts.iter().map(|p| p.len() + 1).sum::<usize>());
    out.extend_from_slice(prefix);
    for part in parts {
        // Parts are addresses, denoms and ids: all far below 256 bytes by validation.
        debug_assert!(part.len() < 256);
        out.push(part.len() as u8);
        out.extend_from_slice(part);
    }
    out
}

/// Splits the parts back out of a key built by [`key`] (after `prefix`).
pub fn parts<'a>(prefix: &[u8], key: &'a [u8]) -> Option<Vec<&'a [u8]>> {
    let mut rest = key.strip_prefix(prefix)?;
    let mut out = Vec::new();
    while let Some((&len, tail)) = rest.split_first() {
        let len = len as usize;
        if tail.len() < len {
            return None;
        }
        out.push(&tail[..len]);
        rest = &tail[len..];
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn roundtrip() {
        let k = super::key(b"bank/b/", &[b"abc", b"ucsp"]);
        assert_eq!(
            super::parts(b"bank/b/", &k).unwrap(),
            vec![&b"abc"[..], &b"ucsp"[..]]
        );
        assert!(super::parts(b"bank/b/", &k[..k.len() - 1]).is_none());
    }
}
