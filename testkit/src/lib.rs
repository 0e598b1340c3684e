//! Test support shared by cavra's crates: a loopback HTTP/1.1 server whose handler plays a
//! remote service ([`http`]), and JSON Schema checks of the requests it receives ([`schema`]).

pub mod http;
pub mod schema;
