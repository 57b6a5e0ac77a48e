//! The explorer's server functions: namespaces, folders and items.

#[cfg(feature = "ssr")]
use crate::types::AuditAction;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;
use crate::types::{
    ClashPolicy, FolderInfo, ImportReport, ItemDocument, ItemInfo, ItemKind, NamespaceInfo,
    NamespaceTree, Permission,
};

#[cfg(feature = "ssr")]
use crate::domain::content::access::{self, FolderAccess};
#[cfg(feature = "ssr")]
use crate::domain::content::{self, folder, item, namespace};
#[cfg(feature = "ssr")]
use crate::types::Access;

/// Every namespace, sorted by name.
#[server(input = Json, endpoint = "list_namespaces")]
pub async fn list_namespaces() -> Result<Vec<NamespaceInfo>, AppError> {
    super::actor()?;
    let db = super::services()?.db;
    super::respond(namespace::list(&db).await)
}

/// Creates an empty namespace (administrators).
#[server(input = Json, endpoint = "create_namespace")]
pub async fn create_namespace(name: String, title: String) -> Result<NamespaceInfo, AppError> {
    let actor = super::admin()?;
    let db = super::services()?.db;
    let created = namespace::create(&db, &name, &title).await;
    audit_change(
        &db,
        &actor,
        AuditAction::NamespaceCreate,
        &name,
        created,
        |_| String::new(),
    )
    .await
}

/// Changes a namespace's title (administrators).
#[server(input = Json, endpoint = "set_namespace_title")]
pub async fn set_namespace_title(name: String, title: String) -> Result<NamespaceInfo, AppError> {
    let actor = super::admin()?;
    let db = super::services()?.db;
    let changed = namespace::set_title(&db, &name, &title).await;
    audit_change(
        &db,
        &actor,
        AuditAction::NamespaceRetitle,
        &name,
        changed,
        |info| format!("title \u{201c}{}\u{201d}", info.title),
    )
    .await
}

/// Deletes a namespace and its content; its backups stay (administrators).
#[server(input = Json, endpoint = "delete_namespace")]
pub async fn delete_namespace(name: String) -> Result<(), AppError> {
    let actor = super::admin()?;
    let db = super::services()?.db;
    let deleted = namespace::delete(&db, &name).await;
    audit_change(
        &db,
        &actor,
        AuditAction::NamespaceDelete,
        &name,
        deleted,
        |()| String::new(),
    )
    .await
}

/// A namespace with all its folders.
#[server(input = Json, endpoint = "get_namespace_tree")]
pub async fn get_namespace_tree(namespace: String) -> Result<NamespaceTree, AppError> {
    let actor = super::actor()?;
    let db = super::services()?.db;
    super::respond(access::visible_tree(&db, &namespace, &actor).await)
}

/// Creates a folder in `parent` (`None`: at the top).
#[server(input = Json, endpoint = "create_folder")]
pub async fn create_folder(
    namespace: String,
    parent: Option<String>,
    name: String,
) -> Result<FolderInfo, AppError> {
    let actor = super::actor()?;
    let db = super::services()?.db;
    let created = async {
        FolderAccess::load(&db, &namespace, &actor)
            .await?
            .require(parent.as_deref(), Access::Write)?;
        folder::create(&db, &namespace, parent.as_deref(), &name).await
    }
    .await;
    audit_change(
        &db,
        &actor,
        AuditAction::FolderCreate,
        &namespace,
        created,
        folder_named,
    )
    .await
}

/// Renames a folder.
#[server(input = Json, endpoint = "rename_folder")]
pub async fn rename_folder(
    namespace: String,
    id: String,
    name: String,
) -> Result<FolderInfo, AppError> {
    let actor = super::actor()?;
    let db = super::services()?.db;
    let renamed = async {
        FolderAccess::load(&db, &namespace, &actor)
            .await?
            .require(Some(&id), Access::Write)?;
        folder::rename(&db, &namespace, &id, &name).await
    }
    .await;
    audit_change(
        &db,
        &actor,
        AuditAction::FolderRename,
        &namespace,
        renamed,
        folder_named,
    )
    .await
}

