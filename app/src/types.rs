//! Wire types: what the server sends to the browser and back. Plain data, the same on both sides.

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

/// What an item is. Services and forms hold JSON; models hold XML (BPMN is XML too).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    Service,
    Model,
    Form,
}

impl ItemKind {
    /// Every kind, in the order menus list them.
    pub const ALL: [ItemKind; 3] = [ItemKind::Service, ItemKind::Model, ItemKind::Form];

    /// The stored and wire name: `service`, `model` or `form`.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Service => "service",
            ItemKind::Model => "model",
            ItemKind::Form => "form",
        }
    }

    /// The name people read: `Service`, `Model` or `Form`.
    pub fn label(self) -> &'static str {
        match self {
            ItemKind::Service => "Service",
            ItemKind::Model => "Model",
            ItemKind::Form => "Form",
        }
    }

    /// The kind with the stored name `text`.
    pub fn parse(text: &str) -> Option<ItemKind> {
        ItemKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// How much a principal may do in a folder. Each level includes the ones before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// See the folder and its items.
    Read,
    /// Also create, change, move and delete folders and items.
    Write,
    /// Also change the folder's permissions.
    Manage,
}

impl Access {
    /// Every level, weakest first.
    pub const ALL: [Access; 3] = [Access::Read, Access::Write, Access::Manage];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
            Access::Manage => "manage",
        }
    }

    /// The level with the stored name `text`.
    pub fn parse(text: &str) -> Option<Access> {
        Access::ALL
            .into_iter()
            .find(|access| access.as_str() == text)
    }
}

/// Whether a principal is one user or everybody with a role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalKind {
    User,
    Role,
}

impl PrincipalKind {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::User => "user",
            PrincipalKind::Role => "role",
        }
    }

    /// The kind with the stored name `text`.
    pub fn parse(text: &str) -> Option<PrincipalKind> {
        [PrincipalKind::User, PrincipalKind::Role]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// Who a permission is for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Principal {
    pub kind: PrincipalKind,
    pub name: String,
}

/// One entry of a folder's permissions.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Permission {
    pub principal: Principal,
    pub access: Access,
}

/// A namespace as lists show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamespaceInfo {
    /// The unique name: lowercase letters, digits, `-` and `_`.
    pub name: String,
    /// A title for people; may be empty.
    pub title: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A folder of a namespace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderInfo {
    pub id: String,
    /// The parent folder; `None` at the top of the namespace.
    pub parent: Option<String>,
    pub name: String,
    /// The folder's own permissions; `None` when it inherits its parent's.
    pub permissions: Option<Vec<Permission>>,
    /// The permissions that apply: its own, or the nearest ancestor's that sets some.
    pub effective_permissions: Vec<Permission>,
    /// What the signed-in user may do here (`None` where no user is concerned).
    #[serde(default)]
    pub access: Option<Access>,
}

/// A service, model or form without its content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemInfo {
    pub id: String,
    /// The folder that holds it; `None` at the top of the namespace.
    pub folder: Option<String>,
    pub kind: ItemKind,
    pub name: String,
    /// Size of the content in bytes.
    pub size: u64,
    /// Counts the saves of the content, from 1.
    pub revision: u64,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub updated_by: String,
}

/// An item with its content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemDocument {
    pub info: ItemInfo,
    pub content: String,
}

/// A namespace with all its folders (items are listed per folder).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamespaceTree {
    pub namespace: NamespaceInfo,
    pub folders: Vec<FolderInfo>,
    /// What the signed-in user may do at the top level (`None` where no user is concerned).
    #[serde(default)]
    pub top_access: Option<Access>,
}

/// What an import does when the target folder already holds an entry of the same name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClashPolicy {
    /// Refuse the import and say so; nothing is written.
    Refuse,
    /// Import under a free name: `Name (2)`, `Name (3)`, …
    Copy,
}

/// What an import did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// The name the imported folder or item has now.
    pub name: String,
    /// Whether that name differs from the one in the file (see [`ClashPolicy::Copy`]).
    pub renamed: bool,
    pub folders: usize,
    pub items: usize,
    /// The schema version of the file, when it was older and its content was migrated.
    pub migrated_from: Option<u32>,
    /// How many folders came with permissions of their own that were not imported, because
    /// the importing user may not manage permissions where the import went (they inherit).
    #[serde(default)]
    pub permissions_dropped: usize,
}

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
}

impl AuditAction {
    /// Every action, in the order the audit page suggests them.
    pub const ALL: [AuditAction; 28] = [
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
        }
    }
}

/// What a user may do: administrators also reach Administration (backups among it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Modeler,
}

impl Role {
    /// The stored and wire name; also the name of the role in folder permissions.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Modeler => "modeler",
        }
    }

    /// The role with the stored name `text`.
    pub fn parse(text: &str) -> Option<Role> {
        [Role::Admin, Role::Modeler]
            .into_iter()
            .find(|role| role.as_str() == text)
    }
}

/// A user account as lists show it (never with its password).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub name: String,
    pub role: Role,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// One of the signed-in user's own sessions, as the Account page lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Names the session to end it (the SHA-256 of its token, never the token).
    pub id: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// The browser that signed in, as it named itself (cut short).
    pub agent: String,
    /// Whether it is the session of the page that asks.
    pub current: bool,
}

/// Who is signed in: the user's name and role. Every page and server function knows it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Actor {
    pub name: String,
    pub role: Role,
}

impl Actor {
    /// Whether this user may use Administration (users, audit log, backups).
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// What this user may do where `permissions` apply (`None`: nothing, not even see).
    /// Administrators manage everything: they back up and restore whole namespaces anyway.
    pub fn access(&self, permissions: &[Permission]) -> Option<Access> {
        if self.is_admin() {
            return Some(Access::Manage);
        }
        permissions
            .iter()
            .filter(|permission| match permission.principal.kind {
                PrincipalKind::User => permission.principal.name == self.name,
                PrincipalKind::Role => permission.principal.name == self.role.as_str(),
            })
            .map(|permission| permission.access)
            .max()
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

/// Where a backup came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackupOrigin {
    Created,
    Uploaded,
}

/// Where a backup stands.
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

/// What an accepted upload answers (`POST /api/backups/upload`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uploaded {
    pub backup: BackupInfo,
    /// Set when the same file is listed already (it is listed again, never overwritten).
    pub duplicate_of: Option<String>,
}

/// What a plain route answers when it refuses or fails: `{"error": "…"}`, a message for a
/// person that says what to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReply {
    pub error: String,
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
}

/// What a job does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    Backup,
    Restore,
}

/// Where a job stands.
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
}
