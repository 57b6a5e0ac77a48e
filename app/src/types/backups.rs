//! Backups and their jobs.

use serde::{Deserialize, Serialize};

/// Where a backup came from.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackupOrigin {
    Created,
    Uploaded,
    /// A sound backup file found in the store that no entry named (the list had lost it):
    /// listed again.
    Found,
    /// Made by the namespace's schedule.
    Scheduled,
}

impl BackupOrigin {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            BackupOrigin::Created => "created",
            BackupOrigin::Uploaded => "uploaded",
            BackupOrigin::Found => "found",
            BackupOrigin::Scheduled => "scheduled",
        }
    }
}

/// Where a backup stands.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackupStatus {
    /// Being written; not usable yet.
    InProgress,
    /// Complete and verified: it can be downloaded and restored.
    Completed,
    /// Writing it failed; `error` says why. No file is kept.
    Failed,
    /// Its file on the server no longer matches what was written (found before a restore,
    /// during a download or by the periodic check); `error` says how. It can only be
    /// deleted.
    Damaged,
}

impl BackupStatus {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            BackupStatus::InProgress => "in_progress",
            BackupStatus::Completed => "completed",
            BackupStatus::Failed => "failed",
            BackupStatus::Damaged => "damaged",
        }
    }
}

/// A backup as the list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupInfo {
    pub id: String,
    pub name: String,
    pub namespace: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub status: BackupStatus,
    pub origin: BackupOrigin,
    /// Bytes of the zip file, once completed.
    pub size: Option<u64>,
    /// SHA-256 of the zip file, once completed.
    pub sha256: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    pub created_by: String,
    /// Kept forever: no retention policy deletes it.
    #[serde(default)]
    pub pinned: bool,
    /// The schema version of the data inside (recorded when it was made or uploaded).
    #[serde(default)]
    pub schema_version: Option<u32>,
    /// Where an uploaded (or found) backup was made, from its manifest.
    #[serde(default)]
    pub made_from: Option<MadeFrom>,
    /// How its file is encrypted; `None`: it is a plain zip.
    #[serde(default)]
    pub encryption: Option<Encryption>,
    /// Why this server cannot open it (an encrypted backup whose key it lacks); worked out
    /// when it is listed, never stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked: Option<String>,
}

/// How a backup's file is encrypted (an age file holding the zip).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Encryption {
    /// To these age recipients (public keys, `age1…`): a server holding one of their
    /// secret keys (`--backup-identity`) opens it.
    Keys { recipients: Vec<String> },
    /// With a passphrase given when it was made, asked for again to restore it. It is kept
    /// nowhere: without it, the backup cannot be opened.
    Passphrase,
}

/// How a backup file encrypted with a passphrase begins: the age header's first line and its
/// `scrypt` recipient.
pub const PASSPHRASE_FILE_START: &str = "age-encryption.org/v1\n-> scrypt ";

/// How many backups the list shows at once.
pub const BACKUP_PAGE_SIZE: usize = 100;

/// The longest text the backup list is searched for.
pub const BACKUP_SEARCH_MAX: usize = 100;

/// One page of the backup list: the backups that match a search, newest first, from
/// `offset`, and how many match in all.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupListPage {
    pub items: Vec<BackupInfo>,
    pub offset: usize,
    pub total: usize,
}

/// Where a backup was made, as its manifest says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MadeFrom {
    pub namespace: String,
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The version of nsbackup that made it.
    pub app_version: Option<String>,
}

/// Whether a backup can be restored by this server, by its schema version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Current,
    /// Migrated on restore, from version `from`.
    Older {
        from: u32,
    },
    /// Made by a newer nsbackup: cannot be restored here.
    Newer {
        found: u32,
    },
}

impl Verdict {
    /// The verdict in words, as the list shows it.
    pub fn words(self) -> String {
        match self {
            Verdict::Current => "current version".to_string(),
            Verdict::Older { from } => format!(
                "older version: migrated on restore (schema {from} \u{2192} {})",
                super::SCHEMA_VERSION
            ),
            Verdict::Newer { .. } => {
                "made by a newer nsbackup: cannot be restored \u{2014} upgrade first".to_string()
            }
        }
    }
}

