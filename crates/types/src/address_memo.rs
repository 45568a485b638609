//! A per-thread memory of the last few account addresses converted between bytes and bech32.
//!
//! One tx names the same two or three addresses many times: its messages are decoded by the
//! walker and again by the router, signers are parsed for the ante handler and the handler,
//! and every event names the sender and recipient again. Converting is a pure function, so
//! remembering the last [`MEMO_SLOTS`] conversions per thread changes nothing but the time
//! (about a microsecond saved per repeat, most of a transfer's bech32 cost).

use crate::Address;
use std::cell::RefCell;

/// How many recent conversions each thread remembers: the distinct addresses of a typical tx
/// (fee payer, sender, recipient, fee collector) with room to spare.
pub const MEMO_SLOTS: usize = 8;

/// Strings longer than this are never remembered (bech32 account addresses are 45 bytes):
/// the memory stays a few hundred bytes whatever the input.
const MAX_MEMO_TEXT: usize = 90;

/// The last conversions each way. Parsed texts are kept apart from encoded ones: a parsed
/// text may be a non-canonical spelling (upper case, a bech32m checksum) of its address, which
/// must never be handed out as the address's text.
#[derive(Default)]
struct Memo {
    parsed: Ring,
    encoded: Ring,
}

#[derive(Default)]
struct Ring {
    slots: [Option<(Address, String)>; MEMO_SLOTS],
    next: usize,
}

impl Ring {
    fn remember(&mut self, address: Address, text: &str) {
        if text.len() <= MAX_MEMO_TEXT {
            self.slots[self.next] = Some((address, text.to_string()));
            self.next = (self.next + 1) % MEMO_SLOTS;
        }
    }

    fn address_of(&self, text: &str) -> Option<Address> {
        self.slots
            .iter()
            .flatten()
            .find(|(_, t)| t == text)
            .map(|(a, _)| *a)
    }
}

thread_local! {
    static MEMO: RefCell<Memo> = RefCell::new(Memo::default());
}

/// The account address `text` parses to, remembered or computed by `parse` (and remembered
/// when it succeeds).
pub fn parse<E>(text: &str, parse: impl FnOnce(&str) -> Result<Address, E>) -> Result<Address, E> {
    let found = MEMO.with_borrow(|m| {
        m.encoded
            .address_of(text)
            .or_else(|| m.parsed.address_of(text))
    });
    if let Some(address) = found {
        return Ok(address);
    }
    let address = parse(text)?;
    MEMO.with_borrow_mut(|m| m.parsed.remember(address, text));
    Ok(address)
}

/// The account bech32 text of `address`, remembered or computed by `encode`.
pub fn text(address: &Address, encode: impl FnOnce(&Address) -> String) -> String {
    let found = MEMO.with_borrow(|m| {
        m.encoded
            .slots
            .iter()
            .flatten()
            .find(|(a, _)| a == address)
            .map(|(_, t)| t.clone())
    });
    if let Some(text) = found {
        return text;
    }
    let text = encode(address);
    MEMO.with_borrow_mut(|m| m.encoded.remember(*address, &text));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_both_ways_and_forgets_the_oldest() {
        let calls = std::cell::Cell::new(0);
        let encode = |a: &Address| {
            calls.set(calls.get() + 1);
            a.to_bech32(crate::ACCOUNT_PREFIX)
        };
        let first = Address([1; 20]);
        let text_of_first = text(&first, encode);
        assert_eq!(text(&first, encode), text_of_first);
        let parsed = parse(&text_of_first, |_| Err::<Address, ()>(()));
        assert_eq!(
            parsed,
            Ok(first),
            "the text was remembered with its address"
        );
        assert_eq!(calls.get(), 1);
        for i in 2..=MEMO_SLOTS as u8 + 1 {
            text(&Address([i; 20]), encode);
        }
        assert_eq!(calls.get(), 1 + MEMO_SLOTS);
        assert_eq!(
            parse(&text_of_first, |_| Err::<Address, ()>(())),
            Err(()),
            "the oldest was forgotten"
        );
    }

    #[test]
    fn a_parsed_spelling_is_never_handed_out_as_the_text() {
        let address = Address([9; 20]);
        let upper = address.to_bech32(crate::ACCOUNT_PREFIX).to_uppercase();
        assert_eq!(parse(&upper, |_| Ok::<_, ()>(address)), Ok(address));
        assert_eq!(
            text(&address, |a| a.to_bech32(crate::ACCOUNT_PREFIX)),
            upper.to_lowercase()
        );
    }

    #[test]
    fn a_failed_parse_is_not_remembered() {
        assert_eq!(parse("nope", |_| Err::<Address, u8>(7)), Err(7));
        assert_eq!(parse("nope", |_| Err::<Address, u8>(8)), Err(8));
    }
}
