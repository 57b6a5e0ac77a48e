//! The audit log: actions, outcomes, filters and pages.

use serde::{Deserialize, Serialize};

/// What the audit log records someone did. Stored (and shown, and filtered by) as its
/// [`as_str`](AuditAction::as_str) name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuditAction {
    SignIn,
    SignOut,
    RequestRefused,
    UserCreate,
    UserPassword,
    UserRole,
    UserDelete,
    NamespaceCreate,
    NamespaceRetitle,
    NamespaceDelete,
    FolderCreate,
    FolderRename,
    FolderMove,
    FolderDelete,
    FolderPermissions,
    ItemCreate,
    ItemSave,
    ItemRename,
    ItemMove,
    ItemDelete,
    Import,
    Export,
    BackupCreate,
    BackupUpload,
    BackupDownload,
    BackupDelete,
    BackupRestore,
    BackupDamaged,
    BackupFound,
    BackupIntact,
    BackupPin,
    ScheduleSet,
    ScheduleDelete,
    ScheduleRun,
    RestoreUndo,
    TokenCreate,
    TokenRevoke,
    TokenUse,
}

impl AuditAction {
    /// Every action, in the order the audit page suggests them.
    pub const ALL: [AuditAction; 38] = [
        AuditAction::SignIn,
        AuditAction::SignOut,
        AuditAction::RequestRefused,
        AuditAction::UserCreate,
        AuditAction::UserPassword,
        AuditAction::UserRole,
        AuditAction::UserDelete,
        AuditAction::NamespaceCreate,
        AuditAction::NamespaceRetitle,
        AuditAction::NamespaceDelete,
        AuditAction::FolderCreate,
        AuditAction::FolderRename,
        AuditAction::FolderMove,
        AuditAction::FolderDelete,
        AuditAction::FolderPermissions,
        AuditAction::ItemCreate,
        AuditAction::ItemSave,
        AuditAction::ItemRename,
        AuditAction::ItemMove,
        AuditAction::ItemDelete,
        AuditAction::Import,
        AuditAction::Export,
        AuditAction::BackupCreate,
        AuditAction::BackupUpload,
        AuditAction::BackupDownload,
        AuditAction::BackupDelete,
        AuditAction::BackupRestore,
        AuditAction::BackupDamaged,
        AuditAction::BackupFound,
        AuditAction::BackupIntact,
        AuditAction::BackupPin,
        AuditAction::ScheduleSet,
        AuditAction::ScheduleDelete,
        AuditAction::ScheduleRun,
        AuditAction::RestoreUndo,
        AuditAction::TokenCreate,
        AuditAction::TokenRevoke,
        AuditAction::TokenUse,
    ];

    /// The stored and shown name: `sign-in`, `backup restore`, …
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::SignIn => "sign-in",
            AuditAction::SignOut => "sign-out",
            AuditAction::RequestRefused => "request refused",
            AuditAction::UserCreate => "user create",
            AuditAction::UserPassword => "user password",
            AuditAction::UserRole => "user role",
            AuditAction::UserDelete => "user delete",
            AuditAction::NamespaceCreate => "namespace create",
            AuditAction::NamespaceRetitle => "namespace retitle",
            AuditAction::NamespaceDelete => "namespace delete",
            AuditAction::FolderCreate => "folder create",
            AuditAction::FolderRename => "folder rename",
            AuditAction::FolderMove => "folder move",
            AuditAction::FolderDelete => "folder delete",
            AuditAction::FolderPermissions => "folder permissions",
            AuditAction::ItemCreate => "item create",
            AuditAction::ItemSave => "item save",
            AuditAction::ItemRename => "item rename",
            AuditAction::ItemMove => "item move",
            AuditAction::ItemDelete => "item delete",
            AuditAction::Import => "import",
            AuditAction::Export => "export",
            AuditAction::BackupCreate => "backup create",
            AuditAction::BackupUpload => "backup upload",
            AuditAction::BackupDownload => "backup download",
            AuditAction::BackupDelete => "backup delete",
            AuditAction::BackupRestore => "backup restore",
            AuditAction::BackupDamaged => "backup damaged",
            AuditAction::BackupFound => "backup found",
            AuditAction::BackupIntact => "backup intact",
            AuditAction::BackupPin => "backup pin",
            AuditAction::ScheduleSet => "schedule set",
            AuditAction::ScheduleDelete => "schedule delete",
            AuditAction::ScheduleRun => "schedule run",
            AuditAction::RestoreUndo => "restore undo",
            AuditAction::TokenCreate => "token create",
            AuditAction::TokenRevoke => "token revoke",
            AuditAction::TokenUse => "token use",
        }
    }
}

/// How an audited action ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Succeeded,
    Failed,
    Refused,
}

impl Outcome {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::Refused => "refused",
        }
    }
}

/// Which audit entries to show; every part is optional, and entries must match all given.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Who, exactly (case does not matter).
    #[serde(default)]
    pub actor: Option<String>,
    /// What, exactly: `sign-in`, `folder create`, …
    #[serde(default)]
    pub action: Option<String>,
    /// Part of the target (case does not matter).
    #[serde(default)]
    pub target: Option<String>,
    /// From this moment on.
    #[serde(default)]
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// Before this moment.
    #[serde(default)]
    pub until: Option<chrono::DateTime<chrono::Utc>>,
}

impl AuditFilter {
    /// Whether nothing is filtered.
    pub fn is_empty(&self) -> bool {
        self == &AuditFilter::default()
    }

    /// The filter of a page address or a CSV export (`?actor=&action=&target=&from=&until=`):
    /// blank parts filter nothing; `from` and `until` are days (`2026-11-29`, in UTC), from
    /// the start of `from` to the end of `until`.
    ///
    /// # Errors
    ///
    /// A message naming a day that is not one.
    pub fn from_query(
        actor: Option<&str>,
        action: Option<&str>,
        target: Option<&str>,
        from: Option<&str>,
        until: Option<&str>,
    ) -> Result<AuditFilter, String> {
        let text = |part: Option<&str>| {
            part.map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_string)
        };
        let day = |part: Option<&str>, what: &str| -> Result<Option<chrono::NaiveDate>, String> {
            match text(part) {
                None => Ok(None),
                Some(day) => chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d")
                    .map(Some)
                    .map_err(|_| {
                        format!("`{day}` is not a day: give the {what} day as YYYY-MM-DD.")
                    }),
            }
        };
        let start = |date: chrono::NaiveDate| date.and_time(chrono::NaiveTime::MIN).and_utc();
        Ok(AuditFilter {
            actor: text(actor),
            action: text(action),
            target: text(target),
            from: day(from, "first")?.map(start),
            until: day(until, "last")?
                .and_then(|date| date.succ_opt())
                .map(start),
        })
    }
}

/// One entry of the audit log: who did what, when, to what, and how it ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Orders entries (newest has the greatest key); also the paging cursor.
    pub key: String,
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub outcome: Outcome,
    pub detail: String,
}

/// One page of the audit log, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// The cursor of the next (older) page, if there is one.
    pub older: Option<String>,
    /// How many entries the log holds in all.
    pub total: u64,
}
