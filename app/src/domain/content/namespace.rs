//! Creating, listing, renaming and deleting namespaces.

use super::{active_generation, namespace_not_found};
use crate::domain::backup::jobs::{UNLESS_BUSY, busy};
use crate::domain::db::{check_transaction, is_thrown, take_json};
use crate::domain::generation as generations;
use crate::domain::{Db, DomainError};
use crate::types::NamespaceInfo;
use crate::validate;

const SELECT_INFO: &str = "name, title ?? '' AS title, created_at";

/// Creates an empty namespace.
///
/// # Errors
///
/// [`DomainError::Invalid`] for a bad name or title, [`DomainError::Conflict`] when the
/// name is taken, or while a restore into a namespace of that name runs.
pub async fn create(db: &Db, name: &str, title: &str) -> Result<NamespaceInfo, DomainError> {
    validate::namespace_name(name).map_err(DomainError::Invalid)?;
    let title = validate::title(title).map_err(DomainError::Invalid)?;
    let create = generations::create_namespace();
    let result = db
        .query(format!(
            "BEGIN TRANSACTION;
             {UNLESS_BUSY}
             {create}
             COMMIT TRANSACTION;"
        ))
        .bind(("name", name.to_string()))
        .bind(("title", title))
        .bind(("gen", generations::new_id()))
        .await
        .and_then(check_transaction);
    match result {
        Ok(_) => get(db, name).await,
        Err(error) if is_thrown(&error, "busy") => Err(busy(name)),
        Err(error) if crate::domain::db::is_duplicate(&error) => Err(DomainError::Conflict(
            format!("A namespace named `{name}` exists already. Choose another name."),
        )),
        Err(error) => Err(error.into()),
    }
}

/// Every namespace, sorted by name.
///
/// # Errors
///
/// A database error.
pub async fn list(db: &Db) -> Result<Vec<NamespaceInfo>, DomainError> {
    let mut response = db
        .query(format!("SELECT {SELECT_INFO} FROM namespace ORDER BY name"))
        .await?;
    take_json(&mut response, 0)
}

/// One namespace.
///
/// # Errors
///
/// [`DomainError::NotFound`] when there is no such namespace.
pub async fn get(db: &Db, name: &str) -> Result<NamespaceInfo, DomainError> {
    if validate::namespace_name(name).is_err() {
        return Err(namespace_not_found(name));
    }
    let mut response = db
        .query(format!(
            "SELECT {SELECT_INFO} FROM ONLY type::record('namespace', $name)"
        ))
        .bind(("name", name.to_string()))
        .await?;
    let info: Option<NamespaceInfo> = take_json(&mut response, 0)?;
    info.ok_or_else(|| namespace_not_found(name))
}

/// Changes the title of a namespace (its name never changes: backups refer to it).
///
/// # Errors
///
/// [`DomainError::Invalid`] for a bad title, [`DomainError::NotFound`] for a missing
/// namespace, [`DomainError::Conflict`] while a backup or restore of it runs.
pub async fn set_title(db: &Db, name: &str, title: &str) -> Result<NamespaceInfo, DomainError> {
    let title = validate::title(title).map_err(DomainError::Invalid)?;
    active_generation(db, name).await?;
    db.query(format!(
        "BEGIN TRANSACTION;
         {UNLESS_BUSY}
         UPDATE type::record('namespace', $name) SET title = $title;
         COMMIT TRANSACTION;"
    ))
    .bind(("name", name.to_string()))
    .bind(("title", title))
    .await
    .and_then(check_transaction)
    .map_err(|error| refused_while_busy(error, name))?;
    get(db, name).await
}

/// Deletes a namespace and its content. Its backups stay.
///
/// The namespace disappears at once, in one small transaction that retires its
/// generations; their content is then removed by [`generations::sweep_retired`] in the
/// background (a namespace of many thousand items takes a while to remove, and nobody waits
/// for it; a crash leaves the generations retired, and the next start removes them).
///
/// # Errors
///
/// [`DomainError::NotFound`] for a missing namespace, [`DomainError::Conflict`] while a
/// backup or restore of it runs (a restore would otherwise fill it again afterwards).
pub async fn delete(db: &Db, name: &str) -> Result<(), DomainError> {
    active_generation(db, name).await?;
    let delete = generations::delete_namespace();
    db.query(format!(
        "BEGIN TRANSACTION;
         {UNLESS_BUSY}
         {delete}
         COMMIT TRANSACTION;"
    ))
    .bind(("name", name.to_string()))
    .await
    .and_then(check_transaction)
    .map_err(|error| refused_while_busy(error, name))?;
    generations::sweep_in_background(db);
    Ok(())
}

/// A change refused because a job holds the namespace, as that refusal; any other error
/// as it is.
fn refused_while_busy(error: surrealdb::Error, name: &str) -> DomainError {
    if is_thrown(&error, "busy") {
        busy(name)
    } else {
        error.into()
    }
}
