//! Administration → Backup and Restore: the backups, their jobs, restores (administrators
//! only). Downloads and uploads stream through `/api/v1` (the server's plain routes).

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;
use crate::types::{BackupInfo, BackupListPage, JobInfo, RestorePoint, RestorePreview, UndoCheck};

#[cfg(feature = "ssr")]
use crate::domain::backup::{self, jobs};

/// Every backup, newest first.
#[server(input = Json, endpoint = "list_backups")]
pub async fn list_backups() -> Result<Vec<BackupInfo>, AppError> {
    super::admin()?;
    let engine = super::services()?.backups;
    let listed = backup::list(&engine.db).await;
    super::respond(listed.map(|backups| backup::mark_locked(&engine, backups)))
}

/// A page of the backups whose name or namespace contains `search` (blank: all), newest
/// first, from `offset`: what the page lists.
#[server(input = Json, endpoint = "list_backup_page")]
pub async fn list_backup_page(search: String, offset: usize) -> Result<BackupListPage, AppError> {
    super::admin()?;
    let engine = super::services()?.backups;
    let query = backup::ListQuery {
        search,
        offset,
        limit: crate::types::BACKUP_PAGE_SIZE,
    };
    let page = backup::list_page(&engine.db, &query).await;
    super::respond(page.map(|page| BackupListPage {
        items: backup::mark_locked(&engine, page.items),
        ..page
    }))
}

/// Starts a backup of `namespace` named `name`, encrypted with `passphrase` when one is
/// given; returns the listed backup and its job.
#[server(input = Json, endpoint = "create_backup")]
pub async fn create_backup(
    namespace: String,
    name: String,
    passphrase: Option<String>,
) -> Result<(BackupInfo, JobInfo), AppError> {
    let actor = super::admin()?;
    let engine = super::services()?.backups;
    let created = match backup::passphrase_to_seal(passphrase) {
        Ok(passphrase) => {
            backup::create_with_passphrase(&engine, &namespace, &name, &actor.name, passphrase)
                .await
        }
        Err(refused) => Err(refused),
    };
    super::respond(created)
}

/// Deletes a backup (its file and its entry).
#[server(input = Json, endpoint = "delete_backup")]
pub async fn delete_backup(id: String) -> Result<BackupInfo, AppError> {
    let actor = super::admin()?;
    let engine = super::services()?.backups;
    super::respond(backup::delete(&engine, &id, &actor.name).await)
}

/// Pins a backup (no retention policy deletes it), or unpins it.
#[server(input = Json, endpoint = "pin_backup")]
pub async fn pin_backup(id: String, pinned: bool) -> Result<BackupInfo, AppError> {
    let actor = super::admin()?;
    let engine = super::services()?.backups;
    super::respond(backup::pin(&engine, &id, pinned, &actor.name).await)
}

/// Starts restoring backup `id` into `namespace` (replacing its content, or creating it),
/// with the passphrase of a backup encrypted with one.
#[server(input = Json, endpoint = "restore_backup")]
pub async fn restore_backup(
    id: String,
    namespace: String,
    passphrase: Option<String>,
) -> Result<JobInfo, AppError> {
    let actor = super::admin()?;
    let engine = super::services()?.backups;
    let started = match backup::passphrase_to_open(passphrase) {
        Ok(passphrase) => {
            backup::restore_with_passphrase(&engine, &id, &namespace, &actor.name, passphrase).await
        }
        Err(refused) => Err(refused),
    };
    super::respond(started)
}

/// The jobs that run, and those that ended in the last hour, newest first.
#[server(input = Json, endpoint = "list_jobs")]
pub async fn list_jobs() -> Result<Vec<JobInfo>, AppError> {
    super::admin()?;
    let db = super::services()?.db;
    super::respond(jobs::recent(&db).await)
}

/// One job, with its progress.
#[server(input = Json, endpoint = "get_job")]
pub async fn get_job(id: String) -> Result<JobInfo, AppError> {
    super::admin()?;
    let db = super::services()?.db;
    super::respond(jobs::get(&db, &id).await)
}

/// The restore points of every namespace, newest first.
#[server(input = Json, endpoint = "list_restore_points")]
pub async fn list_restore_points() -> Result<Vec<RestorePoint>, AppError> {
    super::admin()?;
    let engine = super::services()?.backups;
    super::respond(backup::undo::restore_points(&engine, None).await)
}

/// What switching `namespace` back to restore point `generation` would discard.
#[server(input = Json, endpoint = "check_undo")]
pub async fn check_undo(namespace: String, generation: String) -> Result<UndoCheck, AppError> {
    super::admin()?;
    let engine = super::services()?.backups;
    super::respond(backup::undo::check(&engine, &namespace, &generation).await)
}

/// Switches `namespace` back to restore point `generation`.
#[server(input = Json, endpoint = "undo_restore")]
pub async fn undo_restore(namespace: String, generation: String) -> Result<RestorePoint, AppError> {
    let actor = super::admin()?;
    let engine = super::services()?.backups;
    super::respond(backup::undo::undo(&engine, &namespace, &generation, &actor.name).await)
}

/// What restoring backup `id` into `namespace` will do, before it runs.
#[server(input = Json, endpoint = "preview_restore")]
pub async fn preview_restore(
    id: String,
    namespace: String,
    passphrase: Option<String>,
) -> Result<RestorePreview, AppError> {
    super::admin()?;
    let engine = super::services()?.backups;
    let previewed = match backup::passphrase_to_open(passphrase) {
        Ok(passphrase) => {
            backup::preview::preview_with_passphrase(&engine, &id, &namespace, passphrase).await
        }
        Err(refused) => Err(refused),
    };
    super::respond(previewed)
}

/// The last restores and undos, with their reports.
#[server(input = Json, endpoint = "list_restores")]
pub async fn list_restores() -> Result<Vec<JobInfo>, AppError> {
    super::admin()?;
    let engine = super::services()?.backups;
    super::respond(backup::jobs::restores(&engine.db).await)
}

/// How far the preview of restoring backup `id` into `namespace` is, while it runs on the
/// server that answers (`None` when none runs there).
#[server(input = Json, endpoint = "preview_progress")]
pub async fn preview_progress(
    id: String,
    namespace: String,
) -> Result<Option<crate::types::PreviewProgress>, AppError> {
    super::admin()?;
    let engine = super::services()?.backups;
    Ok(engine.previews.progress(&id, &namespace))
}
