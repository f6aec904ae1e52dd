//! Prometheus metrics, kept and encoded by the `prometheus-client` crate.
//!
//! The first four series were written out by hand. Once the operator's
//! gauges came (the writer's state, the database pool, the witnesses, the
//! rate limits), each with labels to escape and a family to group, that
//! renderer would have grown into a second implementation of the exposition
//! format. `prometheus-client` is the official Rust client: its
//! [`Registry`] is a value, not global state, so tests that start several
//! apps in one process keep their counters apart, and it depends on nothing
//! heavy. The service serves the Prometheus text format (version 0.0.4),
//! which every scraper reads.
//!
//! Counters and the histogram are updated as requests finish; the gauges
//! describe a moment, so they are set from [`Gauges`] at each scrape.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use daicho_store::Store;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::sequencer::WriterHealth;
use crate::witness::cosigner::WitnessStatus;

/// The `Content-Type` of a scrape's answer.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// Upper bounds of the append latency histogram, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0,
];

/// One label and its value.
type Label<V> = [(&'static str, V); 1];

/// A gauge of a whole number that is never negative.
type UnsignedGauge = Gauge<u64, AtomicU64>;

/// Which rate limit refused a request (see [`crate::rate_limit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    /// The limit per bearer token.
    Token,
    /// The limit per signing source.
    Source,
}

impl LimitKind {
    /// The value of the `limit` label.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitKind::Token => "token",
            LimitKind::Source => "source",
        }
    }
}

/// The states of [`WriterHealth`], as the `state` label names them.
const WRITER_STATES: [&str; 3] = ["ok", "storage_unavailable", "failing"];

/// The `state` label of a writer's health.
pub fn writer_state(health: &WriterHealth) -> &'static str {
    match health {
        WriterHealth::Ok => "ok",
        WriterHealth::StorageUnavailable => "storage_unavailable",
        WriterHealth::Failing(_) => "failing",
    }
}

/// The database pool's connections at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    /// Connections lent out to a read (or a background task) now.
    pub in_use: u64,
    /// Open connections waiting in the pool.
    pub idle: u64,
    /// The most connections the pool opens.
    pub max: u64,
}

impl PoolUsage {
    /// The usage of `store`'s pool of readers. The one connection that
    /// sequences is held outside the pool and not counted.
    pub fn of(store: &Store) -> PoolUsage {
        let (size, idle, max) = match store {
            Store::Sqlite { pool, .. } => (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            ),
            Store::Postgres { pool, .. } => (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            ),
        };
        let idle = u64::try_from(idle).unwrap_or(u64::MAX);
        PoolUsage {
            // The two counts are read one after the other, so a connection
            // taken back in between may be counted idle and not in use.
            in_use: u64::from(size).saturating_sub(idle),
            idle,
            max: u64::from(max),
        }
    }
}

/// What the gauges show at a scrape.
#[derive(Debug, Clone, Copy)]
pub struct Gauges<'a> {
    /// Number of entries.
    pub tree_size: u64,
    /// Seconds since the latest checkpoint was signed.
    pub checkpoint_age_seconds: f64,
    /// How the writer's last group commit went.
    pub writer: &'a WriterHealth,
    /// The database pool.
    pub pool: PoolUsage,
    /// Each configured witness's status.
    pub witnesses: &'a [WitnessStatus],
}

