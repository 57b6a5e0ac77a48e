//! Creating a backup: a durable job that reads a consistent snapshot of a namespace and
//! streams it into an archive, checks it, moves it into the store and lists it.

use crate::types::AuditAction;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use super::Engine;
use super::archive::{
    self, ArchiveError, ArchiveWriter, FolderRecord, ItemRecord, Keys, NamespaceRecord, Passphrase,
};
use super::catalog::{check_name, get};
use super::engine::new_id;
use super::faults::pause_point;
use super::jobs::{self, FINISH, OWNED, job_error};
use super::progress::{JobProgress, Progress};
use crate::domain::content::namespace as namespaces;
use crate::domain::db::{check_transaction, take_json};
use crate::domain::{DomainError, audit};
use crate::types::{BackupInfo, BackupOrigin, JobInfo, JobKind, Outcome};

/// Starts backing up namespace `ns` under `name`; returns at once with the listed backup
/// (in progress) and its job. The job runs on its own; [`jobs::get`] tells how it goes.
///
/// # Errors
///
/// [`DomainError::Invalid`] for a bad name, [`DomainError::NotFound`] for a missing
/// namespace, [`DomainError::Conflict`] while another job holds the namespace.
pub async fn create(
    engine: &Engine,
    ns: &str,
    name: &str,
    actor: &str,
) -> Result<(BackupInfo, JobInfo), DomainError> {
    create_with_passphrase(engine, ns, name, actor, None).await
}

/// As [`create`]; with a passphrase, the backup is sealed with it (instead of to the
/// server's recipients) and it is asked for again to restore it. The passphrase stays in the
/// job's memory while it runs; it is not stored anywhere. (A job interrupted by a crash
/// cannot be finished without it: it fails, and is made again.)
///
/// # Errors
///
/// As [`create`].
pub async fn create_with_passphrase(
    engine: &Engine,
    ns: &str,
    name: &str,
    actor: &str,
    passphrase: Option<Passphrase>,
) -> Result<(BackupInfo, JobInfo), DomainError> {
    let keys = Arc::new(engine.keys.with_passphrase(passphrase));
    let origin = (BackupOrigin::Created, None);
    let started = start_backup(engine, &keys, ns, name, actor, origin).await;
    if started.is_err() {
        // How a started job ends is recorded when it ends; a refusal to start, here.
        return audit::audited(
            &engine.db,
            actor,
            AuditAction::BackupCreate,
            ns,
            "",
            started,
        )
        .await;
    }
    started
}

/// Starts a backup of `ns` named `name` for a schedule (origin "scheduled", started by
/// `actor`, the scheduler), due at `at`, as [`create`] does.
///
/// # Errors
///
/// As [`create`].
pub async fn create_scheduled(
    engine: &Engine,
    ns: &str,
    name: &str,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<(BackupInfo, JobInfo), DomainError> {
    let origin = (BackupOrigin::Scheduled, Some(at));
    start_backup(engine, &engine.keys, ns, name, actor, origin).await
}

pub(super) async fn start_backup(
    engine: &Engine,
    keys: &Arc<Keys>,
    ns: &str,
    name: &str,
    actor: &str,
    (origin, at): (BackupOrigin, Option<DateTime<Utc>>),
) -> Result<(BackupInfo, JobInfo), DomainError> {
    let name = check_name(name)?;
    namespaces::get(&engine.db, ns).await?;
    let id = new_id();
    let job = jobs::start(engine, &id, JobKind::Backup, ns, &id, actor).await?;
    // Retried past conflicts with the background sweeps that read the list.
    let created = crate::domain::db::retry_conflicts(|| async {
        engine
            .db
            .query(
                "CREATE type::record('backup', $id) CONTENT {
                     name: $name, namespace: $ns, status: 'in_progress',
                     created_at: IF $at = NONE { time::now() } ELSE { <datetime>$at },
                     origin: $origin, size: NONE, sha256: NONE, error: NONE, created_by: $actor,
                     schema_version: $schema, encryption: $encryption
                 }",
            )
            .bind((
                "encryption",
                serde_json::to_value(keys.encryption()).unwrap_or(serde_json::Value::Null),
            ))
            .bind(("origin", origin.as_str()))
            .bind(("schema", crate::types::SCHEMA_VERSION))
            .bind(("at", at.map(|at| at.to_rfc3339())))
            .bind(("id", id.clone()))
            .bind(("name", name.clone()))
            .bind(("ns", ns.to_string()))
            .bind(("actor", actor.to_string()))
            .await
            .and_then(|response| response.check())
    })
    .await;
    if let Err(error) = created {
        let _ = jobs::finish(engine, &id, Some("could not be listed")).await;
        return Err(error.into());
    }
    let backup = get(&engine.db, &id).await?;
    let (task_engine, task_keys) = (engine.clone(), Arc::clone(keys));
    let (task_id, task_ns, task_actor) = (id.clone(), ns.to_string(), actor.to_string());
    tokio::spawn(async move {
        let progress = JobProgress::new(&task_engine.db, &task_id);
        let result = match jobs::run(&task_engine.db, &task_id).await {
            Ok(()) => write_sealed(&task_engine, &task_keys, &task_id, &task_ns, &progress).await,
            Err(error) => Err(error),
        };
        conclude_backup(&task_engine, &task_id, &task_ns, &name, &task_actor, result).await;
    });
    Ok((backup, job))
}

