//! Signed gate verdicts: signing keys, in-toto Statements with the verdict predicate, and
//! Sigstore bundles signed with a key.

pub mod keys;
pub mod sign;
pub mod signer;
pub mod statement;
pub mod verdict;
