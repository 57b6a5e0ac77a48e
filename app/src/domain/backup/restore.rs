//! Restoring a backup: validate everything, write a new generation nobody sees, migrate it,
//! then switch the namespace to it in one small transaction.

use super::archive::{Keys, Passphrase};
use super::catalog::get;
use super::faults::pause_point;
use super::preview;
use super::writers;
use crate::types::AuditAction;
use std::sync::Arc;

use super::engine::new_id;
use super::jobs::{self, FINISH, OWNED, job_error};
use super::progress::{JobProgress, Progress};
use super::{Engine, verify};
use crate::domain::db::check_transaction;
use crate::domain::generation as generations;
use crate::domain::{Db, DomainError, audit, schema};
use crate::types::{JobInfo, JobKind, Outcome, RestoreReport};

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
    restore_with_passphrase(engine, id, target, actor, None).await
}

/// As [`restore`], with the passphrase of a backup encrypted with one (kept in the job's
/// memory while it runs, nowhere else). A backup that needs a passphrase is refused without
/// one, and with a wrong one, before anything is written.
///
/// # Errors
///
/// As [`restore`]; [`DomainError::Invalid`] for a passphrase missing or wrong.
pub async fn restore_with_passphrase(
    engine: &Engine,
    id: &str,
    target: &str,
    actor: &str,
    passphrase: Option<Passphrase>,
) -> Result<JobInfo, DomainError> {
    let keys = Arc::new(engine.keys.with_passphrase(passphrase));
    let started = start_restore(engine, &keys, id, target, actor).await;
    if started.is_err() {
        return audit::audited(
            &engine.db,
            actor,
            AuditAction::BackupRestore,
            target,
            "",
            started,
        )
        .await;
    }
    started
}

pub(super) async fn start_restore(
    engine: &Engine,
    keys: &Arc<Keys>,
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
    if let Some(crate::types::Verdict::Newer { found }) = backup.verdict() {
        return Err(DomainError::Invalid(format!(
            "Backup \u{201c}{}\u{201d} was made with schema version {found}; this server supports up to {}. Upgrade the server to restore it.",
            backup.name,
            crate::types::SCHEMA_VERSION
        )));
    }
    if backup.status != crate::types::BackupStatus::Completed {
        return Err(DomainError::Invalid(format!(
            "Backup \u{201c}{}\u{201d} is not complete, so it cannot be restored.",
            backup.name
        )));
    }
    if backup.encryption == Some(crate::types::Encryption::Passphrase) && !keys.has_passphrase() {
        return Err(DomainError::Invalid(
            super::archive::sealed::PASSPHRASE_NEEDED.into(),
        ));
    }
    let job_id = new_id();
    let job = jobs::start(engine, &job_id, JobKind::Restore, target, id, actor).await?;
    let (task_engine, task_keys) = (engine.clone(), Arc::clone(keys));
    let (task_job, task_target, task_actor) =
        (job_id.clone(), target.to_string(), actor.to_string());
    let backup_id = id.to_string();
    tokio::spawn(async move {
        let restoring = Restoring {
            job: &task_job,
            backup: &backup_id,
            target: &task_target,
        };
        let result = apply_restore(&task_engine, &task_keys, restoring).await;
        let error = result.as_ref().err().map(job_error);
        if let Err(e) = jobs::finish(&task_engine, &task_job, error.as_deref()).await {
            tracing::error!(error = %e, job = task_job, "could not end a job");
        }
        let event = audit::Event {
            actor: &task_actor,
            action: AuditAction::BackupRestore,
            target: &task_target,
            outcome: if result.is_ok() {
                Outcome::Succeeded
            } else {
                Outcome::Failed
            },
            detail: &match &result {
                Ok(()) => format!(
                    "from {} (report: {})",
                    backup.name,
                    crate::types::report_path(&task_job)
                ),
                Err(error) => format!("from {}: {}", backup.name, audit::error_detail(error)),
            },
        };
        audit::record_or_log(&task_engine.db, event).await;
    });
    Ok(job)
}

/// A restore job: which job, which backup, into which namespace.
struct Restoring<'a> {
    job: &'a str,
    backup: &'a str,
    target: &'a str,
}

