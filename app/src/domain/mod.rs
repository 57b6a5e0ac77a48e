//! The domain, on the server only: the database, its schema and (as the product grows)
//! namespaces, backups and restores. Everything here is reachable from tests without HTTP.

pub mod content;
pub mod db;
pub mod error;
pub mod health;
pub mod schema;
pub mod seed;
pub mod users;

pub use db::{Db, DbOptions};
pub use error::DomainError;

/// What server functions and HTTP handlers need, provided to them as Leptos context and axum
/// state. Cheap to clone: every field is a handle.
#[derive(Clone, Debug)]
pub struct Services {
    /// The database connection (embedded or remote).
    pub db: Db,
}

impl Services {
    /// Assembles the services around an open, migrated database.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}
