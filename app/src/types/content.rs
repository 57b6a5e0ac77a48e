//! Namespaces and their content: folders with permissions, items, imports.

use serde::{Deserialize, Serialize};

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
