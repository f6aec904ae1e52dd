//! Rate limits per bearer token and per signing source, answered with 429
//! `rate_limited` and `Retry-After`.
//!
//! Each limit is a keyed GCRA from the `governor` crate: a key may spend
//! `burst` requests (or events) at once, and earns one back every
//! `1 / rate` seconds. The key of the token limit is the token's digest,
//! taken only once the database has confirmed the token: an unknown token
//! gets 401 and no state here. The key of the source limit is an appended
//! event's `source`, taken only once the door has verified the event's
//! signature by a key registered to that source: a forged event naming
//! someone else's source cannot spend that source's allowance. Both key
//! sets are therefore bounded by what the ledger knows (tokens issued,
//! sources registered), and nothing needs evicting.
//!
//! The state lives in this process: behind a load balancer, each instance
//! limits on its own (docs/API.md says so).

use std::collections::BTreeMap;
use std::hash::Hash;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::cli::RateLimitConfig;
use crate::metrics::{LimitKind, Metrics};
use crate::problem::{ApiError, ApiResult, ErrorCode};

/// One keyed limit.
struct Limit<K: Hash + Eq + Clone> {
    limiter: RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>,
    kind: LimitKind,
}

impl<K: Hash + Eq + Clone> Limit<K> {
    fn new(kind: LimitKind, per_second: f64, burst: u32) -> Result<Self, String> {
        let flag = kind.flag();
        let period = Duration::try_from_secs_f64(1.0 / per_second)
            .ok()
            .filter(|p| !p.is_zero())
            .ok_or_else(|| format!("{flag}: {per_second} per second is not a usable rate"))?;
        let burst =
            NonZeroU32::new(burst).ok_or_else(|| format!("{flag}-burst: must be at least 1"))?;
        let quota = Quota::with_period(period)
            .ok_or_else(|| format!("{flag}: {per_second} per second is not a usable rate"))?
            .allow_burst(burst);
        Ok(Limit {
            limiter: RateLimiter::keyed(quota),
            kind,
        })
    }

    /// Spends `n` of `key`'s allowance, or refuses with the seconds until
    /// it holds `n` again (whole seconds, at least 1, so that a client
    /// waiting exactly that long is let through). `who` names the key in
    /// the log of a refusal.
    fn check(&self, key: &K, n: u32, who: &str, metrics: &Metrics) -> ApiResult<()> {
        let Some(n) = NonZeroU32::new(n) else {
            return Ok(());
        };
        let wait = match self.limiter.check_key_n(key, n) {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(not_until)) => not_until.wait_time_from(self.limiter.clock().now()),
            // More than the burst at once can never pass; start-up makes
            // the source burst at least --max-batch, so this is not reached
            // by a request the service accepts otherwise.
            Err(_) => {
                metrics.record_rate_limited(self.kind);
                tracing::info!(
                    limit = self.kind.as_str(),
                    who,
                    events = n,
                    "over the burst at once"
                );
                return Err(ApiError::new(ErrorCode::RateLimited)
                    .detail(format!(
                        "{n} events from one source exceed {}-burst; send fewer at once",
                        self.kind.flag()
                    ))
                    .retry_after(1));
            }
        };
        metrics.record_rate_limited(self.kind);
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let secs = secs.max(1);
        tracing::info!(
            limit = self.kind.as_str(),
            who,
            retry_after = secs,
            "rate limited"
        );
        let detail = match self.kind {
            LimitKind::Token => format!(
                "this token's request rate is over its limit on this instance; retry after {secs} second(s)"
            ),
            LimitKind::Source => format!(
                "source {who:?} is over its event rate limit on this instance; nothing was appended; retry after {secs} second(s)"
            ),
        };
        Err(ApiError::new(ErrorCode::RateLimited)
            .detail(detail)
            .retry_after(secs))
    }
}

impl LimitKind {
    /// The command-line flag that sets this limit.
    fn flag(self) -> &'static str {
        match self {
            LimitKind::Token => "--rate-limit-token",
            LimitKind::Source => "--rate-limit-source",
        }
    }
}

/// The configured limits; a limit not configured lets everything through.
pub struct RateLimits {
    token: Option<Limit<[u8; 32]>>,
    source: Option<Limit<String>>,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("token", &self.token.is_some())
            .field("source", &self.source.is_some())
            .finish()
    }
}

impl RateLimits {
    /// No limits.
    pub fn off() -> RateLimits {
        RateLimits {
            token: None,
            source: None,
        }
    }

    /// The limits of `cfg`. A burst defaults to the rate rounded up; the
    /// source burst also to at least `max_batch`, and may not be below it:
    /// a batch of one source's events is counted whole, and one larger
    /// than the burst could never pass.
    pub fn new(cfg: &RateLimitConfig, max_batch: usize) -> Result<RateLimits, String> {
        let rounded_up = |per_second: f64| {
            // At least one, and a whole second's worth at once.
            let r = per_second.ceil();
            if r >= f64::from(u32::MAX) {
                u32::MAX
            } else {
                (r as u32).max(1)
            }
        };
        let token = cfg
            .token_per_second
            .map(|rate| {
                let burst = cfg.token_burst.unwrap_or_else(|| rounded_up(rate));
                Limit::new(LimitKind::Token, rate, burst)
            })
            .transpose()?;
        let max_batch = u32::try_from(max_batch).unwrap_or(u32::MAX);
        let source = cfg
            .source_per_second
            .map(|rate| {
                let burst = cfg
                    .source_burst
                    .unwrap_or_else(|| rounded_up(rate).max(max_batch));
                if burst < max_batch {
                    return Err(format!(
                        "--rate-limit-source-burst ({burst}) is below --max-batch ({max_batch}): \
                         a full batch from one source could never pass"
                    ));
                }
                Limit::new(LimitKind::Source, rate, burst)
            })
            .transpose()?;
        Ok(RateLimits { token, source })
    }