impl BackupInfo {
    /// Why this server cannot restore it, in words to finish "This backup …": made by a
    /// newer nsbackup, or encrypted to a key it lacks; `None` when it can.
    pub fn refusal(&self) -> Option<String> {
        if let Some(Verdict::Newer { .. }) = self.verdict() {
            return Some(format!("was {}", Verdict::Newer { found: 0 }.words()));
        }
        self.locked
            .as_ref()
            .map(|_| "is encrypted to a key this server does not hold: it cannot be restored here (start the server with the secret key as --backup-identity)".to_string())
    }

    /// Whether restoring it asks for the passphrase it was encrypted with.
    pub fn needs_passphrase(&self) -> bool {
        self.encryption == Some(Encryption::Passphrase)
    }

    /// Whether this server can restore it; `None` when its version was never recorded.
    pub fn verdict(&self) -> Option<Verdict> {
        self.schema_version
            .map(|version| match version.cmp(&super::SCHEMA_VERSION) {
                std::cmp::Ordering::Equal => Verdict::Current,
                std::cmp::Ordering::Less => Verdict::Older { from: version },
                std::cmp::Ordering::Greater => Verdict::Newer { found: version },
            })
    }
}

/// What a job does.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    Backup,
    Restore,
    /// A namespace switched back to a restore point: it ends as it begins.
    Undo,
}

/// Where a job stands.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl JobStatus {
    /// Whether the job has ended.
    pub fn is_final(self) -> bool {
        matches!(self, JobStatus::Succeeded | JobStatus::Failed)
    }
}

/// A backup or restore job with its progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobInfo {
    pub id: String,
    pub kind: JobKind,
    pub namespace: String,
    pub backup: String,
    pub status: JobStatus,
    /// What it is doing now, in a few words ("writing items").
    pub phase: String,
    pub done: u64,
    pub total: u64,
    pub error: Option<String>,
    pub started_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
    /// What a finished restore did.
    #[serde(default)]
    pub report: Option<RestoreReport>,
    /// The backup's name, where it is asked for (the restore history).
    #[serde(default)]
    pub backup_name: Option<String>,
}

impl JobInfo {
    /// How far the whole job is, in percent: each phase has its share of the way (for a
    /// backup, writing its items most of it; for a restore, writing the new generation), and
    /// the work done within a phase its part of that share. A phase this build does not know
    /// counts within the whole way; a finished job is at 100.
    pub fn percent(&self) -> u64 {
        if self.status == JobStatus::Succeeded {
            return 100;
        }
        let within = |from: u64, to: u64| {
            from + (self.done.min(self.total) * (to - from))
                .checked_div(self.total)
                .unwrap_or(0)
        };
        match (self.kind, self.phase.as_str()) {
            (_, "queued" | "starting") => 0,
            (JobKind::Backup, "writing items") => within(0, 90),
            (JobKind::Backup, "verifying") => 90,
            (JobKind::Restore, "checking the backup") => within(0, 10),
            (JobKind::Restore, "writing items") => within(10, 85),
            (JobKind::Restore, "migrating") => within(85, 95),
            (JobKind::Restore, "switching") => 95,
            (_, "finished") => 100,
            _ => within(0, 99),
        }
    }
}

/// Content a namespace had before a restore (or an undo) replaced it, kept for a while so
/// that the namespace can be switched back to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RestorePoint {
    pub namespace: String,
    /// The kept content's generation.
    pub generation: String,
    /// When it stopped being the namespace's content.
    pub replaced_at: chrono::DateTime<chrono::Utc>,
    /// What replaced it, in words: "restore of backup “nightly” by admin".
    pub replaced_by: String,
    pub items: u64,
    /// Bytes of item content it holds.
    pub bytes: u64,
    /// When it is removed.
    pub kept_until: chrono::DateTime<chrono::Utc>,
}

/// What switching a namespace back to a restore point discards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UndoCheck {
    /// Items created or changed in the namespace since the restore point was replaced.
    pub changed_items: u64,
    /// Folders created since then.
    pub new_folders: u64,
}

/// How many of one kind of record a restore adds, removes, changes and leaves as they are,
/// with the names of the first few of each.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Changes {
    pub added: u64,
    pub removed: u64,
    pub changed: u64,
    pub unchanged: u64,
    /// Names of what is added, removed and changed (at most [`Changes::NAMES`] each).
    pub added_names: Vec<String>,
    pub removed_names: Vec<String>,
    pub changed_names: Vec<String>,
}

