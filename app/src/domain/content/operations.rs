//! What a person does to a namespace's content, with the rules that go with it: each
//! operation checks the actor's folder access ([`FolderAccess`]), acts, and records its
//! outcome in the audit log — a success with what it changed, a refusal with its reason.
//! The explorer's server functions, the export download and any later caller (the command
//! line, a restore of one item) go through here, so they cannot differ in their rules.
//!
//! Who may call an operation at all (signed in; administrators for namespaces) is the web
//! layer's rules table; the modules beside this one are the content's storage, without rules.

use crate::domain::audit;
use crate::domain::{Db, DomainError};
use crate::types::{
    Access, Actor, AuditAction, ClashPolicy, FolderInfo, ImportReport, ItemDocument, ItemInfo,
    ItemKind, NamespaceInfo, Permission,
};

use super::access::{self, FolderAccess};
use super::transfer::{self, ExportFile, ExportTarget};
use super::{folder, item, namespace};

/// Records how `action` on namespace `ns` by `actor` ended and passes `result` on; a success
/// is described by `describe`, an error by its message ([`audit::audited`]).
async fn recorded<T>(
    db: &Db,
    actor: &Actor,
    action: AuditAction,
    ns: &str,
    result: Result<T, DomainError>,
    describe: impl FnOnce(&T) -> String,
) -> Result<T, DomainError> {
    let detail = result.as_ref().map(describe).unwrap_or_default();
    audit::audited(db, &actor.name, action, ns, &detail, result).await
}

/// `actor`'s access to namespace `ns`, having checked that it reaches `needed` in `folder`
/// (`None`: the top level).
async fn allowed(
    db: &Db,
    actor: &Actor,
    ns: &str,
    folder: Option<&str>,
    needed: Access,
) -> Result<FolderAccess, DomainError> {
    let access = FolderAccess::load(db, ns, actor).await?;
    access.require(folder, needed)?;
    Ok(access)
}

fn folder_named(folder: &FolderInfo) -> String {
    format!("folder `{}`", folder.name)
}

fn item_named(item: &ItemInfo) -> String {
    format!("{} `{}`", item.kind.as_str(), item.name)
}

/// Creates an empty namespace.
///
/// # Errors
///
/// What [`namespace::create`] refuses; a database error.
pub async fn create_namespace(
    db: &Db,
    actor: &Actor,
    name: &str,
    title: &str,
) -> Result<NamespaceInfo, DomainError> {
    let created = namespace::create(db, name, title).await;
    recorded(
        db,
        actor,
        AuditAction::NamespaceCreate,
        name,
        created,
        |_| String::new(),
    )
    .await
}

/// Changes a namespace's title.
///
/// # Errors
///
/// What [`namespace::set_title`] refuses; a database error.
pub async fn set_namespace_title(
    db: &Db,
    actor: &Actor,
    name: &str,
    title: &str,
) -> Result<NamespaceInfo, DomainError> {
    let changed = namespace::set_title(db, name, title).await;
    recorded(
        db,
        actor,
        AuditAction::NamespaceRetitle,
        name,
        changed,
        |info| format!("title \u{201c}{}\u{201d}", info.title),
    )
    .await
}

/// Deletes a namespace and its content; its backups stay.
///
/// # Errors
///
/// What [`namespace::delete`] refuses; a database error.
pub async fn delete_namespace(db: &Db, actor: &Actor, name: &str) -> Result<(), DomainError> {
    let deleted = namespace::delete(db, name).await;
    recorded(
        db,
        actor,
        AuditAction::NamespaceDelete,
        name,
        deleted,
        |()| String::new(),
    )
    .await
}

/// Creates a folder in `parent` (`None`: at the top); needs write access there.
///
/// # Errors
///
/// [`DomainError::Forbidden`] without access; what [`folder::create`] refuses.
pub async fn create_folder(
    db: &Db,
    actor: &Actor,
    ns: &str,
    parent: Option<&str>,
    name: &str,
) -> Result<FolderInfo, DomainError> {
    let created = async {
        allowed(db, actor, ns, parent, Access::Write).await?;
        folder::create(db, ns, parent, name).await
    }
    .await;
    recorded(
        db,
        actor,
        AuditAction::FolderCreate,
        ns,
        created,
        folder_named,
    )
    .await
}

