//! TODO(helper): azure
