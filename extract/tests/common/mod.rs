//! Helpers shared by the integration tests.

// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use cavra_extract::{Extraction, FileKind, NoFiles, extract};

/// Extracts `text` as a file of kind `kind` at `path`, with no other files.
pub fn run(kind: FileKind, path: &str, text: &str) -> Extraction {
    extract(kind, path, text.as_bytes(), &NoFiles)
}

/// Asserts that the extraction met no errors.
pub fn no_errors(ex: &Extraction) {
    assert!(ex.errors.is_empty(), "unexpected errors: {:?}", ex.errors);
}
