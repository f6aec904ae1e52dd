//! The threads that check batches of signatures.

use std::num::NonZeroUsize;

/// A fixed pool of threads, one per core, for the CPU-bound work of batch
/// requests (signature checks, canonical bytes and hashes).
///
/// Not tokio's blocking pool, which starts a thread for every batch in
/// flight: sixteen batches would be sixteen threads competing for two
/// cores with the single writer, the database's thread and the request
/// handlers, and every wake-up on the writer's path would wait behind
/// them. Here a burst of batches queues for the pool instead
/// (docs/PERFORMANCE.md, "What made batches faster").
pub struct CheckPool {
    pool: rayon::ThreadPool,
}

/// The job panicked; the panic was logged.
#[derive(Debug, thiserror::Error)]
#[error("the signature check was interrupted by a panic")]
pub struct JobPanicked;

impl CheckPool {
    /// A pool of `threads` threads, or one per core when `None`.
    pub fn new(threads: Option<NonZeroUsize>) -> std::io::Result<CheckPool> {
        let threads = threads
            .or_else(|| std::thread::available_parallelism().ok())
            .map_or(1, NonZeroUsize::get);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("daicho-check-{i}"))
            // Without a handler, a panicking job would abort the process;
            // with one, its request fails (its sender is dropped).
            .panic_handler(|_| tracing::error!("a signature check panicked"))
            .build()
            .map_err(std::io::Error::other)?;
        Ok(CheckPool { pool })
    }

    /// Runs `job` on the pool and waits for its result without blocking
    /// the async runtime.
    pub async fn run<T, F>(&self, job: F) -> Result<T, JobPanicked>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.pool.spawn(move || {
            // The requester may have gone (a timeout); nothing to do then.
            let _ = tx.send(job());
        });
        rx.await.map_err(|_| JobPanicked)
    }

    /// The number of threads.
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[tokio::test]
    async fn jobs_run_on_a_bounded_pool_and_a_panic_fails_only_its_job() {
        let pool = CheckPool::new(NonZeroUsize::new(2)).unwrap();
        assert_eq!(pool.threads(), 2);
        // More jobs than threads: at most two run at once.
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs = (0..8).map(|i| {
            let (running, most) = (running.clone(), most.clone());
            pool.run(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(20));
                running.fetch_sub(1, Ordering::SeqCst);
                let name = std::thread::current().name().map(str::to_owned);
                (i * 2, name)
            })
        });
        let results = futures_util::future::join_all(jobs).await;
        for (i, r) in results.into_iter().enumerate() {
            let (doubled, name) = r.unwrap();
            assert_eq!(doubled, i * 2);
            assert!(name.unwrap().starts_with("daicho-check-"));
        }
        assert!(most.load(Ordering::SeqCst) <= 2);

        let failed = pool.run(|| -> u32 { panic!("boom") }).await;
        assert!(failed.is_err());
        // The pool still works after a panic.
        assert_eq!(pool.run(|| 7).await.unwrap(), 7);
    }
}
