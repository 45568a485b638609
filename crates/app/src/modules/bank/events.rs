//! `bank` events, named and shaped like the Cosmos SDK's so indexers and explorers read them.
//! Addresses arrive already bech32-encoded, so a transfer encodes each address once.

use caspur_types::{Coins, Event};

/// Coins left an account.
pub fn coin_spent(spender: &str, amount: &Coins) -> Event {
    Event::new("coin_spent")
        .attr("spender", spender)
        .attr("amount", amount.to_string())
}

/// Coins reached an account.
pub fn coin_received(receiver: &str, amount: &Coins) -> Event {
    Event::new("coin_received")
        .attr("receiver", receiver)
        .attr("amount", amount.to_string())
}

/// A transfer between two accounts.
pub fn transfer(sender: &str, recipient: &str, amount: &Coins) -> Event {
    Event::new("transfer")
        .attr("recipient", recipient)
        .attr("sender", sender)
        .attr("amount", amount.to_string())
}

/// Coins destroyed.
pub fn burn(burner: &str, amount: &Coins) -> Event {
    Event::new("burn")
        .attr("burner", burner)
        .attr("amount", amount.to_string())
}
