//! caspur-consensus
