//! `bank` events, named and shaped like the Cosmos SDK's so indexers and explorers read them.

use caspur_types::{Address, Coins, Event};

/// Coins left an account.
pub fn coin_spent(spender: &Address, amount: &Coins) -> Event {
    Event::new("coin_spent")
        .attr("spender", spender.to_string())
        .attr("amount", amount.to_string())
}

/// Coins reached an account.
pub fn coin_received(receiver: &Address, amount: &Coins) -> Event {
    Event::new("coin_received")
        .attr("receiver", receiver.to_string())
        .attr("amount", amount.to_string())
}

/// A transfer between two accounts.
pub fn transfer(sender: &Address, recipient: &Address, amount: &Coins) -> Event {
    Event::new("transfer")
        .attr("recipient", recipient.to_string())
        .attr("sender", sender.to_string())
        .attr("amount", amount.to_string())
}
