//! The explorer's server functions: namespaces, folders and items. Each takes the actor and
//! asks [`crate::domain::content::operations`], which checks access and records the audit.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;
use crate::types::{
    ClashPolicy, FolderInfo, ImportReport, ItemDocument, ItemInfo, ItemKind, NamespaceInfo,
    NamespaceTree, Permission,
};

#[cfg(feature = "ssr")]
use crate::domain::content::{access, namespace, operations};

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
    super::respond(operations::create_namespace(&db, &actor, &name, &title).await)
}

/// Changes a namespace's title (administrators).
#[server(input = Json, endpoint = "set_namespace_title")]
pub async fn set_namespace_title(name: String, title: String) -> Result<NamespaceInfo, AppError> {
    let actor = super::admin()?;
    let db = super::services()?.db;
    super::respond(operations::set_namespace_title(&db, &actor, &name, &title).await)
}

/// Deletes a namespace and its content; its backups stay (administrators).
#[server(input = Json, endpoint = "delete_namespace")]
pub async fn delete_namespace(name: String) -> Result<(), AppError> {
    let actor = super::admin()?;
    let db = super::services()?.db;
    super::respond(operations::delete_namespace(&db, &actor, &name).await)
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
    let parent = parent.as_deref();
    super::respond(operations::create_folder(&db, &actor, &namespace, parent, &name).await)
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
    super::respond(operations::rename_folder(&db, &actor, &namespace, &id, &name).await)
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
    let parent = parent.as_deref();
    super::respond(operations::move_folder(&db, &actor, &namespace, &id, parent).await)
}

/// Deletes a folder with everything in it; returns how many folders and items went.
#[server(input = Json, endpoint = "delete_folder")]
pub async fn delete_folder(namespace: String, id: String) -> Result<(usize, usize), AppError> {
    let actor = super::actor()?;
    let db = super::services()?.db;
    super::respond(operations::delete_folder(&db, &actor, &namespace, &id).await)
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
    let set = operations::set_folder_permissions(&db, &actor, &namespace, &id, permissions);
    super::respond(set.await)
}

/// The items directly in `folder` (`None`: at the top).
#[server(input = Json, endpoint = "list_items")]
pub async fn list_items(
    namespace: String,
    folder: Option<String>,
) -> Result<Vec<ItemInfo>, AppError> {
    let actor = super::actor()?;
    let db = super::services()?.db;
    let folder = folder.as_deref();
    super::respond(operations::list_items(&db, &actor, &namespace, folder).await)
}

/// One item with its content.
#[server(input = Json, endpoint = "get_item")]
pub async fn get_item(namespace: String, id: String) -> Result<ItemDocument, AppError> {
    let actor = super::actor()?;
    let db = super::services()?.db;
    super::respond(operations::get_item(&db, &actor, &namespace, &id).await)
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
    let folder = folder.as_deref();
    super::respond(operations::create_item(&db, &actor, &namespace, folder, kind, &name).await)
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
    let saved =
        operations::save_item_content(&db, &actor, &namespace, &id, &content, base_revision);
    super::respond(saved.await)
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
    super::respond(operations::rename_item(&db, &actor, &namespace, &id, &name).await)
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
    let folder = folder.as_deref();
    super::respond(operations::move_item(&db, &actor, &namespace, &id, folder).await)
}

/// Deletes an item.
#[server(input = Json, endpoint = "delete_item")]
pub async fn delete_item(namespace: String, id: String) -> Result<(), AppError> {
    let actor = super::actor()?;
    let db = super::services()?.db;
    super::respond(operations::delete_item(&db, &actor, &namespace, &id).await)
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
    let folder = folder.as_deref();
    super::respond(operations::import(&db, &actor, &namespace, folder, &file, policy).await)
}
