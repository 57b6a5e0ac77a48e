//! The server's health: its version, its schema version and whether its database answers.

use super::Db;
use super::schema::{SCHEMA_VERSION, current_version};
use crate::types::ServerStatus;

/// Asks the database for its schema version and reports what the server knows of itself.
/// Never fails: a database that does not answer is part of the answer.
pub async fn check(db: &Db) -> ServerStatus {
    let database_schema_version = match current_version(db).await {
        Ok(version) => Some(version),
        Err(error) => {
            tracing::warn!(%error, "health check: the database did not answer");
            None
        }
    };
    ServerStatus {
        version: env!("CARGO_PKG_VERSION").to_string(),
        schema_version: SCHEMA_VERSION,
        database_ok: database_schema_version.is_some(),
        database_schema_version,
    }
}
