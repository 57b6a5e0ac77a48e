//! Stored backups are not trusted blindly: a file damaged on disk (a flipped bit, a cut-off
//! copy) is found before a restore needs it — before every restore, while every download
//! streams, and by a periodic check of every completed backup — and the backup is then
//! listed as damaged with the reason, so that nobody restores or downloads bytes that are not
//! the ones written.

use crate::types::AuditAction;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use super::{Engine, get};
use crate::domain::{DomainError, audit};
use crate::types::{BackupInfo, BackupStatus, Outcome};

/// Why a stored file of `size` bytes is not the one that was listed (with `expected_size`),
/// as the list shows it; `None` when it is.
pub fn mismatch_reason(expected_size: Option<u64>, size: u64, sha_matches: bool) -> Option<String> {
    match expected_size {
        Some(expected) if expected != size => Some(format!(
            "The file on the server has {size} bytes where {expected} were written: it was cut off or changed on disk."
        )),
        _ if !sha_matches => Some(
            "The file on the server no longer has the SHA-256 it was written with: it was damaged or changed on disk."
                .to_string(),
        ),
        _ => None,
    }
}

/// Checks backup `backup`'s file (size, then SHA-256) against the list. Returns the reason
/// when it does not match; a missing file is a mismatch too.
///
/// # Errors
///
/// [`DomainError::Io`] when the file cannot be read for another reason than its absence.
pub async fn check_file(
    engine: &Engine,
    backup: &BackupInfo,
) -> Result<Option<String>, DomainError> {
    let missing = || Some("The file of this backup is missing on the server.".to_string());
    let Some(size) = engine.store.size(&backup.id).await? else {
        return Ok(missing());
    };
    if let Some(reason) = mismatch_reason(backup.size, size, true) {
        return Ok(Some(reason));
    }
    let mut bytes = match engine.store.get(&backup.id, None).await {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(missing()),
        Err(error) => return Err(error.into()),
    };
    let mut check = StreamCheck::default();
    while let Some(chunk) = bytes.next().await {
        check.update(&chunk?);
    }
    Ok(check.finish(backup))
}

/// Lists backup `id` as damaged, with `reason`, and records it in the audit log. A backup
/// that is not completed (any more) is left as it is.
///
/// # Errors
///
/// A database error.
pub async fn mark_damaged(engine: &Engine, id: &str, reason: &str) -> Result<(), DomainError> {
    let mut response = engine
        .db
        .query(
            "UPDATE type::record('backup', $id) SET status = 'damaged', error = $reason
             WHERE status = 'completed' RETURN VALUE namespace",
        )
        .bind(("id", id.to_string()))
        .bind(("reason", reason.to_string()))
        .await?;
    let changed: Vec<String> = crate::domain::db::take_json(&mut response, 0)?;
    if let Some(namespace) = changed.first() {
        tracing::error!(backup = id, reason, "a stored backup is damaged");
        let event = audit::Event {
            actor: "(server)",
            action: AuditAction::BackupDamaged,
            target: namespace,
            outcome: Outcome::Failed,
            detail: reason,
        };
        audit::record_or_log(&engine.db, event).await;
    }
    Ok(())
}

/// Checks backup `id` before it is used; a damaged one is listed as such and refused.
///
/// # Errors
///
/// [`DomainError::Invalid`] naming the damage (the backup is then listed as damaged).
pub async fn ensure_intact(engine: &Engine, id: &str) -> Result<(), DomainError> {
    let backup = get(&engine.db, id).await?;
    if let Some(reason) = check_file(engine, &backup).await? {
        mark_damaged(engine, id, &reason).await?;
        return Err(damaged(&backup.name, &reason));
    }
    Ok(())
}

/// The refusal of a damaged backup.
pub fn damaged(name: &str, reason: &str) -> DomainError {
    DomainError::Invalid(format!(
        "Backup \u{201c}{name}\u{201d} is damaged: {reason} Restore another backup, or upload an intact copy of this one."
    ))
}

/// Checks every completed backup's file; lists the damaged ones as such. Returns how many
/// were checked and how many were found damaged.
///
/// # Errors
///
/// A database error.
pub async fn check_all(engine: &Engine) -> Result<(usize, usize), DomainError> {
    let backups = super::list(&engine.db).await?;
    let mut checked = 0;
    let mut found = 0;
    for backup in backups
        .iter()
        .filter(|b| b.status == BackupStatus::Completed)
    {
        checked += 1;
        match check_file(engine, backup).await {
            Ok(None) => {}
            Ok(Some(reason)) => {
                found += 1;
                mark_damaged(engine, &backup.id, &reason).await?;
            }
            Err(error) => {
                tracing::warn!(%error, backup = backup.id, "could not check a stored backup; it is checked again next time");
            }
        }
    }
    Ok((checked, found))
}

/// The files in the store that no backup in the list names (left by a crash between storing
/// a file and listing it, or by a deletion whose file could not be removed). They are
/// reported, never removed here: such a file may be the only copy of a backup whose list
/// entry was lost.
///
/// # Errors
///
/// A database or store error.
pub async fn unlisted_files(engine: &Engine) -> Result<Vec<String>, DomainError> {
    let listed: std::collections::HashSet<String> = super::list(&engine.db)
        .await?
        .into_iter()
        .map(|backup| backup.id)
        .collect();
    let mut unlisted = engine.store.list().await?;
    unlisted.retain(|id| !listed.contains(id));
    Ok(unlisted)
}

/// Runs [`check_all`] every `interval`, the first time one interval after start-up (not to
/// compete with it), until the returned task is aborted (at shutdown: it holds a handle of
/// the database, which must be closed after it).
pub fn check_periodically(
    engine: Engine,
    interval: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(interval).await;
            match check_all(&engine).await {
                Ok((checked, 0)) => tracing::info!(checked, "stored backups checked: all intact"),
                Ok((checked, damaged)) => {
                    tracing::error!(checked, damaged, "stored backups checked: some are damaged");
                }
                Err(error) => tracing::warn!(%error, "could not check the stored backups"),
            }
            match unlisted_files(&engine).await {
                Ok(unlisted) if unlisted.is_empty() => {}
                Ok(unlisted) => tracing::warn!(
                    count = unlisted.len(),
                    files = ?unlisted,
                    "the store holds files that no backup names; `nsbackup store check` lists them"
                ),
                Err(error) => tracing::warn!(%error, "could not list the store's files"),
            }
        }
    })
}

/// Hashes a download as it streams, to compare with the listed SHA-256 at its end.
#[derive(Debug, Default)]
pub struct StreamCheck {
    hasher: Sha256,
    bytes: u64,
}

impl StreamCheck {
    /// Counts a chunk that is sent.
    pub fn update(&mut self, chunk: &[u8]) {
        self.hasher.update(chunk);
        self.bytes += chunk.len() as u64;
    }

    /// At the end: the reason when what was sent is not the listed file.
    pub fn finish(self, backup: &BackupInfo) -> Option<String> {
        let sha: String = self
            .hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let matches = backup.sha256.as_deref().is_none_or(|listed| listed == sha);
        mismatch_reason(backup.size, self.bytes, matches)
    }
}
