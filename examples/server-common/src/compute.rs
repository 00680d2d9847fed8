//! Bounded blocking work. Model inference (and, on a second gate, password hashing and database
//! calls) runs on tokio's blocking pool, never on the async workers, and never more at once
//! than the gate's permits. A request that cannot get a permit within `queue_wait` is answered
//! 503 `busy` at once instead of joining a queue that only grows under overload.

use crate::error::{ApiError, ApiResult};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct Compute {
    name: &'static str,
    permits: Arc<Semaphore>,
    size: usize,
    queue_wait: Duration,
}

impl Compute {
    pub fn new(name: &'static str, permits: usize, queue_wait: Duration) -> Compute {
        Compute {
            name,
            permits: Arc::new(Semaphore::new(permits.max(1))),
            size: permits.max(1),
            queue_wait,
        }
    }

    /// Permits of this gate.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Permits in use now.
    pub fn in_use(&self) -> usize {
        self.size - self.permits.available_permits()
    }

    /// Runs `f` on the blocking pool under a permit, or answers `busy` when none frees up
    /// within the queue wait. The permit moves into the task: it is released when the work
    /// ends, not when the client goes away.
    pub async fn run<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let waited = Instant::now();
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                match tokio::time::timeout(self.queue_wait, self.permits.clone().acquire_owned())
                    .await
                {
                    Ok(Ok(p)) => p,
                    _ => {
                        metrics::counter!("faceprint_busy_rejections_total", "gate" => self.name)
                            .increment(1);
                        return Err(ApiError::busy());
                    }
                }
            }
        };
        metrics::histogram!("faceprint_gate_wait_seconds", "gate" => self.name)
            .record(waited.elapsed().as_secs_f64());
        let span = tracing::Span::current();
        let name = self.name;
        let out = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let _enter = span.enter();
            let started = Instant::now();
            let out = f();
            metrics::histogram!("faceprint_blocking_seconds", "gate" => name)
                .record(started.elapsed().as_secs_f64());
            out
        })
        .await?;
        Ok(out)
    }

    /// Like [`Compute::run`] for work that returns a result of its own.
    pub async fn try_run<T, E, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce() -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Into<ApiError> + Send + 'static,
    {
        self.run(f).await?.map_err(Into::into)
    }

    /// Runs `f` only if a permit is free right now (WebSocket frames: drop instead of wait).
    pub async fn run_now<T, F>(&self, f: F) -> Option<ApiResult<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = self.permits.clone().try_acquire_owned().ok()?;
        let name = self.name;
        Some(
            tokio::task::spawn_blocking(move || {
                let _permit = permit;
                let started = Instant::now();
                let out = f();
                metrics::histogram!("faceprint_blocking_seconds", "gate" => name)
                    .record(started.elapsed().as_secs_f64());
                out
            })
            .await
            .map_err(ApiError::from),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_gate_answers_busy_instead_of_queueing() {
        let gate = Compute::new("test", 1, Duration::from_millis(20));
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let g = gate.clone();
        let slow = tokio::spawn(async move { g.run(move || rx.recv().ok()).await });
        while gate.in_use() == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let started = Instant::now();
        let err = gate.run(|| ()).await.unwrap_err();
        assert_eq!(err.code, "busy");
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(gate.run_now(|| ()).await.is_none());
        tx.send(()).unwrap();
        assert!(slow.await.unwrap().is_ok());
        assert!(gate.run(|| 7).await.unwrap() == 7);
    }
}
