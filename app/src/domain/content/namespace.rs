//! Creating, listing, renaming and deleting namespaces.

use super::{active_generation, namespace_not_found, new_generation_id};
use crate::domain::backup::jobs::{UNLESS_BUSY, busy};
use crate::domain::db::{check_transaction, is_thrown, take_json};
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
    let result = db
        .query(format!(
            "BEGIN TRANSACTION;
             {UNLESS_BUSY}
             CREATE type::record('namespace', $name) CONTENT {{
                 name: $name, title: $title, created_at: time::now(), generation: $gen
             }};
             CREATE type::record('generation', $gen) CONTENT {{
                 namespace: $name, state: 'active', origin: 'created', created_at: time::now()
             }};
             COMMIT TRANSACTION;"
        ))
        .bind(("name", name.to_string()))
        .bind(("title", title))
        .bind(("gen", new_generation_id()))
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
/// generations; their content is then removed by [`sweep_retired`] in the background (a
/// namespace of many thousand items takes a while to remove, and nobody waits for it; a
/// crash leaves the generations retired, and the next start removes them).
///
/// # Errors
///
/// [`DomainError::NotFound`] for a missing namespace, [`DomainError::Conflict`] while a
/// backup or restore of it runs (a restore would otherwise fill it again afterwards).
pub async fn delete(db: &Db, name: &str) -> Result<(), DomainError> {
    active_generation(db, name).await?;
    db.query(format!(
        "BEGIN TRANSACTION;
         {UNLESS_BUSY}
         UPDATE generation SET state = 'retired', retired_at = time::now() WHERE namespace = $name;
         DELETE type::record('namespace', $name);
         COMMIT TRANSACTION;"
    ))
    .bind(("name", name.to_string()))
    .await
    .and_then(check_transaction)
    .map_err(|error| refused_while_busy(error, name))?;
    sweep_in_background(db);
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

/// The background sweeps that may still run.
static SWEEPS: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>> =
    std::sync::Mutex::new(Vec::new());

/// Starts [`sweep_retired`] in the background, until no retired generation is left. (Two
/// sweeps at once are harmless: removing a generation twice removes it once.)
pub fn sweep_in_background(db: &Db) {
    let Ok(mut sweeps) = SWEEPS.lock() else {
        return;
    };
    sweeps.retain(|task| !task.is_finished());
    let db = db.clone();
    sweeps.push(tokio::spawn(async move {
        sweep_until_done(|| sweep_retired(&db), backoff).await;
    }));
}

/// Runs `sweep` until it finds nothing left. A failure (a write that met a restore's under
/// load, a database that does not answer for a moment) is tried again `pause(failures)`
/// later: the content goes while the server runs, not only at its next start.
async fn sweep_until_done<F, Fut>(mut sweep: F, pause: fn(u32) -> std::time::Duration)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<usize, DomainError>>,
{
    let mut failures = 0;
    loop {
        match sweep().await {
            Ok(0) => return,
            Ok(_) => failures = 0,
            Err(error) => {
                failures += 1;
                let wait = pause(failures);
                if crate::domain::db::MayConflict::is_transaction_conflict(&error) {
                    tracing::debug!(%error, ?wait, "removing retired content met another write; tried again");
                } else {
                    tracing::warn!(%error, ?wait, "could not remove retired content; tried again");
                }
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// 2, 4, 8 … seconds after one, two, three … failures in a row; never more than a minute.
fn backoff(failures: u32) -> std::time::Duration {
    std::time::Duration::from_secs((1u64 << failures.min(6)).min(60))
}

/// Stops a background sweep (at shutdown: it holds a handle of the database, which must be
/// closed after it). What it removed stays removed; the rest is removed at the next start.
pub async fn stop_background_sweep() {
    let tasks = SWEEPS
        .lock()
        .map(|mut sweeps| std::mem::take(&mut *sweeps))
        .unwrap_or_default();
    for task in tasks {
        task.abort();
        let _ = task.await;
    }
}

/// Removes the content of retired generations, one generation at a time; returns how many.
/// Safe to run at any moment, and again after an interruption.
///
/// # Errors
///
/// A database error; what was removed stays removed.
pub async fn sweep_retired(db: &Db) -> Result<usize, DomainError> {
    let mut response = db
        .query("SELECT VALUE record::id(id) FROM generation WHERE state = 'retired'")
        .await?;
    let retired: Vec<String> = take_json(&mut response, 0)?;
    for generation in &retired {
        super::remove_generation(db, generation).await?;
        tracing::info!(%generation, "removed a retired generation");
    }
    Ok(retired.len())
}

/// Start-up recovery: retires the scratch generations of imports that a crash interrupted
/// (those older than an hour; a running import on another replica is younger) and starts
/// removing the content of every retired generation in the background, so that the server
/// serves at once.
///
/// # Errors
///
/// A database error.
pub async fn recover(db: &Db) -> Result<(), DomainError> {
    db.query(
        "UPDATE generation SET state = 'retired', retired_at = time::now()
         WHERE state = 'importing' AND created_at < time::now() - 1h",
    )
    .await?
    .check()?;
    sweep_in_background(db);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_sweep_that_fails_is_tried_again_until_nothing_is_left() {
        let answers = std::sync::Mutex::new(vec![
            Ok(0),
            Ok(1),
            Err(DomainError::Invalid("the database did not answer".into())),
            Ok(2),
            Err(DomainError::Invalid("the database did not answer".into())),
        ]);
        let tried = std::sync::atomic::AtomicUsize::new(0);
        sweep_until_done(
            || {
                tried.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let next = answers
                    .lock()
                    .expect("answers")
                    .pop()
                    .expect("asked once too often");
                async move { next }
            },
            |_| std::time::Duration::ZERO,
        )
        .await;
        assert_eq!(tried.load(std::sync::atomic::Ordering::SeqCst), 5);
    }

    #[test]
    fn failures_in_a_row_wait_longer_up_to_a_minute() {
        let waits: Vec<u64> = (1..=8).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(waits, [2, 4, 8, 16, 32, 60, 60, 60]);
    }
}
