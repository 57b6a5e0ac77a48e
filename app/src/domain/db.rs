//! Opening the database: embedded SurrealKV on disk, in memory for tests, or a remote
//! SurrealDB server over WebSocket.

use std::future::IntoFuture;
use std::time::Duration;

use surrealdb::engine::any::Any;
use surrealdb::opt::auth::Root;
use surrealdb::types::QueryError;
use surrealdb::{IndexedResults, Surreal};

use super::DomainError;

/// The database handle used everywhere in the domain. Its clones share one session of the
/// database: a clone of the client itself opens a new session (over `ws://`, one more
/// round of attach, sign-in and namespace selection on the server, sent through a bounded
/// queue that drops what does not fit, after which that session's queries are refused with
/// "Method not allowed"). A transaction that needs a session of its own makes one with
/// [`Db::session`].
#[derive(Clone, Debug)]
pub struct Db(std::sync::Arc<Surreal<Any>>);

impl Db {
    /// A session of its own, for an interactive transaction (`begin` takes the client).
    pub fn session(&self) -> Surreal<Any> {
        Surreal::clone(&self.0)
    }
}

impl std::ops::Deref for Db {
    type Target = Surreal<Any>;

    fn deref(&self) -> &Surreal<Any> {
        &self.0
    }
}

/// The SurrealDB namespace and database that hold nsbackup's data. (A SurrealDB namespace is
/// storage; the product's namespaces are records inside this database.)
pub const SURREAL_NAMESPACE: &str = "nsbackup";
/// See [`SURREAL_NAMESPACE`].
pub const SURREAL_DATABASE: &str = "nsbackup";

/// How long to wait for a remote database to answer before giving up at start-up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait for an embedded database to close its files after its last handle: it
/// writes what it holds in memory to disk first, which after a large restore on a busy
/// machine takes seconds. (Below the service unit's `TimeoutStopSec=90`.)
const CLOSE_TIMEOUT: Duration = Duration::from_secs(50);
/// How often a close that takes long says so.
const CLOSE_REPORT: Duration = Duration::from_secs(10);

/// Where the database is and how to sign in to it.
#[derive(Clone, Debug, Default)]
pub struct DbOptions {
    /// `surrealkv://PATH`, `mem://` or `ws://HOST:PORT` (`wss://` for TLS).
    pub url: String,
    /// The root user for a remote server; embedded databases need none.
    pub username: Option<String>,
    /// The root user's password.
    pub password: Option<String>,
    /// Open an embedded database whose log is damaged before its end, keeping only the
    /// writes before the damage (refused otherwise; see [`super::wal`]).
    pub repair_log: bool,
}

impl DbOptions {
    /// Options for a fresh in-memory database, as tests use.
    pub fn memory() -> Self {
        Self {
            url: "mem://".into(),
            ..Self::default()
        }
    }

    /// Options for an embedded SurrealKV database in `path`.
    pub fn surrealkv(path: &std::path::Path) -> Self {
        Self {
            url: format!("surrealkv://{}", path.display()),
            ..Self::default()
        }
    }

    /// The directory of an embedded SurrealKV database, if that is what the URL names.
    pub fn surrealkv_path(&self) -> Option<std::path::PathBuf> {
        self.url.strip_prefix("surrealkv://").map(|rest| {
            let path = rest.split('?').next().unwrap_or(rest);
            std::path::PathBuf::from(path)
        })
    }

    /// Whether the URL names a remote server rather than an embedded engine.
    pub fn is_remote(&self) -> bool {
        ["ws://", "wss://", "http://", "https://"]
            .iter()
            .any(|scheme| self.url.starts_with(scheme))
    }
}

/// Opens the database and selects nsbackup's namespace and database in it.
///
/// # Errors
///
/// [`DomainError::DatabaseUnavailable`] with a reason a person can act on when the database
/// cannot be opened, reached or signed in to.
pub async fn connect(options: &DbOptions) -> Result<Db, DomainError> {
    let unavailable = |reason: String| DomainError::DatabaseUnavailable {
        url: options.url.clone(),
        reason,
    };
    if let Some(dir) = options.surrealkv_path() {
        make_log_whole(dir, options.repair_log).await?;
    }
    let opening = surrealdb::engine::any::connect(options.url.as_str()).into_future();
    let db = if options.is_remote() {
        tokio::time::timeout(CONNECT_TIMEOUT, opening)
            .await
            .map_err(|_| {
                unavailable(format!(
                    "no answer within {} seconds",
                    CONNECT_TIMEOUT.as_secs()
                ))
            })?
    } else {
        opening_patiently(opening, &options.url).await
    }
    .map_err(|e| unavailable(e.to_string()))?;

    match (&options.username, &options.password) {
        (Some(username), Some(password)) => {
            db.signin(Root {
                username: username.clone(),
                password: password.clone(),
            })
            .await
            .map_err(|e| unavailable(format!("sign-in as `{username}` failed: {e}")))?;
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(unavailable(
                "give both a database user and a password, or neither".into(),
            ));
        }
        (None, None) => {}
    }

    // Replicas starting together on a new server define the same things at the same moment.
    retry_conflicts(|| async {
        db.query(format!(
            "DEFINE NAMESPACE IF NOT EXISTS {SURREAL_NAMESPACE}; USE NS {SURREAL_NAMESPACE}; \
             DEFINE DATABASE IF NOT EXISTS {SURREAL_DATABASE};"
        ))
        .await
        .and_then(|response| response.check())
    })
    .await
    .map_err(|e| unavailable(e.to_string()))?;
    db.use_ns(SURREAL_NAMESPACE)
        .use_db(SURREAL_DATABASE)
        .await
        .map_err(|e| unavailable(e.to_string()))?;
    Ok(Db(std::sync::Arc::new(db)))
}

