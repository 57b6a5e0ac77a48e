//! Recovery: at start-up, what a crash of this replica left; while it runs, the jobs of
//! replicas that died (their leases expired) — backups whose file was complete, interrupted
//! jobs, half-written generations, scratch files.

use super::Engine;
use super::archive::{self};
use super::jobs::{self, FINISH};
use super::store;
use crate::domain::DomainError;
use crate::domain::db::{check_transaction, take_json};
use crate::domain::generation as generations;

/// Backups of this replica that its crash interrupted after their file was moved into place
/// but before they were listed as completed: each file is checked as an upload is; a sound
/// one is listed as the completed backup (its job succeeded), anything else is removed and
/// the backup fails. (At start-up only: then this replica's jobs are certainly not running.)
pub(super) async fn recover_finished_files(engine: &Engine) -> Result<(), DomainError> {
    let db = &engine.db;
    let mut response = db
        .query(
            "SELECT VALUE record::id(id) FROM backup WHERE status = 'in_progress'
                 AND type::record('job', record::id(id)).status IN ['queued', 'running']
                 AND (type::record('job', record::id(id)).replica ?? $replica) = $replica",
        )
        .bind(("replica", engine.replica.id.to_string()))
        .await?;
    let interrupted: Vec<String> = take_json(&mut response, 0)?;
    for id in interrupted {
        let Some(file) = store::find_backup(engine.store.as_ref(), &id).await? else {
            continue;
        };
        let local = engine.store.local_file(&file).await?;
        let path = local.path().to_path_buf();
        let limits = engine.limits;
        let keys = engine.keys.clone();
        let checked = tokio::task::spawn_blocking(move || {
            archive::read(&path, &keys, limits, &mut archive::CheckOnly)?;
            let encryption = archive::sealed::encryption_of(&path, &keys)?;
            archive::file_digest(&path).map(|(sha, size)| (sha, size, encryption))
        })
        .await;
        drop(local);
        match checked {
            Ok(Ok((sha, size, encryption))) => {
                db.query(format!(
                    "BEGIN TRANSACTION;
                     UPDATE type::record('backup', $id) SET status = 'completed', size = $size,
                         sha256 = $sha, error = NONE, encryption = $encryption;
                     {FINISH}
                     COMMIT TRANSACTION;"
                ))
                .bind((
                    "encryption",
                    serde_json::to_value(&encryption).unwrap_or(serde_json::Value::Null),
                ))
                .bind(("id", id.clone()))
                .bind(("size", i64::try_from(size).unwrap_or(i64::MAX)))
                .bind(("sha", sha))
                .bind(("error", None::<String>))
                .bind(("replica", engine.replica.id.to_string()))
                .await
                .and_then(check_transaction)?;
                tracing::info!(
                    backup = id,
                    "listed a backup that was complete when the server stopped"
                );
            }
            outcome => {
                // Listed as failed below, where a file the store keeps for now joins the
                // retried deletions.
                match super::store::delete_backup(engine.store.as_ref(), &id).await {
                    Ok(()) => tracing::warn!(
                        backup = id,
                        ?outcome,
                        "removed the file of a backup that a crash interrupted"
                    ),
                    Err(error) => tracing::warn!(
                        backup = id,
                        ?outcome,
                        %error,
                        "could not remove the file of a backup that a crash interrupted yet"
                    ),
                }
            }
        }
    }
    Ok(())
}

