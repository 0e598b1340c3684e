//! Release packets: what was released, what is inside it, and that every change in it passed the
//! gate, under one signature that anyone can verify offline.
//!
//! - [`build`]: artifacts, checksums, SBOM, verdicts and notes laid out and signed.
//! - [`verify`]: every check of a packet (directory or tarball), one report line each.
//! - [`manifest`]: `packet.json`, also the signed predicate.
//! - [`chain`]: which gate verdict covers each commit of a release range.
//! - [`sbom`], [`digest`], [`tarball`], [`verdicts`], [`notes`], [`progress`]: the parts.

pub mod build;
pub mod chain;
pub mod digest;
pub mod manifest;
pub mod notes;
pub mod progress;
pub mod sbom;
pub mod tarball;
pub mod verdicts;
pub mod verify;
