//! TODO(helper): gitlab