impl Changes {
    /// How many names of each kind of change are listed.
    pub const NAMES: usize = 500;
}

/// What restoring a backup into a namespace will do to it, worked out before it runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RestorePreview {
    pub backup: String,
    pub namespace: String,
    /// Whether the namespace exists (otherwise the restore creates it).
    pub target_exists: bool,
    pub folders: Changes,
    pub items: Changes,
    /// Permission entries naming users or roles this installation does not have: "user
    /// grace", "role auditors" (kept, granting nothing until such a one exists).
    pub unknown_principals: Vec<String>,
    /// The data migrations the restore runs (a backup of an older schema version).
    pub migrations: Vec<String>,
    /// When the namespace is the backup's own: its items created or changed since the backup
    /// was made (the restore discards those changes).
    pub changed_since_backup: Option<u64>,
}

/// How far a restore preview is: items read from the backup and from the namespace, of how
/// many both hold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewProgress {
    pub done: u64,
    pub total: u64,
}

/// What a finished restore did, recorded with its job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RestoreReport {
    pub backup: String,
    pub backup_name: String,
    pub namespace: String,
    pub started_by: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: chrono::DateTime<chrono::Utc>,
    pub duration_ms: u64,
    pub folders: Changes,
    pub items: Changes,
    pub migrations: Vec<String>,
    /// The schema versions the content was migrated between (a backup of an older version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrated: Option<Migrated>,
    /// What to look at afterwards: permissions naming users or roles this installation
    /// lacks, edits since the backup that were discarded.
    pub warnings: Vec<String>,
}

/// A restore's migration: from the backup's schema version to this installation's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Migrated {
    pub from: u32,
    pub to: u32,
}

impl Migrated {
    /// "migrated from schema 1 to 3".
    pub fn words(self) -> String {
        format!("migrated from schema {} to {}", self.from, self.to)
    }
}

impl RestoreReport {
    /// The report in one sentence.
    pub fn summary(&self) -> String {
        let migrated = self
            .migrated
            .map(|m| format!("{}; ", m.words()))
            .unwrap_or_default();
        format!(
            "{migrated}{} item(s) added, {} removed, {} changed, {} as they were; {} folder(s) added, {} removed, {} changed; {:.1} s",
            self.items.added,
            self.items.removed,
            self.items.changed,
            self.items.unchanged,
            self.folders.added,
            self.folders.removed,
            self.folders.changed,
            self.duration_ms as f64 / 1000.0
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(kind: JobKind, phase: &str, done: u64, total: u64) -> JobInfo {
        JobInfo {
            id: "j".into(),
            kind,
            namespace: "ns".into(),
            backup: "b".into(),
            status: JobStatus::Running,
            phase: phase.into(),
            done,
            total,
            error: None,
            started_by: "admin".into(),
            created_at: chrono::Utc::now(),
            finished_at: None,
            report: None,
            backup_name: None,
        }
    }

    #[test]
    fn a_jobs_percent_only_grows_from_phase_to_phase() {
        let backup = [
            job(JobKind::Backup, "starting", 0, 0),
            job(JobKind::Backup, "writing items", 0, 200),
            job(JobKind::Backup, "writing items", 100, 200),
            job(JobKind::Backup, "writing items", 200, 200),
            job(JobKind::Backup, "verifying", 200, 200),
            job(JobKind::Backup, "finished", 200, 200),
        ];
        let restore = [
            job(JobKind::Restore, "checking the backup", 0, 0),
            job(JobKind::Restore, "writing items", 0, 50),
            job(JobKind::Restore, "writing items", 50, 50),
            job(JobKind::Restore, "migrating", 3, 10),
            job(JobKind::Restore, "switching", 50, 50),
            job(JobKind::Restore, "finished", 0, 0),
        ];
        for steps in [&backup[..], &restore[..]] {
            let percents: Vec<u64> = steps.iter().map(JobInfo::percent).collect();
            assert!(percents.windows(2).all(|w| w[0] <= w[1]), "{percents:?}");
            assert_eq!(percents.first(), Some(&0));
            assert_eq!(percents.last(), Some(&100));
        }
        assert_eq!(backup[2].percent(), 45);
    }
}
