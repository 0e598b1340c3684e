//! TODO

use crate::Extraction;

/// Steps of the file.
pub(crate) fn extract(path: &str, text: &[u8]) -> Extraction {
    let _ = (path, text);
    Extraction::default()
}
