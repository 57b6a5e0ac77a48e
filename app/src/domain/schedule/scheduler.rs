//! The scheduler: every tick, each replica looks for schedules that are due and claims each
//! run with one conditional update of the schedule's next due time — the claim that
//! succeeds starts the run, so it starts exactly once. The next due time is the schedule's
//! next run after *now*, so that after downtime the missed runs make one catch-up run, not a
//! storm. A run whose namespace is busy with another job waits a bounded time, then is
//! recorded as skipped. Every run's outcome goes with the schedule and to the audit log; a
//! run that made a backup applies the retention policy.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::retention;
use super::store::{self, Stored, backup_name, backups_of};
use super::when;
use crate::domain::backup::{self, Engine, jobs};
use crate::domain::{DomainError, audit};
use crate::types::{AuditAction, JobStatus, Outcome, RunOutcome, ScheduleRun};

/// Who the audit log names for what the scheduler does.
pub const SCHEDULER: &str = "(scheduler)";

/// Where the scheduler takes the time from: the system's clock, or a test's.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// How the scheduler runs.
#[derive(Clone, Debug)]
pub struct SchedulerSettings {
    /// How often due schedules are looked for.
    pub tick: Duration,
    /// How long a run waits for a namespace that another job holds before it is skipped.
    pub busy_wait: Duration,
    /// How often a waiting run tries again.
    pub busy_retry: Duration,
    /// What time it is: when runs are due, and when their backups were made.
    pub clock: std::sync::Arc<dyn Clock>,
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        Self {
            tick: Duration::from_secs(30),
            busy_wait: Duration::from_secs(15 * 60),
            busy_retry: Duration::from_secs(5),
            clock: std::sync::Arc::new(SystemClock),
        }
    }
}

/// Looks for schedules due now (by `settings.clock`), claims their runs and starts them.
/// Returns the runs this replica claimed, each a task that ends when its run has (tests
/// await them).
///
/// # Errors
///
/// A database error.
pub async fn tick(
    engine: &Engine,
    settings: &SchedulerSettings,
) -> Result<Vec<tokio::task::JoinHandle<ScheduleRun>>, DomainError> {
    let now = settings.clock.now();
    let mut response = engine
        .db
        .query(
            "SELECT VALUE name FROM namespace WHERE schedule.enabled = true
                 AND schedule.next_due != NONE AND schedule.next_due <= <datetime>$now",
        )
        .bind(("now", now.to_rfc3339()))
        .await?;
    let due: Vec<String> = crate::domain::db::take_json(&mut response, 0)?;
    let mut runs = Vec::new();
    for ns in due {
        if let Some((schedule, due)) = claim(engine, &ns, now).await? {
            let (engine, settings) = (engine.clone(), settings.clone());
            runs.push(tokio::spawn(async move {
                run(&engine, &settings, schedule, due).await
            }));
        }
    }
    Ok(runs)
}

/// Claims the due run of `ns`: moves its next due time on from `now`, on condition that no
/// one else moved it first. Returns the schedule and the due time claimed, or `None`.
async fn claim(
    engine: &Engine,
    ns: &str,
    now: DateTime<Utc>,
) -> Result<Option<(Stored, DateTime<Utc>)>, DomainError> {
    let Some(schedule) = store::stored(&engine.db, ns).await? else {
        return Ok(None);
    };
    let Some(due) = schedule.next_due.filter(|due| *due <= now) else {
        return Ok(None);
    };
    let next = when::parse(&schedule.draft.cron, &schedule.draft.timezone)
        .ok()
        .and_then(|when| when.next_after(now));
    let running = ScheduleRun {
        due,
        outcome: RunOutcome::Running,
        detail: format!("started by {}", engine.replica.id),
        backup: None,
    };
    let claimed = crate::domain::db::retry_conflicts(|| async {
        let mut response = engine
            .db
            .query(
                "UPDATE type::record('namespace', $ns) SET
                     schedule.next_due = IF $next = NONE { NONE } ELSE { <datetime>$next },
                     schedule.last_run = $run
                 WHERE schedule.enabled = true AND schedule.next_due = <datetime>$due
                 RETURN VALUE name",
            )
            .bind(("ns", ns.to_string()))
            .bind(("next", next.map(|at| at.to_rfc3339())))
            .bind(("due", due.to_rfc3339()))
            .bind((
                "run",
                serde_json::to_value(&running).unwrap_or(serde_json::Value::Null),
            ))
            .await?;
        response.take::<Vec<String>>(0)
    })
    .await?;
    Ok((!claimed.is_empty()).then_some((schedule, due)))
}

/// Runs one claimed run to its end and records how it went.
async fn run(
    engine: &Engine,
    settings: &SchedulerSettings,
    schedule: Stored,
    due: DateTime<Utc>,
) -> ScheduleRun {
    let ns = schedule.draft.namespace.clone();
    let outcome = match attempt(engine, settings, &schedule, due).await {
        Ok(outcome) => outcome,
        Err(error) => ScheduleRun {
            due,
            outcome: RunOutcome::Failed,
            detail: if error.is_for_the_user() {
                error.to_string()
            } else {
                tracing::error!(%error, namespace = ns, "a scheduled backup failed");
                "The server could not complete it; its log says why.".to_string()
            },
            backup: None,
        },
    };
    record(engine, &ns, &outcome).await;
    if outcome.outcome == RunOutcome::Succeeded
        && let Err(error) = apply_retention(engine, &ns).await
    {
        tracing::warn!(%error, namespace = ns, "could not apply the retention policy");
    }
    outcome
}

