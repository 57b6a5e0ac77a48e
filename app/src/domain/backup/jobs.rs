//! Durable jobs (a backup being written, a restore being applied) with their progress, and
//! the lock that allows one job per namespace at a time.
//!
//! A job belongs to the [`Replica`] (the nsbackup process) that runs it, for as long as its
//! lease lasts; the replica renews the leases of its jobs while it lives ([`renew`]). A job
//! whose lease has expired — its replica died — is ended by whichever replica sees it first
//! ([`take_over`]); a live job of another replica is never touched. What a job commits at its
//! end is fenced: it commits only while the job is still the replica's own, so a replica
//! that was presumed dead cannot complete a job that another has ended meanwhile.

use std::sync::Arc;
use std::time::Duration;

use super::super::db::{check_transaction, retry_conflicts, take_json};
use super::super::{Db, DomainError};
use super::Engine;
use crate::types::{JobInfo, JobKind};

/// This process among the replicas that share a database: its name, and how long a job
/// stays its own without a renewal.
#[derive(Clone, Debug)]
pub struct Replica {
    /// The replica's name (kept in its data directory, so that a restart knows its jobs).
    pub id: Arc<str>,
    /// How long a job stays this replica's without a renewal; leases are renewed every
    /// third of it, and expired ones are looked for once in each.
    pub lease: Duration,
}

impl Replica {
    /// The default of [`Replica::lease`].
    pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

    /// Replica `id` with leases of `lease`.
    pub fn new(id: &str, lease: Duration) -> Self {
        Self {
            id: Arc::from(id),
            lease,
        }
    }

    /// A new replica name: the host's name and a random suffix (`db-host-3f9a1c`).
    pub fn fresh_name() -> String {
        let host: String = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .unwrap_or_default()
            .trim()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(40)
            .collect();
        let host = if host.is_empty() {
            "nsbackup".to_string()
        } else {
            host
        };
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        format!("{host}-{}", &suffix[..6])
    }

    /// The lease as the database writes durations.
    fn lease_text(&self) -> String {
        format!("{}ms", self.lease.as_millis().max(1))
    }
}

impl Default for Replica {
    /// A replica with a fresh name and the default lease.
    fn default() -> Self {
        Self::new(&Self::fresh_name(), Self::DEFAULT_LEASE)
    }
}

/// The condition under which job `$id` is still replica `$replica`'s to end. The statements
/// that end a job check it first ([`OWNED`]).
const LIVE: &str = "status IN ['queued', 'running'] AND replica = $replica";

/// Fails the transaction it opens with [`TAKEN_OVER`] unless job `$id` is still live and
/// replica `$replica`'s own.
pub(super) const OWNED: &str = "
    IF !(type::record('job', $id).status IN ['queued', 'running'])
        OR type::record('job', $id).replica != $replica {
        THROW 'taken over';
    };";

/// What a job's replica is told when its job was ended by another replica meanwhile.
pub const TAKEN_OVER: &str =
    "this server's lease on the job expired and another server ended it; nothing of it was kept";

const SELECT: &str = "record::id(id) AS id, kind, namespace, backup, status, phase, done, total, error, started_by, created_at, finished_at, report";

/// The refusal of anything that would change `namespace` while a backup or restore of it
/// runs (the job holds the namespace's lock).
pub(crate) fn busy(namespace: &str) -> DomainError {
    DomainError::Conflict(format!(
        "A backup or restore of namespace `{namespace}` is running already. Wait until it has finished, then try again."
    ))
}

/// The guard of a transaction that changes a namespace: it stops with `busy` (see
/// [`crate::domain::db::is_thrown`]) while a job holds the namespace `$name`.
pub(crate) const UNLESS_BUSY: &str =
    "IF type::record('namespace_lock', $name).job != NONE { THROW 'busy' };";

