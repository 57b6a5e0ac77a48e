//! Items: services, models and forms, each with a name unique in its folder and a text
//! content that is saved with a revision.

use serde::Deserialize;

use super::{
    Field, Siblings, active_generation, change_entry, ensure_name_free, folder, map_duplicate,
    new_id,
};
use crate::domain::db::take_json;
use crate::domain::{Db, DomainError};
use crate::types::{ItemDocument, ItemInfo, ItemKind};
use crate::validate;

const SELECT_INFO: &str = "id[1] AS id, folder, kind, name, size, revision, updated_at, updated_by";

#[derive(Debug, Deserialize)]
struct DocumentRow {
    #[serde(flatten)]
    info: ItemInfo,
    content: String,
}

fn item_not_found(ns: &str) -> DomainError {
    DomainError::NotFound(format!(
        "That item no longer exists in namespace `{ns}`. Someone may have deleted or moved it; reload the page."
    ))
}

fn name_taken(name: &str) -> DomainError {
    DomainError::Conflict(format!(
        "This folder already holds an item named `{name}`. Choose another name."
    ))
}

/// The items directly in `folder` (`None`: at the top of the namespace), sorted by name.
///
/// # Errors
///
/// [`DomainError::NotFound`] for a missing namespace or folder.
pub async fn list(db: &Db, ns: &str, folder: Option<&str>) -> Result<Vec<ItemInfo>, DomainError> {
    let generation = active_generation(db, ns).await?;
    if let Some(folder) = folder {
        folder::ensure_exists(db, ns, &generation, folder).await?;
    }
    let mut response = db
        .query(format!(
            "SELECT {SELECT_INFO} FROM item WHERE gen = $gen AND folder = $folder"
        ))
        .bind(("gen", generation))
        .bind(("folder", folder.map(str::to_string)))
        .await?;
    let mut items: Vec<ItemInfo> = take_json(&mut response, 0)?;
    items.sort_by_cached_key(|item| (item.name.to_lowercase(), item.id.clone()));
    Ok(items)
}

/// One item with its content.
///
/// # Errors
///
/// [`DomainError::NotFound`] for a missing namespace or item.
pub async fn get(db: &Db, ns: &str, id: &str) -> Result<ItemDocument, DomainError> {
    let generation = active_generation(db, ns).await?;
    let mut response = db
        .query(format!(
            "SELECT {SELECT_INFO}, content FROM ONLY type::record('item', [$gen, $id])"
        ))
        .bind(("gen", generation))
        .bind(("id", id.to_string()))
        .await?;
    let row: Option<DocumentRow> = take_json(&mut response, 0)?;
    row.map(|row| ItemDocument {
        info: row.info,
        content: row.content,
    })
    .ok_or_else(|| item_not_found(ns))
}

/// What a new item is: where it goes, its kind, name and first content.
#[derive(Clone, Debug)]
pub struct NewItem<'a> {
    pub folder: Option<&'a str>,
    pub kind: ItemKind,
    pub name: &'a str,
    pub content: &'a str,
}

/// Creates an item with revision 1.
///
/// # Errors
///
/// [`DomainError::Invalid`] for a bad name or content, [`DomainError::NotFound`] for a
/// missing namespace or folder, [`DomainError::Conflict`] when the folder holds an item of
/// that name.
pub async fn create(
    db: &Db,
    ns: &str,
    new: NewItem<'_>,
    actor: &str,
) -> Result<ItemInfo, DomainError> {
    let name = validate::entry_name(new.name).map_err(DomainError::Invalid)?;
    validate::content(new.kind, new.content).map_err(DomainError::Invalid)?;
    let generation = active_generation(db, ns).await?;
    if let Some(folder) = new.folder {
        folder::ensure_exists(db, ns, &generation, folder).await?;
    }
    ensure_name_free(
        db,
        Siblings::Items,
        &generation,
        new.folder,
        &name,
        None,
        name_taken,
    )
    .await?;
    let id = new_id();
    db.query(
        "CREATE type::record('item', [$gen, $id]) CONTENT {
             gen: $gen, folder: $folder, kind: $kind, name: $name, content: $content,
             size: $size, revision: 1, created_at: time::now(), updated_at: time::now(), updated_by: $actor
         }",
    )
    .bind(("gen", generation))
    .bind(("id", id.clone()))
    .bind(("folder", new.folder.map(str::to_string)))
    .bind(("kind", new.kind.as_str()))
    .bind(("name", name.clone()))
    .bind(("content", new.content.to_string()))
    .bind(("size", i64::try_from(new.content.len()).unwrap_or(i64::MAX)))
    .bind(("actor", actor.to_string()))
    .await
    .and_then(|response| response.check())
    .map_err(map_duplicate(&name, name_taken))?;
    Ok(get(db, ns, &id).await?.info)
}