/// Before an embedded database opens, makes its log safe to open (see [`super::wal`]):
/// removes the torn end that a kill in the middle of a write leaves, so that the writes
/// acknowledged after this start are not lost at the next one; and refuses a log damaged
/// before its end, which the storage engine would silently cut short of acknowledged
/// writes, unless `cut_damage` says to keep only what comes before the damage. A copy of a
/// damaged segment is kept beside the database either way.
async fn make_log_whole(dir: std::path::PathBuf, cut_damage: bool) -> Result<(), DomainError> {
    let mended = tokio::task::spawn_blocking(move || super::wal::mend_log(&dir, cut_damage))
        .await
        .map_err(DomainError::stopped("the check of the database's log"))?;
    let report = match mended {
        Ok(report) => report,
        // Another process has the database open: opening it says so.
        Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
        Err(error) => return Err(DomainError::Io(error)),
    };
    for trimmed in &report.trimmed {
        tracing::warn!(
            segment = %trimmed.file.display(),
            bytes = trimmed.old_len - trimmed.new_len,
            reason = %trimmed.reason,
            "the database's log ended in a write cut off by an unclean stop (never acknowledged); removed it"
        );
    }
    let Some((damage, copy)) = report.damaged.first() else {
        return Ok(());
    };
    if !report.damage_cut {
        return Err(DomainError::DamagedDatabaseLog {
            segment: damage.file.clone(),
            offset: damage.offset,
            bytes_after: damage.file_len.saturating_sub(damage.offset),
            copy: copy.clone(),
        });
    }
    for (damage, copy) in &report.damaged {
        tracing::error!(
            segment = %damage.file.display(),
            offset = damage.offset,
            bytes_dropped = damage.file_len.saturating_sub(damage.last_complete_end),
            copy = %copy.display(),
            reason = damage.reason,
            "the database's log was damaged before its end; as asked (--repair-database-log), \
             kept only the writes before the damage. Restore what is missing from a backup"
        );
    }
    Ok(())
}

/// How often a slow opening of an embedded database says that it is still at work.
const OPENING_REPORT: Duration = Duration::from_secs(10);

/// Waits for an embedded database to open, however long it takes: after an unclean stop the
/// storage engine first replays its write-ahead log, which for a large log takes longer than
/// any fixed limit, and giving up would keep a sound database down. (An embedded engine
/// cannot hang on a network; a database another process holds is refused at once.) Says
/// every ten seconds that it is still at work.
async fn opening_patiently<F, T>(opening: F, url: &str) -> T
where
    F: std::future::Future<Output = T>,
{
    let started = tokio::time::Instant::now();
    let mut report = tokio::time::interval_at(started + OPENING_REPORT, OPENING_REPORT);
    tokio::pin!(opening);
    loop {
        tokio::select! {
            opened = &mut opening => return opened,
            _ = report.tick() => tracing::warn!(
                url,
                seconds = started.elapsed().as_secs(),
                "still opening the database: the storage engine is recovering its log after an unclean stop; waiting for it"
            ),
        }
    }
}

