//! How far a running operation is. A job records its progress with the job, where the page
//! reads it; an operation run without a job (tests, the command line) reports to nobody, or
//! to whatever a caller wants to watch it with.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::jobs;
use crate::domain::{Db, DomainError};

/// What a report returns: a database write for a job, nothing otherwise.
pub type Reported<'a> = Pin<Box<dyn Future<Output = Result<(), DomainError>> + Send + 'a>>;

/// Where an operation reports that `done` of `total` units of its `phase` are behind it.
pub trait Progress: Send + Sync {
    /// Reports at once: a phase begins or ends.
    fn report(&self, phase: &'static str, done: u64, total: u64) -> Reported<'_>;

    /// Reports from inside a loop, as often as it likes: the receiver may thin reports out.
    fn tick(&self, phase: &'static str, done: u64, total: u64) -> Reported<'_> {
        self.report(phase, done, total)
    }
}

/// Progress that goes nowhere.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn report(&self, _: &'static str, _: u64, _: u64) -> Reported<'_> {
        Box::pin(std::future::ready(Ok(())))
    }
}

/// How often a job records progress from a loop at most: each record is a commit, and a
/// watcher polls about twice a second.
const JOB_TICK_EVERY: Duration = Duration::from_millis(250);

/// A job's progress, recorded with the job (`job:⟨id⟩`'s phase, done and total). Shared by
/// the writers of one job; their ticks are recorded at most every [`JOB_TICK_EVERY`].
#[derive(Debug)]
pub struct JobProgress {
    db: Db,
    job: String,
    last_tick: Mutex<Option<Instant>>,
}

impl JobProgress {
    pub fn new(db: &Db, job: &str) -> Self {
        Self {
            db: db.clone(),
            job: job.to_string(),
            last_tick: Mutex::new(None),
        }
    }

    /// Whether a tick may be recorded now (and, if so, the clock starts again).
    fn tick_due(&self) -> bool {
        let mut last = self
            .last_tick
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.is_some_and(|at| at.elapsed() < JOB_TICK_EVERY) {
            return false;
        }
        *last = Some(Instant::now());
        true
    }
}

impl Progress for JobProgress {
    fn report(&self, phase: &'static str, done: u64, total: u64) -> Reported<'_> {
        Box::pin(jobs::progress(&self.db, &self.job, phase, done, total))
    }

    fn tick(&self, phase: &'static str, done: u64, total: u64) -> Reported<'_> {
        if self.tick_due() {
            self.report(phase, done, total)
        } else {
            Box::pin(std::future::ready(Ok(())))
        }
    }
}
