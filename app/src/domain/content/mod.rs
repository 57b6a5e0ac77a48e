//! Namespaces and their content: folders with permissions, and services, models and forms.
//!
//! A namespace points at its active **generation**; its folders and items are keyed
//! `[generation, id]`, so one generation's content is one key range that can be streamed,
//! written aside and switched to in one small transaction (DESIGN.md section 6). Everything
//! here reads and writes the active generation only.

pub mod folder;
pub mod item;
pub mod namespace;
pub mod permissions;

use super::{Db, DomainError};

/// The actor recorded on changes until sign-in exists.
pub const ANONYMOUS: &str = "anonymous";

/// A fresh id for a folder or an item: 16 hexadecimal digits, random.
pub(crate) fn new_id() -> String {
    let mut id = uuid::Uuid::new_v4().simple().to_string();
    id.truncate(16);
    id
}

/// A fresh generation id: time-ordered, so that generations sort by creation.
pub(crate) fn new_generation_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// The active generation of namespace `name`.
///
/// # Errors
///
/// [`DomainError::NotFound`] when there is no such namespace.
pub(crate) async fn active_generation(db: &Db, name: &str) -> Result<String, DomainError> {
    let generation: Option<String> = db
        .query("RETURN type::record('namespace', $name).generation")
        .bind(("name", name.to_string()))
        .await?
        .take(0)?;
    generation.ok_or_else(|| namespace_not_found(name))
}

pub(crate) fn namespace_not_found(name: &str) -> DomainError {
    DomainError::NotFound(format!(
        "There is no namespace `{name}`. It may have been deleted; reload the page."
    ))
}

/// Whether a database error is a unique index refusing a duplicate.
pub(crate) fn is_duplicate(error: &surrealdb::Error) -> bool {
    let text = error.to_string();
    text.contains("already contains") || text.contains("already exists")
}

/// Where names must be unique: folders among their siblings, items within their folder.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Siblings {
    Folders,
    Items,
}

/// Fails with `taken(name)` when `container` (a parent folder, `None` for the top level)
/// already holds a folder or item named `name` other than `except`.
pub(crate) async fn ensure_name_free(
    db: &Db,
    siblings: Siblings,
    generation: &str,
    container: Option<&str>,
    name: &str,
    except: Option<&str>,
    taken: fn(&str) -> DomainError,
) -> Result<(), DomainError> {
    let query = match siblings {
        Siblings::Folders => {
            "SELECT VALUE id[1] FROM folder WHERE gen = $gen AND parent = $container AND name = $name"
        }
        Siblings::Items => {
            "SELECT VALUE id[1] FROM item WHERE gen = $gen AND folder = $container AND name = $name"
        }
    };
    let mut response = db
        .query(query)
        .bind(("gen", generation.to_string()))
        .bind(("container", container.map(str::to_string)))
        .bind(("name", name.to_string()))
        .await?;
    let clashing: Vec<String> = super::db::take_json(&mut response, 0)?;
    if clashing.iter().any(|id| Some(id.as_str()) != except) {
        return Err(taken(name));
    }
    Ok(())
}
