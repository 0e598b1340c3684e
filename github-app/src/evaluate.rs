//! Being built: see issue 6.
