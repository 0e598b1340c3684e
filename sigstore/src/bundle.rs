//! Reading Sigstore bundles (v0.1-v0.3 JSON) into the protobuf-specs types, with limits.
//! (Owned by the verifier work; see `verify.rs`.)

/// The media type this crate writes.
pub const MEDIA_TYPE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// The largest bundle we read, in bytes.
pub const MAX_BUNDLE_BYTES: usize = 16 << 20;

pub use sigstore_protobuf_specs::dev::sigstore::bundle::v1::Bundle;
