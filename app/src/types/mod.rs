//! Wire types: what the server sends to the browser and back. Plain data, the same on both sides,
//! one area a file: content, accounts, the audit log, backups.

mod accounts;
mod audit;
mod backups;
mod content;
mod schedules;

pub use self::accounts::*;
pub use self::audit::*;
pub use self::backups::*;
pub use self::content::*;
pub use self::schedules::*;

use serde::{Deserialize, Serialize};

/// The schema version of the data this build writes and reads (the database, exports and
/// backups record it; `domain::schema` holds the migrations up to it).
pub const SCHEMA_VERSION: u32 = 3;

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

/// What an accepted upload answers (`POST /api/backups/upload`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uploaded {
    pub backup: BackupInfo,
    /// What to know about the file, when there is something: that the same file is listed
    /// already (it is listed again, never overwritten), or that a newer nsbackup made it.
    pub note: Option<String>,
}

/// What a plain route answers when it refuses or fails: `{"error": "…"}`, a message for a
/// person that says what to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReply {
    pub error: String,
}
