//! Release packets (issue 7, being built): what was released, what is inside it, and that every
//! change in it passed the gate, under one signature that anyone can verify offline.
//!
//! Done so far: [`sbom`] (lockfiles to a CycloneDX SBOM, and SBOM validation) and [`digest`]
//! (parallel, bounded-memory file hashing) and [`tarball`] (safe streaming reading of packets).

pub mod chain;
pub mod digest;
pub mod sbom;
pub mod tarball;
