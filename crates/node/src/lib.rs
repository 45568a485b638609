//! caspur-node