/// Renames a folder; needs write access to it.
///
/// # Errors
///
/// [`DomainError::Forbidden`] without access; what [`folder::rename`] refuses.
pub async fn rename_folder(
    db: &Db,
    actor: &Actor,
    ns: &str,
    id: &str,
    name: &str,
) -> Result<FolderInfo, DomainError> {
    let renamed = async {
        allowed(db, actor, ns, Some(id), Access::Write).await?;
        folder::rename(db, ns, id, name).await
    }
    .await;
    recorded(
        db,
        actor,
        AuditAction::FolderRename,
        ns,
        renamed,
        folder_named,
    )
    .await
}

/// Moves a folder into `parent` (`None`: to the top); needs write access to both.
///
/// # Errors
///
/// [`DomainError::Forbidden`] without access; what [`folder::move_to`] refuses.
pub async fn move_folder(
    db: &Db,
    actor: &Actor,
    ns: &str,
    id: &str,
    parent: Option<&str>,
) -> Result<FolderInfo, DomainError> {
    let moved = async {
        allowed(db, actor, ns, Some(id), Access::Write)
            .await?
            .require(parent, Access::Write)?;
        folder::move_to(db, ns, id, parent).await
    }
    .await;
    recorded(db, actor, AuditAction::FolderMove, ns, moved, folder_named).await
}

/// Deletes a folder with everything in it; needs write access to all of it. Returns how
/// many folders and items went.
///
/// # Errors
///
/// [`DomainError::Forbidden`] without access; what [`folder::delete`] refuses.
pub async fn delete_folder(
    db: &Db,
    actor: &Actor,
    ns: &str,
    id: &str,
) -> Result<(usize, usize), DomainError> {
    let deleted = async {
        let access = FolderAccess::load(db, ns, actor).await?;
        access.require_subtree(id, Access::Write)?;
        let name = access.name_of(id).unwrap_or_default();
        folder::delete(db, ns, id)
            .await
            .map(|counts| (counts, name))
    }
    .await;
    let (counts, _) = recorded(
        db,
        actor,
        AuditAction::FolderDelete,
        ns,
        deleted,
        |(counts, name)| {
            format!(
                "folder `{name}` with {} folders and {} items",
                counts.0, counts.1
            )
        },
    )
    .await?;
    Ok(counts)
}

