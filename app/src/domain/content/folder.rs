//! Folders: a tree inside a namespace, each with a name unique among its siblings and
//! permissions of its own or inherited.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use super::{
    Field, Siblings, active_generation, change_entry, ensure_name_free, map_duplicate, namespace,
    new_id, permissions,
};
use crate::domain::db::{check_transaction, take_json};
use crate::domain::{Db, DomainError};
use crate::types::{FolderInfo, NamespaceTree, Permission};
use crate::validate;

#[derive(Debug, Deserialize)]
struct FolderRow {
    id: String,
    parent: Option<String>,
    name: String,
    permissions: Option<Vec<Permission>>,
}

async fn rows(db: &Db, generation: &str) -> Result<Vec<FolderRow>, DomainError> {
    let mut response = db
        .query("SELECT id[1] AS id, parent, name, permissions FROM folder:[$gen, NONE]..[$gen, {}]")
        .bind(("gen", generation.to_string()))
        .await?;
    take_json(&mut response, 0)
}

/// A namespace with all its folders, sorted by name, each with the permissions that apply.
///
/// # Errors
///
/// [`DomainError::NotFound`] for a missing namespace.
pub async fn tree(db: &Db, ns: &str) -> Result<NamespaceTree, DomainError> {
    let generation = active_generation(db, ns).await?;
    let namespace = namespace::get(db, ns).await?;
    let rows = rows(db, &generation).await?;
    let by_id: HashMap<String, (Option<String>, Option<Vec<Permission>>)> = rows
        .iter()
        .map(|row| {
            (
                row.id.clone(),
                (row.parent.clone(), row.permissions.clone()),
            )
        })
        .collect();
    let mut effective = permissions::effective(&by_id);
    let mut folders: Vec<FolderInfo> = rows
        .into_iter()
        .map(|row| FolderInfo {
            effective_permissions: effective.remove(&row.id).unwrap_or_default(),
            id: row.id,
            parent: row.parent,
            name: row.name,
            permissions: row.permissions,
            access: None,
        })
        .collect();
    folders.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then(a.id.cmp(&b.id))
    });
    Ok(NamespaceTree {
        namespace,
        folders,
        top_access: None,
    })
}

async fn folder_in(db: &Db, ns: &str, id: &str) -> Result<FolderInfo, DomainError> {
    tree(db, ns)
        .await?
        .folders
        .into_iter()
        .find(|folder| folder.id == id)
        .ok_or_else(|| folder_not_found(ns))
}

fn folder_not_found(ns: &str) -> DomainError {
    DomainError::NotFound(format!(
        "That folder no longer exists in namespace `{ns}`. Someone may have deleted or moved it; reload the page."
    ))
}

/// Fails with [`DomainError::NotFound`] unless folder `id` exists in `generation`.
pub(crate) async fn ensure_exists(
    db: &Db,
    ns: &str,
    generation: &str,
    id: &str,
) -> Result<(), DomainError> {
    let exists: Option<bool> = db
        .query("RETURN record::exists(type::record('folder', [$gen, $id]))")
        .bind(("gen", generation.to_string()))
        .bind(("id", id.to_string()))
        .await?
        .take(0)?;
    if exists == Some(true) {
        Ok(())
    } else {
        Err(folder_not_found(ns))
    }
}

/// The refusal of a name that a sibling has. It reads the same whether that sibling is one
/// the user may see or not, so it does not tell a modeler what hidden folders are called
/// beyond the one fact that a name is unavailable (see `docs/architecture.md`).
fn name_taken(name: &str) -> DomainError {
    DomainError::Conflict(format!(
        "The name `{name}` is not available here: another folder in this place has it (possibly one you may not see). Choose another name."
    ))
}

/// How many folders deep folder `id` lies (1 at the top level). The walk up is bounded by
/// the number of folders, so a damaged chain cannot make it loop.
pub(crate) fn depth_of(folders: &[FolderInfo], id: &str) -> usize {
    depth_in(&parent_map(folders), id)
}

