//! The compliance benchmark of docs/PERFORMANCE.md: a generated ledger of
//! about `--scale` × 24,000 entries (a realistic municipality's mix), then
//! the time to rebuild every projection from it (what the service does at
//! start), the time to evaluate a quarter with the projections warm, the
//! cost of folding in one more entry (what keeping them current costs), and
//! the process's peak memory.
//!
//! `cargo run --release -p daicho-compliance --example compliance_bench -- 42`

use std::time::Instant;

// The service's allocator (daicho-server's main.rs), so that folding
// allocates as it does in the service.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use daicho_catalogue::Catalogue;
use daicho_compliance::{evaluate, Period, Rulebook, State};
use daicho_synth::{generate, Config};

fn peak_rss_mib() -> Option<f64> {
    // Linux reports the peak resident set in /proc; elsewhere the figure is
    // simply left out.
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let scale: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let catalogue = Catalogue::embedded();
    let rulebook = Rulebook::embedded();
    let started = Instant::now();
    let config = Config {
        scale,
        ..Config::default()
    };
    let entries = generate(&config, catalogue).into_ledger();
    let n = entries.len();
    println!(
        "generated {n} entries in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let before = rss_mib().unwrap_or(0.0);

    let started = Instant::now();
    let state = State::fold(catalogue, &entries);
    let rebuild = started.elapsed().as_secs_f64();
    let after = rss_mib().unwrap_or(0.0);
    println!(
        "rebuild all projections: {rebuild:.2} s ({:.2} µs per entry); state ≈ {:.0} MiB ({:.0} MiB per 10^6 entries)",
        rebuild * 1e6 / n as f64,
        after - before,
        (after - before) * 1e6 / n as f64
    );

    let period = Period::fiscal_quarter(2026, 1).unwrap();
    let _ = evaluate(catalogue, rulebook, &state, period, Some((2026, 1)));
    let mut times = Vec::new();
    let mut bytes = 0;
    for _ in 0..3 {
        let started = Instant::now();
        let e = evaluate(catalogue, rulebook, &state, period, Some((2026, 1)));
        bytes = e.canonical_bytes().len();
        times.push(started.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "evaluate a quarter, warm: median {:.3} s of 3 (min {:.3}, max {:.3}); {bytes} bytes of JSON",
        times[1], times[0], times[2]
    );

    // Keeping the state current: the cost of folding in the last tenth of
    // the ledger into a state that holds the rest.
    let split = n - n / 10;
    let mut incremental = State::fold(catalogue, &entries[..split]);
    let started = Instant::now();
    for e in &entries[split..] {
        incremental.apply(e);
    }
    let per_entry = started.elapsed().as_secs_f64() / (n - split) as f64;
    println!(
        "keep current: {:.2} µs per entry folded in ({:.0} entries/s on one core)",
        per_entry * 1e6,
        1.0 / per_entry
    );
    if let Some(peak) = peak_rss_mib() {
        println!("peak resident memory of the process: {peak:.0} MiB");
    }
}
