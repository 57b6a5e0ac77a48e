//! `nsbackup store check` and `nsbackup store migrate`.

use app::domain::{self, DomainError};

use crate::config::Config;
use crate::startup::{StartupError, open_s3, with_database, with_engine};

/// `nsbackup store check`: every completed backup's file against what was written (damaged
/// ones are listed as such), the files of deleted backups that could not be removed yet
/// (tried again), and the files that no backup names (after a day: sound backups listed
/// again, the rest removed).
///
/// # Errors
///
/// A [`StartupError`] when the check cannot run, or when it finds a problem (after the
/// report on standard output).
pub async fn check_store(config: &Config) -> Result<(), StartupError> {
    with_engine(config, |engine| async move {
        let (checked, damaged) = domain::backup::verify::check_all(&engine).await?;
        println!("Checked {checked} backup file(s): {damaged} damaged (listed as damaged)");
        domain::backup::retry_deletions(&engine).await?;
        let pending = domain::backup::pending_deletions(&engine.db).await?;
        println!(
            "{} deleted backup(s) whose file could not be removed from the store yet",
            pending.len()
        );
        for deletion in &pending {
            println!(
                "  {}.zip ({}): tried {} time(s): {}",
                deletion.id,
                deletion.name,
                deletion.attempts,
                deletion.error.as_deref().unwrap_or("no reason recorded")
            );
        }
        use domain::backup::verify::{UNNAMED_GRACE, Unnamed, settle_unnamed};
        let unnamed = settle_unnamed(&engine, UNNAMED_GRACE).await?;
        println!("{} file(s) in the store that no backup names", unnamed.len());
        let mut waiting = 0;
        for file in &unnamed {
            match file {
                Unnamed::Waiting { id, age } => {
                    waiting += 1;
                    println!(
                        "  {id}.zip: stored {} minute(s) ago; after a day it is listed again if it is a sound backup, or removed",
                        age.as_secs() / 60
                    );
                }
                Unnamed::Listed { id, namespace } => {
                    println!("  {id}.zip: a sound backup of namespace {namespace}: listed again");
                }
                Unnamed::Removed { id, reason } => {
                    println!("  {id}.zip: not a sound backup ({reason}): removed");
                }
            }
        }
        let aborted = engine
            .store
            .abort_stale_uploads(UNNAMED_GRACE)
            .await
            .map_err(DomainError::from)?;
        if aborted > 0 {
            println!("{aborted} unfinished upload(s) older than a day aborted");
        }
        if damaged + pending.len() + waiting > 0 {
            return Err(StartupError::Input(
                "the store check found problems (above): delete damaged backups or upload intact copies; check that the store accepts deletions; an unnamed file can be uploaded to list it now".into(),
            ));
        }
        Ok(())
    })
    .await
}

/// `nsbackup store migrate`: moves the backup files of the data directory into the S3 bucket
/// of `--store`. The database is opened (and so held) meanwhile: an embedded one refuses a
/// second user, so this cannot run beside a server that uses the directory.
///
/// # Errors
///
/// A [`StartupError`] that names what is wrong: no S3 store configured, the bucket, a file.
pub async fn migrate_store(config: &Config) -> Result<(), StartupError> {
    let Some(url) = config.store.as_deref().filter(|url| !url.is_empty()) else {
        return Err(StartupError::Input(
            "name the S3 bucket to move the backup files into with --store s3://BUCKET/PREFIX (or NSBACKUP_STORE)".into(),
        ));
    };
    let backups = config.data_dir.join("backups");
    with_database(config, |_db| async move {
        let target = open_s3(config, url).await?;
        let local = domain::backup::store::LocalStore::open(&backups).map_err(|e| {
            StartupError::Input(format!("cannot read {}: {e}", backups.display()))
        })?;
        let moved = domain::backup::store::move_into(&local, &target)
            .await
            .map_err(|e| {
                StartupError::Input(format!(
                    "the move into {url} stopped at {e}; the files not moved are still in {}. Run it again to go on",
                    backups.display()
                ))
            })?;
        println!(
            "Moved {} backup file(s) from {} into {url} ({} were there already)",
            moved.moved,
            backups.display(),
            moved.already_there
        );
        Ok(())
    })
    .await
}
