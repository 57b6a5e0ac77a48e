//! The domain, on the server only: the database, its schema and (as the product grows)
//! namespaces, backups and restores. Everything here is reachable from tests without HTTP.

pub mod accounts;
pub mod audit;
pub mod backup;
pub mod content;
pub mod db;
pub mod error;
pub mod generation;
pub mod health;
pub mod schedule;
pub mod schema;
pub mod seed;
pub mod sessions;
pub mod tokens;
pub mod users;
pub mod wal;

pub use db::{Db, DbOptions};
pub use error::DomainError;

/// What server functions and HTTP handlers need, provided to them as Leptos context and axum
/// state. Cheap to clone: every field is a handle.
#[derive(Clone, Debug)]
pub struct Services {
    /// The database connection (embedded or remote).
    pub db: Db,
    /// The backup engine: the database again, the backup file store, the archive caps.
    pub backups: backup::Engine,
    /// How long a sign-in lasts.
    pub session_lifetime: std::time::Duration,
}

impl Services {
    /// The default of [`Services::session_lifetime`]: a working day.
    pub const DEFAULT_SESSION_LIFETIME: std::time::Duration =
        std::time::Duration::from_secs(12 * 60 * 60);

    /// Assembles the services around an open, migrated database and a backup store.
    pub fn new(db: Db, store: std::sync::Arc<dyn backup::store::BackupStore>) -> Self {
        Self {
            backups: backup::Engine::new(db.clone(), store),
            db,
            session_lifetime: Self::DEFAULT_SESSION_LIFETIME,
        }
    }
}