/// Start-up: this replica's jobs that a crash interrupted, and jobs of other replicas whose
/// leases have expired, are failed, the backups they were writing are listed as failed,
/// half-written generations and scratch files go, and restore points older than the
/// engine's snapshot retention are removed. Live jobs of other replicas are left alone.
///
/// # Errors
///
/// A database or file system error.
pub async fn recover(engine: &Engine) -> Result<(), DomainError> {
    let db = &engine.db;
    recover_finished_files(engine).await?;
    let ended = jobs::take_over(engine, true).await?;
    settle(engine, &ended).await?;
    super::undo::retire_expired(engine).await?;
    // Backups listed before their schema version was recorded: those made here are of
    // schema version 3, the last that did not record it. (Uploaded ones stay unknown.)
    db.query(
        "UPDATE backup SET schema_version = 3
         WHERE schema_version = NONE AND origin IN ['created', 'scheduled']",
    )
    .await?
    .check()?;
    let pending = super::retry_deletions(engine).await?;
    if pending > 0 {
        tracing::warn!(
            pending,
            "files of deleted backups could not be removed from the store yet; they are tried again"
        );
    }
    let removed = engine.store.sweep_scratch().await?;
    if removed > 0 {
        tracing::info!(
            removed,
            "removed scratch files of interrupted backups and uploads"
        );
    }
    generations::sweep_in_background(db);
    Ok(())
}

/// After jobs were ended by [`jobs::take_over`]: the backups they were writing are listed as
/// failed with their job's reason, and whatever of their files reached the store is removed;
/// the generations their restores were writing are retired (and swept in the background).
/// Safe to run at any moment: only what belongs to no live job is touched.
async fn settle(engine: &Engine, ended: &[jobs::Ended]) -> Result<(), DomainError> {
    let db = &engine.db;
    for job in ended {
        tracing::warn!(
            job = job.id,
            kind = ?job.kind,
            replica = job.replica.as_deref().unwrap_or("unknown"),
            "ended a job that no server runs any more"
        );
    }
    let mut response = db
        .query(format!(
            "UPDATE backup SET status = 'failed',
                 error = type::record('job', record::id(id)).error ?? $why
             WHERE status = 'in_progress'
                 AND !(type::record('job', record::id(id)).status IN ['queued', 'running'])
             RETURN VALUE record::id(id);
             {retire}",
            retire = generations::retire_orphaned_restores()
        ))
        .bind(("why", jobs::INTERRUPTED))
        .await?;
    let failed: Vec<String> = take_json(&mut response, 0)?;
    let retired: Vec<String> = take_json(&mut response, 1)?;
    for id in &failed {
        // A file that reached the store before its replica died is not a listed backup.
        super::catalog::remove_failed_file(engine, id).await;
    }
    // A backup recorded as completed whose job was not ended before the crash: the job
    // succeeded (the list and the job never disagree).
    db.query(
        "UPDATE job SET status = 'succeeded', phase = 'finished', error = NONE
         WHERE kind = 'backup' AND status = 'failed' AND error = $why
             AND type::record('backup', backup).status = 'completed'",
    )
    .bind(("why", jobs::INTERRUPTED))
    .await?
    .check()?;
    if !retired.is_empty() {
        generations::sweep_in_background(db);
    }
    Ok(())
}

/// While this replica runs: renews the leases of its jobs every third of a lease, and once a
/// lease ends the jobs of replicas that stopped renewing theirs (they died) and retries
/// removing the files of deleted backups, until the returned task is aborted (at shutdown).
pub fn keep_leases(engine: Engine) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let tick = engine.replica.lease / 3;
        let mut round: u32 = 0;
        loop {
            tokio::time::sleep(tick).await;
            if let Err(error) = jobs::renew(&engine).await {
                tracing::warn!(%error, replica = %engine.replica.id, "could not renew the leases of this server's jobs");
            }
            round = round.wrapping_add(1);
            if !round.is_multiple_of(3) {
                continue;
            }
            let swept = match jobs::take_over(&engine, false).await {
                Ok(ended) => settle(&engine, &ended).await,
                Err(error) => Err(error),
            };
            if let Err(error) = swept {
                tracing::warn!(%error, "could not look for jobs whose server stopped");
            }
            if let Err(error) = super::undo::retire_expired(&engine).await {
                tracing::warn!(%error, "could not remove expired restore points");
            }
            if let Err(error) = super::retry_deletions(&engine).await {
                tracing::warn!(%error, "could not retry removing the files of deleted backups");
            }
            if let Err(error) = jobs::prune(&engine.db, chrono::Utc::now()).await {
                tracing::warn!(%error, "could not remove the jobs that ended long ago");
            }
        }
    })
}
