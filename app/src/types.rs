//! Wire types: what the server sends to the browser and back. Plain data, the same on both sides.

use serde::{Deserialize, Serialize};

/// What the server says about itself: its version, its data's schema version and whether its
/// database answers. Served by `GET /api/health` and shown on the overview page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerStatus {
    /// The application's version (`CARGO_PKG_VERSION`).
    pub version: String,
    /// The schema version this build of the application writes and reads.
    pub schema_version: u32,
    /// The schema version the database reports, when it answers.
    pub database_schema_version: Option<u32>,
    /// Whether the database answered a query just now.
    pub database_ok: bool,
}

impl ServerStatus {
    /// The status word shown to people and returned by the health endpoint.
    pub fn status(&self) -> &'static str {
        if self.database_ok { "ok" } else { "degraded" }
    }
}
