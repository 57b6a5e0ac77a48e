//! Uploading a backup file: checked completely, as a restore would, before it is listed.

use crate::types::AuditAction;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;

use super::Engine;
use super::archive::{self, Keys, Passphrase};
use super::catalog::{check_name, get};
use super::engine::new_id;
use super::faults::pause_point;
use crate::domain::db::take_json;
use crate::domain::{DomainError, audit};
use crate::types::{BackupInfo, MadeFrom};

/// An upload's bytes, received into a scratch file that goes whatever ends the request: an
/// answer, a refusal, or a client that leaves (the request is then dropped where it waits,
/// and this with it). Once the upload is accepted, the file is in the store and there is
/// nothing left to remove.
#[derive(Debug)]
pub struct Received(PathBuf);

impl Received {
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Received {
    fn drop(&mut self) {
        match std::fs::remove_file(&self.0) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                tracing::warn!(%error, path = %self.0.display(), "could not remove an upload's scratch file; it is removed at the next start");
            }
        }
    }
}

/// Receives an upload's bytes (`declared` long, if the sender said) into a scratch file,
/// never more than [`Engine::max_upload_bytes`].
///
/// # Errors
///
/// [`DomainError::TooLarge`] for a file over the limit (refused before a byte is stored
/// when its declared length says so), [`DomainError::Invalid`] for an empty file or one cut
/// off on the way, [`DomainError::Io`] when it cannot be stored.
pub async fn receive<E>(
    engine: &Engine,
    declared: Option<u64>,
    body: impl Stream<Item = Result<Bytes, E>>,
) -> Result<Received, DomainError> {
    let too_large = || {
        DomainError::TooLarge(format!(
            "The file is larger than the {} the server accepts for uploads.",
            crate::text::size(engine.max_upload_bytes)
        ))
    };
    if declared.is_some_and(|length| length > engine.max_upload_bytes) {
        return Err(too_large());
    }
    let received = Received(engine.store.scratch_path(&format!("upload-{}", new_id())));
    let mut file = tokio::fs::File::create(received.path()).await?;
    let mut body = std::pin::pin!(body);
    let mut written = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|_| {
            DomainError::Invalid(
                "The upload was interrupted before the whole file arrived. Try again.".into(),
            )
        })?;
        written += chunk.len() as u64;
        if written > engine.max_upload_bytes {
            return Err(too_large());
        }
        file.write_all(&chunk).await?;
    }
    if written == 0 {
        return Err(DomainError::Invalid(
            "The file is empty: not a zip file. Choose a backup file (.zip) made by nsbackup."
                .into(),
        ));
    }
    file.sync_all().await?;
    Ok(received)
}

/// An upload as it arrives: where and under which name it is to be listed, and how long its
/// sender says it is.
#[derive(Clone, Debug)]
pub struct Incoming<'a> {
    /// The namespace it is listed under.
    pub namespace: &'a str,
    /// Its name; without one (or a blank one), the file's name without `.zip`.
    pub name: Option<&'a str>,
    /// The name of the file sent.
    pub file_name: Option<&'a str>,
    /// The length the sender declared, if it did.
    pub declared: Option<u64>,
    /// The passphrase of a file encrypted with one.
    pub passphrase: Option<Passphrase>,
}

/// An upload from its first byte to its entry in the list: the name is checked before a
/// byte is read, the bytes are received within the size limit ([`receive`]), the file is
/// checked completely and listed ([`upload`]). Anything refused, cut off or too large
/// leaves nothing behind. The backup, and a note for the user when there is one.
///
/// # Errors
///
/// As [`upload_name`](super::upload_name), [`receive`] and [`upload`].
pub async fn receive_upload<E>(
    engine: &Engine,
    incoming: Incoming<'_>,
    actor: &str,
    body: impl Stream<Item = Result<Bytes, E>>,
) -> Result<(BackupInfo, Option<String>), DomainError> {
    let name = super::upload_name(incoming.name, incoming.file_name)?;
    let received = receive(engine, incoming.declared, body).await?;
    let file = received.path().to_path_buf();
    let (ns, passphrase) = (incoming.namespace, incoming.passphrase);
    upload_with_passphrase(engine, file, &name, ns, actor, passphrase).await
}

/// Takes an uploaded file (already in the store's scratch area) as a new backup: checks it
/// completely first; a file that fails is removed and nothing is listed.
///
/// # Errors
///
/// [`DomainError::Invalid`] naming what is wrong with the file or the name,
/// [`DomainError::NotFound`] for a namespace that does not exist.
pub async fn upload(
    engine: &Engine,
    scratch: PathBuf,
    name: &str,
    ns: &str,
    actor: &str,
) -> Result<(BackupInfo, Option<String>), DomainError> {
    upload_with_passphrase(engine, scratch, name, ns, actor, None).await
}

