//! The verdict chain: which gate verdict covers each first-parent commit of a release range.