/// Starts the backup (waiting for a busy namespace up to `settings.busy_wait`) and follows
/// it to its end.
async fn attempt(
    engine: &Engine,
    settings: &SchedulerSettings,
    schedule: &Stored,
    due: DateTime<Utc>,
) -> Result<ScheduleRun, DomainError> {
    let draft = &schedule.draft;
    let when = when::parse(&draft.cron, &draft.timezone).map_err(DomainError::Invalid)?;
    let name = backup_name(draft, &when, due);
    let waited_since = tokio::time::Instant::now();
    let (made, job) = loop {
        let at = settings.clock.now();
        match backup::create_scheduled(engine, &draft.namespace, &name, SCHEDULER, at).await {
            Ok(started) => break started,
            Err(DomainError::Conflict(reason)) => {
                if waited_since.elapsed() >= settings.busy_wait {
                    return Ok(ScheduleRun {
                        due,
                        outcome: RunOutcome::Skipped,
                        detail: format!(
                            "skipped: the namespace was busy for {} minute(s) ({reason})",
                            settings.busy_wait.as_secs() / 60
                        ),
                        backup: None,
                    });
                }
                tokio::time::sleep(settings.busy_retry).await;
            }
            Err(DomainError::NotFound(reason)) => {
                return Ok(ScheduleRun {
                    due,
                    outcome: RunOutcome::Skipped,
                    detail: format!("skipped: {reason}"),
                    backup: None,
                });
            }
            Err(error) => return Err(error),
        }
    };
    let ended = loop {
        let job = jobs::get(&engine.db, &job.id).await?;
        if job.status.is_final() {
            break job;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    Ok(if ended.status == JobStatus::Succeeded {
        ScheduleRun {
            due,
            outcome: RunOutcome::Succeeded,
            detail: made.name,
            backup: Some(made.id),
        }
    } else {
        ScheduleRun {
            due,
            outcome: RunOutcome::Failed,
            detail: ended.error.unwrap_or_else(|| "the backup failed".into()),
            backup: Some(made.id),
        }
    })
}

/// Records a run's outcome with its schedule (unless a later run was recorded meanwhile)
/// and in the audit log.
async fn record(engine: &Engine, ns: &str, run: &ScheduleRun) {
    let recorded = engine
        .db
        .query(
            "UPDATE type::record('namespace', $ns) SET schedule.last_run = $run
             WHERE schedule != NONE
                 AND (schedule.last_run = NONE OR <datetime>schedule.last_run.due <= <datetime>$due)",
        )
        .bind(("ns", ns.to_string()))
        .bind((
            "run",
            serde_json::to_value(run).unwrap_or(serde_json::Value::Null),
        ))
        .bind(("due", run.due.to_rfc3339()))
        .await
        .and_then(|response| response.check());
    if let Err(error) = recorded {
        tracing::warn!(%error, namespace = ns, "could not record a scheduled run");
    }
    let outcome = match run.outcome {
        RunOutcome::Succeeded | RunOutcome::Running => Outcome::Succeeded,
        RunOutcome::Failed => Outcome::Failed,
        RunOutcome::Skipped => Outcome::Refused,
    };
    let detail = format!(
        "due {}: {}",
        run.due.format("%Y-%m-%d %H:%M UTC"),
        run.detail
    );
    let event = audit::Event {
        actor: SCHEDULER,
        action: AuditAction::ScheduleRun,
        target: ns,
        outcome,
        detail: &detail,
    };
    audit::record_or_log(&engine.db, event).await;
}

/// Deletes the backups of `ns` that its schedule's retention policy does not keep, each
/// audited with the rule. Returns how many.
///
/// # Errors
///
/// A database error.
pub async fn apply_retention(engine: &Engine, ns: &str) -> Result<usize, DomainError> {
    let Some(schedule) = store::stored(&engine.db, ns).await? else {
        return Ok(0);
    };
    let Ok(when) = when::parse(&schedule.draft.cron, &schedule.draft.timezone) else {
        return Ok(0);
    };
    let (backups, in_use) = backups_of(&engine.db, ns).await?;
    let planned = retention::plan(
        &backups,
        &schedule.draft.retention,
        &in_use,
        when.timezone(),
    );
    let mut deleted = 0;
    for deletion in planned {
        match backup::delete_by_policy(engine, &deletion.id, &deletion.reason).await {
            Ok(_) => deleted += 1,
            // Deleted meanwhile, or taken by a job since: the next pass looks again.
            Err(DomainError::NotFound(_) | DomainError::Conflict(_)) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(deleted)
}

/// Applies every schedule's retention policy once a day (each claimed by one replica).
///
/// # Errors
///
/// A database error.
pub async fn daily_retention(engine: &Engine, now: DateTime<Utc>) -> Result<(), DomainError> {
    let claimed: Vec<String> = crate::domain::db::retry_conflicts(|| async {
        let mut response = engine
            .db
            .query(
                "UPDATE namespace SET schedule.retention_at = <datetime>$now
                 WHERE schedule != NONE AND (schedule.retention_at = NONE
                     OR schedule.retention_at <= <datetime>$now - 1d)
                 RETURN VALUE name",
            )
            .bind(("now", now.to_rfc3339()))
            .await?;
        response.take::<Vec<String>>(0)
    })
    .await?;
    for ns in claimed {
        apply_retention(engine, &ns).await?;
    }
    Ok(())
}

/// The scheduler of this replica: a tick every `settings.tick`, until the returned task is
/// aborted (at shutdown).
pub fn run_scheduler(engine: Engine, settings: SchedulerSettings) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(settings.tick).await;
            let now = settings.clock.now();
            if let Err(error) = tick(&engine, &settings).await {
                tracing::warn!(%error, "could not look for scheduled backups that are due");
            }
            if let Err(error) = daily_retention(&engine, now).await {
                tracing::warn!(%error, "could not apply the retention policies");
            }
        }
    })
}
