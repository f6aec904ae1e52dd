//! `cargo fuzz run bundle_line`: see `properties/core.rs`.
#![no_main]

#[path = "../properties/core.rs"]
mod properties;

libfuzzer_sys::fuzz_target!(|data: &[u8]| properties::bundle_line(data));
