//! The service's view of compliance: the projections kept current with the
//! ledger, and evaluations over them.
//!
//! The state follows the store: a background task folds in whatever was
//! committed since it last looked, and every read catches up first. So the
//! append path does no projection work at all, an instance sharing a
//! PostgreSQL ledger sees the other instances' entries, and what a request
//! is answered from is the state as of the store's size when it asked. At
//! start the state is rebuilt from the store in chunks.
//!
//! The entries this instance's writer commits reach the task without a
//! trip through the store: the writer hands each group over once it is
//! committed, already parsed ([`Compliance::follow`]). Reading them back
//! cost some 20 µs per entry beside 2–3 µs of folding, under batched
//! ingest (docs/PERFORMANCE.md). Entries another instance appended, or a
//! group the task had no room for, are read from the store.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use daicho_catalogue::Catalogue;
use daicho_compliance::{evaluate_until, Evaluation, Period, Rulebook, State};
use daicho_core::entry::Recorded;
use daicho_store::{Store, StoreError};
use tokio::sync::{mpsc, Mutex, RwLock};

/// How many entries one read of the store folds in.
const CHUNK: u32 = 10_000;

/// How often the background task catches up with the store.
pub const FOLLOW_EVERY: Duration = Duration::from_millis(500);

/// Folds the store's first `size` entries into a fresh state, calling
/// `progress` with the number folded after each chunk.
pub async fn fold_prefix(
    store: &Store,
    catalogue: &Catalogue,
    size: u64,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<State, StoreError> {
    let mut state = State::new(catalogue);
    let mut from = 0;
    while from < size {
        let take = u32::try_from((size - from).min(u64::from(CHUNK))).unwrap_or(CHUNK);
        let entries = store.entries(from, take).await?;
        if entries.is_empty() {
            break;
        }
        for e in &entries {
            state.apply(e);
        }
        from += entries.len() as u64;
        progress(from);
    }
    Ok(state)
}

/// The projections and rules of one service.
pub struct Compliance {
    catalogue: &'static Catalogue,
    rulebook: Rulebook,
    state: RwLock<State>,
    /// One catch-up at a time, so that two never fold the same entries.
    catching_up: Mutex<()>,
    /// Entries folded in, the nanoseconds spent reading them from the store
    /// and folding them in, and the entries the writer handed over.
    caught_up: [AtomicU64; 4],
}

/// What catching up with the store has cost since the service started:
/// see [`Compliance::catch_up_cost`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CatchUpCost {
    /// Entries folded in.
    pub entries: u64,
    /// Time spent reading them from the store (and parsing them).
    pub reading: Duration,
    /// Time spent folding them into the state, and freeing what was read.
    pub folding: Duration,
    /// Of the entries, those the writer handed over as it committed them,
    /// which were not read from the store.
    pub handed_over: u64,
}

