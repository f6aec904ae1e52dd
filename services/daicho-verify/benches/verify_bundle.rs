//! Verifies a large bundle and sets the rate beside the raw rates of the
//! work it is made of, measured in the same run on the same cores:
//! Ed25519 batch verification of the same signatures, Ed25519 strict
//! verification one by one, and SHA-256.
//!
//! Run: `cargo bench -p daicho-verify --bench verify_bundle`
//! (`DAICHO_BENCH_ENTRIES=100000` for a quick run; default 1,000,000).
//! The target (issue 2): full verification takes at most 1.5× the time of
//! batch signature verification alone.

use std::time::{Duration, Instant};

use daicho_core::bundle::{self, Line};
use daicho_core::Digest;
use daicho_testkit as testkit;
use daicho_verify::signature::{Mode, DEFAULT_BATCH};
use daicho_verify::{verify_bundle, Options};
use ed25519_dalek::{Signature, VerifyingKey};
use rayon::prelude::*;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn rate(n: u64, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

fn main() {
    // `cargo bench` passes `--bench`; there is nothing to filter.
    let entries = env_u64("DAICHO_BENCH_ENTRIES", 1_000_000).max(4);
    let batch = env_u64("DAICHO_BENCH_BATCH", DEFAULT_BATCH as u64) as usize;
    let threads = rayon::current_num_threads();
    eprintln!("generating a bundle of {entries} entries (not timed)...");
    let t = Instant::now();
    let (bytes, ledger_key) = testkit::large_ledger(entries, 4, 10_000);
    eprintln!(
        "generated {:.1} MB in {:.1} s",
        bytes.len() as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );

    // The signatures of the bundle, for the raw rates (not timed).
    let lines: Vec<&[u8]> = bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let keys_by_id: std::collections::HashMap<String, VerifyingKey> = lines
        .iter()
        .filter_map(|l| match bundle::parse_line(l) {
            Ok(Line::Entry(e)) if e.event.body.event_type.as_str() == "daicho.key.registered" => {
                let key = e.event.body.payload["public_key"].as_str()?.to_owned();
                let key = daicho_core::keys::PublicKey::parse(&key).ok()?;
                Some((key.key_id().to_string(), key.0))
            }
            _ => None,
        })
        .collect();
    let signed: Vec<(Vec<u8>, Signature, VerifyingKey)> = lines
        .par_iter()
        .filter_map(|l| match bundle::parse_line(l) {
            Ok(Line::Entry(e)) => {
                let key = *keys_by_id.get(e.event.body.key_id.as_str())?;
                Some((e.event.body.signing_message(), e.event.signature.0, key))
            }
            _ => None,
        })
        .collect();
    let sigs = signed.len() as u64;

    // 1. Full verification.
    let mut options = Options::new(ledger_key);
    options.mode = Mode::Batch(batch);
    let t = Instant::now();
    let report = verify_bundle(&bytes, &options);
    let full = t.elapsed();
    assert!(report.ok, "the generated bundle must verify:\n{report}");
    assert_eq!(report.entries, entries);

    // 2. Batch verification of the same signatures, same batch size, all cores.
    let t = Instant::now();
    signed.par_chunks(batch).for_each(|chunk| {
        let messages: Vec<&[u8]> = chunk.iter().map(|(m, _, _)| m.as_slice()).collect();
        let signatures: Vec<Signature> = chunk.iter().map(|(_, s, _)| *s).collect();
        let keys: Vec<VerifyingKey> = chunk.iter().map(|(_, _, k)| *k).collect();
        ed25519_dalek::verify_batch(&messages, &signatures, &keys).expect("valid");
    });
    let batch_time = t.elapsed();

    // 3. Strict verification one by one, all cores.
    let t = Instant::now();
    signed.par_iter().for_each(|(m, s, k)| {
        k.verify_strict(m, s).expect("valid");
    });
    let strict_time = t.elapsed();

    // 4. SHA-256 over the bundle's bytes, line by line (the size the
    // verifier hashes) and in 1 MiB blocks, all cores.
    let t = Instant::now();
    let _: Vec<Digest> = lines.par_iter().map(|l| Digest::of(l)).collect();
    let sha_lines = t.elapsed();
    let t = Instant::now();
    let _: Vec<Digest> = bytes.par_chunks(1 << 20).map(Digest::of).collect();
    let sha_blocks = t.elapsed();

    let mb = bytes.len() as f64 / 1e6;
    let row = |what: &str, time: Duration, rate: String| {
        println!("| {what:<39} | {:8.2} | {rate:>24} |", time.as_secs_f64());
    };
    println!();
    println!("daicho-verify benchmark: {entries} entries, {sigs} event signatures, {mb:.1} MB, {threads} threads, batch {batch}");
    println!("| measurement                             | time (s) | rate                     |");
    println!("|-----------------------------------------|---------:|-------------------------:|");
    row(
        "full bundle verification",
        full,
        format!("{:.0} entries/s", rate(entries, full)),
    );
    row(
        &format!("ed25519 verify_batch ({batch} per batch)"),
        batch_time,
        format!("{:.0} signatures/s", rate(sigs, batch_time)),
    );
    row(
        "ed25519 verify_strict one by one",
        strict_time,
        format!("{:.0} signatures/s", rate(sigs, strict_time)),
    );
    row(
        "SHA-256, per line",
        sha_lines,
        format!("{:.1} MB/s", mb / sha_lines.as_secs_f64()),
    );
    row(
        "SHA-256, 1 MiB blocks",
        sha_blocks,
        format!("{:.1} MB/s", mb / sha_blocks.as_secs_f64()),
    );
    let ratio = full.as_secs_f64() / batch_time.as_secs_f64();
    println!();
    println!(
        "full verification / batch signature verification = {ratio:.2} (target ≤ 1.50: {})",
        if ratio <= 1.5 { "met" } else { "MISSED" }
    );
}
