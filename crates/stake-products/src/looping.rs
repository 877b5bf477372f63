//! looping
