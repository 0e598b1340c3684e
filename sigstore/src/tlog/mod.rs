//! Transparency-log entries (Rekor v1 and v2): body, SET, inclusion proof, checkpoint.
//! (Stub: the interface is fixed, the body is being written.)

use crate::error::{Error, Result};
use crate::key::PublicKey;
use crate::time::Time;
use crate::trust::TrustRoot;
use sigstore_protobuf_specs::dev::sigstore::bundle::v1::bundle::Content;
use sigstore_protobuf_specs::dev::sigstore::rekor::v1::TransparencyLogEntry;

/// Who the entry must name as the signer.
#[derive(Debug, Clone, Copy)]
pub(crate) enum EntrySigner<'a> {
    /// The leaf certificate (DER).
    Certificate(&'a [u8]),
    /// A public key.
    Key(&'a PublicKey),
}

/// What a log entry must commit to: the bundle's content and its signer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expected<'a> {
    /// The bundle's content (message signature or DSSE envelope).
    pub content: &'a Content,
    /// The signer.
    pub signer: EntrySigner<'a>,
}

/// Checks one entry against the bundle and the trusted logs. Returns the integrated time when it
/// is vouched for (a verified SET on a Rekor v1 entry), `None` otherwise (Rekor v2).
pub(crate) fn verify_entry(
    entry: &TransparencyLogEntry,
    expected: &Expected<'_>,
    root: &TrustRoot,
) -> Result<Option<Time>> {
    let _ = (entry, expected, root);
    Err(Error::Tlog("not implemented yet".into()))
}
