//! What every backup operation runs with: the database, the file store and the caps.

use std::sync::Arc;

use super::archive::{ArchiveError, Limits};
use super::jobs::Replica;
use super::store::BackupStore;
use crate::domain::{Db, DomainError};

/// What the backup engine needs: the database, the file store, the archive caps and who
/// runs its jobs.
#[derive(Clone, Debug)]
pub struct Engine {
    pub db: Db,
    pub store: Arc<dyn BackupStore>,
    pub limits: Limits,
    /// The largest file accepted for upload, in bytes.
    pub max_upload_bytes: u64,
    /// This process among the replicas: the jobs it starts are its own.
    pub replica: Replica,
    /// How long the content a restore replaced is kept as a restore point.
    pub snapshot_retention: std::time::Duration,
    /// The restore previews of this process: running ones, and backups' sides kept.
    pub previews: Arc<super::preview::Previews>,
    /// The keys new backups are sealed to and sealed backups are opened with (none: backups
    /// are not encrypted).
    pub keys: Arc<super::archive::Keys>,
}

impl Engine {
    /// The default of [`Engine::max_upload_bytes`]: 2 GiB.
    pub const DEFAULT_MAX_UPLOAD: u64 = 2 << 30;

    /// The default of [`Engine::snapshot_retention`]: seven days.
    pub const DEFAULT_SNAPSHOT_RETENTION: std::time::Duration =
        std::time::Duration::from_secs(7 * 24 * 60 * 60);

    /// An engine on `db` and `store` with the default caps, as a replica of its own name.
    pub fn new(db: Db, store: Arc<dyn BackupStore>) -> Self {
        Self {
            db,
            store,
            limits: Limits::default(),
            max_upload_bytes: Self::DEFAULT_MAX_UPLOAD,
            replica: Replica::default(),
            snapshot_retention: Self::DEFAULT_SNAPSHOT_RETENTION,
            previews: Arc::default(),
            keys: Arc::default(),
        }
    }
}

/// A new id for a backup or a job: time-ordered, never anything a user typed.
pub(super) fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

impl From<ArchiveError> for DomainError {
    fn from(error: ArchiveError) -> Self {
        match error {
            ArchiveError::Invalid(message) => DomainError::Invalid(message),
            too_new @ ArchiveError::TooNew { .. } => DomainError::Invalid(too_new.to_string()),
            ArchiveError::Locked(message) => DomainError::Invalid(message),
            ArchiveError::Io(error) => DomainError::Io(error),
        }
    }
}
