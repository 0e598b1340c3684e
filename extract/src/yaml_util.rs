//! Helpers shared by the YAML extractors.