/// Moves a folder into `parent` (`None`: to the top).
#[server(input = Json, endpoint = "move_folder")]
pub async fn move_folder(
    namespace: String,
    id: String,
    parent: Option<String>,
) -> Result<FolderInfo, AppError> {
    let actor = super::actor()?;
    let db = super::services()?.db;
    let moved = async {
        let access = FolderAccess::load(&db, &namespace, &actor).await?;
        access.require(Some(&id), Access::Write)?;
        access.require(parent.as_deref(), Access::Write)?;
        folder::move_to(&db, &namespace, &id, parent.as_deref()).await
    }
    .await;
    audit_change(
        &db,
        &actor,
        AuditAction::FolderMove,
        &namespace,
        moved,
        folder_named,
    )
    .await
}

/// Deletes a folder with everything in it; returns how many folders and items went.
#[server(input = Json, endpoint = "delete_folder")]
pub async fn delete_folder(namespace: String, id: String) -> Result<(usize, usize), AppError> {
    let actor = super::actor()?;
    let db = super::services()?.db;
    let deleted = async {
        let access = FolderAccess::load(&db, &namespace, &actor).await?;
        access.require_subtree(&id, Access::Write)?;
        let name = access.name_of(&id).unwrap_or_default();
        folder::delete(&db, &namespace, &id)
            .await
            .map(|counts| (counts, name))
    }
    .await;
    let deleted = audit_change(
        &db,
        &actor,
        AuditAction::FolderDelete,
        &namespace,
        deleted,
        |(counts, name)| {
            format!(
                "folder `{name}` with {} folders and {} items",
                counts.0, counts.1
            )
        },
    )
    .await?;
    Ok(deleted.0)
}

