//! Test support shared by cavra's crates: a loopback HTTP/1.1 server whose handler plays a
//! remote service ([`http`]), JSON Schema checks of the requests it receives ([`schema`]),
//! mock forges built on both ([`forges`]), a git server ([`git_http`]), and the seeded fuzzers' PRNG ([`fuzz`]).

pub mod forges;
pub mod fuzz;
pub mod git_http;
pub mod http;
pub mod schema;