async fn apply_restore(
    engine: &Engine,
    keys: &Arc<Keys>,
    restoring: Restoring<'_>,
) -> Result<(), DomainError> {
    let Restoring {
        job,
        backup: backup_id,
        target,
    } = restoring;
    let db = &engine.db;
    jobs::run(db, job).await?;
    let progress: Arc<dyn Progress> = Arc::new(JobProgress::new(db, job));
    progress.report("checking the backup", 0, 0).await?;
    // The file must still be the one that was written and listed.
    verify::ensure_intact(engine, backup_id).await?;
    // Read with seeks, twice (checked, then written): a local file for as long as it takes.
    let backup = get(db, backup_id).await?;
    let local = engine
        .store
        .local_file(&super::stored_file(&backup))
        .await?;
    let path = local.path().to_path_buf();
    // The first pass checks everything, and compares with the namespace for the report.
    let started_at = chrono::Utc::now();
    let (checked, compared) = preview::compare(engine, keys, &backup, target, &path).await?;
    let total = checked.manifest.counts.items;
    pause_point("restore:checked", target).await;

    // Nothing was written until here. Now the content goes into a generation nobody sees.
    let generation = generations::new_id();
    generations::create_restoring(db, &generation, backup_id, job).await?;
    let writing = writers::Writing {
        target,
        path: &path,
        generation: &generation,
        total,
    };
    let written = writers::write_generation(engine, keys, &progress, writing).await;
    let switched = match written {
        Ok(()) => {
            let from = checked.manifest.schema_version;
            migrate_restored(db, &*progress, target, &generation, from).await
        }
        Err(error) => Err(error),
    };
    let result = match switched {
        Ok(()) => {
            progress.report("switching", total, total).await?;
            pause_point("restore:switching", target).await;
            let started_by = jobs::get(db, job).await?.started_by;
            let report = report(&backup, target, &started_by, started_at, compared);
            let switched = switch(
                engine,
                target,
                &generation,
                &checked.namespace.title,
                job,
                &report,
            )
            .await;
            if switched.is_ok() {
                pause_point("restore:switched", target).await;
            }
            switched
        }
        Err(error) => Err(error),
    };
    if result.is_err() {
        // The half-written generation was never visible; it goes now (or at the next start).
        generations::discard(db, &generation).await;
    }
    result
}

/// Brings a restored generation of schema version `from` up to date, one data migration
/// (one transaction) after the other.
pub(super) async fn migrate_restored(
    db: &Db,
    progress: &dyn Progress,
    target: &str,
    generation: &str,
    from: u32,
) -> Result<(), DomainError> {
    let steps = schema::generation_steps(from)?;
    if steps.is_empty() {
        return Ok(());
    }
    let count = steps.len() as u64;
    progress.report("migrating", 0, count).await?;
    pause_point("restore:migrating", target).await;
    for (done, step) in (1..).zip(steps) {
        schema::migrate_generation_step(db, generation, step).await?;
        progress.report("migrating", done, count).await?;
        pause_point("restore:migrated-step", target).await;
    }
    Ok(())
}

/// Points namespace `target` at `generation` and ends restore job `job` as succeeded, in
/// one small transaction, while the job is still this replica's; the previous generation is
/// kept as the safety snapshot. A missing namespace is created.
pub(super) async fn switch(
    engine: &Engine,
    target: &str,
    generation: &str,
    title: &str,
    job: &str,
    report: &RestoreReport,
) -> Result<(), DomainError> {
    let report = serde_json::to_value(report).map_err(|e| DomainError::Corrupt(e.to_string()))?;
    // Retried past conflicts: the lease renewals of this replica write to the job too.
    let switch = generations::switch();
    let switched = crate::domain::db::retry_conflicts(|| async {
        engine
            .db
            .query(format!(
                "BEGIN TRANSACTION;
             {OWNED}
             {switch}
             UPDATE type::record('job', $job) SET report = $report;
             {FINISH}
             COMMIT TRANSACTION;",
            ))
            .bind(("ns", target.to_string()))
            .bind(("gen", generation.to_string()))
            .bind(("title", title.to_string()))
            .bind(("job", job.to_string()))
            .bind(("how", None::<String>))
            .bind(("actor", None::<String>))
            .bind(("id", job.to_string()))
            .bind(("error", None::<String>))
            .bind(("replica", engine.replica.id.to_string()))
            .bind(("report", report.clone()))
            .await
            .and_then(check_transaction)
    })
    .await;
    match switched {
        Ok(_) => Ok(()),
        Err(error) if jobs::is_taken_over(&error) => {
            Err(DomainError::Conflict(jobs::TAKEN_OVER.to_string()))
        }
        Err(error) => Err(error.into()),
    }
}

/// The report of a restore of `backup` into `target` that began at `started_at`, from what
/// its first pass found.
fn report(
    backup: &crate::types::BackupInfo,
    target: &str,
    started_by: &str,
    started_at: chrono::DateTime<chrono::Utc>,
    compared: crate::types::RestorePreview,
) -> RestoreReport {
    let finished_at = chrono::Utc::now();
    let mut warnings: Vec<String> = compared
        .unknown_principals
        .iter()
        .map(|who| {
            format!("Folder permissions name {who}, which this installation does not have: it grants nothing until it exists.")
        })
        .collect();
    if let Some(discarded) = compared.changed_since_backup.filter(|n| *n > 0) {
        warnings.push(format!(
            "{discarded} item(s) created or changed in the namespace since the backup were discarded."
        ));
    }
    RestoreReport {
        backup: backup.id.clone(),
        backup_name: backup.name.clone(),
        namespace: target.to_string(),
        started_by: started_by.to_string(),
        started_at,
        finished_at,
        duration_ms: u64::try_from((finished_at - started_at).num_milliseconds()).unwrap_or(0),
        folders: compared.folders,
        items: compared.items,
        migrated: backup
            .schema_version
            .filter(|_| !compared.migrations.is_empty())
            .map(|from| crate::types::Migrated {
                from,
                to: crate::types::SCHEMA_VERSION,
            }),
        migrations: compared.migrations,
        warnings,
    }
}
