//! TODO(helper): github
