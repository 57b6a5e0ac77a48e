//! What `/api/v1` sends: a backup and a job as scripts see them. Their kinds and states are
//! the application's own types (`app::types`), never copies.

use app::types::{BackupInfo, BackupOrigin, BackupStatus, Encryption, JobInfo, JobKind, JobStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A backup.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Backup {
    pub id: String,
    pub name: String,
    /// The namespace it belongs to.
    pub namespace: String,
    pub created_at: DateTime<Utc>,
    pub status: BackupStatus,
    pub origin: BackupOrigin,
    /// Bytes of its file, once completed.
    pub size: Option<u64>,
    /// SHA-256 of its file, once completed.
    pub sha256: Option<String>,
    /// Why it failed or is damaged.
    pub error: Option<String>,
    pub created_by: String,
    /// Kept forever: no retention policy deletes it.
    pub pinned: bool,
    /// The schema version of its content.
    pub schema_version: Option<u32>,
    /// Whether this server can restore it (a backup of a newer nsbackup cannot be).
    pub restorable: bool,
    /// How its file is encrypted; absent for a plain zip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
}

impl From<BackupInfo> for Backup {
    fn from(backup: BackupInfo) -> Self {
        let restorable = backup.status == BackupStatus::Completed && backup.refusal().is_none();
        Backup {
            status: backup.status,
            origin: backup.origin,
            id: backup.id,
            name: backup.name,
            namespace: backup.namespace,
            created_at: backup.created_at,
            size: backup.size,
            sha256: backup.sha256,
            error: backup.error,
            created_by: backup.created_by,
            pinned: backup.pinned,
            schema_version: backup.schema_version,
            restorable,
            encryption: backup.encryption,
        }
    }
}

/// A job: a backup or a restore running on the server, or one that ended.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Job {
    pub id: String,
    pub kind: JobKind,
    pub namespace: String,
    /// The backup it makes or restores.
    pub backup: String,
    pub status: JobStatus,
    /// What it does now, in a few words.
    pub phase: String,
    pub done: u64,
    pub total: u64,
    /// Why it failed.
    pub error: Option<String>,
    pub started_by: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<JobInfo> for Job {
    fn from(job: JobInfo) -> Self {
        Job {
            kind: job.kind,
            status: job.status,
            id: job.id,
            namespace: job.namespace,
            backup: job.backup,
            phase: job.phase,
            done: job.done,
            total: job.total,
            error: job.error,
            started_by: job.started_by,
            created_at: job.created_at,
            finished_at: job.finished_at,
        }
    }
}

/// One page of backups, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BackupPage {
    pub items: Vec<Backup>,
    /// How many backups match, on every page.
    pub total: usize,
}

/// A backup that was started, and the job that makes it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Started {
    pub backup: Backup,
    pub job: Job,
}

/// An uploaded backup, and anything the user should know about it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UploadedBackup {
    pub backup: Backup,
    /// An identical backup listed already, or a backup of a newer nsbackup.
    pub note: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::problem::{Code, Problem};

    /// The page uploads and reads refusals through this API with types of its own (it
    /// cannot see these): they must read what is sent.
    #[test]
    fn the_page_reads_what_the_api_sends() {
        let sent = UploadedBackup {
            backup: Backup {
                id: "b1".into(),
                name: "Nightly".into(),
                namespace: "demo".into(),
                created_at: chrono::Utc::now(),
                status: BackupStatus::Completed,
                origin: BackupOrigin::Uploaded,
                size: Some(10),
                sha256: None,
                error: None,
                created_by: "admin".into(),
                pinned: false,
                schema_version: Some(3),
                restorable: true,
                encryption: None,
            },
            note: Some("identical".into()),
        };
        let text = serde_json::to_string(&sent).expect("serialises");
        let read: app::types::Uploaded = serde_json::from_str(&text).expect("the page reads it");
        assert_eq!(
            (read.backup.name.as_str(), read.note.as_deref()),
            ("Nightly", Some("identical"))
        );
        let refused = Problem::new(Code::Invalid, "Not a zip file.".into());
        let text = serde_json::to_string(&refused).expect("serialises");
        let read: app::types::ProblemMessage =
            serde_json::from_str(&text).expect("the page reads it");
        assert_eq!(read.message, "Not a zip file.");
    }
}
