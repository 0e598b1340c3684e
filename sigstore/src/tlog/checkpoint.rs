//! Checkpoints: C2SP signed notes (`c2sp.org/signed-note`) whose text is a tree head
//! (`c2sp.org/tlog-checkpoint`): `origin\nsize\nbase64(root)\n[extension lines]`.
//!
//! A signature line belongs to the log when its key id is the log key's: for Ed25519,
//! SHA-256(name || 0x0A || 0x01 || key)[:4]; for ECDSA (Rekor v1), SHA-256(SPKI DER)[:4].
//! Signatures by other keys (witness cosignatures) are ignored; one by the log's key must
//! verify, and none may fail.

use crate::error::{Error, Result};
use crate::key::PublicKey;
use crate::trust::LogKey;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest, Sha256};
use sigstore_protobuf_specs::dev::sigstore::rekor::v1::InclusionProof;

/// The most signature lines we read (the spec asks verifiers to accept at least 16).
const MAX_SIGNATURES: usize = 64;

/// A signed note: the signed text (with its final newline) and its signature lines.
#[derive(Debug)]
pub(super) struct Note<'a> {
    pub text: &'a str,
    pub signatures: Vec<NoteSignature<'a>>,
}

/// `— <name> base64(key id || signature)`.
#[derive(Debug)]
pub(super) struct NoteSignature<'a> {
    pub name: &'a str,
    pub key_id: [u8; 4],
    pub signature: Vec<u8>,
}

/// A checkpoint body.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Checkpoint<'a> {
    pub origin: &'a str,
    pub size: u64,
    pub root_hash: [u8; 32],
}

/// Checks that `envelope` is signed by one of `logs` and states the proof's tree size and root.
pub(super) fn verify(envelope: &str, proof: &InclusionProof, logs: &[&LogKey]) -> Result<()> {
    let note = parse_note(envelope)?;
    let checkpoint = parse_checkpoint(note.text)?;
    let mut verified = false;
    for sig in &note.signatures {
        for log in logs
            .iter()
            .filter(|log| key_id(log, sig.name) == sig.key_id)
        {
            log.key
                .verify(note.text.as_bytes(), &sig.signature)
                .map_err(|e| {
                    Error::Tlog(format!(
                        "checkpoint signature by `{}` does not verify with the log key ({e})",
                        sig.name
                    ))
                })?;
            verified = true;
        }
    }
    if !verified {
        return Err(Error::Tlog(format!(
            "checkpoint has no signature by the log's key ({} signature lines, none matching)",
            note.signatures.len()
        )));
    }
    if u64::try_from(proof.tree_size).ok() != Some(checkpoint.size) {
        return Err(Error::Tlog(format!(
            "checkpoint of `{}` is for tree size {} but the inclusion proof for {}",
            checkpoint.origin, checkpoint.size, proof.tree_size
        )));
    }
    if checkpoint.root_hash.as_slice() != proof.root_hash {
        return Err(Error::Tlog(format!(
            "checkpoint of `{}` has another root hash than the inclusion proof",
            checkpoint.origin
        )));
    }
    Ok(())
}

/// The 4-byte key id a signature by `log` carries under key name `name`.
pub(super) fn key_id(log: &LogKey, name: &str) -> [u8; 4] {
    let hash: [u8; 32] = match &log.key {
        PublicKey::Ed25519(k) => {
            let mut h = Sha256::new();
            h.update(name.as_bytes());
            h.update([b'\n', 0x01]);
            h.update(k.as_bytes());
            h.finalize().into()
        }
        _ => match log.checkpoint_key_id.as_deref() {
            Some(id) if id.len() >= 4 => {
                let mut out = [0u8; 32];
                out[..4].copy_from_slice(&id[..4]);
                out
            }
            _ => crate::key::sha256(&log.key.to_spki_der()),
        },
    };
    [hash[0], hash[1], hash[2], hash[3]]
}

/// Splits a signed note into its text and signature lines.
pub(super) fn parse_note(envelope: &str) -> Result<Note<'_>> {
    let bad = |why: &str| Error::Tlog(format!("malformed checkpoint: {why}"));
    if envelope.chars().any(|c| c.is_ascii_control() && c != '\n') {
        return Err(bad("control character"));
    }
    let split = envelope
        .rfind("\n\n")
        .ok_or_else(|| bad("no blank line before the signatures"))?;
    let (text, sigs) = (&envelope[..split + 1], &envelope[split + 2..]);
    if sigs.is_empty() {
        return Err(bad("no signature lines"));
    }
    let sigs = sigs
        .strip_suffix('\n')
        .ok_or_else(|| bad("last line does not end in a newline"))?;
    let signatures = sigs
        .split('\n')
        .map(|line| parse_signature(line).ok_or_else(|| bad(&format!("signature line `{line}`"))))
        .collect::<Result<Vec<_>>>()?;
    if signatures.len() > MAX_SIGNATURES {
        return Err(bad(&format!("{} signature lines", signatures.len())));
    }
    Ok(Note { text, signatures })
}

fn parse_signature(line: &str) -> Option<NoteSignature<'_>> {
    let (name, sig) = line.strip_prefix("\u{2014} ")?.split_once(' ')?;
    if name.is_empty() || name.contains(char::is_whitespace) || name.contains('+') {
        return None;
    }
    let bytes = B64.decode(sig).ok()?;
    let (id, signature) = bytes.split_first_chunk::<4>()?;
    if signature.is_empty() {
        return None;
    }
    Some(NoteSignature {
        name,
        key_id: *id,
        signature: signature.to_vec(),
    })
}

/// Reads a checkpoint body: origin, decimal size, base64 root hash, then non-empty extensions.
pub(super) fn parse_checkpoint(text: &str) -> Result<Checkpoint<'_>> {
    let bad = |why: String| Error::Tlog(format!("malformed checkpoint: {why}"));
    let body = text
        .strip_suffix('\n')
        .ok_or_else(|| bad("text does not end in a newline".into()))?;
    let lines: Vec<&str> = body.split('\n').collect();
    let [origin, size, root, extensions @ ..] = lines.as_slice() else {
        return Err(bad(format!(
            "{} lines, need origin, size and root hash",
            lines.len()
        )));
    };
    if origin.is_empty() {
        return Err(bad("empty origin".into()));
    }
    let canonical = !size.is_empty()
        && size.bytes().all(|b| b.is_ascii_digit())
        && (*size == "0" || !size.starts_with('0'));
    let size = size
        .parse::<u64>()
        .ok()
        .filter(|_| canonical)
        .ok_or_else(|| bad(format!("tree size `{size}` is not a decimal number")))?;
    let root_hash = B64
        .decode(root)
        .ok()
        .and_then(|r| <[u8; 32]>::try_from(r).ok())
        .ok_or_else(|| bad(format!("root hash `{root}` is not 32 bytes of base64")))?;
    if extensions.iter().any(|l| l.is_empty()) {
        return Err(bad("empty extension line".into()));
    }
    Ok(Checkpoint {
        origin,
        size,
        root_hash,
    })
}

#[cfg(test)]
mod tests;
