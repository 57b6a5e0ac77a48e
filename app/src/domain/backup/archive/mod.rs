//! The backup archive: its format, writing one, and checking and reading one that may be
//! hostile. The format is described in `docs/backup-format.md`.
//!
//! - this file: the format's entries and records, the caps, the errors;
//! - [`writer`]: writing an archive from records, deterministically;
//! - [`reader`]: checking and reading one, step by step (structure, manifest, folders,
//!   items);
//! - [`structure`]: the zip's own structure, from its central directory;
//! - [`records`]: what each record must be (the rules of the API);
//! - [`guard`]: reading an entry within the caps (size, total, ratio) while hashing it;
//! - [`sealed`]: encrypted backups, the zip inside an age file, and the server's keys.
//!
//! Everything here is synchronous I/O on files; callers run it on a blocking thread.

mod guard;
mod reader;
mod records;
pub mod sealed;
mod structure;
mod writer;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::types::ItemKind;

pub use self::reader::{CheckOnly, Checked, Newer, Visitor, check_newer, read};
pub use self::sealed::{Keys, Passphrase};
pub use self::writer::{ArchiveWriter, file_digest};

/// The `format` of every backup's manifest.
pub const FORMAT: &str = "nsbackup-backup";
/// The archive format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// The manifest's entry name; it is the archive's first entry.
pub const MANIFEST: &str = "manifest.json";
/// The namespace's own record.
pub const NAMESPACE: &str = "namespace.json";
/// One folder per line.
pub const FOLDERS: &str = "folders.ndjson";
/// One item per line; contents above [`INLINE_MAX`] are entries of their own.
pub const ITEMS: &str = "items.ndjson";
/// Where large contents go: `contents/<item id>`.
pub const CONTENTS_DIR: &str = "contents/";
/// Contents up to this many bytes stay inside their line of [`ITEMS`].
pub const INLINE_MAX: usize = 64 * 1024;

/// What a hostile archive may not exceed. Checked while reading, never trusting what the
/// archive declares about itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Entries in the archive.
    pub max_entries: usize,
    /// Uncompressed bytes of one entry.
    pub max_entry_bytes: u64,
    /// Uncompressed bytes of all entries together.
    pub max_total_bytes: u64,
    /// Uncompressed bytes per compressed byte, for entries above a mebibyte.
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_entries: 200_000,
            max_entry_bytes: 4 << 30,
            max_total_bytes: 16 << 30,
            max_ratio: 250,
        }
    }
}

/// One entry as the manifest lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryInfo {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// How many records the archive holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    pub folders: u64,
    pub items: u64,
}

/// `manifest.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub schema_version: u32,
    pub app_version: String,
    pub namespace: String,
    pub created_at: DateTime<Utc>,
    pub counts: Counts,
    pub entries: Vec<EntryInfo>,
}

/// `namespace.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamespaceRecord {
    pub name: String,
    pub title: String,
}

/// One line of `folders.ndjson`. Permissions stay as they were stored at the backup's
/// schema version; restoring migrates them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FolderRecord {
    pub id: String,
    pub parent: Option<String>,
    pub name: String,
    pub permissions: Option<serde_json::Value>,
    pub created_at: Option<DateTime<Utc>>,
}

/// One line of `items.ndjson`: the content inline, or in entry `content_entry`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemRecord {
    pub id: String,
    pub folder: Option<String>,
    pub kind: ItemKind,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_entry: Option<String>,
    pub revision: u64,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: String,
}

/// Why an archive was refused: one sentence for the user, naming the problem.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The file is not a backup of this product, or is damaged or hostile.
    #[error("{0}")]
    Invalid(String),
    /// A backup made by a newer nsbackup.
    #[error(
        "This backup was made with schema version {found}; this server supports up to {supported}. Upgrade the server to restore it."
    )]
    TooNew { found: u32, supported: u32 },
    /// An encrypted backup that the keys at hand do not open (the message says which are
    /// needed). Nothing is known of what is inside: it may be perfectly sound.
    #[error("{0}")]
    Locked(String),
    /// Reading or writing a file failed; the source error is kept for the log.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl ArchiveError {
    /// An I/O failure described by `error` (a zip, JSON or plain message), kept as the
    /// source of an [`ArchiveError::Io`].
    pub fn io(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        ArchiveError::Io(std::io::Error::other(error))
    }
}

fn invalid(message: impl Into<String>) -> ArchiveError {
    ArchiveError::Invalid(message.into())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
