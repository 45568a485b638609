//! ABCI-style events: a type and ordered key/value attributes, as CometBFT clients expect.

use serde::{Deserialize, Serialize};

/// One attribute of an event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribute {
    /// Attribute key.
    pub key: String,
    /// Attribute value.
    pub value: String,
    /// Whether the indexer indexes it.
    pub index: bool,
}

/// An event emitted by tx or block execution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Event type, e.g. `transfer`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Attributes in emission order.
    pub attributes: Vec<Attribute>,
}

impl Event {
    /// Starts an event of the given type.
    pub fn new(kind: impl Into<String>) -> Self {
        Event {
            kind: kind.into(),
            attributes: Vec::new(),
        }
    }

    /// Adds an indexed attribute.
    pub fn attr(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.push(Attribute {
            key: key.into(),
            value: value.into(),
            index: true,
        });
        self
    }

    /// Bytes of its type, attribute keys and values (what the per-tx event bound counts).
    pub fn byte_len(&self) -> usize {
        self.kind.len()
            + self
                .attributes
                .iter()
                .map(|a| a.key.len() + a.value.len())
                .sum::<usize>()
    }

    /// The value of the first attribute with this key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.key == key)
            .map(|a| a.value.as_str())
    }
}
