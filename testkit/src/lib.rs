//! Test support shared by cavra's crates: a loopback HTTP/1.1 server whose handler plays a
//! remote service ([`http`]), JSON Schema checks of the requests it receives ([`schema`]), and
//! mock forges built on both ([`forges`]).

pub mod forges;
pub mod http;
pub mod schema;
