//! `cargo fuzz run checkpoint_note`: see `properties/core.rs`.
#![no_main]

#[path = "../properties/core.rs"]
mod properties;

libfuzzer_sys::fuzz_target!(|data: &[u8]| properties::checkpoint_note(data));
