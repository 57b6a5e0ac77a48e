//! Durable jobs (a backup being written, a restore being applied) with their progress, and
//! the lock that allows one job per namespace at a time.

use super::super::db::{check_transaction, retry_conflicts, take_json};
use super::super::{Db, DomainError};
use crate::types::{JobInfo, JobKind};

const SELECT: &str = "record::id(id) AS id, kind, namespace, backup, status, phase, done, total, error, started_by, created_at, finished_at";

/// Queues a job on `namespace` for `backup`, taking the namespace's lock; its task marks it
/// running with [`run`] when it begins.
///
/// # Errors
///
/// [`DomainError::Conflict`] when a job holds the namespace already.
pub async fn start(
    db: &Db,
    id: &str,
    kind: JobKind,
    namespace: &str,
    backup: &str,
    actor: &str,
) -> Result<JobInfo, DomainError> {
    let kind_text = match kind {
        JobKind::Backup => "backup",
        JobKind::Restore => "restore",
    };
    let result = retry_conflicts(|| async {
        db
        .query(
            "BEGIN TRANSACTION;
             CREATE type::record('namespace_lock', $namespace) CONTENT { job: $id, created_at: time::now() };
             CREATE type::record('job', $id) CONTENT {
                 kind: $kind, namespace: $namespace, backup: $backup, status: 'queued', phase: 'waiting to start',
                 done: 0, total: 0, error: NONE, started_by: $actor, created_at: time::now(), finished_at: NONE
             };
             COMMIT TRANSACTION;",
        )
        .bind(("id", id.to_string()))
        .bind(("kind", kind_text))
        .bind(("namespace", namespace.to_string()))
        .bind(("backup", backup.to_string()))
        .bind(("actor", actor.to_string()))
        .await
        .and_then(check_transaction)
    })
    .await;
    match result {
        Ok(_) => get(db, id).await,
        Err(error) if crate::domain::db::is_duplicate(&error) => {
            Err(DomainError::Conflict(format!(
                "A backup or restore of namespace `{namespace}` is running already. Wait until it has finished, then try again."
            )))
        }
        Err(error) => Err(error.into()),
    }
}

/// Marks a queued job as running (its task has begun).
///
/// # Errors
///
/// A database error.
pub async fn run(db: &Db, id: &str) -> Result<(), DomainError> {
    db.query("UPDATE type::record('job', $id) SET status = 'running', phase = 'starting' WHERE status = 'queued'")
        .bind(("id", id.to_string()))
        .await?
        .check()?;
    Ok(())
}

/// One job.
///
/// # Errors
///
/// [`DomainError::NotFound`] for an unknown job.
pub async fn get(db: &Db, id: &str) -> Result<JobInfo, DomainError> {
    if crate::validate::record_id(id).is_err() {
        return Err(DomainError::NotFound("There is no such job.".into()));
    }
    let mut response = db
        .query(format!(
            "SELECT {SELECT} FROM ONLY type::record('job', $id)"
        ))
        .bind(("id", id.to_string()))
        .await?;
    let job: Option<JobInfo> = take_json(&mut response, 0)?;
    job.ok_or_else(|| DomainError::NotFound("There is no such job.".into()))
}

/// The jobs that have not ended, and those that ended in the last hour, newest first.
///
/// # Errors
///
/// A database error.
pub async fn recent(db: &Db) -> Result<Vec<JobInfo>, DomainError> {
    let mut response = db
        .query(format!(
            "SELECT {SELECT} FROM job
             WHERE finished_at = NONE OR finished_at > time::now() - 1h
             ORDER BY created_at DESC LIMIT 100"
        ))
        .await?;
    take_json(&mut response, 0)
}

/// Records a job's progress (through [`JobProgress`](super::progress::JobProgress)).
///
/// # Errors
///
/// A database error.
pub async fn progress(
    db: &Db,
    id: &str,
    phase: &str,
    done: u64,
    total: u64,
) -> Result<(), DomainError> {
    // Within a phase, progress never goes back (a restore's writers report out of order).
    db.query(
        "UPDATE type::record('job', $id) SET
             done = IF phase = $phase { math::max([done, $done]) } ELSE { $done },
             phase = $phase, total = $total",
    )
    .bind(("id", id.to_string()))
    .bind(("phase", phase.to_string()))
    .bind(("done", done))
    .bind(("total", total))
    .await?
    .check()?;
    Ok(())
}

/// Ends a job (`error`: `None` for success) and releases its namespace.
///
/// # Errors
///
/// A database error.
pub async fn finish(db: &Db, id: &str, error: Option<&str>) -> Result<(), DomainError> {
    db.query(format!("BEGIN TRANSACTION; {FINISH} COMMIT TRANSACTION;"))
        .bind(("id", id.to_string()))
        .bind(("error", error.map(str::to_string)))
        .await
        .and_then(check_transaction)?;
    Ok(())
}

/// What a failed job says: the reason when it is the user's to act on; for the server's own
/// failures a sentence that points to the log (which gets the details here), never the
/// database's or the file system's own text.
pub(super) fn job_error(error: &DomainError) -> String {
    if error.is_for_the_user() {
        error.to_string()
    } else {
        tracing::error!(%error, "a backup or restore job failed");
        "The server could not complete it; its log says why. Try again.".to_string()
    }
}

/// The statements that end job `$id` with `$error` (`NONE`: it succeeded) and free its
/// namespace; [`finish`] runs them alone, others in a transaction with more (the list and
/// the job change together).
pub(super) const FINISH: &str = "
    UPDATE type::record('job', $id) SET
        status = IF $error = NONE { 'succeeded' } ELSE { 'failed' },
        phase = IF $error = NONE { 'finished' } ELSE { 'failed' },
        error = $error, finished_at = time::now();
    DELETE namespace_lock WHERE job = $id;";

/// Whether a job that has not ended uses backup `backup`.
///
/// # Errors
///
/// A database error.
pub async fn backup_in_use(db: &Db, backup: &str) -> Result<bool, DomainError> {
    let count: Option<i64> = db
        .query("RETURN count(SELECT VALUE id FROM job WHERE backup = $backup AND status IN ['queued', 'running'])")
        .bind(("backup", backup.to_string()))
        .await?
        .take(0)?;
    Ok(count.unwrap_or(0) > 0)
}

/// The message a job interrupted by a restart ends with.
pub const INTERRUPTED: &str = "interrupted by a restart";

/// Start-up: jobs that were running when the process died are marked failed, and their
/// locks released.
///
/// # Errors
///
/// A database error.
pub async fn recover(db: &Db) -> Result<(), DomainError> {
    db.query(
        "BEGIN TRANSACTION;
         UPDATE job SET status = 'failed', phase = 'failed', error = $why, finished_at = time::now()
             WHERE status IN ['queued', 'running'];
         DELETE namespace_lock;
         COMMIT TRANSACTION;",
    )
    .bind(("why", INTERRUPTED))
    .await
    .and_then(check_transaction)?;
    Ok(())
}
