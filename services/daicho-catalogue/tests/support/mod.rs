//! Helpers shared by the catalogue tests.

pub mod articles_file;
pub mod regulation_text;