/// Queues a job on `namespace` for `backup`, taking the namespace's lock; its task marks it
/// running with [`run`] when it begins.
///
/// # Errors
///
/// [`DomainError::Conflict`] when a job holds the namespace already.
pub async fn start(
    engine: &Engine,
    id: &str,
    kind: JobKind,
    namespace: &str,
    backup: &str,
    actor: &str,
) -> Result<JobInfo, DomainError> {
    let kind_text = match kind {
        JobKind::Backup => "backup",
        JobKind::Restore => "restore",
        JobKind::Undo => "undo",
    };
    let db = &engine.db;
    let result = retry_conflicts(|| async {
        db
        .query(
            "BEGIN TRANSACTION;
             CREATE type::record('namespace_lock', $namespace) CONTENT { job: $id, created_at: time::now() };
             CREATE type::record('job', $id) CONTENT {
                 kind: $kind, namespace: $namespace, backup: $backup, status: 'queued', phase: 'waiting to start',
                 done: 0, total: 0, error: NONE, started_by: $actor, created_at: time::now(), finished_at: NONE,
                 replica: $replica, lease_until: time::now() + type::duration($lease)
             };
             COMMIT TRANSACTION;",
        )
        .bind(("id", id.to_string()))
        .bind(("kind", kind_text))
        .bind(("namespace", namespace.to_string()))
        .bind(("backup", backup.to_string()))
        .bind(("actor", actor.to_string()))
        .bind(("replica", engine.replica.id.to_string()))
        .bind(("lease", engine.replica.lease_text()))
        .await
        .and_then(check_transaction)
    })
    .await;
    match result {
        Ok(_) => get(db, id).await,
        Err(error) if crate::domain::db::is_duplicate(&error) => Err(busy(namespace)),
        Err(error) => Err(error.into()),
    }
}

/// Marks a queued job as running (its task has begun).
///
/// # Errors
///
/// A database error.
pub async fn run(db: &Db, id: &str) -> Result<(), DomainError> {
    // Every write to a job is retried past conflicts: the lease renewals of its replica
    // write to the same record.
    retry_conflicts(|| async {
        db.query("UPDATE type::record('job', $id) SET status = 'running', phase = 'starting' WHERE status = 'queued'")
            .bind(("id", id.to_string()))
            .await?
            .check()
    })
    .await?;
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

/// The last restores and undos, ended or not, newest first: the restore history.
///
/// # Errors
///
/// A database error.
pub async fn restores(db: &Db) -> Result<Vec<JobInfo>, DomainError> {
    let mut response = db
        .query(format!(
            "SELECT {SELECT}, type::record('backup', backup).name AS backup_name FROM job
             WHERE kind IN ['restore', 'undo']
             ORDER BY created_at DESC LIMIT {RESTORE_HISTORY}"
        ))
        .await?;
    take_json(&mut response, 0)
}

/// How many restores and undos the history shows.
pub const RESTORE_HISTORY: usize = 20;

/// How long an ended job is kept: the job list shows the last hour, the restore history its
/// last [`RESTORE_HISTORY`] entries (kept however old), restore points a few days.
pub const ENDED_JOBS_KEPT_DAYS: u32 = 30;

/// Removes the jobs that ended more than [`ENDED_JOBS_KEPT_DAYS`] before `now`, except the
/// restores and undos the restore history shows, so that the lists of jobs never read every
/// job ever run. Returns how many were removed.
///
/// # Errors
///
/// A database error.
pub async fn prune(db: &Db, now: chrono::DateTime<chrono::Utc>) -> Result<usize, DomainError> {
    let before = now - chrono::Duration::days(i64::from(ENDED_JOBS_KEPT_DAYS));
    let mut response = db
        .query(format!(
            "LET $shown = (SELECT id, created_at FROM job WHERE kind IN ['restore', 'undo']
                 ORDER BY created_at DESC LIMIT {RESTORE_HISTORY}).id;
             DELETE job WHERE finished_at != NONE AND finished_at < <datetime>$before
                 AND id NOTINSIDE $shown RETURN BEFORE;"
        ))
        .bind(("before", before.to_rfc3339()))
        .await?;
    let removed: Vec<serde_json::Value> = take_json(&mut response, 1)?;
    Ok(removed.len())
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
    retry_conflicts(|| async {
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
        .check()
    })
    .await?;
    Ok(())
}

