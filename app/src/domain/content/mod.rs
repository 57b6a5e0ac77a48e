//! Namespaces and their content: folders with permissions, and services, models and forms.
//!
//! A namespace points at its active **generation**; its folders and items are keyed
//! `[generation, id]`, so one generation's content is one key range that can be streamed,
//! written aside and switched to in one small transaction (`docs/architecture.md`, "Content
//! and generations"). Everything here reads and writes the active generation only; which
//! generation that is, [`crate::domain::generation`] decides.

pub mod access;
pub mod folder;
pub mod item;
pub mod namespace;
pub mod operations;
pub mod permissions;
pub mod transfer;

use super::{Db, DomainError};

/// A fresh id for a folder or an item: 16 hexadecimal digits, random.
pub(crate) fn new_id() -> String {
    let mut id = uuid::Uuid::new_v4().simple().to_string();
    id.truncate(16);
    id
}

/// Items per key range of [`key_ranges`], on average.
const RANGE_ITEMS: u64 = 500;

/// Splits the item key space of a generation into contiguous ranges of about 500 items each,
/// for `total` items: `[NONE, b1)`, `[b1, b2)`, …, `[bn, {}]`, with boundaries spread evenly
/// over four hex digits (item ids are random hex). Every id, whatever its form, lies in
/// exactly one range, and the ranges come in key order. Bind a pair as `$from` and `$to` of
/// `item:[$gen, $from]..[$gen, $to]`.
///
/// Why not `LIMIT` pages: a record range query reads its whole range before it applies a
/// `LIMIT`, so paging through a range costs time and memory in proportion to what is left
/// of it each time. A bounded range costs only what it holds.
pub fn key_ranges(total: u64) -> Vec<(serde_json::Value, serde_json::Value)> {
    const SPACE: u64 = 1 << 16;
    let count = total.div_ceil(RANGE_ITEMS).clamp(1, SPACE);
    let boundary = |n: u64| serde_json::Value::String(format!("{:04x}", n * SPACE / count));
    (0..count)
        .map(|n| {
            let from = if n == 0 {
                serde_json::Value::Null
            } else {
                boundary(n)
            };
            let to = if n + 1 == count {
                serde_json::Value::Object(serde_json::Map::new())
            } else {
                boundary(n + 1)
            };
            (from, to)
        })
        .collect()
}

/// The active generation of namespace `name`.
///
/// # Errors
///
/// [`DomainError::NotFound`] when there is no such namespace.
pub(crate) async fn active_generation(db: &Db, name: &str) -> Result<String, DomainError> {
    if crate::validate::namespace_name(name).is_err() {
        return Err(namespace_not_found(name));
    }
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

/// Turns a unique index refusing a duplicate `name` into `taken(name)`.
pub(crate) fn map_duplicate(
    name: &str,
    taken: fn(&str) -> DomainError,
) -> impl Fn(surrealdb::Error) -> DomainError + '_ {
    move |error| {
        if crate::domain::db::is_duplicate(&error) {
            taken(name)
        } else {
            error.into()
        }
    }
}

/// Which field of a folder or item [`change_entry`] changes.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Field {
    /// The name.
    Name,
    /// Where it is: a folder's parent, an item's folder (`None`: the top level).
    Container,
}

/// Renames (`Field::Name`) or moves (`Field::Container`) one folder or item, so that it ends
/// up named `name` in `container`: refused with `taken(name)` when another entry there has
/// that name already (checked first, and guarded by the unique index).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn change_entry(
    db: &Db,
    siblings: Siblings,
    generation: &str,
    id: &str,
    field: Field,
    container: Option<&str>,
    name: &str,
    taken: fn(&str) -> DomainError,
) -> Result<(), DomainError> {
    ensure_name_free(db, siblings, generation, container, name, Some(id), taken).await?;
    let query = match (siblings, field) {
        (Siblings::Folders, Field::Name) => {
            "UPDATE type::record('folder', [$gen, $id]) SET name = $name"
        }
        (Siblings::Folders, Field::Container) => {
            "UPDATE type::record('folder', [$gen, $id]) SET parent = $container"
        }
        (Siblings::Items, Field::Name) => {
            "UPDATE type::record('item', [$gen, $id]) SET name = $name"
        }
        (Siblings::Items, Field::Container) => {
            "UPDATE type::record('item', [$gen, $id]) SET folder = $container"
        }
    };
    db.query(query)
        .bind(("gen", generation.to_string()))
        .bind(("id", id.to_string()))
        .bind(("name", name.to_string()))
        .bind(("container", container.map(str::to_string)))
        .await
        .and_then(|response| response.check())
        .map_err(map_duplicate(name, taken))?;
    Ok(())
}
