//! The list of backups: names, one backup, the whole list, deletion.

use super::{Engine, jobs};
use crate::domain::db::take_json;
use crate::domain::{Db, DomainError, audit};
use crate::types::AuditAction;
use crate::types::BackupInfo;

/// The fields of a backup as the list shows it.
pub(super) const SELECT: &str = "record::id(id) AS id, name, namespace, created_at, status, origin, size, sha256, error, created_by";

fn not_found() -> DomainError {
    DomainError::NotFound(
        "That backup does not exist (any more). Someone may have deleted it; reload the page."
            .into(),
    )
}

/// A backup's name: 1–100 characters after trimming, any language.
///
/// # Errors
///
/// [`DomainError::Invalid`] with what to change.
pub fn check_name(name: &str) -> Result<String, DomainError> {
    crate::validate::backup_name(name).map_err(DomainError::Invalid)
}

/// The name an upload is listed under: the chosen `name`, or when that is missing or blank,
/// the file's name without its `.zip` (either may still be refused by [`check_name`]).
pub fn upload_name(name: Option<&str>, file_name: Option<&str>) -> String {
    match name.map(str::trim).filter(|name| !name.is_empty()) {
        Some(name) => name.to_string(),
        None => crate::validate::name_from_file(file_name.unwrap_or_default()),
    }
}

/// The name a download is saved under: `<name>_<YYYY-MM-DD_HH-mm-ss>.zip` (creation time,
/// UTC; the name made safe for file systems).
pub fn download_name(backup: &BackupInfo) -> String {
    format!(
        "{}_{}.zip",
        crate::domain::content::transfer::file_name_safe(&backup.name),
        backup.created_at.format("%Y-%m-%d_%H-%M-%S")
    )
}

/// Every backup, newest first.
///
/// # Errors
///
/// A database error.
pub async fn list(db: &Db) -> Result<Vec<BackupInfo>, DomainError> {
    let mut response = db
        .query(format!(
            "SELECT {SELECT} FROM backup ORDER BY created_at DESC, id DESC"
        ))
        .await?;
    take_json(&mut response, 0)
}

/// One backup.
///
/// # Errors
///
/// [`DomainError::NotFound`] for an unknown backup.
pub async fn get(db: &Db, id: &str) -> Result<BackupInfo, DomainError> {
    if crate::validate::record_id(id).is_err() {
        return Err(not_found());
    }
    let mut response = db
        .query(format!(
            "SELECT {SELECT} FROM ONLY type::record('backup', $id)"
        ))
        .bind(("id", id.to_string()))
        .await?;
    let backup: Option<BackupInfo> = take_json(&mut response, 0)?;
    backup.ok_or_else(not_found)
}

/// Deletes a backup's file and entry.
///
/// # Errors
///
/// [`DomainError::NotFound`] for an unknown backup, [`DomainError::Conflict`] while a job
/// uses it.
pub async fn delete(engine: &Engine, id: &str, actor: &str) -> Result<BackupInfo, DomainError> {
    let backup = get(&engine.db, id).await?;
    let result = async {
        if jobs::backup_in_use(&engine.db, id).await? {
            return Err(DomainError::Conflict(format!(
                "Backup \u{201c}{}\u{201d} is being written or restored right now. Wait until that has finished, then delete it.",
                backup.name
            )));
        }
        engine
            .db
            .query("DELETE type::record('backup', $id)")
            .bind(("id", id.to_string()))
            .await?
            .check()?;
        // The entry goes first: a file without an entry is harmless, the reverse is not.
        if let Err(error) = engine.store.delete(id).await {
            tracing::warn!(%error, backup = id, "could not remove a deleted backup's file");
        }
        Ok(())
    }
    .await;
    let name = backup.name.clone();
    let result = result.map(|()| backup.clone());
    audit::audited(
        &engine.db,
        actor,
        AuditAction::BackupDelete,
        &backup.namespace,
        &name,
        result,
    )
    .await
}