/// Ends a job of this replica (`error`: `None` for success) and releases its namespace; a
/// job that has ended already (or was taken over) stays as it is.
///
/// # Errors
///
/// A database error.
pub async fn finish(engine: &Engine, id: &str, error: Option<&str>) -> Result<(), DomainError> {
    retry_conflicts(|| async {
        engine
            .db
            .query(format!("BEGIN TRANSACTION; {FINISH} COMMIT TRANSACTION;"))
            .bind(("id", id.to_string()))
            .bind(("error", error.map(str::to_string)))
            .bind(("replica", engine.replica.id.to_string()))
            .await
            .and_then(check_transaction)
    })
    .await?;
    Ok(())
}

/// Whether `error` is the refusal of [`OWNED`]: the job was taken over.
pub(super) fn is_taken_over(error: &surrealdb::Error) -> bool {
    crate::domain::db::is_thrown(error, "taken over")
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

/// The statements that end job `$id` of replica `$replica` with `$error` (`NONE`: it
/// succeeded) and free its namespace; [`finish`] runs them alone, others in a transaction
/// with more (the list and the job change together), after [`OWNED`].
pub(super) const FINISH: &str = "
    UPDATE type::record('job', $id) SET
        status = IF $error = NONE { 'succeeded' } ELSE { 'failed' },
        phase = IF $error = NONE { 'finished' } ELSE { 'failed' },
        error = $error, finished_at = time::now()
    WHERE status IN ['queued', 'running'] AND replica = $replica;
    DELETE namespace_lock WHERE job = $id AND !(type::record('job', $id).status IN ['queued', 'running']);";

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

/// The message a job interrupted by a restart of its own replica ends with.
pub const INTERRUPTED: &str = "interrupted by a restart";

/// Renews the leases of this replica's jobs.
///
/// # Errors
///
/// A database error.
pub async fn renew(engine: &Engine) -> Result<(), DomainError> {
    retry_conflicts(|| async {
        engine
            .db
            .query(format!(
                "UPDATE job SET lease_until = time::now() + type::duration($lease) WHERE {LIVE}"
            ))
            .bind(("replica", engine.replica.id.to_string()))
            .bind(("lease", engine.replica.lease_text()))
            .await?
            .check()
    })
    .await?;
    Ok(())
}

/// A job that [`take_over`] ended.
#[derive(Debug, serde::Deserialize)]
pub struct Ended {
    pub id: String,
    pub kind: JobKind,
    pub backup: String,
    pub replica: Option<String>,
}

/// Ends, as failed, the jobs that no replica runs any more: those whose lease has expired,
/// and — at start-up (`restarted`), when this replica runs nothing yet — this replica's own
/// from before the restart (and jobs of versions without leases). Each is ended by exactly
/// one replica, however many look at once. Returns them.
///
/// # Errors
///
/// A database error.
pub async fn take_over(engine: &Engine, restarted: bool) -> Result<Vec<Ended>, DomainError> {
    let ended = retry_conflicts(|| async {
        let mut response = engine
            .db
            .query(
                "UPDATE job SET status = 'failed', phase = 'failed', finished_at = time::now(),
                     error = IF $restarted AND (replica = $replica OR replica = NONE) { $interrupted }
                         ELSE { string::concat('the server running it (', replica ?? 'another server', ') stopped before it ended; start it again') }
                 WHERE status IN ['queued', 'running']
                     AND (lease_until = NONE OR lease_until < time::now()
                         OR ($restarted AND replica = $replica))
                 RETURN record::id(id) AS id, kind, backup, replica",
            )
            .bind(("replica", engine.replica.id.to_string()))
            .bind(("restarted", restarted))
            .bind(("interrupted", INTERRUPTED))
            .await?;
        response.take::<surrealdb::types::Value>(0)
    })
    .await?;
    let ended: Vec<Ended> = serde_json::from_value(ended.into_json_value())
        .map_err(|error| DomainError::Corrupt(error.to_string()))?;
    // Locks of jobs that are over, whoever ended them (and however they ended).
    engine
        .db
        .query("DELETE namespace_lock WHERE !(type::record('job', job).status IN ['queued', 'running'])")
        .await?
        .check()?;
    Ok(ended)
}