/// Lists the outcome of a backup job, in the list, the job and the audit log.
pub(super) async fn conclude_backup(
    engine: &Engine,
    id: &str,
    ns: &str,
    name: &str,
    actor: &str,
    result: Result<(u64, String), DomainError>,
) {
    let db = &engine.db;
    let (outcome, detail) = match &result {
        Ok((size, _)) => (Outcome::Succeeded, format!("{name} ({size} bytes)")),
        Err(error) => (
            Outcome::Failed,
            format!("{name}: {}", audit::error_detail(error)),
        ),
    };
    // The list and the job change together, so that they never disagree.
    let (size, sha) = match &result {
        Ok((size, sha)) => (
            Some(i64::try_from(*size).unwrap_or(i64::MAX)),
            Some(sha.clone()),
        ),
        Err(_) => (None, None),
    };
    let job_error = result.as_ref().err().map(job_error);
    // Only while the job is still this replica's: one whose lease expired was ended by
    // another replica, which listed the backup as failed.
    let concluded = crate::domain::db::retry_conflicts(|| async {
        db.query(format!(
            "BEGIN TRANSACTION;
             {OWNED}
             UPDATE type::record('backup', $id) SET
                 status = IF $error = NONE {{ 'completed' }} ELSE {{ 'failed' }},
                 size = $size, sha256 = $sha, error = $error;
             {FINISH}
             COMMIT TRANSACTION;"
        ))
        .bind(("id", id.to_string()))
        .bind(("size", size))
        .bind(("sha", sha.clone()))
        .bind(("error", job_error.clone()))
        .bind(("replica", engine.replica.id.to_string()))
        .await
        .and_then(check_transaction)
    })
    .await;
    let (outcome, detail) = match concluded {
        Ok(_) => (outcome, detail),
        Err(error) if jobs::is_taken_over(&error) => {
            tracing::warn!(
                backup = id,
                "a backup's job was ended by another server while this one wrote it (its lease had expired); its file is removed"
            );
            if result.is_ok() {
                super::catalog::remove_failed_file(engine, id).await;
            }
            (Outcome::Failed, format!("{name}: {}", jobs::TAKEN_OVER))
        }
        Err(error) => {
            tracing::error!(%error, backup = id, "could not record a backup's outcome; the next start does");
            (outcome, detail)
        }
    };
    let event = audit::Event {
        actor,
        action: AuditAction::BackupCreate,
        target: ns,
        outcome,
        detail: &detail,
    };
    audit::record_or_log(db, event).await;
}

/// A record going to the archive writer's thread.
pub(super) enum Record {
    Folder(FolderRecord),
    Item(ItemRecord, String),
}

#[derive(serde::Deserialize)]
pub(super) struct ItemRow {
    id: String,
    folder: Option<String>,
    kind: crate::types::ItemKind,
    name: String,
    content: String,
    revision: Option<u64>,
    created_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
    updated_by: Option<String>,
}

/// Writes backup `id` of namespace `ns` into the store, reporting to `progress`: a snapshot
/// of the namespace read in one read transaction (edits made meanwhile are all out),
/// streamed into the archive on a blocking thread, checked, and moved into place. It is not
/// listed: the caller lists it (a job, with its outcome). Returns its size and SHA-256.
///
/// # Errors
///
/// [`DomainError::NotFound`] for a missing namespace; the database's or the file system's
/// error. Nothing is left in the store then.
pub async fn write_backup(
    engine: &Engine,
    id: &str,
    ns: &str,
    progress: &dyn Progress,
) -> Result<(u64, String), DomainError> {
    write_sealed(engine, &engine.keys, id, ns, progress).await
}

