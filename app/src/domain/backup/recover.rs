//! Start-up recovery: backups whose file was complete, interrupted jobs, half-written
//! generations, scratch files.

use super::Engine;
use super::archive::{self};
use super::jobs::{self, FINISH};
use super::restore::SNAPSHOT_RETENTION;
use crate::domain::DomainError;
use crate::domain::content::namespace as namespaces;
use crate::domain::db::{check_transaction, take_json};

/// Backups that a crash interrupted after their file was moved into place but before they
/// were listed as completed: each file is checked as an upload is; a sound one is listed as
/// the completed backup (its job succeeded), anything else is removed and the backup fails.
pub(super) async fn recover_finished_files(engine: &Engine) -> Result<(), DomainError> {
    let db = &engine.db;
    let mut response = db
        .query("SELECT VALUE record::id(id) FROM backup WHERE status = 'in_progress'")
        .await?;
    let interrupted: Vec<String> = take_json(&mut response, 0)?;
    for id in interrupted {
        if engine.store.size(&id).await?.is_none() {
            continue;
        }
        let local = engine.store.local_file(&id).await?;
        let path = local.path().to_path_buf();
        let limits = engine.limits;
        let checked = tokio::task::spawn_blocking(move || {
            archive::read(&path, limits, &mut archive::CheckOnly)?;
            archive::file_digest(&path)
        })
        .await;
        drop(local);
        match checked {
            Ok(Ok((sha, size))) => {
                db.query(format!(
                    "BEGIN TRANSACTION;
                     UPDATE type::record('backup', $id) SET status = 'completed', size = $size, sha256 = $sha, error = NONE;
                     {FINISH}
                     COMMIT TRANSACTION;"
                ))
                .bind(("id", id.clone()))
                .bind(("size", i64::try_from(size).unwrap_or(i64::MAX)))
                .bind(("sha", sha))
                .bind(("error", None::<String>))
                .await
                .and_then(check_transaction)?;
                tracing::info!(
                    backup = id,
                    "listed a backup that was complete when the server stopped"
                );
            }
            outcome => {
                tracing::warn!(
                    backup = id,
                    ?outcome,
                    "removed the file of a backup that a crash interrupted"
                );
                engine.store.delete(&id).await?;
            }
        }
    }
    Ok(())
}

/// Start-up: jobs that a crash interrupted are marked failed, backups they were writing are
/// listed as failed, half-written generations and scratch files go, and safety snapshots
/// older than [`SNAPSHOT_RETENTION`] are removed.
///
/// # Errors
///
/// A database or file system error.
pub async fn recover(engine: &Engine) -> Result<(), DomainError> {
    let db = &engine.db;
    recover_finished_files(engine).await?;
    jobs::recover(db).await?;
    db.query(
        "UPDATE backup SET status = 'failed', error = $why WHERE status = 'in_progress';
         UPDATE generation SET state = 'retired', retired_at = time::now() WHERE state = 'restoring';
         UPDATE generation SET state = 'retired', retired_at = time::now()
             WHERE state = 'snapshot' AND replaced_at < time::now() - type::duration($keep);",
    )
    .bind(("why", jobs::INTERRUPTED))
    .bind(("keep", SNAPSHOT_RETENTION))
    .await?
    .check()?;
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
    let removed = engine.store.sweep_scratch().await?;
    if removed > 0 {
        tracing::info!(
            removed,
            "removed scratch files of interrupted backups and uploads"
        );
    }
    namespaces::sweep_in_background(db);
    Ok(())
}