fn parent_map(folders: &[FolderInfo]) -> HashMap<&str, Option<&str>> {
    folders
        .iter()
        .map(|f| (f.id.as_str(), f.parent.as_deref()))
        .collect()
}

fn depth_in(parents: &HashMap<&str, Option<&str>>, id: &str) -> usize {
    let mut depth = 0;
    let mut current = Some(id);
    while let Some(id) = current {
        depth += 1;
        if depth > parents.len() {
            break;
        }
        current = parents.get(id).copied().flatten();
    }
    depth
}

/// The refusal of a folder that would lie deeper than [`validate::FOLDER_DEPTH_MAX`].
fn too_deep() -> DomainError {
    DomainError::Invalid(format!(
        "Folders nest at most {} levels deep. Create it nearer the top, or move some folders up first.",
        validate::FOLDER_DEPTH_MAX
    ))
}

/// Creates a folder in `parent` (`None`: at the top of the namespace). It inherits its
/// parent's permissions.
///
/// # Errors
///
/// [`DomainError::Invalid`] for a bad name, [`DomainError::NotFound`] for a missing namespace
/// or parent, [`DomainError::Conflict`] when the name is taken among its siblings.
pub async fn create(
    db: &Db,
    ns: &str,
    parent: Option<&str>,
    name: &str,
) -> Result<FolderInfo, DomainError> {
    let name = validate::entry_name(name).map_err(DomainError::Invalid)?;
    let generation = active_generation(db, ns).await?;
    if let Some(parent) = parent {
        let tree = tree(db, ns).await?;
        if !tree.folders.iter().any(|f| f.id == parent) {
            return Err(folder_not_found(ns));
        }
        if depth_of(&tree.folders, parent) >= validate::FOLDER_DEPTH_MAX {
            return Err(too_deep());
        }
    }
    ensure_name_free(
        db,
        Siblings::Folders,
        &generation,
        parent,
        &name,
        None,
        name_taken,
    )
    .await?;
    let id = new_id();
    db.query(
        "CREATE type::record('folder', [$gen, $id]) CONTENT {
             gen: $gen, parent: $parent, name: $name, permissions: NONE, created_at: time::now()
         }",
    )
    .bind(("gen", generation))
    .bind(("id", id.clone()))
    .bind(("parent", parent.map(str::to_string)))
    .bind(("name", name.clone()))
    .await
    .and_then(|response| response.check())
    .map_err(map_duplicate(&name, name_taken))?;
    folder_in(db, ns, &id).await
}

/// Renames a folder.
///
/// # Errors
///
/// As [`create`].
pub async fn rename(db: &Db, ns: &str, id: &str, name: &str) -> Result<FolderInfo, DomainError> {
    let name = validate::entry_name(name).map_err(DomainError::Invalid)?;
    let generation = active_generation(db, ns).await?;
    let current = folder_in(db, ns, id).await?;
    change_entry(
        db,
        Siblings::Folders,
        &generation,
        id,
        Field::Name,
        current.parent.as_deref(),
        &name,
        name_taken,
    )
    .await?;
    folder_in(db, ns, id).await
}