/// Why an evaluation was not made.
#[derive(Debug, thiserror::Error)]
pub enum ComplianceError {
    /// `as_of` names a ledger size the store does not have yet.
    #[error("the ledger holds {size} entries, not {as_of}")]
    AsOfBeyond {
        /// The size asked for.
        as_of: u64,
        /// The store's size.
        size: u64,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Compliance {
    /// An empty state for `catalogue` and its rules.
    pub fn new(catalogue: &'static Catalogue, rulebook: Rulebook) -> Compliance {
        Compliance {
            catalogue,
            state: RwLock::new(State::new(catalogue)),
            rulebook,
            catching_up: Mutex::new(()),
            caught_up: Default::default(),
        }
    }

    /// What catching up with the store has cost so far: the price of
    /// keeping the projections current, which the ingest benchmark
    /// reports beside the ingest rate.
    pub fn catch_up_cost(&self) -> CatchUpCost {
        let [entries, reading, folding, handed_over] = &self.caught_up;
        CatchUpCost {
            entries: entries.load(Ordering::Relaxed),
            reading: Duration::from_nanos(reading.load(Ordering::Relaxed)),
            folding: Duration::from_nanos(folding.load(Ordering::Relaxed)),
            handed_over: handed_over.load(Ordering::Relaxed),
        }
    }

    /// The size of the ledger the state is folded to, without catching up.
    pub async fn size(&self) -> u64 {
        self.state.read().await.size()
    }

    fn count(&self, entries: u64, reading: Option<Duration>, folding: Duration) {
        let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let [e, r, f, h] = &self.caught_up;
        e.fetch_add(entries, Ordering::Relaxed);
        match reading {
            Some(d) => r.fetch_add(nanos(d), Ordering::Relaxed),
            None => h.fetch_add(entries, Ordering::Relaxed),
        };
        f.fetch_add(nanos(folding), Ordering::Relaxed);
    }

    /// The catalogue.
    pub fn catalogue(&self) -> &'static Catalogue {
        self.catalogue
    }

    /// The rules, thresholds and calendar.
    pub fn rulebook(&self) -> &Rulebook {
        &self.rulebook
    }

    /// Folds in every entry the store holds beyond the state; returns the
    /// state's size.
    pub async fn catch_up(&self, store: &Store) -> Result<u64, StoreError> {
        let _one = self.catching_up.lock().await;
        let started = Instant::now();
        let mut from = self.state.read().await.size();
        let first = from;
        loop {
            let reading = Instant::now();
            let entries = store.entries(from, CHUNK).await?;
            if entries.is_empty() {
                break;
            }
            let n = entries.len() as u64;
            let reading = reading.elapsed();
            let folding = Instant::now();
            {
                let mut state = self.state.write().await;
                for e in &entries {
                    state.apply(e);
                }
            }
            // Freeing what was read is part of the price.
            drop(entries);
            self.count(n, Some(reading), folding.elapsed());
            from += n;
            if n < u64::from(CHUNK) {
                break;
            }
        }
        if from - first > 100_000 {
            tracing::info!(
                entries = from - first,
                seconds = started.elapsed().as_secs_f64(),
                "projections caught up with the ledger"
            );
        }
        Ok(from)
    }

    /// Runs `f` on the state as of `as_of` (the current state when `None`),
    /// after catching up with the store. A past size is folded afresh from
    /// the store's first `as_of` entries.
    pub async fn with_state<T>(
        &self,
        store: &Store,
        as_of: Option<u64>,
        f: impl FnOnce(&State) -> T,
    ) -> Result<T, ComplianceError> {
        let size = self.catch_up(store).await?;
        match as_of {
            Some(as_of) if as_of > size => Err(ComplianceError::AsOfBeyond { as_of, size }),
            Some(as_of) if as_of < size => {
                let state = fold_prefix(store, self.catalogue, as_of, &|_| {}).await?;
                Ok(f(&state))
            }
            _ => {
                let state = self.state.read().await;
                Ok(f(&state))
            }
        }
    }

    /// Evaluates every article over `period`, as of `as_of`; a period not
    /// yet over is judged until `now`.
    pub async fn evaluate(
        &self,
        store: &Store,
        period: Period,
        quarter: Option<(i32, u8)>,
        as_of: Option<u64>,
        now: time::OffsetDateTime,
    ) -> Result<Evaluation, ComplianceError> {
        let (catalogue, rulebook) = (self.catalogue, &self.rulebook);
        self.with_state(store, as_of, |state| {
            evaluate_until(catalogue, rulebook, state, period, quarter, Some(now))
        })
        .await
    }

    /// Folds in a group of entries the writer committed. A group that
    /// starts beyond the state (another instance appended in between, or an
    /// earlier group was not handed over) is read from the store instead;
    /// entries the state already holds are skipped.
    async fn fold_committed(
        &self,
        store: &Store,
        entries: Vec<Recorded>,
    ) -> Result<(), StoreError> {
        let one = self.catching_up.lock().await;
        let started = Instant::now();
        let folded = {
            let mut state = self.state.write().await;
            let before = state.size();
            if entries.first().is_none_or(|e| e.entry.seq > before) {
                None
            } else {
                for e in &entries {
                    state.apply(e);
                }
                Some(state.size() - before)
            }
        };
        drop(entries);
        match folded {
            Some(n) => {
                self.count(n, None, started.elapsed());
                Ok(())
            }
            None => {
                drop(one);
                self.catch_up(store).await.map(|_| ())
            }
        }
    }

    /// Keeps the state current while the service holds it: folds in each
    /// group `committed` hands over as it comes, and whatever else the
    /// store holds every [`FOLLOW_EVERY`]; stops once the last handle to
    /// this view is dropped.
    pub fn follow(
        self: &std::sync::Arc<Self>,
        store: Store,
        committed: mpsc::Receiver<Vec<Recorded>>,
    ) {
        let view = std::sync::Arc::downgrade(self);
        let mut committed = Some(committed);
        tokio::spawn(async move {
            let mut warned = false;
            let mut group = None;
            while let Some(view) = view.upgrade() {
                let done = match group.take() {
                    Some(entries) => view.fold_committed(&store, entries).await,
                    None => view.catch_up(&store).await.map(|_| ()),
                };
                match done {
                    Ok(()) => warned = false,
                    Err(e) if !warned => {
                        warned = true;
                        tracing::warn!(error = %e, "projections could not catch up; retrying");
                    }
                    Err(_) => {}
                }
                drop(view);
                group = match committed.as_mut() {
                    Some(rx) => tokio::select! {
                        g = rx.recv() => {
                            if g.is_none() {
                                // The writer is gone: the store alone from now on.
                                committed = None;
                            }
                            g
                        }
                        () = tokio::time::sleep(FOLLOW_EVERY) => None,
                    },
                    None => {
                        tokio::time::sleep(FOLLOW_EVERY).await;
                        None
                    }
                };
            }
        });
    }
}