/// Closes the database: drops this handle and, for an embedded SurrealKV database, waits
/// until the engine has shut down and released its lock on the files, so that the process
/// can end (or another open the files) without cutting it short. Every other handle must be
/// gone already. A close that takes long says so every ten seconds.
///
/// Returns `false` (and logs a warning) when the engine had not finished within fifty
/// seconds: nothing acknowledged is lost then (the engine's log is replayed at the next
/// start), but that start takes longer.
pub async fn close(db: Db, options: &DbOptions) -> bool {
    drop(db);
    let Some(lock_path) = options.surrealkv_path().map(|dir| dir.join("LOCK")) else {
        // Other engines give no sign when they are done; their shutdown is quick, and a
        // moment lets it finish before the runtime goes away.
        if !options.is_remote() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        return true;
    };
    let started = tokio::time::Instant::now();
    let mut next_report = started + CLOSE_REPORT;
    loop {
        // The engine holds an exclusive lock on this file for as long as it is open.
        let released = match std::fs::File::open(&lock_path) {
            Ok(file) => file.try_lock().is_ok(),
            Err(_) => true,
        };
        if released {
            return true;
        }
        let now = tokio::time::Instant::now();
        if now >= started + CLOSE_TIMEOUT {
            tracing::warn!(
                seconds = CLOSE_TIMEOUT.as_secs(),
                "the database did not close in time; nothing is lost (its log is replayed at the next start, which takes longer)"
            );
            return false;
        }
        if now >= next_report {
            tracing::info!(
                seconds = (now - started).as_secs(),
                "still closing the database: the storage engine is writing what it holds in memory to disk"
            );
            next_report += CLOSE_REPORT;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Whether a database error is a transaction that conflicted with another one writing the
/// same records at the same moment: it changed nothing, and can be run again.
pub fn is_conflict(error: &surrealdb::Error) -> bool {
    error.query_details() == Some(&QueryError::TransactionConflict)
}

/// Whether a database error is the query's own `THROW reason` (a rule the query enforces,
/// such as "last administrator"), told by its kind and the reason it was given.
pub fn is_thrown(error: &surrealdb::Error, reason: &str) -> bool {
    error.is_thrown() && error.message().ends_with(reason)
}

/// Whether a database error refuses a write because the record, or a unique index entry,
/// exists already.
///
/// A record that exists is reported with its kind (`AlreadyExists`). A unique index's
/// refusal is not: the engine (SurrealDB 3.3) reports it as an internal error without
/// details, so for that one case its message is the only sign, and only an internal error's
/// message is looked at.
pub fn is_duplicate(error: &surrealdb::Error) -> bool {
    error.is_already_exists()
        || (error.is_internal()
            && error.message().starts_with("Database index `")
            && error.message().contains("` already contains "))
}

/// An error that may be a transaction conflict ([`is_conflict`]): the database's own, or a
/// [`DomainError`] that carries one.
pub trait MayConflict {
    fn is_transaction_conflict(&self) -> bool;
}

impl MayConflict for surrealdb::Error {
    fn is_transaction_conflict(&self) -> bool {
        is_conflict(self)
    }
}

impl MayConflict for DomainError {
    fn is_transaction_conflict(&self) -> bool {
        matches!(self, DomainError::Database(error) if is_conflict(error))
    }
}

/// How often [`retry_conflicts`] runs a transaction at most.
const CONFLICT_ATTEMPTS: u32 = 10;

/// Runs `attempt` until it does not fail with a transaction conflict ([`is_conflict`]), at most
/// [`CONFLICT_ATTEMPTS`] times, with a short random pause before each repetition so that
/// the contenders spread out. This is the one place where conflicting writes (of several
/// requests, or several replicas) are retried.
///
/// # Errors
///
/// The last attempt's error.
pub async fn retry_conflicts<T, E, F, Fut>(mut attempt: F) -> Result<T, E>
where
    E: MayConflict,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(error) if error.is_transaction_conflict() && tries < CONFLICT_ATTEMPTS => {
                let mut byte = [0u8; 1];
                let jitter = getrandom::fill(&mut byte).map_or(5, |()| u64::from(byte[0]) % 20);
                tokio::time::sleep(Duration::from_millis(2 + jitter * u64::from(tries))).await;
                tries += 1;
            }
            result => return result,
        }
    }
}

/// Checks the response of a query that ran as one transaction and returns the error of the
/// statement that failed it. (`IndexedResults::check` returns the first error, which for a
/// failed transaction is usually a statement that was merely cancelled with it.)
///
/// # Errors
///
/// The failing statement's error.
pub fn check_transaction(mut response: IndexedResults) -> Result<IndexedResults, surrealdb::Error> {
    let mut errors: Vec<(usize, surrealdb::Error)> = response.take_errors().into_iter().collect();
    errors.sort_by_key(|(index, _)| *index);
    let cause = errors
        .iter()
        .position(|(_, error)| error.query_details() != Some(&QueryError::NotExecuted))
        .unwrap_or(0);
    if errors.is_empty() {
        Ok(response)
    } else {
        Err(errors.swap_remove(cause).1)
    }
}

/// Takes the result of statement `index` of `response` as `T`, read through JSON: records
/// are selected with plain fields (ids as strings, datetimes as RFC 3339).
///
/// # Errors
///
/// [`DomainError::Database`] when the statement failed, [`DomainError::Corrupt`] when its
/// result does not have the shape of `T`.
pub fn take_json<T: serde::de::DeserializeOwned>(
    response: &mut IndexedResults,
    index: usize,
) -> Result<T, DomainError> {
    let value: surrealdb::types::Value = response.take(index)?;
    let value = value.into_json_value();
    serde_json::from_value(value).map_err(|e| DomainError::Corrupt(e.to_string()))
}

#[cfg(test)]
mod tests;