/// Sets a folder's own permissions, or (`None`) makes it inherit again; needs manage access.
///
/// # Errors
///
/// [`DomainError::Forbidden`] without access; what [`folder::set_permissions`] refuses.
pub async fn set_folder_permissions(
    db: &Db,
    actor: &Actor,
    ns: &str,
    id: &str,
    permissions: Option<Vec<Permission>>,
) -> Result<FolderInfo, DomainError> {
    let set = async {
        allowed(db, actor, ns, Some(id), Access::Manage).await?;
        folder::set_permissions(db, ns, id, permissions).await
    }
    .await;
    recorded(
        db,
        actor,
        AuditAction::FolderPermissions,
        ns,
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

/// The items directly in `folder` (`None`: at the top); needs read access there.
///
/// # Errors
///
/// [`DomainError::Forbidden`] without access; a database error.
pub async fn list_items(
    db: &Db,
    actor: &Actor,
    ns: &str,
    folder: Option<&str>,
) -> Result<Vec<ItemInfo>, DomainError> {
    allowed(db, actor, ns, folder, Access::Read).await?;
    item::list(db, ns, folder).await
}

/// One item with its content; needs read access to its folder.
///
/// # Errors
///
/// [`DomainError::NotFound`] for an unknown item, [`DomainError::Forbidden`] without access.
pub async fn get_item(
    db: &Db,
    actor: &Actor,
    ns: &str,
    id: &str,
) -> Result<ItemDocument, DomainError> {
    let (document, _) = access::item_with(db, ns, id, actor, Access::Read).await?;
    Ok(document)
}

/// Creates an empty item in `folder` (`None`: at the top); needs write access there.
///
/// # Errors
///
/// [`DomainError::Forbidden`] without access; what [`item::create`] refuses.
pub async fn create_item(
    db: &Db,
    actor: &Actor,
    ns: &str,
    folder: Option<&str>,
    kind: ItemKind,
    name: &str,
) -> Result<ItemInfo, DomainError> {
    let created = async {
        allowed(db, actor, ns, folder, Access::Write).await?;
        let new = item::NewItem {
            folder,
            kind,
            name,
            content: "",
        };
        item::create(db, ns, new, &actor.name).await
    }
    .await;
    recorded(db, actor, AuditAction::ItemCreate, ns, created, item_named).await
}

/// Saves an item's content; refused when someone saved after `base_revision`. Needs write
/// access to the item's folder.
///
/// # Errors
///
/// [`DomainError::Forbidden`] without access; what [`item::save_content`] refuses.
pub async fn save_item_content(
    db: &Db,
    actor: &Actor,
    ns: &str,
    id: &str,
    content: &str,
    base_revision: u64,
) -> Result<ItemInfo, DomainError> {
    let saved = async {
        access::item_with(db, ns, id, actor, Access::Write).await?;
        item::save_content(db, ns, id, content, base_revision, &actor.name).await
    }
    .await;
    recorded(db, actor, AuditAction::ItemSave, ns, saved, |info| {
        format!("{}, revision {}", item_named(info), info.revision)
    })
    .await
}

/// Renames an item; needs write access to its folder.
///
/// # Errors
///
/// [`DomainError::Forbidden`] without access; what [`item::rename`] refuses.
pub async fn rename_item(
    db: &Db,
    actor: &Actor,
    ns: &str,
    id: &str,
    name: &str,
) -> Result<ItemInfo, DomainError> {
    let renamed = async {
        access::item_with(db, ns, id, actor, Access::Write).await?;
        item::rename(db, ns, id, name).await
    }
    .await;
    recorded(db, actor, AuditAction::ItemRename, ns, renamed, item_named).await
}

/// Moves an item into `folder` (`None`: to the top); needs write access to both folders.
///
/// # Errors
///
/// [`DomainError::Forbidden`] without access; what [`item::move_to`] refuses.
pub async fn move_item(
    db: &Db,
    actor: &Actor,
    ns: &str,
    id: &str,
    folder: Option<&str>,
) -> Result<ItemInfo, DomainError> {
    let moved = async {
        let (_, access) = access::item_with(db, ns, id, actor, Access::Write).await?;
        access.require(folder, Access::Write)?;
        item::move_to(db, ns, id, folder).await
    }
    .await;
    recorded(db, actor, AuditAction::ItemMove, ns, moved, item_named).await
}

/// Deletes an item; needs write access to its folder.
///
/// # Errors
///
/// [`DomainError::Forbidden`] without access; what [`item::delete`] refuses.
pub async fn delete_item(db: &Db, actor: &Actor, ns: &str, id: &str) -> Result<(), DomainError> {
    let deleted = async {
        let (document, _) = access::item_with(db, ns, id, actor, Access::Write).await?;
        item::delete(db, ns, id).await?;
        Ok(document.info)
    }
    .await;
    recorded(db, actor, AuditAction::ItemDelete, ns, deleted, item_named)
        .await
        .map(|_| ())
}

/// Imports an export file (its text) into `folder` (`None`: the top level); needs write
/// access there. Folder permissions come along only with manage access there.
///
/// # Errors
///
/// [`DomainError::Forbidden`] without access; what [`transfer::import`] refuses.
pub async fn import(
    db: &Db,
    actor: &Actor,
    ns: &str,
    folder: Option<&str>,
    file: &str,
    policy: ClashPolicy,
) -> Result<ImportReport, DomainError> {
    let imported = async {
        let access = allowed(db, actor, ns, folder, Access::Write).await?;
        let keep_permissions = access.level(folder) == Some(Access::Manage);
        transfer::import(db, ns, folder, file, policy, keep_permissions, &actor.name).await
    }
    .await;
    recorded(db, actor, AuditAction::Import, ns, imported, |report| {
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
    })
    .await
}

/// One folder with everything in it, or one item, as an export file and its file name;
/// needs read access to all of it.
///
/// # Errors
///
/// [`DomainError::Forbidden`] without access; what [`transfer::export`] refuses.
pub async fn export(
    db: &Db,
    actor: &Actor,
    ns: &str,
    target: &ExportTarget,
) -> Result<(String, ExportFile), DomainError> {
    let exported = async {
        match target {
            ExportTarget::Folder(id) => FolderAccess::load(db, ns, actor)
                .await?
                .require_subtree(id, Access::Read)?,
            ExportTarget::Item(id) => {
                access::item_with(db, ns, id, actor, Access::Read).await?;
            }
        }
        transfer::export(db, ns, target).await
    }
    .await;
    recorded(
        db,
        actor,
        AuditAction::Export,
        ns,
        exported,
        |(file_name, file)| {
            format!(
                "{file_name} ({} folders, {} items)",
                file.folders.len(),
                file.items.len()
            )
        },
    )
    .await
}
