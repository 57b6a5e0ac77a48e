//! Generations: a namespace's content at one time. A namespace points at its active
//! generation; its folders and items are keyed `[generation, id]`, so one generation's
//! content is one key range (`docs/architecture.md`, "Content and generations").
//!
//! This module is the only place that writes a generation's [`State`] or a namespace's
//! pointer to its generation: creating a namespace, switching it to restored content (a
//! restore) or back to a restore point (an undo), retiring what nobody needs any more, and
//! removing retired content in the background. The statements that must run inside a
//! caller's transaction (with the caller's job and lock checks) are given as text.

use std::fmt;
use std::time::Duration;

use crate::domain::content::key_ranges;
use crate::domain::db::{retry_conflicts, take_json};
use crate::domain::{Db, DomainError};

/// What a generation is to its namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// An import's scratch content, read back and copied into the namespace, then removed.
    Importing,
    /// A restore's content being written; nobody sees it until the switch.
    Restoring,
    /// What the namespace shows.
    Active,
    /// What a restore or an undo replaced, kept as a restore point for a while.
    Snapshot,
    /// Waiting to be removed by the background sweep.
    Retired,
}

impl State {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            State::Importing => "importing",
            State::Restoring => "restoring",
            State::Active => "active",
            State::Snapshot => "snapshot",
            State::Retired => "retired",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A fresh generation id: time-ordered, so that generations sort by creation.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// The state of generation `id`, if there is one.
///
/// # Errors
///
/// A database error.
pub async fn state(db: &Db, id: &str) -> Result<Option<State>, DomainError> {
    let mut response = db
        .query("RETURN type::record('generation', $gen).state")
        .bind(("gen", id.to_string()))
        .await?;
    take_json(&mut response, 0)
}

/// Statements that create namespace `$name` titled `$title` with the empty active
/// generation `$gen`.
pub(crate) fn create_namespace() -> String {
    let active = State::Active;
    format!(
        "CREATE type::record('namespace', $name) CONTENT {{
             name: $name, title: $title, created_at: time::now(), generation: $gen
         }};
         CREATE type::record('generation', $gen) CONTENT {{
             namespace: $name, state: '{active}', origin: 'created', created_at: time::now()
         }};"
    )
}

/// Statements that delete namespace `$name` and retire all its generations (their content
/// goes with the next [`sweep_in_background`]).
pub(crate) fn delete_namespace() -> String {
    let retired = State::Retired;
    format!(
        "UPDATE generation SET state = '{retired}', retired_at = time::now() WHERE namespace = $name;
         DELETE type::record('namespace', $name);"
    )
}

/// A statement that creates the scratch generation `$gen` of an import.
pub(crate) fn create_importing() -> String {
    let importing = State::Importing;
    format!(
        "CREATE type::record('generation', $gen) CONTENT {{
             namespace: NONE, state: '{importing}', created_at: time::now()
         }};"
    )
}

/// Creates generation `id` for restore job `job` of backup `backup`: written into while
/// nobody sees it, until [`switch`] makes it a namespace's.
///
/// # Errors
///
/// A database error.
pub async fn create_restoring(
    db: &Db,
    id: &str,
    backup: &str,
    job: &str,
) -> Result<(), DomainError> {
    let restoring = State::Restoring;
    // Retried past conflicts with the background sweeps that read the generations.
    retry_conflicts(|| async {
        db.query(format!(
            "CREATE type::record('generation', $gen) CONTENT {{
                 namespace: NONE, state: '{restoring}', origin: $backup, job: $job,
                 created_at: time::now()
             }}"
        ))
        .bind(("gen", id.to_string()))
        .bind(("backup", backup.to_string()))
        .bind(("job", job.to_string()))
        .await?
        .check()
    })
    .await?;
    Ok(())
}

/// Statements that switch namespace `$ns` to generation `$gen` (a restore's, or a restore
/// point an undo goes back to), keeping the one it had as a restore point: replaced by job
/// `$job`, `$how` (`NONE` for a restore, `'undo'`) by `$actor`. A namespace that does not
/// exist is created, titled `$title`. To run in the caller's transaction, after its checks.
pub(crate) fn switch() -> String {
    let (snapshot, active) = (State::Snapshot, State::Active);
    format!(
        "LET $old = type::record('namespace', $ns).generation;
         IF $old != NONE {{
             UPDATE type::record('generation', $old) SET state = '{snapshot}',
                 replaced_at = time::now(), replaced_by = $job, replaced_how = $how,
                 replaced_actor = $actor;
             UPDATE type::record('namespace', $ns) SET generation = $gen;
         }} ELSE {{
             CREATE type::record('namespace', $ns) CONTENT {{
                 name: $ns, title: $title, created_at: time::now(), generation: $gen
             }};
         }};
         UPDATE type::record('generation', $gen) SET state = '{active}', namespace = $ns,
             replaced_at = NONE, replaced_by = NONE, replaced_how = NONE, replaced_actor = NONE;"
    )
}

/// A condition that holds when `$target` is a restore point of namespace `$ns`.
pub(crate) fn is_restore_point() -> String {
    let snapshot = State::Snapshot;
    format!(
        "type::record('generation', $target).state = '{snapshot}'
         AND type::record('generation', $target).namespace = $ns"
    )
}

