//! Namespace backups: create (a durable job that writes a consistent snapshot into a zip),
//! list, upload (checked completely before it is listed), delete, and restore (checked
//! completely, written into an invisible generation, migrated, switched to in one small
//! transaction). DESIGN.md sections 4–7; the archive format is in `docs/backup-format.md`.

pub mod archive;
pub mod jobs;
pub mod store;
pub mod verify;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use self::archive::{
    ArchiveError, ArchiveWriter, FolderRecord, ItemRecord, Limits, NamespaceRecord,
};
use self::store::BackupStore;
use super::content::{namespace as namespaces, new_generation_id};
use super::db::{check_transaction, take_json};
use super::{Db, DomainError, audit, schema};
use crate::types::{BackupInfo, JobInfo, JobKind, Outcome};

/// What the backup engine needs: the database, the file store and the archive caps.
#[derive(Clone, Debug)]
pub struct Engine {
    pub db: Db,
    pub store: Arc<dyn BackupStore>,
    pub limits: Limits,
    /// The largest file accepted for upload, in bytes.
    pub max_upload_bytes: u64,
}

impl Engine {
    /// The default of [`Engine::max_upload_bytes`]: 2 GiB.
    pub const DEFAULT_MAX_UPLOAD: u64 = 2 << 30;
}

const SELECT: &str = "record::id(id) AS id, name, namespace, created_at, status, origin, size, sha256, error, created_by";

impl From<ArchiveError> for DomainError {
    fn from(error: ArchiveError) -> Self {
        match error {
            ArchiveError::Invalid(message) => DomainError::Invalid(message),
            too_new @ ArchiveError::TooNew { .. } => DomainError::Invalid(too_new.to_string()),
            ArchiveError::Io(message) => DomainError::Io(std::io::Error::other(message)),
        }
    }
}

