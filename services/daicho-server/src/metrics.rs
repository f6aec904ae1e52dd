//! Prometheus metrics, in the text exposition format written by hand.
//!
//! Four series do not justify the `metrics` facade, a global recorder and an
//! exporter crate: atomics and a fixed-bucket histogram are a few dozen lines,
//! need no global state (so tests that start several apps in one process do
//! not share counters), and keep the dependency tree small.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the append latency histogram, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0,
];

/// The service's counters. One instance lives in the app state.
#[derive(Debug, Default)]
pub struct Metrics {
    appended_events: AtomicU64,
    append_requests_ok: AtomicU64,
    append_requests_refused: AtomicU64,
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
}

/// The ledger's state at the moment of a scrape.
#[derive(Debug, Clone, Copy)]
pub struct LedgerGauges {
    /// Number of entries.
    pub tree_size: u64,
    /// Seconds since the latest checkpoint was signed.
    pub checkpoint_age_seconds: f64,
}

impl Metrics {
    /// Records one successful append request that appended `events` new
    /// entries (idempotent retries are not counted).
    pub fn record_append(&self, events: u64, latency: Duration) {
        self.appended_events.fetch_add(events, Ordering::Relaxed);
        self.append_requests_ok.fetch_add(1, Ordering::Relaxed);
        self.observe(latency);
    }

    /// Records an append request that was refused or failed.
    pub fn record_refusal(&self, latency: Duration) {
        self.append_requests_refused.fetch_add(1, Ordering::Relaxed);
        self.observe(latency);
    }

    fn observe(&self, latency: Duration) {
        let secs = latency.as_secs_f64();
        for (bound, bucket) in BUCKETS.iter().zip(&self.latency_buckets) {
            if secs <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.latency_sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// Renders every series in the Prometheus text format.
    pub fn render(&self, gauges: LedgerGauges) -> String {
        let mut out = String::new();
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "# HELP daicho_appended_events_total Events appended by POST /v1/events and /v1/events/batch, retries not counted.\n\
             # TYPE daicho_appended_events_total counter\n\
             daicho_appended_events_total {}",
            load(&self.appended_events)
        );
        let _ = writeln!(
            out,
            "# HELP daicho_append_requests_total Append requests by outcome.\n\
             # TYPE daicho_append_requests_total counter\n\
             daicho_append_requests_total{{outcome=\"ok\"}} {}\n\
             daicho_append_requests_total{{outcome=\"refused\"}} {}",
            load(&self.append_requests_ok),
            load(&self.append_requests_refused)
        );
        let _ = writeln!(
            out,
            "# HELP daicho_append_duration_seconds Time from request to response of append requests.\n\
             # TYPE daicho_append_duration_seconds histogram"
        );
        for (bound, bucket) in BUCKETS.iter().zip(&self.latency_buckets) {
            let _ = writeln!(
                out,
                "daicho_append_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                load(bucket)
            );
        }
        let count = load(&self.latency_count);
        let _ = writeln!(
            out,
            "daicho_append_duration_seconds_bucket{{le=\"+Inf\"}} {count}\n\
             daicho_append_duration_seconds_sum {}\n\
             daicho_append_duration_seconds_count {count}",
            load(&self.latency_sum_micros) as f64 / 1e6
        );
        let _ = writeln!(
            out,
            "# HELP daicho_tree_size Number of entries in the ledger.\n\
             # TYPE daicho_tree_size gauge\n\
             daicho_tree_size {}",
            gauges.tree_size
        );
        let _ = writeln!(
            out,
            "# HELP daicho_checkpoint_age_seconds Seconds since the latest checkpoint was signed.\n\
             # TYPE daicho_checkpoint_age_seconds gauge\n\
             daicho_checkpoint_age_seconds {}",
            gauges.checkpoint_age_seconds
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative() {
        let m = Metrics::default();
        m.record_append(1, Duration::from_micros(700));
        m.record_append(100, Duration::from_millis(30));
        let text = m.render(LedgerGauges {
            tree_size: 102,
            checkpoint_age_seconds: 0.5,
        });
        assert!(text.contains("daicho_appended_events_total 101\n"));
        assert!(text.contains("daicho_append_duration_seconds_bucket{le=\"0.001\"} 1\n"));
        assert!(text.contains("daicho_append_duration_seconds_bucket{le=\"0.05\"} 2\n"));
        assert!(text.contains("daicho_append_duration_seconds_count 2\n"));
        assert!(text.contains("daicho_tree_size 102\n"));
    }
}
