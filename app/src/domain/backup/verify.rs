//! Stored backups are not trusted blindly: a file damaged on disk (a flipped bit, a cut-off
//! copy) is found before a restore needs it — before every restore, while every download
//! streams, and by a periodic check of every completed backup — and the backup is then
//! listed as damaged with the reason, so that nobody restores or downloads bytes that are not
//! the ones written.

use crate::types::AuditAction;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use super::archive;
use super::store;
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
    let file = super::stored_file(backup);
    let Some(size) = engine.store.size(&file).await? else {
        return Ok(missing());
    };
    if let Some(reason) = mismatch_reason(backup.size, size, true) {
        return Ok(Some(reason));
    }
    let mut bytes = match engine.store.get(&file, None).await {
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

/// Lists damaged backup `id` as completed again: its file matches what was written once more
/// (a store that was misconfigured or out of reach for a while, a file put back). Recorded in
/// the audit log. A backup that is not damaged (any more) is left as it is.
///
/// # Errors
///
/// A database error.
pub async fn mark_intact(engine: &Engine, id: &str) -> Result<(), DomainError> {
    let mut response = engine
        .db
        .query(
            "UPDATE type::record('backup', $id) SET status = 'completed', error = NONE
             WHERE status = 'damaged' RETURN VALUE namespace",
        )
        .bind(("id", id.to_string()))
        .await?;
    let changed: Vec<String> = crate::domain::db::take_json(&mut response, 0)?;
    if let Some(namespace) = changed.first() {
        tracing::info!(backup = id, "a damaged backup's file is intact again");
        let event = audit::Event {
            actor: "(server)",
            action: AuditAction::BackupIntact,
            target: namespace,
            outcome: Outcome::Succeeded,
            detail: "its file matches what was written again: listed as completed",
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

/// Checks the file of every completed backup, and of every damaged one: the damaged are
/// listed as such, and one whose file matches again (it came back) as completed. Returns how
/// many were checked and how many are damaged.
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
        .filter(|b| matches!(b.status, BackupStatus::Completed | BackupStatus::Damaged))
    {
        checked += 1;
        match check_file(engine, backup).await {
            Ok(None) if backup.status == BackupStatus::Damaged => {
                mark_intact(engine, &backup.id).await?;
            }
            Ok(None) => {}
            Ok(Some(reason)) => {
                found += 1;
                if backup.status == BackupStatus::Completed {
                    mark_damaged(engine, &backup.id, &reason).await?;
                }
            }
            Err(error) => {
                tracing::warn!(%error, backup = backup.id, "could not check a stored backup; it is checked again next time");
            }
        }
    }
    Ok((checked, found))
}

/// The files in the store that no backup entry names (in any state): left by a database
/// that lost entries (restored from an older copy of itself, say), or copied into the store
/// by hand. [`settle_unnamed`] deals with them once they are older than a grace period.
///
/// # Errors
///
/// A database or store error.
pub async fn unlisted_files(engine: &Engine) -> Result<Vec<String>, DomainError> {
    let mut response = engine
        .db
        .query("SELECT VALUE record::id(id) FROM backup")
        .await?;
    let named: std::collections::HashSet<String> =
        crate::domain::db::take_json::<Vec<String>>(&mut response, 0)?
            .into_iter()
            .collect();
    let mut unlisted = engine.store.list().await?;
    unlisted.retain(|file| store::id_of(file).is_some_and(|(id, _)| !named.contains(&id)));
    Ok(unlisted)
}

/// How long a file that no backup names is left alone before [`settle_unnamed`] acts on it:
/// longer than any backup or upload takes between storing its file and listing it.
pub const UNNAMED_GRACE: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

/// What [`settle_unnamed`] did with a file that no backup names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unnamed {
    /// Younger than the grace period: reported, left alone.
    Waiting {
        id: String,
        age: std::time::Duration,
    },
    /// A sound backup: listed again (origin "found"), so nothing is lost.
    Listed { id: String, namespace: String },
    /// Not a sound backup (why): removed.
    Removed { id: String, reason: String },
}

/// Files that no backup names, older than `grace`: a sound backup file is listed again as
/// a backup found in the store (it may be the only copy of a backup whose entry was lost);
/// anything else is removed. Both are written to the audit log. Younger files are only
/// reported. Several replicas may run this at once: each file is listed once.
///
/// # Errors
///
/// A database or store error (a file that cannot be read now is left for the next time).
pub async fn settle_unnamed(
    engine: &Engine,
    grace: std::time::Duration,
) -> Result<Vec<Unnamed>, DomainError> {
    let mut settled = Vec::new();
    for file in unlisted_files(engine).await? {
        let Some((id, _)) = store::id_of(&file) else {
            continue;
        };
        let Some(stored) = engine.store.modified(&file).await? else {
            continue;
        };
        let age = std::time::SystemTime::now()
            .duration_since(stored)
            .unwrap_or_default();
        if age < grace {
            settled.push(Unnamed::Waiting { id, age });
            continue;
        }
        let local = engine.store.local_file(&file).await?;
        let path = local.path().to_path_buf();
        let limits = engine.limits;
        let keys = engine.keys.clone();
        let checked = tokio::task::spawn_blocking(move || {
            let checked = archive::read(&path, &keys, limits, &mut archive::CheckOnly)?;
            let (sha, size) = archive::file_digest(&path)?;
            let encryption = archive::sealed::encryption_of(&path, &keys)?;
            Ok::<_, archive::ArchiveError>((checked, sha, size, encryption))
        })
        .await
        .map_err(DomainError::stopped(
            "the check of a file found in the store",
        ))?;
        drop(local);
        match checked {
            Ok((checked, sha, size, encryption)) => {
                let file = Found {
                    id: &id,
                    sha: &sha,
                    size,
                    encryption,
                };
                if let Some(outcome) = list_found(engine, &file, &checked).await? {
                    settled.push(outcome);
                }
            }
            Err(archive::ArchiveError::Io(error)) => {
                tracing::warn!(%error, file = id, "could not read a file that no backup names; it is looked at again next time");
            }
            // Encrypted to a key this server lacks: it may be sound, so it is never removed.
            Err(archive::ArchiveError::Locked(reason)) => {
                tracing::warn!(
                    reason,
                    file = id,
                    "a file that no backup names is encrypted to a key this server does not hold; it is left alone"
                );
            }
            Err(refused) => {
                let reason = refused.to_string();
                engine.store.delete(&file).await?;
                tracing::warn!(
                    file,
                    reason,
                    "removed a file that no backup names and that is not a sound backup"
                );
                let detail = format!("{file}: not a sound backup ({reason}); removed");
                let event = audit::Event {
                    actor: "(server)",
                    action: AuditAction::BackupFound,
                    target: "",
                    outcome: Outcome::Failed,
                    detail: &detail,
                };
                audit::record_or_log(&engine.db, event).await;
                settled.push(Unnamed::Removed { id, reason });
            }
        }
    }
    Ok(settled)
}

/// A sound backup file found in the store.
struct Found<'a> {
    id: &'a str,
    sha: &'a str,
    size: u64,
    /// How it is encrypted (to the keys of this server that open it), if it is.
    encryption: Option<crate::types::Encryption>,
}

/// Lists the sound file `found` in the store as a backup; `None` when another replica
/// listed it first.
async fn list_found(
    engine: &Engine,
    found: &Found<'_>,
    checked: &archive::Checked,
) -> Result<Option<Unnamed>, DomainError> {
    let Found {
        id,
        sha,
        size,
        ref encryption,
    } = *found;
    let namespace = checked.namespace.name.clone();
    let created = engine
        .db
        .query(
            "CREATE type::record('backup', $id) CONTENT {
                 name: 'Found in the store', namespace: $ns, created_at: <datetime>$created,
                 status: 'completed', origin: 'found', size: $size, sha256: $sha, error: NONE,
                 created_by: '(server)', schema_version: $schema, made_from: {
                     namespace: $ns, created_at: <datetime>$created, app_version: $app_version
                 }, encryption: $encryption
             }",
        )
        .bind((
            "encryption",
            serde_json::to_value(encryption).unwrap_or(serde_json::Value::Null),
        ))
        .bind(("app_version", checked.manifest.app_version.clone()))
        .bind(("id", id.to_string()))
        .bind(("ns", namespace.clone()))
        .bind(("created", checked.manifest.created_at.to_rfc3339()))
        .bind(("size", i64::try_from(size).unwrap_or(i64::MAX)))
        .bind(("sha", sha.to_string()))
        .bind(("schema", checked.manifest.schema_version))
        .await
        .and_then(|response| response.check());
    match created {
        Ok(_) => {}
        Err(error) if crate::domain::db::is_duplicate(&error) => return Ok(None),
        Err(error) => return Err(error.into()),
    }
    tracing::warn!(
        file = id,
        namespace,
        "listed a backup file that no entry named"
    );
    let detail = format!(
        "{}, a backup of {namespace} made {}: listed again",
        store::file_name(id, encryption.is_some()),
        checked.manifest.created_at.format("%Y-%m-%d %H:%M:%S UTC")
    );
    let event = audit::Event {
        actor: "(server)",
        action: AuditAction::BackupFound,
        target: &namespace,
        outcome: Outcome::Succeeded,
        detail: &detail,
    };
    audit::record_or_log(&engine.db, event).await;
    Ok(Some(Unnamed::Listed {
        id: id.to_string(),
        namespace,
    }))
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
            match settle_unnamed(&engine, UNNAMED_GRACE).await {
                Ok(settled) => {
                    let waiting: Vec<&str> = settled
                        .iter()
                        .filter_map(|unnamed| match unnamed {
                            Unnamed::Waiting { id, .. } => Some(id.as_str()),
                            _ => None,
                        })
                        .collect();
                    if !waiting.is_empty() {
                        tracing::warn!(
                            count = waiting.len(),
                            files = ?waiting,
                            "the store holds files that no backup names; after a day, sound backups among them are listed again and the rest removed"
                        );
                    }
                }
                Err(error) => tracing::warn!(%error, "could not look at the store's unnamed files"),
            }
            match engine.store.abort_stale_uploads(UNNAMED_GRACE).await {
                Ok(0) => {}
                Ok(aborted) => tracing::warn!(
                    aborted,
                    "aborted uploads that their server did not live to finish"
                ),
                Err(error) => tracing::warn!(%error, "could not look for unfinished uploads"),
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