/// Saves new content. `base_revision` is the revision the editor started from: when someone
/// else saved in the meantime the save is refused instead of overwriting their work.
///
/// # Errors
///
/// [`DomainError::Invalid`] for bad content, [`DomainError::NotFound`] for a missing item,
/// [`DomainError::Conflict`] when the item changed since `base_revision`.
pub async fn save_content(
    db: &Db,
    ns: &str,
    id: &str,
    content: &str,
    base_revision: u64,
    actor: &str,
) -> Result<ItemInfo, DomainError> {
    let current = get(db, ns, id).await?;
    validate::content(current.info.kind, content).map_err(DomainError::Invalid)?;
    let generation = active_generation(db, ns).await?;
    let mut response = db
        .query(
            "UPDATE type::record('item', [$gen, $id])
             SET content = $content, size = $size, revision += 1, updated_at = time::now(), updated_by = $actor
             WHERE revision = $base RETURN VALUE revision",
        )
        .bind(("gen", generation))
        .bind(("id", id.to_string()))
        .bind(("content", content.to_string()))
        .bind(("size", i64::try_from(content.len()).unwrap_or(i64::MAX)))
        .bind(("actor", actor.to_string()))
        .bind(("base", i64::try_from(base_revision).unwrap_or(i64::MAX)))
        .await?;
    let saved: Vec<i64> = take_json(&mut response, 0)?;
    if saved.is_empty() {
        let now = get(db, ns, id).await?.info;
        return Err(DomainError::Conflict(format!(
            "`{}` was changed by {} (revision {}) after you opened it. Copy your changes, reload the item and apply them again.",
            now.name, now.updated_by, now.revision
        )));
    }
    Ok(get(db, ns, id).await?.info)
}

/// Renames an item.
///
/// # Errors
///
/// [`DomainError::Invalid`] for a bad name, [`DomainError::NotFound`] for a missing item,
/// [`DomainError::Conflict`] when the folder holds an item of that name.
pub async fn rename(db: &Db, ns: &str, id: &str, name: &str) -> Result<ItemInfo, DomainError> {
    let name = validate::entry_name(name).map_err(DomainError::Invalid)?;
    let current = get(db, ns, id).await?.info;
    let generation = active_generation(db, ns).await?;
    change_entry(
        db,
        Siblings::Items,
        &generation,
        id,
        Field::Name,
        current.folder.as_deref(),
        &name,
        name_taken,
    )
    .await?;
    Ok(get(db, ns, id).await?.info)
}

/// Moves an item into `folder` (`None`: to the top of the namespace).
///
/// # Errors
///
/// [`DomainError::NotFound`] for a missing item or folder, [`DomainError::Conflict`] when
/// the target holds an item of that name.
pub async fn move_to(
    db: &Db,
    ns: &str,
    id: &str,
    folder: Option<&str>,
) -> Result<ItemInfo, DomainError> {
    let current = get(db, ns, id).await?.info;
    let generation = active_generation(db, ns).await?;
    if let Some(folder) = folder {
        folder::ensure_exists(db, ns, &generation, folder).await?;
    }
    change_entry(
        db,
        Siblings::Items,
        &generation,
        id,
        Field::Container,
        folder,
        &current.name,
        name_taken,
    )
    .await?;
    Ok(get(db, ns, id).await?.info)
}

/// Deletes an item.
///
/// # Errors
///
/// [`DomainError::NotFound`] for a missing item.
pub async fn delete(db: &Db, ns: &str, id: &str) -> Result<(), DomainError> {
    get(db, ns, id).await?;
    let generation = active_generation(db, ns).await?;
    db.query("DELETE type::record('item', [$gen, $id])")
        .bind(("gen", generation))
        .bind(("id", id.to_string()))
        .await?
        .check()?;
    Ok(())
}