    /// Counts one request of the token whose digest is `token_hash`.
    pub fn check_token(&self, token_hash: &[u8; 32], metrics: &Metrics) -> ApiResult<()> {
        match &self.token {
            // Logged by its id (`daicho token list`), never by the token.
            Some(limit) => limit.check(
                token_hash,
                1,
                &crate::commands::token::token_id(token_hash),
                metrics,
            ),
            None => Ok(()),
        }
    }

    /// Counts every admitted event of one request against its source; a
    /// batch counts each of its events. A request whose events come from
    /// several sources is refused if any of them is over its limit, and the
    /// allowance it took from the sources checked before is not given back
    /// (the limiter has no refund); requests of one source, the usual
    /// case, are refused whole or counted whole.
    pub fn check_sources<'a>(
        &self,
        sources: impl IntoIterator<Item = &'a str>,
        metrics: &Metrics,
    ) -> ApiResult<()> {
        let Some(limit) = &self.source else {
            return Ok(());
        };
        let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
        for s in sources {
            *counts.entry(s).or_default() += 1;
        }
        for (source, n) in counts {
            limit.check(&source.to_owned(), n, source, metrics)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(source: Option<f64>, source_burst: Option<u32>) -> RateLimitConfig {
        RateLimitConfig {
            token_per_second: Some(0.001),
            token_burst: Some(2),
            source_per_second: source,
            source_burst,
        }
    }

    #[test]
    fn a_token_is_refused_past_its_burst_with_a_whole_second_retry_after() {
        let limits = RateLimits::new(&config(None, None), 10).unwrap();
        let metrics = Metrics::default();
        let (a, b) = ([1u8; 32], [2u8; 32]);
        assert!(limits.check_token(&a, &metrics).is_ok());
        assert!(limits.check_token(&a, &metrics).is_ok());
        let refused = limits.check_token(&a, &metrics).unwrap_err();
        assert_eq!(refused.code, ErrorCode::RateLimited);
        // One request per 1000 seconds: the next is that far off.
        let secs = refused.retry_after.unwrap();
        assert!((990..=1000).contains(&secs), "{secs}");
        assert!(limits.check_token(&b, &metrics).is_ok());
    }

    #[test]
    fn a_batch_counts_each_event_of_its_source() {
        let limits = RateLimits::new(&config(Some(0.001), Some(3)), 3).unwrap();
        let metrics = Metrics::default();
        assert!(limits.check_sources(["s", "s"], &metrics).is_ok());
        // Two more of "s" exceed its three; "t" is untouched.
        assert!(limits.check_sources(["s", "t", "s"], &metrics).is_err());
        assert!(limits.check_sources(["t", "t", "t"], &metrics).is_ok());
        assert!(limits.check_sources(["s"], &metrics).is_ok());
        assert!(limits.check_sources(["s"], &metrics).is_err());
    }

    #[test]
    fn the_source_burst_holds_a_full_batch() {
        let err = RateLimits::new(&config(Some(1.0), Some(5)), 10).unwrap_err();
        assert!(err.contains("--max-batch"), "{err}");
        // Unset, it defaults to the batch size.
        let limits = RateLimits::new(&config(Some(1.0), None), 10).unwrap();
        assert!(limits.check_sources(["s"; 10], &Metrics::default()).is_ok());
    }

    /// The `serve` configuration of `args`, or clap's refusal.
    fn serve(args: &[&str]) -> Result<RateLimitConfig, clap::Error> {
        use clap::Parser as _;
        let cli = crate::cli::Cli::try_parse_from(["daicho", "serve"].iter().chain(args))?;
        match cli.command {
            crate::cli::Command::Serve(cfg) => Ok(cfg.rate_limits),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn limits_are_off_unless_set_and_their_flags_are_checked() {
        let off = serve(&[]).unwrap();
        assert_eq!(off.token_per_second, None);
        assert_eq!(off.source_per_second, None);
        let on = serve(&[
            "--rate-limit-token",
            "0.5",
            "--rate-limit-token-burst",
            "3",
            "--rate-limit-source",
            "20",
        ])
        .unwrap();
        assert_eq!(on.token_per_second, Some(0.5));
        assert_eq!(on.token_burst, Some(3));
        assert_eq!(on.source_per_second, Some(20.0));
        for refused in [
            &["--rate-limit-token", "0"][..],
            &["--rate-limit-source", "-1"],
            &["--rate-limit-source", "NaN"],
            &["--rate-limit-token", "fast"],
            &["--rate-limit-token", "1", "--rate-limit-token-burst", "0"],
            // A burst without its rate would limit nothing.
            &["--rate-limit-token-burst", "3"],
            &["--rate-limit-source-burst", "3"],
        ] {
            assert!(serve(refused).is_err(), "{refused:?} accepted");
        }
    }

    #[test]
    fn unset_limits_let_everything_through() {
        let limits = RateLimits::off();
        let metrics = Metrics::default();
        for _ in 0..1000 {
            assert!(limits.check_token(&[0; 32], &metrics).is_ok());
            assert!(limits.check_sources(["s"], &metrics).is_ok());
        }
    }
}