/// As [`write_backup`], sealed (or not) as `keys` say.
async fn write_sealed(
    engine: &Engine,
    keys: &Arc<Keys>,
    id: &str,
    ns: &str,
    progress: &dyn Progress,
) -> Result<(u64, String), DomainError> {
    let scratch = engine.store.scratch_path(id);
    let tx = engine.db.session().begin().await?;
    let result = snapshot_into(&tx, ns, &scratch, progress).await;
    if let Err(error) = tx.cancel().await {
        tracing::warn!(%error, "could not end a backup's read transaction");
    }
    let written = match result {
        Ok(written) => written,
        Err(error) => {
            let _ = std::fs::remove_file(&scratch);
            return Err(error);
        }
    };
    // The count stays: the job of a finished backup says how many items it holds.
    progress.report("verifying", written, written).await?;
    let check = scratch.clone();
    let limits = engine.limits;
    let plain = Arc::new(Keys::default());
    let digest = tokio::task::spawn_blocking(move || {
        archive::read(&check, &plain, limits, &mut archive::CheckOnly)?;
        archive::file_digest(&check)
    })
    .await
    .map_err(DomainError::stopped("the backup writer"))?;
    let (sha, size) = match digest {
        Ok(digest) => digest,
        Err(error) => {
            let _ = std::fs::remove_file(&scratch);
            return Err(error.into());
        }
    };
    // Encrypted when the server has recipients or a passphrase was given: the zip checked
    // above, sealed as a whole.
    let (scratch, sha, size) = if keys.seals() {
        let sealed = engine.store.scratch_path(&format!("{id}-sealed"));
        let (plain, out, keys) = (scratch.clone(), sealed.clone(), Arc::clone(keys));
        let digest = tokio::task::spawn_blocking(move || {
            archive::sealed::seal(&plain, &out, &keys)?;
            archive::file_digest(&out)
        })
        .await
        .map_err(DomainError::stopped("the backup's encryption"))?;
        let _ = std::fs::remove_file(&scratch);
        match digest {
            Ok((sha, size)) => (sealed, sha, size),
            Err(error) => {
                let _ = std::fs::remove_file(&sealed);
                return Err(error.into());
            }
        }
    } else {
        (scratch, sha, size)
    };
    let file = super::store::file_name(id, keys.seals());
    if let Err(error) = engine.store.put_file(&file, &scratch).await {
        let _ = std::fs::remove_file(&scratch);
        return Err(error.into());
    }
    pause_point("backup:committed", ns).await;
    Ok((size, sha))
}

async fn snapshot_into(
    tx: &surrealdb::method::Transaction<surrealdb::engine::any::Any>,
    ns: &str,
    scratch: &Path,
    progress: &dyn Progress,
) -> Result<u64, DomainError> {
    #[derive(serde::Deserialize)]
    struct Head {
        title: Option<String>,
        generation: Option<String>,
        items: Option<u64>,
    }
    let mut response = tx
        .query(
            "LET $gen = type::record('namespace', $ns).generation;
             RETURN {
                 title: type::record('namespace', $ns).title,
                 generation: $gen,
                 items: count(SELECT VALUE id FROM item WHERE gen = $gen)
             };",
        )
        .bind(("ns", ns.to_string()))
        .await?;
    let head: Option<Head> = take_json(&mut response, 1)?;
    let Some(Head {
        title,
        generation: Some(generation),
        items,
    }) = head
    else {
        return Err(crate::domain::content::namespace_not_found(ns));
    };
    let total = items.unwrap_or(0);
    let mut response = tx
        .query("SELECT id[1] AS id, parent, name, permissions, created_at FROM folder:[$gen, NONE]..[$gen, {}]")
        .bind(("gen", generation.clone()))
        .await?;
    let folders: Vec<FolderRecord> = take_json(&mut response, 0)?;

    let namespace = NamespaceRecord {
        name: ns.to_string(),
        title: title.unwrap_or_default(),
    };
    let (sender, mut receiver) = mpsc::channel::<Record>(1024);
    let target = scratch.to_path_buf();
    let ns_name = ns.to_string();
    let writer = tokio::task::spawn_blocking(move || -> Result<(), ArchiveError> {
        let mut writer = ArchiveWriter::new(&target, &namespace)?;
        let mut failed = None;
        while let Some(record) = receiver.blocking_recv() {
            let written = match record {
                Record::Folder(folder) => writer.folder(&folder),
                Record::Item(item, content) => writer.item(item, &content),
            };
            if let Err(error) = written {
                failed = Some(error);
                break;
            }
        }
        if let Some(error) = failed {
            writer.abandon();
            return Err(error);
        }
        writer.finish(&target, &ns_name, Utc::now()).map(|_| ())
    });

    let send = |record: Record| {
        let sender = sender.clone();
        async move {
            sender
                .send(record)
                .await
                .map_err(|_| DomainError::Io(std::io::Error::other("the archive writer stopped")))
        }
    };
    let produced: Result<u64, DomainError> = async {
        for folder in folders {
            send(Record::Folder(folder)).await?;
        }
        progress.report("writing items", 0, total).await?;
        let mut done = 0u64;
        for (from, to) in crate::domain::content::key_ranges(total) {
            let mut response = tx
                .query(
                    "SELECT id[1] AS id, folder, kind, name, content, revision, created_at, updated_at, updated_by
                     FROM item:[$gen, $from]..[$gen, $to]",
                )
                .bind(("gen", generation.clone()))
                .bind(("from", from))
                .bind(("to", to))
                .await?;
            let rows: Vec<ItemRow> = take_json(&mut response, 0)?;
            for row in rows {
                let record = ItemRecord {
                    id: row.id,
                    folder: row.folder,
                    kind: row.kind,
                    name: row.name,
                    content: None,
                    content_entry: None,
                    revision: row.revision.unwrap_or(1),
                    created_at: row.created_at,
                    updated_at: row.updated_at,
                    updated_by: row.updated_by.unwrap_or_default(),
                };
                send(Record::Item(record, row.content)).await?;
                done += 1;
            }
            progress.tick("writing items", done, total.max(done)).await?;
            pause_point("backup:writing", ns).await;
        }
        Ok(done)
    }
    .await;
    drop(sender);
    let written = writer
        .await
        .map_err(DomainError::stopped("the archive writer"))?;
    let items = produced?;
    written?;
    Ok(items)
}
