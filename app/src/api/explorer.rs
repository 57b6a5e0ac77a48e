//! The explorer's server functions: namespaces, folders and items.

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
    super::admin()?;
    let db = super::services()?.db;
    super::respond(namespace::create(&db, &name, &title).await)
}

/// Changes a namespace's title (administrators).
#[server(input = Json, endpoint = "set_namespace_title")]
pub async fn set_namespace_title(name: String, title: String) -> Result<NamespaceInfo, AppError> {
    super::admin()?;
    let db = super::services()?.db;
    super::respond(namespace::set_title(&db, &name, &title).await)
}

/// Deletes a namespace and its content; its backups stay (administrators).
#[server(input = Json, endpoint = "delete_namespace")]
pub async fn delete_namespace(name: String) -> Result<(), AppError> {
    super::admin()?;
    let db = super::services()?.db;
    super::respond(namespace::delete(&db, &name).await)
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
    let db = super::services()?.db;
    let allowed = can(&db, &namespace, parent.as_deref(), Access::Write).await;
    super::respond(allowed)?;
    super::respond(folder::create(&db, &namespace, parent.as_deref(), &name).await)
}

/// Renames a folder.
#[server(input = Json, endpoint = "rename_folder")]
pub async fn rename_folder(
    namespace: String,
    id: String,
    name: String,
) -> Result<FolderInfo, AppError> {
    let db = super::services()?.db;
    super::respond(can(&db, &namespace, Some(&id), Access::Write).await)?;
    super::respond(folder::rename(&db, &namespace, &id, &name).await)
}

/// Moves a folder into `parent` (`None`: to the top).
#[server(input = Json, endpoint = "move_folder")]
pub async fn move_folder(
    namespace: String,
    id: String,
    parent: Option<String>,
) -> Result<FolderInfo, AppError> {
    let db = super::services()?.db;
    let access = super::respond(load(&db, &namespace).await)?;
    super::respond(access.require(Some(&id), Access::Write))?;
    super::respond(access.require(parent.as_deref(), Access::Write))?;
    super::respond(folder::move_to(&db, &namespace, &id, parent.as_deref()).await)
}

/// Deletes a folder with everything in it; returns how many folders and items went.
#[server(input = Json, endpoint = "delete_folder")]
pub async fn delete_folder(namespace: String, id: String) -> Result<(usize, usize), AppError> {
    let db = super::services()?.db;
    let access = super::respond(load(&db, &namespace).await)?;
    super::respond(access.require_subtree(&id, Access::Write))?;
    super::respond(folder::delete(&db, &namespace, &id).await)
}

/// Sets a folder's own permissions, or (`None`) makes it inherit again.
#[server(input = Json, endpoint = "set_folder_permissions")]
pub async fn set_folder_permissions(
    namespace: String,
    id: String,
    permissions: Option<Vec<Permission>>,
) -> Result<FolderInfo, AppError> {
    let db = super::services()?.db;
    super::respond(can(&db, &namespace, Some(&id), Access::Manage).await)?;
    super::respond(folder::set_permissions(&db, &namespace, &id, permissions).await)
}

/// The items directly in `folder` (`None`: at the top).
#[server(input = Json, endpoint = "list_items")]
pub async fn list_items(
    namespace: String,
    folder: Option<String>,
) -> Result<Vec<ItemInfo>, AppError> {
    let db = super::services()?.db;
    super::respond(can(&db, &namespace, folder.as_deref(), Access::Read).await)?;
    super::respond(item::list(&db, &namespace, folder.as_deref()).await)
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
    super::respond(can(&db, &namespace, folder.as_deref(), Access::Write).await)?;
    let new = item::NewItem {
        folder: folder.as_deref(),
        kind,
        name: &name,
        content: "",
    };
    super::respond(item::create(&db, &namespace, new, &actor.name).await)
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
    super::respond(access::item_with(&db, &namespace, &id, &actor, Access::Write).await)?;
    let saved =
        item::save_content(&db, &namespace, &id, &content, base_revision, &actor.name).await;
    super::respond(saved)
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
    super::respond(access::item_with(&db, &namespace, &id, &actor, Access::Write).await)?;
    super::respond(item::rename(&db, &namespace, &id, &name).await)
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
    let found = access::item_with(&db, &namespace, &id, &actor, Access::Write).await;
    let (_, access) = super::respond(found)?;
    super::respond(access.require(folder.as_deref(), Access::Write))?;
    super::respond(item::move_to(&db, &namespace, &id, folder.as_deref()).await)
}

/// Deletes an item.
#[server(input = Json, endpoint = "delete_item")]
pub async fn delete_item(namespace: String, id: String) -> Result<(), AppError> {
    let actor = super::actor()?;
    let db = super::services()?.db;
    super::respond(access::item_with(&db, &namespace, &id, &actor, Access::Write).await)?;
    super::respond(item::delete(&db, &namespace, &id).await)
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
    super::respond(can(&db, &namespace, folder.as_deref(), Access::Write).await)?;
    let imported = content::transfer::import(
        &db,
        &namespace,
        folder.as_deref(),
        &file,
        policy,
        &actor.name,
    )
    .await;
    super::respond(imported)
}

/// What the signed-in user may do in namespace `ns`.
#[cfg(feature = "ssr")]
async fn load(db: &crate::domain::Db, ns: &str) -> Result<FolderAccess, AppError> {
    let actor = super::actor()?;
    Ok(FolderAccess::load(db, ns, &actor).await?)
}

/// Fails unless the signed-in user has `needed` in `folder` of `ns` (`None`: the top level).
#[cfg(feature = "ssr")]
async fn can(
    db: &crate::domain::Db,
    ns: &str,
    folder: Option<&str>,
    needed: Access,
) -> Result<(), AppError> {
    Ok(load(db, ns).await?.require(folder, needed)?)
}
