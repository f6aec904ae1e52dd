//! `cargo fuzz run catalogue_file`: see `properties/catalogue.rs`.
#![no_main]

#[path = "../properties/catalogue.rs"]
mod properties;

libfuzzer_sys::fuzz_target!(|data: &[u8]| properties::catalogue_file(data));
