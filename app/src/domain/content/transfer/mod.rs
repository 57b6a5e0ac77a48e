//! Export and import of one item or one folder (with everything below it): the explorer's
//! answer for single items, which namespace backups never restore.
//!
//! An export is one JSON document (`docs/export-format.md`) that records the schema version
//! of its records. An import checks the whole file first, writes its records as they are
//! into a scratch generation, brings that generation up to the current schema with the same
//! migrations the database uses, and only then copies the content, with fresh ids, into the
//! target folder — so an older file is migrated, a newer one refused, and a bad one leaves
//! nothing behind.
//!
//! `export` writes the file; `checks` checks one before anything of it is written; `import`
//! stages it and copies it in.

mod checks;
mod export;
mod import;

pub use self::checks::{IMPORT_FOLDERS_MAX, IMPORT_ITEMS_MAX};
pub use self::export::export;
pub use self::import::import;

use serde::{Deserialize, Serialize};

use crate::domain::DomainError;
use chrono::{DateTime, Utc};

use crate::types::{ItemKind, Permission};

/// The `format` of an export file.
pub const FORMAT: &str = "nsbackup-export";
/// The version of the export file's layout (not of the records in it).
pub const FORMAT_VERSION: u32 = 1;
/// The largest export file an import reads.
pub const IMPORT_MAX_BYTES: usize = 64 * 1024 * 1024;

/// What to export.
#[derive(Clone, Debug)]
pub enum ExportTarget {
    Folder(String),
    Item(String),
}

/// An export file. Records stay plain JSON so that files of older schema versions parse.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExportFile {
    pub format: String,
    pub format_version: u32,
    pub schema_version: u32,
    pub app_version: String,
    pub exported_at: DateTime<Utc>,
    /// The namespace the content came from (information only).
    pub namespace: String,
    /// Folders; the exported folder has `parent: null`.
    pub folders: Vec<serde_json::Value>,
    /// Items; an item exported on its own has `folder: null`.
    pub items: Vec<serde_json::Value>,
}

#[derive(Debug, Serialize, Deserialize)]
struct FolderRecord {
    id: String,
    parent: Option<String>,
    name: String,
    permissions: Option<Vec<Permission>>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ItemRecord {
    id: String,
    folder: Option<String>,
    kind: ItemKind,
    name: String,
    content: String,
}

/// A name that every file system accepts: no path separators, control or reserved
/// characters, at most 100 characters.
pub fn file_name_safe(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_control() || r#"/\:*?"<>|"#.contains(c) {
                '_'
            } else {
                c
            }
        })
        .take(100)
        .collect();
    let cleaned = cleaned.trim().trim_matches('.').to_string();
    if cleaned.is_empty() {
        "export".into()
    } else {
        cleaned
    }
}

fn invalid(message: impl Into<String>) -> DomainError {
    DomainError::Invalid(message.into())
}

#[cfg(test)]
mod tests {
    use super::checks::parse;
    use super::*;
    use crate::domain::schema::SCHEMA_VERSION;

    #[test]
    fn file_names_are_made_safe() {
        assert_eq!(file_name_safe("Orders / 2026: Q1?"), "Orders _ 2026_ Q1_");
        assert_eq!(file_name_safe(".."), "export");
        assert_eq!(file_name_safe("Übersicht"), "Übersicht");
    }

    #[test]
    fn envelopes_that_are_not_exports_are_refused_with_a_reason() {
        let message = |text: &str| parse(text).expect_err("refused").to_string();
        assert!(message("PNG\u{1a}").contains("not JSON"));
        assert!(message("{\"format\": \"other\"}").contains("not an nsbackup export"));
        assert!(
            message(r#"{"format": "nsbackup-export", "format_version": 9}"#)
                .contains("format version 9")
        );
        let newer = format!(
            r#"{{"format": "nsbackup-export", "format_version": 1, "schema_version": {}, "app_version": "9", "exported_at": "2030-01-01T00:00:00Z", "namespace": "x", "folders": [], "items": []}}"#,
            SCHEMA_VERSION + 1
        );
        assert!(message(&newer).contains("Upgrade the server to import it"));
    }
}
