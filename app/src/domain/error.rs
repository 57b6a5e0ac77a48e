//! The domain's error: everything that can go wrong below the wire, with the context a log
//! reader needs. It converts into [`AppError`], which is what a user sees.

use crate::error::AppError;

/// An error raised by the domain.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The request is wrong in a way the user can fix; the message says how.
    #[error("{0}")]
    Invalid(String),

    /// The thing asked for does not exist; the message names it.
    #[error("{0}")]
    NotFound(String),

    /// The actor may not do this (folder permissions, role).
    #[error("{0}")]
    Forbidden(String),

    /// Too many failed attempts; the message says how long to wait.
    #[error("{0}")]
    TooManyAttempts(String),

    /// The request clashes with the current state; the message says what to do.
    #[error("{0}")]
    Conflict(String),

    /// What was sent is larger than the server accepts for it; the message says the limit.
    #[error("{0}")]
    TooLarge(String),

    /// The database could not be opened or reached at start-up.
    #[error("could not open the database at {url}: {reason}")]
    DatabaseUnavailable { url: String, reason: String },

    /// The embedded database's log is damaged before its end: opening it would drop the
    /// writes after the damage, which may have been acknowledged.
    #[error(
        "the database's log {} is damaged at byte {offset}, and {bytes_after} bytes of writes \
         follow the damage: opening it would lose them, so nsbackup did not start. An untouched \
         copy of the segment is kept at {}. Put back a copy of the data directory taken while \
         nsbackup was stopped if you have one; otherwise start once with --repair-database-log \
         to keep only the writes before the damage, then restore what is missing from a backup",
        segment.display(),
        copy.display()
    )]
    DamagedDatabaseLog {
        segment: std::path::PathBuf,
        offset: u64,
        bytes_after: u64,
        copy: std::path::PathBuf,
    },

    /// The database holds data of a newer schema than this build understands.
    #[error(
        "the database has schema version {found}; this build of nsbackup supports up to {supported}. \
         Upgrade nsbackup to use this database (downgrading is not supported)"
    )]
    SchemaTooNew { found: u32, supported: u32 },

    /// A schema migration failed; the database stays at the version before it.
    #[error("migration to schema version {version} ({description}) failed: {reason}")]
    MigrationFailed {
        version: u32,
        description: &'static str,
        reason: String,
    },

    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[from] surrealdb::Error),

    /// Stored data that does not have the shape this build expects.
    #[error("stored data could not be read: {0}")]
    Corrupt(String),

    /// A file system error.
    #[error("file system error: {0}")]
    Io(#[from] std::io::Error),

    /// A task of the server stopped before it finished: it panicked, or was cancelled at
    /// shutdown. What it was doing did not complete.
    #[error("{task} stopped before it finished ({how})")]
    Stopped {
        task: &'static str,
        how: &'static str,
    },
}

impl DomainError {
    /// The error of a task named `task` that did not finish, for
    /// `spawn_blocking(…).await.map_err(DomainError::stopped("the backup writer"))`.
    pub fn stopped(task: &'static str) -> impl FnOnce(tokio::task::JoinError) -> DomainError {
        move |error| DomainError::Stopped {
            task,
            how: if error.is_cancelled() {
                "cancelled"
            } else {
                "it panicked"
            },
        }
    }

    /// Whether the error is one the user can act on (its message says how), rather than
    /// the server's own failure, whose text is for the log only.
    pub fn is_for_the_user(&self) -> bool {
        matches!(
            self,
            DomainError::Invalid(_)
                | DomainError::NotFound(_)
                | DomainError::Forbidden(_)
                | DomainError::TooManyAttempts(_)
                | DomainError::Conflict(_)
                | DomainError::TooLarge(_)
        )
    }
}

impl From<DomainError> for AppError {
    fn from(error: DomainError) -> Self {
        match error {
            DomainError::Invalid(message) => AppError::BadRequest(message),
            DomainError::NotFound(message) => AppError::NotFound(message),
            DomainError::Forbidden(message) => AppError::Forbidden(message),
            DomainError::TooManyAttempts(message) => AppError::TooManyRequests(message),
            DomainError::Conflict(message) => AppError::Conflict(message),
            DomainError::TooLarge(message) => AppError::TooLarge(message),
            internal => {
                // Not the user's to fix: log the details, show a message that says what to do.
                tracing::error!(error = %internal, "request failed");
                AppError::Internal(
                    "The server could not complete the request. Try again; if it keeps failing, \
                     the server's log says why."
                        .into(),
                )
            }
        }
    }
}