/// The service's metrics. One instance lives in the app state.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    appended_events: Counter,
    append_requests: Family<Label<&'static str>, Counter>,
    append_duration: Histogram,
    rate_limited: Family<Label<&'static str>, Counter>,
    tree_size: UnsignedGauge,
    checkpoint_age: Gauge<f64, AtomicU64>,
    writer_healthy: Gauge,
    writer_state: Family<Label<&'static str>, Gauge>,
    db_connections_in_use: UnsignedGauge,
    db_connections_idle: UnsignedGauge,
    db_connections_max: UnsignedGauge,
    witness_up: Family<Label<String>, Gauge>,
    witness_cosigned_size: Family<Label<String>, UnsignedGauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Every series registered, counters at zero.
    pub fn new() -> Metrics {
        let m = Metrics {
            registry: Registry::default(),
            appended_events: Counter::default(),
            append_requests: Family::default(),
            append_duration: Histogram::new(BUCKETS),
            rate_limited: Family::default(),
            tree_size: Gauge::default(),
            checkpoint_age: Gauge::default(),
            writer_healthy: Gauge::default(),
            writer_state: Family::default(),
            db_connections_in_use: Gauge::default(),
            db_connections_idle: Gauge::default(),
            db_connections_max: Gauge::default(),
            witness_up: Family::default(),
            witness_cosigned_size: Family::default(),
        };
        // Every label value is there from the start, at zero, so that a
        // rate over it is defined before its first event.
        for outcome in ["ok", "refused"] {
            let _ = m.append_requests.get_or_create(&[("outcome", outcome)]);
        }
        for kind in [LimitKind::Token, LimitKind::Source] {
            let _ = m.rate_limited.get_or_create(&[("limit", kind.as_str())]);
        }
        let mut m = m;
        let r = &mut m.registry;
        // Counters are registered without `_total`: the encoder adds it.
        r.register(
            "daicho_appended_events",
            "Events appended by POST /v1/events, /v1/events/batch and /v1/events/backfill, retries not counted",
            m.appended_events.clone(),
        );
        r.register(
            "daicho_append_requests",
            "Append requests by outcome",
            m.append_requests.clone(),
        );
        r.register(
            "daicho_append_duration_seconds",
            "Time from request to response of append requests",
            m.append_duration.clone(),
        );
        r.register(
            "daicho_rate_limited_requests",
            "Requests refused with 429 by the limit per token or per source",
            m.rate_limited.clone(),
        );
        r.register(
            "daicho_tree_size",
            "Number of entries in the ledger",
            m.tree_size.clone(),
        );
        r.register(
            "daicho_checkpoint_age_seconds",
            "Seconds since the latest checkpoint was signed",
            m.checkpoint_age.clone(),
        );
        r.register(
            "daicho_writer_healthy",
            "Whether the writer's last group commit succeeded, or none was tried since start (1) or not (0)",
            m.writer_healthy.clone(),
        );
        r.register(
            "daicho_writer_state",
            "The writer's health: 1 for the current state (ok, storage_unavailable, failing), 0 for the others",
            m.writer_state.clone(),
        );
        r.register(
            "daicho_db_connections_in_use",
            "Connections of the database pool lent out now (the writer's own connection not counted)",
            m.db_connections_in_use.clone(),
        );
        r.register(
            "daicho_db_connections_idle",
            "Open connections waiting in the database pool",
            m.db_connections_idle.clone(),
        );
        r.register(
            "daicho_db_connections_max",
            "The most connections the database pool opens",
            m.db_connections_max.clone(),
        );
        r.register(
            "daicho_witness_up",
            "Whether the witness cosigned at its last exchange (1) or not (0)",
            m.witness_up.clone(),
        );
        r.register(
            "daicho_witness_cosigned_size",
            "The size of the newest checkpoint the witness cosigned",
            m.witness_cosigned_size.clone(),
        );
        m
    }

    /// Records one successful append request that appended `events` new
    /// entries (idempotent retries are not counted).
    pub fn record_append(&self, events: u64, latency: Duration) {
        self.appended_events.inc_by(events);
        self.append_requests
            .get_or_create(&[("outcome", "ok")])
            .inc();
        self.append_duration.observe(latency.as_secs_f64());
    }

    /// Records an append request that was refused or failed.
    pub fn record_refusal(&self, latency: Duration) {
        self.append_requests
            .get_or_create(&[("outcome", "refused")])
            .inc();
        self.append_duration.observe(latency.as_secs_f64());
    }

    /// Records a request refused by a rate limit.
    pub fn record_rate_limited(&self, kind: LimitKind) {
        self.rate_limited
            .get_or_create(&[("limit", kind.as_str())])
            .inc();
    }

    /// Sets the gauges to `gauges` and renders every series in the
    /// Prometheus text format.
    pub fn render(&self, gauges: Gauges<'_>) -> String {
        self.tree_size.set(gauges.tree_size);
        self.checkpoint_age.set(gauges.checkpoint_age_seconds);
        let state = writer_state(gauges.writer);
        self.writer_healthy.set(i64::from(state == "ok"));
        for s in WRITER_STATES {
            self.writer_state
                .get_or_create(&[("state", s)])
                .set(i64::from(s == state));
        }
        self.db_connections_in_use.set(gauges.pool.in_use);
        self.db_connections_idle.set(gauges.pool.idle);
        self.db_connections_max.set(gauges.pool.max);
        for w in gauges.witnesses {
            let label = [("witness", w.name.clone())];
            self.witness_up.get_or_create(&label).set(i64::from(w.up));
            self.witness_cosigned_size
                .get_or_create(&label)
                .set(w.cosigned_size);
        }
        let mut out = String::new();
        prometheus_text::encode(&mut out, &self.registry)
            .expect("writing to a String does not fail");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gauges<'a>(writer: &'a WriterHealth, witnesses: &'a [WitnessStatus]) -> Gauges<'a> {
        Gauges {
            tree_size: 102,
            checkpoint_age_seconds: 0.5,
            writer,
            pool: PoolUsage {
                in_use: 2,
                idle: 3,
                max: 8,
            },
            witnesses,
        }
    }

    #[test]
    fn histogram_is_cumulative() {
        let m = Metrics::default();
        m.record_append(1, Duration::from_micros(700));
        m.record_append(100, Duration::from_millis(30));
        let text = m.render(gauges(&WriterHealth::Ok, &[]));
        assert!(
            text.contains("daicho_appended_events_total 101\n"),
            "{text}"
        );
        assert!(text.contains("daicho_append_duration_seconds_bucket{le=\"0.001\"} 1\n"));
        assert!(text.contains("daicho_append_duration_seconds_bucket{le=\"0.05\"} 2\n"));
        assert!(text.contains("daicho_append_duration_seconds_bucket{le=\"+Inf\"} 2\n"));
        assert!(text.contains("daicho_append_duration_seconds_count 2\n"));
        assert!(text.contains("daicho_append_requests_total{outcome=\"ok\"} 2\n"));
        assert!(text.contains("daicho_append_requests_total{outcome=\"refused\"} 0\n"));
        assert!(text.contains("daicho_tree_size 102\n"));
        assert!(text.contains("daicho_checkpoint_age_seconds 0.5\n"));
    }

    #[test]
    fn gauges_show_the_writer_the_pool_and_the_witnesses() {
        let m = Metrics::default();
        let witnesses = [WitnessStatus {
            name: "w\"1".into(),
            up: true,
            cosigned_size: 7,
            last_error: None,
        }];
        let text = m.render(gauges(&WriterHealth::StorageUnavailable, &witnesses));
        assert!(text.contains("daicho_writer_healthy 0\n"), "{text}");
        assert!(text.contains("daicho_writer_state{state=\"storage_unavailable\"} 1\n"));
        assert!(text.contains("daicho_writer_state{state=\"ok\"} 0\n"));
        assert!(text.contains("daicho_writer_state{state=\"failing\"} 0\n"));
        assert!(text.contains("daicho_db_connections_in_use 2\n"));
        assert!(text.contains("daicho_db_connections_idle 3\n"));
        assert!(text.contains("daicho_db_connections_max 8\n"));
        // Label values are escaped.
        assert!(text.contains("daicho_witness_up{witness=\"w\\\"1\"} 1\n"));
        assert!(text.contains("daicho_witness_cosigned_size{witness=\"w\\\"1\"} 7\n"));
        let text = m.render(gauges(&WriterHealth::Ok, &witnesses));
        assert!(text.contains("daicho_writer_healthy 1\n"), "{text}");
        assert!(text.contains("daicho_writer_state{state=\"ok\"} 1\n"));
        assert!(text.contains("daicho_writer_state{state=\"storage_unavailable\"} 0\n"));
    }

    #[test]
    fn rate_limited_requests_are_counted_by_limit() {
        let m = Metrics::default();
        m.record_rate_limited(LimitKind::Source);
        m.record_rate_limited(LimitKind::Source);
        let text = m.render(gauges(&WriterHealth::Ok, &[]));
        assert!(
            text.contains("daicho_rate_limited_requests_total{limit=\"source\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("daicho_rate_limited_requests_total{limit=\"token\"} 0\n"));
    }
}