/// As [`upload`], with the passphrase of a file encrypted with one: it is opened and checked
/// completely with it (a file sealed with a passphrase is refused without it, or with a wrong
/// one). The passphrase is not kept; restoring the backup asks for it again.
///
/// # Errors
///
/// As [`upload`].
pub async fn upload_with_passphrase(
    engine: &Engine,
    scratch: PathBuf,
    name: &str,
    ns: &str,
    actor: &str,
    passphrase: Option<Passphrase>,
) -> Result<(BackupInfo, Option<String>), DomainError> {
    let keys = engine.keys.with_passphrase(passphrase);
    let result = upload_checked(engine, keys, &scratch, (name, ns), actor).await;
    let _ = std::fs::remove_file(&scratch);
    let detail = match &result {
        Ok((backup, _)) => format!("{} ({} bytes)", backup.name, backup.size.unwrap_or(0)),
        Err(_) => String::new(),
    };
    audit::audited(
        &engine.db,
        actor,
        AuditAction::BackupUpload,
        ns,
        &detail,
        result,
    )
    .await
}

async fn upload_checked(
    engine: &Engine,
    keys: Keys,
    scratch: &Path,
    (name, ns): (&str, &str),
    actor: &str,
) -> Result<(BackupInfo, Option<String>), DomainError> {
    let name = check_name(name)?;
    crate::validate::namespace_name(ns).map_err(DomainError::Invalid)?;
    pause_point("upload:checking", ns).await;
    let check = scratch.to_path_buf();
    let limits = engine.limits;
    // A backup of a newer schema version is kept too (checked as far as can be without
    // understanding its records): it can be downloaded, and restored after an upgrade.
    let (schema, made_from, sha, size, encryption) = tokio::task::spawn_blocking(move || {
        let (schema, made_from) =
            match archive::read(&check, &keys, limits, &mut archive::CheckOnly) {
                Ok(checked) => (
                    checked.manifest.schema_version,
                    MadeFrom {
                        namespace: checked.manifest.namespace,
                        created_at: Some(checked.manifest.created_at),
                        app_version: Some(checked.manifest.app_version),
                    },
                ),
                Err(archive::ArchiveError::TooNew { .. }) => {
                    let newer = archive::check_newer(&check, &keys, limits)?;
                    (
                        newer.schema_version,
                        MadeFrom {
                            namespace: newer.namespace,
                            created_at: newer.created_at,
                            app_version: newer.app_version,
                        },
                    )
                }
                Err(error) => return Err(error),
            };
        let (sha, size) = archive::file_digest(&check)?;
        // An encrypted file was opened above: with these of the server's keys.
        let encryption = archive::sealed::encryption_of(&check, &keys)?;
        Ok((schema, made_from, sha, size, encryption))
    })
    .await
    .map_err(DomainError::stopped("the upload check"))??;
    let mut response = engine
        .db
        .query(
            "SELECT name, created_at FROM backup WHERE sha256 = $sha AND status = 'completed'
             ORDER BY created_at DESC LIMIT 1",
        )
        .bind(("sha", sha.clone()))
        .await?;
    // The newest identical backup is the one to name: it is first in the list.
    let same: Vec<serde_json::Value> = take_json(&mut response, 0)?;
    let same: Vec<String> = same
        .iter()
        .filter_map(|row| row.get("name").and_then(|name| name.as_str()))
        .map(str::to_string)
        .collect();
    let id = new_id();
    engine
        .store
        .put_file(&super::store::file_name(&id, encryption.is_some()), scratch)
        .await?;
    let created = engine
        .db
        .query(
            "CREATE type::record('backup', $id) CONTENT {
                 name: $name, namespace: $ns, created_at: time::now(), status: 'completed',
                 origin: 'uploaded', size: $size, sha256: $sha, error: NONE, created_by: $actor,
                 schema_version: $schema, made_from: $made_from, encryption: $encryption
             }",
        )
        .bind((
            "encryption",
            serde_json::to_value(&encryption).unwrap_or(serde_json::Value::Null),
        ))
        .bind(("schema", schema))
        .bind((
            "made_from",
            serde_json::to_value(&made_from).unwrap_or(serde_json::Value::Null),
        ))
        .bind(("id", id.clone()))
        .bind(("name", name))
        .bind(("ns", ns.to_string()))
        .bind(("size", i64::try_from(size).unwrap_or(i64::MAX)))
        .bind(("sha", sha))
        .bind(("actor", actor.to_string()))
        .await
        .and_then(|r| r.check());
    if let Err(error) = created {
        let _ = super::store::delete_backup(engine.store.as_ref(), &id).await;
        return Err(error.into());
    }
    let mut notes: Vec<String> = same.into_iter().take(1).map(|other| {
        format!("This file is identical to backup \u{201c}{other}\u{201d}, which is listed already; both are kept.")
    }).collect();
    if schema > crate::types::SCHEMA_VERSION {
        notes.push(format!(
            "This backup was made by a newer nsbackup (schema version {schema}; this server has {}): it is kept and can be downloaded, but restoring it needs an upgrade.",
            crate::types::SCHEMA_VERSION
        ));
    }
    let duplicate = (!notes.is_empty()).then(|| notes.join(" "));
    Ok((get(&engine.db, &id).await?, duplicate))
}