/// The restore points (of namespace `ns` only, when given), newest first: generation,
/// namespace and how each was replaced, as `T`.
///
/// # Errors
///
/// A database error.
pub async fn restore_points<T: serde::de::DeserializeOwned>(
    db: &Db,
    ns: Option<&str>,
) -> Result<Vec<T>, DomainError> {
    let snapshot = State::Snapshot;
    let mut response = db
        .query(format!(
            "SELECT record::id(id) AS generation, namespace, replaced_at, replaced_by, replaced_how, replaced_actor
             FROM generation WHERE state = '{snapshot}' AND namespace != NONE AND ($ns = NONE OR namespace = $ns)
             ORDER BY replaced_at DESC"
        ))
        .bind(("ns", ns.map(str::to_string)))
        .await?;
    take_json(&mut response, 0)
}

/// Retires generation `id` (a restore's that did not finish) and removes retired content.
pub async fn discard(db: &Db, id: &str) {
    let retired = State::Retired;
    let _ = db
        .query(format!(
            "UPDATE type::record('generation', $gen) SET state = '{retired}', retired_at = time::now()"
        ))
        .bind(("gen", id.to_string()))
        .await;
    let _ = sweep_retired(db).await;
}

/// A statement that retires the generations of restores whose jobs have ended (a replica
/// died while writing them) and returns their ids.
pub(crate) fn retire_orphaned_restores() -> String {
    let (retired, restoring) = (State::Retired, State::Restoring);
    format!(
        "UPDATE generation SET state = '{retired}', retired_at = time::now()
         WHERE state = '{restoring}'
             AND (job = NONE OR !(type::record('job', job).status IN ['queued', 'running']))
         RETURN VALUE record::id(id);"
    )
}

/// Retires the restore points replaced more than `keep` ago and starts removing their
/// content in the background. Returns how many.
///
/// # Errors
///
/// A database error.
pub async fn retire_snapshots_older_than(db: &Db, keep: Duration) -> Result<usize, DomainError> {
    let (retired, snapshot) = (State::Retired, State::Snapshot);
    let mut response = db
        .query(format!(
            "UPDATE generation SET state = '{retired}', retired_at = time::now()
             WHERE state = '{snapshot}' AND replaced_at < time::now() - type::duration($keep)
             RETURN VALUE record::id(id)"
        ))
        .bind(("keep", format!("{}s", keep.as_secs().max(1))))
        .await?;
    let gone: Vec<String> = take_json(&mut response, 0)?;
    if !gone.is_empty() {
        sweep_in_background(db);
    }
    Ok(gone.len())
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
    let (retired, importing) = (State::Retired, State::Importing);
    db.query(format!(
        "UPDATE generation SET state = '{retired}', retired_at = time::now()
         WHERE state = '{importing}' AND created_at < time::now() - 1h"
    ))
    .await?
    .check()?;
    sweep_in_background(db);
    Ok(())
}

/// Removes the content of generation `id` and then its record, a key range of items at a
/// time (memory stays bounded whatever its size). Safe to run again after an interruption:
/// what was removed stays removed, and the record goes last.
///
/// # Errors
///
/// A database error.
pub(crate) async fn remove(db: &Db, id: &str) -> Result<(), DomainError> {
    let items: Option<u64> = db
        .query("RETURN count(SELECT VALUE id FROM item WHERE gen = $gen)")
        .bind(("gen", id.to_string()))
        .await?
        .take(0)?;
    // Each step removes what is there and may run again: one that met another write (a
    // restore's, under load) is simply run again.
    for (from, to) in key_ranges(items.unwrap_or(0)) {
        retry_conflicts(|| async {
            db.query("DELETE item:[$gen, $from]..[$gen, $to]")
                .bind(("gen", id.to_string()))
                .bind(("from", from.clone()))
                .bind(("to", to.clone()))
                .await?
                .check()
        })
        .await?;
    }
    retry_conflicts(|| async {
        db.query(
            "DELETE folder:[$gen, NONE]..[$gen, {}];
             DELETE type::record('generation', $gen);",
        )
        .bind(("gen", id.to_string()))
        .await?
        .check()
    })
    .await?;
    Ok(())
}

/// Removes the content of retired generations, one generation at a time; returns how many.
/// Safe to run at any moment, and again after an interruption.
///
/// # Errors
///
/// A database error; what was removed stays removed.
pub async fn sweep_retired(db: &Db) -> Result<usize, DomainError> {
    let retired = State::Retired;
    let mut response = db
        .query(format!(
            "SELECT VALUE record::id(id) FROM generation WHERE state = '{retired}'"
        ))
        .await?;
    let ids: Vec<String> = take_json(&mut response, 0)?;
    for generation in &ids {
        remove(db, generation).await?;
        tracing::info!(%generation, "removed a retired generation");
    }
    Ok(ids.len())
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
async fn sweep_until_done<F, Fut>(mut sweep: F, pause: fn(u32) -> Duration)
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
fn backoff(failures: u32) -> Duration {
    Duration::from_secs((1u64 << failures.min(6)).min(60))
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
            |_| Duration::ZERO,
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