/// A backup's name: 1–100 characters after trimming, any language.
///
/// # Errors
///
/// [`DomainError::Invalid`] with what to change.
pub fn check_name(name: &str) -> Result<String, DomainError> {
    let name = name.trim();
    let length = name.chars().count();
    if length == 0 {
        return Err(DomainError::Invalid("Give the backup a name.".into()));
    }
    if length > 100 {
        return Err(DomainError::Invalid(format!(
            "A backup name has at most 100 characters; this one has {length}."
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(DomainError::Invalid(
            "A backup name cannot contain control characters (such as line breaks).".into(),
        ));
    }
    Ok(name.to_string())
}

/// The name an upload is listed under: the chosen `name`, or when that is missing or blank,
/// the file's name without its `.zip` (either may still be refused by [`check_name`]).
pub fn upload_name(name: Option<&str>, file_name: Option<&str>) -> String {
    match name.map(str::trim).filter(|name| !name.is_empty()) {
        Some(name) => name.to_string(),
        None => crate::validate::name_from_file(file_name.unwrap_or_default()),
    }
}

/// Fault injection for tests: when the environment variable `NSBACKUP_TEST_PAUSE` names
/// `point` (`restore:writing`), or `point@namespace` for the job's namespace only
/// (`backup:writing@slow`), or several of these separated by commas, the job logs that it
/// pauses there and waits a minute. The crash
/// tests (`server/tests/crash.rs`) kill the process at exactly that point; the browser tests
/// hold one namespace's backup running.
async fn pause_point(point: &str, ns: &str) {
    let Ok(wanted) = std::env::var("NSBACKUP_TEST_PAUSE") else {
        return;
    };
    let matches = wanted
        .split(',')
        .any(|wanted| match wanted.split_once('@') {
            Some((at, namespace)) => at == point && namespace == ns,
            None => wanted == point,
        });
    if matches {
        tracing::warn!(point, namespace = ns, "pausing here for a test");
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    }
}

fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

fn not_found() -> DomainError {
    DomainError::NotFound(
        "That backup does not exist (any more). Someone may have deleted it; reload the page."
            .into(),
    )
}

/// The name a download is saved under: `<name>_<YYYY-MM-DD_HH-mm-ss>.zip` (creation time,
/// UTC; the name made safe for file systems).
pub fn download_name(backup: &BackupInfo) -> String {
    format!(
        "{}_{}.zip",
        super::content::transfer::file_name_safe(&backup.name),
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
    let started = start_backup(engine, ns, name, actor).await;
    if started.is_err() {
        // How a started job ends is recorded when it ends; a refusal to start, here.
        return audit::audited(&engine.db, actor, "backup create", ns, "", started).await;
    }
    started
}

async fn start_backup(
    engine: &Engine,
    ns: &str,
    name: &str,
    actor: &str,
) -> Result<(BackupInfo, JobInfo), DomainError> {
    let name = check_name(name)?;
    namespaces::get(&engine.db, ns).await?;
    let id = new_id();
    let job = jobs::start(&engine.db, &id, JobKind::Backup, ns, &id, actor).await?;
    let created = engine
        .db
        .query(
            "CREATE type::record('backup', $id) CONTENT {
                 name: $name, namespace: $ns, created_at: time::now(), status: 'in_progress',
                 origin: 'created', size: NONE, sha256: NONE, error: NONE, created_by: $actor
             }",
        )
        .bind(("id", id.clone()))
        .bind(("name", name.clone()))
        .bind(("ns", ns.to_string()))
        .bind(("actor", actor.to_string()))
        .await
        .and_then(|response| response.check());
    if let Err(error) = created {
        let _ = jobs::finish(&engine.db, &id, Some("could not be listed")).await;
        return Err(error.into());
    }
    let backup = get(&engine.db, &id).await?;
    let task_engine = engine.clone();
    let (task_id, task_ns, task_actor) = (id.clone(), ns.to_string(), actor.to_string());
    tokio::spawn(async move {
        let result = write_backup(&task_engine, &task_id, &task_ns).await;
        conclude_backup(&task_engine, &task_id, &task_ns, &name, &task_actor, result).await;
    });
    Ok((backup, job))
}

/// Lists the outcome of a backup job, in the list, the job and the audit log.
async fn conclude_backup(
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
    let concluded = db
        .query(format!(
            "BEGIN TRANSACTION;
             UPDATE type::record('backup', $id) SET
                 status = IF $error = NONE {{ 'completed' }} ELSE {{ 'failed' }},
                 size = $size, sha256 = $sha, error = $error;
             {FINISH_JOB}
             COMMIT TRANSACTION;"
        ))
        .bind(("id", id.to_string()))
        .bind(("size", size))
        .bind(("sha", sha))
        .bind(("error", job_error))
        .await
        .and_then(check_transaction);
    if let Err(error) = concluded {
        tracing::error!(%error, backup = id, "could not record a backup's outcome; the next start does");
    }
    let event = audit::Event {
        actor,
        action: "backup create",
        target: ns,
        outcome,
        detail: &detail,
    };
    audit::record_or_log(db, event).await;
}

/// The statements that end job `$id` with `$error` (`NONE`: it succeeded) and free its
/// namespace, for a transaction that records the job's result with it.
const FINISH_JOB: &str = jobs::FINISH;

/// Backups that a crash interrupted after their file was moved into place but before they
/// were listed as completed: each file is checked as an upload is; a sound one is listed as
/// the completed backup (its job succeeded), anything else is removed and the backup fails.
async fn recover_finished_files(engine: &Engine) -> Result<(), DomainError> {
    let db = &engine.db;
    let mut response = db
        .query("SELECT VALUE record::id(id) FROM backup WHERE status = 'in_progress'")
        .await?;
    let interrupted: Vec<String> = take_json(&mut response, 0)?;
    for id in interrupted {
        let path = engine.store.path(&id);
        if !path.exists() {
            continue;
        }
        let limits = engine.limits;
        let checked = tokio::task::spawn_blocking(move || {
            archive::read(&path, limits, &mut archive::CheckOnly)?;
            archive::file_digest(&path)
        })
        .await;
        match checked {
            Ok(Ok((sha, size))) => {
                db.query(format!(
                    "BEGIN TRANSACTION;
                     UPDATE type::record('backup', $id) SET status = 'completed', size = $size, sha256 = $sha, error = NONE;
                     {FINISH_JOB}
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
                engine.store.delete(&id)?;
            }
        }
    }
    Ok(())
}

/// What a failed job says: the reason when it is the user's to act on; for the server's own
/// failures a sentence that points to the log (which gets the details here), never the
/// database's or the file system's own text.
fn job_error(error: &DomainError) -> String {
    if error.is_for_the_user() {
        error.to_string()
    } else {
        tracing::error!(%error, "a backup or restore job failed");
        "The server could not complete it; its log says why. Try again.".to_string()
    }
}

/// A record going to the archive writer's thread.
enum Record {
    Folder(FolderRecord),
    Item(ItemRecord, String),
}

#[derive(serde::Deserialize)]
struct ItemRow {
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

/// Writes the backup file: a snapshot of the namespace read in one read transaction
/// (edits made meanwhile are all out), streamed into the archive on a blocking thread.
/// Returns its size and SHA-256.
async fn write_backup(engine: &Engine, id: &str, ns: &str) -> Result<(u64, String), DomainError> {
    let db = &engine.db;
    jobs::run(db, id).await?;
    let scratch = engine.store.scratch_path(id);
    let tx = db.clone().begin().await?;
    let result = snapshot_into(engine, &tx, id, ns, &scratch).await;
    if let Err(error) = tx.cancel().await {
        tracing::warn!(%error, "could not end a backup's read transaction");
    }
    if let Err(error) = result {
        let _ = std::fs::remove_file(&scratch);
        return Err(error);
    }
    jobs::progress(db, id, "verifying", 0, 0).await?;
    let check = scratch.clone();
    let limits = engine.limits;
    let digest = tokio::task::spawn_blocking(move || {
        archive::read(&check, limits, &mut archive::CheckOnly)?;
        archive::file_digest(&check)
    })
    .await
    .map_err(|e| DomainError::Corrupt(format!("the backup writer stopped: {e}")))?;
    let (sha, size) = match digest {
        Ok(digest) => digest,
        Err(error) => {
            let _ = std::fs::remove_file(&scratch);
            return Err(error.into());
        }
    };
    if let Err(error) = engine.store.commit(&scratch, id) {
        let _ = std::fs::remove_file(&scratch);
        return Err(error.into());
    }
    pause_point("backup:committed", ns).await;
    Ok((size, sha))
}

async fn snapshot_into(
    engine: &Engine,
    tx: &surrealdb::method::Transaction<surrealdb::engine::any::Any>,
    id: &str,
    ns: &str,
    scratch: &Path,
) -> Result<(), DomainError> {
    let db = &engine.db;
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
        return Err(super::content::namespace_not_found(ns));
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
    let produced: Result<(), DomainError> = async {
        for folder in folders {
            send(Record::Folder(folder)).await?;
        }
        jobs::progress(db, id, "writing items", 0, total).await?;
        let throttle = jobs::Throttle::default();
        let mut done = 0u64;
        for (from, to) in super::content::key_ranges(total) {
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
            if throttle.ready() {
                jobs::progress(db, id, "writing items", done, total.max(done)).await?;
            }
            pause_point("backup:writing", ns).await;
        }
        Ok(())
    }
    .await;
    drop(sender);
    let written = writer
        .await
        .map_err(|e| DomainError::Corrupt(format!("the archive writer stopped: {e}")))?;
    produced?;
    written?;
    Ok(())
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
    let result = upload_checked(engine, &scratch, name, ns, actor).await;
    let _ = std::fs::remove_file(&scratch);
    let detail = match &result {
        Ok((backup, _)) => format!("{} ({} bytes)", backup.name, backup.size.unwrap_or(0)),
        Err(_) => String::new(),
    };
    audit::audited(&engine.db, actor, "backup upload", ns, &detail, result).await
}

async fn upload_checked(
    engine: &Engine,
    scratch: &Path,
    name: &str,
    ns: &str,
    actor: &str,
) -> Result<(BackupInfo, Option<String>), DomainError> {
    let name = check_name(name)?;
    crate::validate::namespace_name(ns).map_err(DomainError::Invalid)?;
    pause_point("upload:checking", ns).await;
    let check = scratch.to_path_buf();
    let limits = engine.limits;
    let (sha, size) = tokio::task::spawn_blocking(move || {
        archive::read(&check, limits, &mut archive::CheckOnly)?;
        archive::file_digest(&check)
    })
    .await
    .map_err(|e| DomainError::Corrupt(format!("the upload check stopped: {e}")))??;
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
    engine.store.commit(scratch, &id)?;
    let created = engine
        .db
        .query(
            "CREATE type::record('backup', $id) CONTENT {
                 name: $name, namespace: $ns, created_at: time::now(), status: 'completed',
                 origin: 'uploaded', size: $size, sha256: $sha, error: NONE, created_by: $actor
             }",
        )
        .bind(("id", id.clone()))
        .bind(("name", name))
        .bind(("ns", ns.to_string()))
        .bind(("size", i64::try_from(size).unwrap_or(i64::MAX)))
        .bind(("sha", sha))
        .bind(("actor", actor.to_string()))
        .await
        .and_then(|r| r.check());
    if let Err(error) = created {
        let _ = engine.store.delete(&id);
        return Err(error.into());
    }
    let duplicate = same.into_iter().next().map(|other| {
        format!("This file is identical to backup \u{201c}{other}\u{201d}, which is listed already; both are kept.")
    });
    Ok((get(&engine.db, &id).await?, duplicate))
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
        if let Err(error) = engine.store.delete(id) {
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
        "backup delete",
        &backup.namespace,
        &name,
        result,
    )
    .await
}

/// Starts restoring backup `id` into namespace `target` (created when missing); returns the
/// job at once. A backup of a newer schema version is refused before anything else.
///
/// # Errors
///
/// [`DomainError::NotFound`] for an unknown backup, [`DomainError::Invalid`] for one that is
/// not completed or too new, [`DomainError::Conflict`] while another job holds the target.
pub async fn restore(
    engine: &Engine,
    id: &str,
    target: &str,
    actor: &str,
) -> Result<JobInfo, DomainError> {
    let started = start_restore(engine, id, target, actor).await;
    if started.is_err() {
        return audit::audited(&engine.db, actor, "backup restore", target, "", started).await;
    }
    started
}

async fn start_restore(
    engine: &Engine,
    id: &str,
    target: &str,
    actor: &str,
) -> Result<JobInfo, DomainError> {
    crate::validate::namespace_name(target).map_err(DomainError::Invalid)?;
    let backup = get(&engine.db, id).await?;
    if backup.status == crate::types::BackupStatus::Damaged {
        return Err(verify::damaged(
            &backup.name,
            backup.error.as_deref().unwrap_or_default(),
        ));
    }
    if backup.status != crate::types::BackupStatus::Completed {
        return Err(DomainError::Invalid(format!(
            "Backup \u{201c}{}\u{201d} is not complete, so it cannot be restored.",
            backup.name
        )));
    }
    let job_id = new_id();
    let job = jobs::start(&engine.db, &job_id, JobKind::Restore, target, id, actor).await?;
    let task_engine = engine.clone();
    let (task_job, task_target, task_actor) =
        (job_id.clone(), target.to_string(), actor.to_string());
    let backup_id = id.to_string();
    tokio::spawn(async move {
        let result = apply_restore(&task_engine, &task_job, &backup_id, &task_target).await;
        let error = result.as_ref().err().map(job_error);
        if let Err(e) = jobs::finish(&task_engine.db, &task_job, error.as_deref()).await {
            tracing::error!(error = %e, job = task_job, "could not end a job");
        }
        let event = audit::Event {
            actor: &task_actor,
            action: "backup restore",
            target: &task_target,
            outcome: if result.is_ok() {
                Outcome::Succeeded
            } else {
                Outcome::Failed
            },
            detail: &match &result {
                Ok(()) => format!("from {}", backup.name),
                Err(error) => format!("from {}: {}", backup.name, audit::error_detail(error)),
            },
        };
        audit::record_or_log(&task_engine.db, event).await;
    });
    Ok(job)
}

/// A batch of records for the database, from the archive reader's thread.
enum Batch {
    Folders(Vec<serde_json::Value>),
    /// Item records as the database stores them, keyed `[generation, id]`.
    Items(surrealdb::types::Value, u64),
}

/// Sends records in batches from the archive reader to the writers of the new generation.
struct Batcher {
    sender: mpsc::Sender<Batch>,
    generation: String,
    folders: Vec<serde_json::Value>,
    items: Vec<surrealdb::types::Value>,
}

/// Records per batch.
const BATCH: usize = 500;

/// Batches written at the same time. Two writers keep the storage engine's grouped commits
/// busy (one waits for its commit while the other inserts): a restore writes about twice as
/// fast as with one, and more writers than that only contend.
const WRITERS: usize = 2;

impl Batcher {
    fn send(&self, batch: Batch) -> Result<(), ArchiveError> {
        self.sender
            .blocking_send(batch)
            .map_err(|_| ArchiveError::Io("the restore stopped writing".into()))
    }

    fn flush(&mut self) -> Result<(), ArchiveError> {
        if !self.folders.is_empty() {
            let folders = std::mem::take(&mut self.folders);
            self.send(Batch::Folders(folders))?;
        }
        if !self.items.is_empty() {
            let items = std::mem::take(&mut self.items);
            let count = items.len() as u64;
            self.send(Batch::Items(
                surrealdb::types::Value::Array(items.into()),
                count,
            ))?;
        }
        Ok(())
    }

    /// An item as the database stores it: typed values (a record id, datetimes) built here,
    /// on the reader's thread, so that the database only writes them.
    fn item_value(&self, item: ItemRecord, content: String) -> surrealdb::types::Value {
        use surrealdb::types::{Datetime, Object, RecordId, Value};
        let now = Utc::now();
        let key = surrealdb::types::Array::from(vec![
            Value::String(self.generation.clone()),
            Value::String(item.id),
        ]);
        let mut record = Object::new();
        let mut set = |field: &str, value: Value| {
            record.insert(field.to_string(), value);
        };
        set("id", Value::RecordId(RecordId::new("item", key)));
        set("gen", Value::String(self.generation.clone()));
        if let Some(folder) = item.folder {
            set("folder", Value::String(folder));
        }
        set("kind", Value::String(item.kind.as_str().to_string()));
        set("name", Value::String(item.name));
        set(
            "size",
            Value::from_t(i64::try_from(content.len()).unwrap_or(i64::MAX)),
        );
        set("content", Value::String(content));
        set(
            "revision",
            Value::from_t(i64::try_from(item.revision).unwrap_or(i64::MAX)),
        );
        set(
            "created_at",
            Value::Datetime(Datetime::from(item.created_at.unwrap_or(now))),
        );
        set(
            "updated_at",
            Value::Datetime(Datetime::from(item.updated_at.unwrap_or(now))),
        );
        set("updated_by", Value::String(item.updated_by));
        Value::Object(record)
    }
}

impl archive::Visitor for Batcher {
    fn folder(&mut self, folder: FolderRecord) -> Result<(), ArchiveError> {
        let value = serde_json::to_value(folder).map_err(|e| ArchiveError::Io(e.to_string()))?;
        self.folders.push(value);
        if self.folders.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn item(&mut self, item: ItemRecord, content: String) -> Result<(), ArchiveError> {
        // Folders all come first; they go out before the first item.
        if !self.folders.is_empty() {
            self.flush()?;
        }
        let value = self.item_value(item, content);
        self.items.push(value);
        if self.items.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    /// The restore's first pass checked every content; this pass verifies the SHA-256 sums
    /// again, so the bytes are the ones checked.
    fn check_contents(&self) -> bool {
        false
    }
}

async fn apply_restore(
    engine: &Engine,
    job: &str,
    backup_id: &str,
    target: &str,
) -> Result<(), DomainError> {
    let db = &engine.db;
    jobs::run(db, job).await?;
    let path = engine.store.path(backup_id);
    jobs::progress(db, job, "checking the backup", 0, 0).await?;
    // The file must still be the one that was written and listed.
    verify::ensure_intact(engine, backup_id).await?;
    let limits = engine.limits;
    let check = path.clone();
    let checked =
        tokio::task::spawn_blocking(move || archive::read(&check, limits, &mut archive::CheckOnly))
            .await
            .map_err(|e| DomainError::Corrupt(format!("the restore check stopped: {e}")))??;
    let total = checked.manifest.counts.items;
    pause_point("restore:checked", target).await;

    // Nothing was written until here. Now the content goes into a generation nobody sees.
    let generation = new_generation_id();
    db.query("CREATE type::record('generation', $gen) CONTENT { namespace: NONE, state: 'restoring', origin: $backup, created_at: time::now() }")
        .bind(("gen", generation.clone()))
        .bind(("backup", backup_id.to_string()))
        .await?
        .check()?;
    let written = write_generation(engine, job, target, &path, &generation, total).await;
    let switched = match written {
        Ok(()) => {
            let from = checked.manifest.schema_version;
            migrate_restored(db, job, target, &generation, from).await
        }
        Err(error) => Err(error),
    };
    let result = match switched {
        Ok(()) => {
            jobs::progress(db, job, "switching", total, total).await?;
            pause_point("restore:switching", target).await;
            let switched = switch(db, target, &generation, &checked.namespace.title, job).await;
            if switched.is_ok() {
                pause_point("restore:switched", target).await;
            }
            switched
        }
        Err(error) => Err(error),
    };
    if result.is_err() {
        // The half-written generation was never visible; it goes now (or at the next start).
        let _ = db
            .query("UPDATE type::record('generation', $gen) SET state = 'retired', retired_at = time::now()")
            .bind(("gen", generation.clone()))
            .await;
        let _ = namespaces::sweep_retired(db).await;
    }
    result
}

/// Brings a restored generation of schema version `from` up to date, one data migration
/// (one transaction) after the other.
async fn migrate_restored(
    db: &Db,
    job: &str,
    target: &str,
    generation: &str,
    from: u32,
) -> Result<(), DomainError> {
    let steps = schema::generation_steps(from)?;
    if steps.is_empty() {
        return Ok(());
    }
    let count = steps.len() as u64;
    jobs::progress(db, job, "migrating", 0, count).await?;
    pause_point("restore:migrating", target).await;
    for (done, step) in (1..).zip(steps) {
        schema::migrate_generation_step(db, generation, step).await?;
        jobs::progress(db, job, "migrating", done, count).await?;
        pause_point("restore:migrated-step", target).await;
    }
    Ok(())
}

async fn write_generation(
    engine: &Engine,
    job: &str,
    target: &str,
    path: &Path,
    generation: &str,
    total: u64,
) -> Result<(), DomainError> {
    let (sender, receiver) = mpsc::channel::<Batch>(2 * WRITERS);
    let limits = engine.limits;
    let source = path.to_path_buf();
    let batcher = Batcher {
        sender,
        generation: generation.to_string(),
        folders: Vec::new(),
        items: Vec::new(),
    };
    let reader = tokio::task::spawn_blocking(move || -> Result<(), ArchiveError> {
        let mut batcher = batcher;
        archive::read(&source, limits, &mut batcher)?;
        batcher.flush()
    });
    let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
    let done = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let throttle = Arc::new(jobs::Throttle::default());
    let mut writers = tokio::task::JoinSet::new();
    for _ in 0..WRITERS {
        let writer = Writer {
            engine: engine.clone(),
            job: job.to_string(),
            target: target.to_string(),
            generation: generation.to_string(),
            total,
            receiver: Arc::clone(&receiver),
            done: Arc::clone(&done),
            throttle: Arc::clone(&throttle),
        };
        writers.spawn(writer.run());
    }
    let mut failed = None;
    while let Some(result) = writers.join_next().await {
        let result = result
            .map_err(|e| DomainError::Corrupt(format!("a restore writer stopped: {e}")))
            .and_then(|written| written);
        if let Err(error) = result {
            failed.get_or_insert(error);
        }
    }
    // Whatever the writers did, the reader stops once the channel is gone.
    drop(receiver);
    let read = reader
        .await
        .map_err(|e| DomainError::Corrupt(format!("the restore reader stopped: {e}")))?;
    if let Some(error) = failed {
        return Err(error);
    }
    read?;
    Ok(())
}

/// One writer of a restore: takes batches until there are none left, or one fails (then
/// it closes the channel, so that the other writers and the reader stop too).
struct Writer {
    engine: Engine,
    job: String,
    /// The namespace restored into.
    target: String,
    generation: String,
    total: u64,
    receiver: Arc<tokio::sync::Mutex<mpsc::Receiver<Batch>>>,
    done: Arc<std::sync::atomic::AtomicU64>,
    throttle: Arc<jobs::Throttle>,
}

impl Writer {
    async fn run(self) -> Result<(), DomainError> {
        loop {
            let batch = self.receiver.lock().await.recv().await;
            let Some(batch) = batch else {
                return Ok(());
            };
            if let Err(error) = self.write(batch).await {
                self.receiver.lock().await.close();
                return Err(error);
            }
        }
    }

    async fn write(&self, batch: Batch) -> Result<(), DomainError> {
        let db = &self.engine.db;
        match batch {
            Batch::Folders(folders) => {
                db.query(
                    "FOR $f IN $folders {
                         CREATE type::record('folder', [$gen, $f.id]) CONTENT {
                             gen: $gen, parent: $f.parent ?? NONE, name: $f.name,
                             permissions: $f.permissions ?? NONE,
                             created_at: IF $f.created_at { <datetime>$f.created_at } ELSE { time::now() }
                         };
                     };",
                )
                .bind(("gen", self.generation.clone()))
                .bind(("folders", serde_json::Value::Array(folders)))
                .await?
                .check()?;
            }
            Batch::Items(items, count) => {
                db.query("INSERT INTO item $items RETURN NONE")
                    .bind(("items", items))
                    .await?
                    .check()?;
                let done = self
                    .done
                    .fetch_add(count, std::sync::atomic::Ordering::Relaxed)
                    + count;
                if self.throttle.ready() {
                    let _ = jobs::progress(db, &self.job, "writing items", done, self.total).await;
                }
                pause_point("restore:writing", &self.target).await;
            }
        }
        Ok(())
    }
}

/// Points namespace `target` at `generation` in one small transaction; the previous
/// generation is kept as the safety snapshot. A missing namespace is created.
async fn switch(
    db: &Db,
    target: &str,
    generation: &str,
    title: &str,
    job: &str,
) -> Result<(), DomainError> {
    db.query(
        "BEGIN TRANSACTION;
         LET $old = type::record('namespace', $ns).generation;
         IF $old != NONE {
             UPDATE type::record('generation', $old) SET state = 'snapshot', replaced_at = time::now(), replaced_by = $job;
             UPDATE type::record('namespace', $ns) SET generation = $gen;
         } ELSE {
             CREATE type::record('namespace', $ns) CONTENT { name: $ns, title: $title, created_at: time::now(), generation: $gen };
         };
         UPDATE type::record('generation', $gen) SET state = 'active', namespace = $ns;
         COMMIT TRANSACTION;",
    )
    .bind(("ns", target.to_string()))
    .bind(("gen", generation.to_string()))
    .bind(("title", title.to_string()))
    .bind(("job", job.to_string()))
    .await
    .and_then(check_transaction)?;
    Ok(())
}

/// How long the content a restore replaced is kept (for an undo) before a sweep removes it.
pub const SNAPSHOT_RETENTION: &str = "7d";

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
    let removed = engine.store.sweep_scratch()?;
    if removed > 0 {
        tracing::info!(
            removed,
            "removed scratch files of interrupted backups and uploads"
        );
    }
    namespaces::sweep_in_background(db);
    Ok(())
}