/// Sets a folder's own permissions, or (`None`) makes it inherit again.
#[server(input = Json, endpoint = "set_folder_permissions")]
pub async fn set_folder_permissions(
    namespace: String,
    id: String,
    permissions: Option<Vec<Permission>>,
) -> Result<FolderInfo, AppError> {
    let actor = super::actor()?;
    let db = super::services()?.db;
    let set = async {
        FolderAccess::load(&db, &namespace, &actor)
            .await?
            .require(Some(&id), Access::Manage)?;
        folder::set_permissions(&db, &namespace, &id, permissions).await
    }
    .await;
    audit_change(
        &db,
        &actor,
        AuditAction::FolderPermissions,
        &namespace,
        set,
        |folder| {
            let what = match &folder.permissions {
                None => "inherited".to_string(),
                Some(list) => list
                    .iter()
                    .map(|p| {
                        format!(
                            "{}:{}:{}",
                            p.principal.kind.as_str(),
                            p.principal.name,
                            p.access.as_str()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            format!("folder `{}`: {what}", folder.name)
        },
    )
    .await
}

/// The items directly in `folder` (`None`: at the top).
#[server(input = Json, endpoint = "list_items")]
pub async fn list_items(
    namespace: String,
    folder: Option<String>,
) -> Result<Vec<ItemInfo>, AppError> {
    let actor = super::actor()?;
    let db = super::services()?.db;
    let listed = async {
        FolderAccess::load(&db, &namespace, &actor)
            .await?
            .require(folder.as_deref(), Access::Read)?;
        item::list(&db, &namespace, folder.as_deref()).await
    }
    .await;
    super::respond(listed)
}

/// One item with its content.
#[server(input = Json, endpoint = "get_item")]
pub async fn get_item(namespace: String, id: String) -> Result<ItemDocument, AppError> {
    let actor = super::actor()?;
    let db = super::services()?.db;
    let found = access::item_with(&db, &namespace, &id, &actor, Access::Read).await;
    super::respond(found.map(|(document, _)| document))
}

/// Creates an empty item.
#[server(input = Json, endpoint = "create_item")]
pub async fn create_item(
    namespace: String,
    folder: Option<String>,
    kind: ItemKind,
    name: String,
) -> Result<ItemInfo, AppError> {
    let actor = super::actor()?;
    let db = super::services()?.db;
    let created = async {
        FolderAccess::load(&db, &namespace, &actor)
            .await?
            .require(folder.as_deref(), Access::Write)?;
        let new = item::NewItem {
            folder: folder.as_deref(),
            kind,
            name: &name,
            content: "",
        };
        item::create(&db, &namespace, new, &actor.name).await
    }
    .await;
    audit_change(
        &db,
        &actor,
        AuditAction::ItemCreate,
        &namespace,
        created,
        item_named,
    )
    .await
}

/// Saves an item's content; refused when someone saved after `base_revision`.
#[server(input = Json, endpoint = "save_item_content")]
pub async fn save_item_content(
    namespace: String,
    id: String,
    content: String,
    base_revision: u64,
) -> Result<ItemInfo, AppError> {
    let actor = super::actor()?;
    let db = super::services()?.db;
    let saved = async {
        access::item_with(&db, &namespace, &id, &actor, Access::Write).await?;
        item::save_content(&db, &namespace, &id, &content, base_revision, &actor.name).await
    }
    .await;
    audit_change(
        &db,
        &actor,
        AuditAction::ItemSave,
        &namespace,
        saved,
        |info| format!("{}, revision {}", item_named(info), info.revision),
    )
    .await
}

/// Renames an item.
#[server(input = Json, endpoint = "rename_item")]
pub async fn rename_item(
    namespace: String,
    id: String,
    name: String,
) -> Result<ItemInfo, AppError> {
    let actor = super::actor()?;
    let db = super::services()?.db;
    let renamed = async {
        access::item_with(&db, &namespace, &id, &actor, Access::Write).await?;
        item::rename(&db, &namespace, &id, &name).await
    }
    .await;
    audit_change(
        &db,
        &actor,
        AuditAction::ItemRename,
        &namespace,
        renamed,
        item_named,
    )
    .await
}

/// Moves an item into `folder` (`None`: to the top).
#[server(input = Json, endpoint = "move_item")]
pub async fn move_item(
    namespace: String,
    id: String,
    folder: Option<String>,
) -> Result<ItemInfo, AppError> {
    let actor = super::actor()?;
    let db = super::services()?.db;
    let moved = async {
        let (_, access) = access::item_with(&db, &namespace, &id, &actor, Access::Write).await?;
        access.require(folder.as_deref(), Access::Write)?;
        item::move_to(&db, &namespace, &id, folder.as_deref()).await
    }
    .await;
    audit_change(
        &db,
        &actor,
        AuditAction::ItemMove,
        &namespace,
        moved,
        item_named,
    )
    .await
}

/// Deletes an item.
#[server(input = Json, endpoint = "delete_item")]
pub async fn delete_item(namespace: String, id: String) -> Result<(), AppError> {
    let actor = super::actor()?;
    let db = super::services()?.db;
    let deleted = async {
        let (document, _) = access::item_with(&db, &namespace, &id, &actor, Access::Write).await?;
        item::delete(&db, &namespace, &id).await?;
        Ok(document.info)
    }
    .await;
    audit_change(
        &db,
        &actor,
        AuditAction::ItemDelete,
        &namespace,
        deleted,
        item_named,
    )
    .await
    .map(|_| ())
}

/// Imports an export file (its text) into `folder` (`None`: the top level).
#[server(input = Json, endpoint = "import_entry")]
pub async fn import_entry(
    namespace: String,
    folder: Option<String>,
    file: String,
    policy: ClashPolicy,
) -> Result<ImportReport, AppError> {
    let actor = super::actor()?;
    let db = super::services()?.db;
    let imported = async {
        let access = FolderAccess::load(&db, &namespace, &actor).await?;
        access.require(folder.as_deref(), Access::Write)?;
        let keep_permissions = access.level(folder.as_deref()) == Some(Access::Manage);
        content::transfer::import(
            &db,
            &namespace,
            folder.as_deref(),
            &file,
            policy,
            keep_permissions,
            &actor.name,
        )
        .await
    }
    .await;
    audit_change(
        &db,
        &actor,
        AuditAction::Import,
        &namespace,
        imported,
        |report| {
            let mut detail = format!(
                "`{}` ({} folders, {} items)",
                report.name, report.folders, report.items
            );
            if report.permissions_dropped > 0 {
                detail.push_str(&format!(
                    "; permissions of {} folders not imported",
                    report.permissions_dropped
                ));
            }
            detail
        },
    )
    .await
}

/// Records a change's outcome in the audit log (action on namespace `ns`; on success
/// `describe` says what was changed, a refusal its reason) and converts it for the wire.
#[cfg(feature = "ssr")]
async fn audit_change<T>(
    db: &crate::domain::Db,
    actor: &crate::types::Actor,
    action: AuditAction,
    ns: &str,
    result: Result<T, crate::domain::DomainError>,
    describe: impl FnOnce(&T) -> String,
) -> Result<T, AppError> {
    let detail = result.as_ref().map(describe).unwrap_or_default();
    super::audited(db, actor, action, ns, &detail, result).await
}

#[cfg(feature = "ssr")]
fn folder_named(folder: &FolderInfo) -> String {
    format!("folder `{}`", folder.name)
}

#[cfg(feature = "ssr")]
fn item_named(item: &ItemInfo) -> String {
    format!("{} `{}`", item.kind.as_str(), item.name)
}
