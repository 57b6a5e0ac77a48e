//! The domain, on the server only: the database, its schema and (as the product grows)
//! namespaces, backups and restores. Everything here is reachable from tests without HTTP.

pub mod audit;
pub mod content;
pub mod db;
pub mod error;
pub mod health;
pub mod schema;
pub mod seed;
pub mod sessions;
pub mod users;

pub use db::{Db, DbOptions};
pub use error::DomainError;

/// What server functions and HTTP handlers need, provided to them as Leptos context and axum
/// state. Cheap to clone: every field is a handle.
#[derive(Clone, Debug)]
pub struct Services {
    /// The database connection (embedded or remote).
    pub db: Db,
    /// How long a sign-in lasts.
    pub session_lifetime: std::time::Duration,
}

impl Services {
    /// The default of [`Services::session_lifetime`]: a working day.
    pub const DEFAULT_SESSION_LIFETIME: std::time::Duration =
        std::time::Duration::from_secs(12 * 60 * 60);

    /// Assembles the services around an open, migrated database.
    pub fn new(db: Db) -> Self {
        Self {
            db,
            session_lifetime: Self::DEFAULT_SESSION_LIFETIME,
        }
    }
}
