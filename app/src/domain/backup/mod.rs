//! Namespace backups (DESIGN.md sections 4–7; the archive format is in
//! `docs/backup-format.md`), one operation a file:
//!
//! - [`catalog`]: the list — [`list`], [`get`], [`delete`], names;
//! - [`create`](mod@create): a durable job that writes a consistent snapshot into a zip;
//! - [`upload`](mod@upload): a file checked completely before it is listed;
//! - [`restore`](mod@restore): checked completely, written into an invisible generation
//!   ([`generation`]), migrated, switched to in one small transaction;
//! - [`recover`](mod@recover): what a crash left, put right at start-up;
//! - [`verify`]: stored files checked against what was written;
//! - [`jobs`], [`progress`], [`store`], [`archive`]: durable jobs and how far they are, the
//!   file store, the archive format;
//! - `faults`: the test fault points.

pub mod archive;
mod catalog;
mod create;
mod faults;
mod generation;
pub mod jobs;
pub mod progress;
mod recover;
mod restore;
pub mod store;
mod upload;
pub mod verify;

use std::sync::Arc;

pub use self::catalog::{check_name, delete, download_name, get, list, upload_name};
pub use self::create::{create, write_backup};
pub use self::recover::recover;
pub use self::restore::{SNAPSHOT_RETENTION, restore};
pub use self::upload::upload;

use self::archive::{ArchiveError, Limits};
use self::store::BackupStore;
use super::{Db, DomainError};

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

pub(super) const SELECT: &str = "record::id(id) AS id, name, namespace, created_at, status, origin, size, sha256, error, created_by";

impl From<ArchiveError> for DomainError {
    fn from(error: ArchiveError) -> Self {
        match error {
            ArchiveError::Invalid(message) => DomainError::Invalid(message),
            too_new @ ArchiveError::TooNew { .. } => DomainError::Invalid(too_new.to_string()),
            ArchiveError::Io(error) => DomainError::Io(error),
        }
    }
}

pub(super) fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

pub(super) fn not_found() -> DomainError {
    DomainError::NotFound(
        "That backup does not exist (any more). Someone may have deleted it; reload the page."
            .into(),
    )
}

/// The statements that end job `$id` with `$error` (`NONE`: it succeeded) and free its
/// namespace, for a transaction that records the job's result with it.
pub(super) const FINISH_JOB: &str = jobs::FINISH;

/// What a failed job says: the reason when it is the user's to act on; for the server's own
/// failures a sentence that points to the log (which gets the details here), never the
/// database's or the file system's own text.
pub(super) fn job_error(error: &DomainError) -> String {
    if error.is_for_the_user() {
        error.to_string()
    } else {
        tracing::error!(%error, "a backup or restore job failed");
        "The server could not complete it; its log says why. Try again.".to_string()
    }
}
