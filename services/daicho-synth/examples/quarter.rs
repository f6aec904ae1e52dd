//! Generates a quarter and builds its ledger, printing how many entries it
//! has and how long each step took: the measurement in docs/PERFORMANCE.md.
//!
//! ```text
//! cargo run --release -p daicho-synth --example quarter -- SCALE [SECTIONS STAFF_PER_SECTION]
//! ```

use std::time::Instant;

use daicho_catalogue::Catalogue;
use daicho_synth::{generate, Config};

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("arguments are whole numbers"))
        .collect();
    let defaults = Config::default();
    let config = Config {
        scale: args.first().copied().unwrap_or(1),
        sections: args.get(1).copied().unwrap_or(defaults.sections),
        staff_per_section: args.get(2).copied().unwrap_or(defaults.staff_per_section),
        ..defaults
    };
    let catalogue = Catalogue::embedded();
    let started = Instant::now();
    let generated = generate(&config, catalogue);
    let generated_in = started.elapsed();
    let events = generated.events.len();
    let violations = generated.violations.len();
    let started = Instant::now();
    let entries = generated.into_ledger();
    let built_in = started.elapsed();
    let bytes: usize = entries.iter().map(|e| e.bytes.len()).sum();
    println!(
        "scale {} ({} sections x {} staff): {events} events, {violations} planted violations, \
         {} entries, {:.1} MB of event bytes; generated in {:.2} s, ledger built in {:.2} s",
        config.scale,
        config.sections,
        config.staff_per_section,
        entries.len(),
        bytes as f64 / 1e6,
        generated_in.as_secs_f64(),
        built_in.as_secs_f64(),
    );
}