/// Moves a folder, with everything in it, into `parent` (`None`: to the top).
///
/// # Errors
///
/// [`DomainError::Invalid`] when `parent` is the folder itself or inside it, otherwise as
/// [`create`].
pub async fn move_to(
    db: &Db,
    ns: &str,
    id: &str,
    parent: Option<&str>,
) -> Result<FolderInfo, DomainError> {
    let generation = active_generation(db, ns).await?;
    let tree = tree(db, ns).await?;
    let folder = tree
        .folders
        .iter()
        .find(|f| f.id == id)
        .ok_or_else(|| folder_not_found(ns))?;
    if let Some(parent) = parent {
        if !tree.folders.iter().any(|f| f.id == parent) {
            return Err(folder_not_found(ns));
        }
        let moved = subtree(&tree.folders, id);
        if moved.contains(parent) {
            return Err(DomainError::Invalid(format!(
                "`{}` cannot be moved into itself or into one of its own folders.",
                folder.name
            )));
        }
        // The deepest folder of the moved branch, counted from the branch's top (1).
        let parents = parent_map(&tree.folders);
        let top = depth_in(&parents, id);
        let height = moved
            .iter()
            .map(|below| (depth_in(&parents, below) + 1).saturating_sub(top))
            .max()
            .unwrap_or(1);
        if depth_in(&parents, parent) + height > validate::FOLDER_DEPTH_MAX {
            return Err(too_deep());
        }
    }
    change_entry(
        db,
        Siblings::Folders,
        &generation,
        id,
        Field::Container,
        parent,
        &folder.name,
        name_taken,
    )
    .await?;
    folder_in(db, ns, id).await
}

/// Deletes a folder with its subfolders and all their items. Returns how many folders and
/// items went.
///
/// # Errors
///
/// [`DomainError::NotFound`] for a missing namespace or folder.
pub async fn delete(db: &Db, ns: &str, id: &str) -> Result<(usize, usize), DomainError> {
    let generation = active_generation(db, ns).await?;
    let tree = tree(db, ns).await?;
    if !tree.folders.iter().any(|f| f.id == id) {
        return Err(folder_not_found(ns));
    }
    let doomed: Vec<String> = subtree(&tree.folders, id).into_iter().collect();
    let mut response = db
        .query("SELECT VALUE id FROM item WHERE gen = $gen AND folder IN $folders")
        .bind(("gen", generation.clone()))
        .bind(("folders", doomed.clone()))
        .await?;
    let items: Vec<String> = take_json(&mut response, 0)?;
    db.query(
        "BEGIN TRANSACTION;
         DELETE item WHERE gen = $gen AND folder IN $folders;
         FOR $f IN $folders { DELETE type::record('folder', [$gen, $f]); };
         COMMIT TRANSACTION;",
    )
    .bind(("gen", generation))
    .bind(("folders", doomed.clone()))
    .await
    .and_then(check_transaction)?;
    Ok((doomed.len(), items.len()))
}

/// Sets a folder's own permissions, or (`None`) makes it inherit its parent's again.
///
/// # Errors
///
/// [`DomainError::Invalid`] for a bad principal name, [`DomainError::NotFound`] for a missing
/// namespace or folder.
pub async fn set_permissions(
    db: &Db,
    ns: &str,
    id: &str,
    permissions: Option<Vec<Permission>>,
) -> Result<FolderInfo, DomainError> {
    if let Some(list) = &permissions {
        for permission in list {
            validate::principal_name(&permission.principal.name).map_err(DomainError::Invalid)?;
        }
    }
    let generation = active_generation(db, ns).await?;
    ensure_exists(db, ns, &generation, id).await?;
    let stored = permissions
        .map(|list| serde_json::to_value(permissions::normalize(list)))
        .transpose();
    let stored = stored.map_err(|e| DomainError::Corrupt(e.to_string()))?;
    db.query("UPDATE type::record('folder', [$gen, $id]) SET permissions = $permissions")
        .bind(("gen", generation))
        .bind(("id", id.to_string()))
        .bind(("permissions", stored))
        .await?
        .check()?;
    folder_in(db, ns, id).await
}

/// The ids of folder `root` and every folder below it.
pub(crate) fn subtree(folders: &[FolderInfo], root: &str) -> HashSet<String> {
    let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
    for folder in folders {
        if let Some(parent) = &folder.parent {
            children
                .entry(parent.as_str())
                .or_default()
                .push(folder.id.as_str());
        }
    }
    let mut found = HashSet::from([root.to_string()]);
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        for child in children.get(id).into_iter().flatten() {
            if found.insert((*child).to_string()) {
                stack.push(child);
            }
        }
    }
    found
}
