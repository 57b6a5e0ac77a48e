//! Sign-in sessions, kept in the database so that they survive a restart and hold across
//! several server processes.
//!
//! The browser holds a random token in a cookie; the database holds only its SHA-256 (as the
//! record id `session:⟨hash⟩`), so a copy of the database does not let anyone in. A session
//! ends when it expires, when its user signs out, changes password or is deleted.
//!
//! Repeated failed sign-ins for one name are slowed down: after [`FREE_FAILURES`] failures
//! in a row every further attempt for that name must wait, twice as long each time (up to
//! [`MAX_WAIT`]). Unknown names count like real ones, so the answers never tell which names
//! exist.

use crate::types::AuditAction;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::db::{check_transaction, retry_conflicts, take_json};
use super::{Db, DomainError, audit, users};
use crate::types::{Actor, Role};
use crate::types::{Outcome, SessionInfo};
use crate::validate;

/// Failed sign-ins for one name that are answered at once.
pub const FREE_FAILURES: u32 = 5;
/// The wait after the first failure beyond [`FREE_FAILURES`]; it doubles with each further one.
pub const FIRST_WAIT: Duration = Duration::from_secs(5);
/// The longest wait.
pub const MAX_WAIT: Duration = Duration::from_secs(15 * 60);

/// The message for a wrong password and for an unknown name alike.
pub const WRONG_CREDENTIALS: &str = "The name or the password is wrong. Check both and try again; an administrator can set a new password.";

/// A new session: the token for the cookie and who signed in.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub token: String,
    pub actor: Actor,
}

pub(crate) fn digest(token: &str) -> String {
    let hash = Sha256::digest(token.as_bytes());
    hash.iter().map(|byte| format!("{byte:02x}")).collect()
}

pub(crate) fn new_token() -> Result<String, DomainError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| DomainError::Corrupt(format!("no randomness for a session token: {e}")))?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// The key under which failures for `name` are counted: names are compared as typed but
/// case does not buy an attacker fresh attempts. Names that no account can have (too long,
/// or with characters a user name never has) share one key, so that they cannot fill the
/// database with counters; that tells nobody anything, as the rules for names are known.
fn throttle_key(name: &str) -> String {
    let name = name.trim();
    if validate::principal_name(name).is_ok() {
        name.to_lowercase()
    } else {
        INVALID_NAMES_KEY.to_string()
    }
}

/// The one throttle key of every name that no account can have (never a valid name: it
/// holds parentheses).
const INVALID_NAMES_KEY: &str = "(not a user name)";

/// One sign-in attempt at a time per process counts against the throttle, so that parallel
/// attempts never race each other (several replicas still can: their conflicting writes are
/// retried).
static THROTTLE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// What the throttle said to one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
struct Throttle {
    /// Seconds still to wait (0: the attempt was counted and may go ahead).
    wait: i64,
    /// Attempts refused during the current wait (this one included, when it is refused);
    /// for a counted attempt, those refused during the wait before it.
    refused: u32,
}

/// Counts an attempt for `key` before its password is checked, in one transaction with the
/// check whether the key must wait: so that however many attempts arrive at once, no more
/// than [`FREE_FAILURES`] are ever checked before the waiting begins. A successful sign-in
/// removes the count again. An attempt made while the key must wait is only counted as
/// refused.
async fn count_attempt(db: &Db, key: &str) -> Result<Throttle, DomainError> {
    // The wait after each number of failures, as the query cannot compute it.
    let waits: Vec<String> = (0..=FREE_FAILURES + 17)
        .map(|failures| format!("{}s", wait_after(failures).as_secs()))
        .collect();
    let _one_at_a_time = THROTTLE.lock().await;
    let mut response = retry_conflicts(|| async {
        db.query(
            "BEGIN TRANSACTION;
             LET $now = time::now();
             LET $before = (SELECT failures, retry_at, refused FROM ONLY type::record('signin_failure', $key));
             LET $wait = IF $before.retry_at != NONE AND $before.retry_at > $now {
                 duration::secs($before.retry_at - $now) + 1
             } ELSE { 0 };
             IF $wait > 0 {
                 UPSERT type::record('signin_failure', $key) SET refused = (refused ?? 0) + 1, last_at = $now;
             } ELSE {
                 LET $failures = ($before.failures ?? 0) + 1;
                 LET $pause = type::duration($waits[math::min([$failures, array::len($waits) - 1])]);
                 UPSERT type::record('signin_failure', $key) SET
                     failures = $failures,
                     refused = 0,
                     last_at = $now,
                     retry_at = IF $pause > 0s { $now + $pause } ELSE { NONE };
             };
             LET $after = (SELECT refused FROM ONLY type::record('signin_failure', $key));
             RETURN {
                 wait: $wait,
                 refused: IF $wait > 0 { $after.refused } ELSE { $before.refused ?? 0 }
             };
             COMMIT TRANSACTION;",
        )
        .bind(("key", key.to_string()))
        .bind(("waits", waits.clone()))
        .await
        .and_then(check_transaction)
    })
    .await?;
    // The transaction's `RETURN` is the one result that is an object with a `wait`.
    for index in (0..response.num_statements()).rev() {
        let value: serde_json::Value = take_json(&mut response, index)?;
        if value.get("wait").is_some() {
            return serde_json::from_value(value)
                .map_err(|e| DomainError::Corrupt(format!("sign-in throttle: {e}")));
        }
    }
    Err(DomainError::Corrupt(
        "sign-in throttle: the database returned no outcome".into(),
    ))
}

/// Records a sign-in attempt; the name someone typed is kept as typed, within the audit
/// log's bounds.
async fn audit_sign_in(db: &Db, name: &str, outcome: Outcome, detail: &str) {
    let event = audit::Event {
        actor: name,
        action: AuditAction::SignIn,
        target: name,
        outcome,
        detail,
    };
    audit::record_or_log(db, event).await;
}

/// How long the attempt after `failures` failures in a row must wait.
pub fn wait_after(failures: u32) -> Duration {
    if failures < FREE_FAILURES {
        return Duration::ZERO;
    }
    let doublings = (failures - FREE_FAILURES).min(16);
    FIRST_WAIT.saturating_mul(1 << doublings).min(MAX_WAIT)
}

/// Checks `name` and `password`; on success starts a session that lasts `lifetime`.
///
/// # Errors
///
/// [`DomainError::Invalid`] with [`WRONG_CREDENTIALS`] for a wrong name or password,
/// [`DomainError::TooManyAttempts`] while failures for this name make it wait (the password
/// is not even checked then).
pub async fn sign_in(
    db: &Db,
    name: &str,
    password: &str,
    lifetime: Duration,
    agent: &str,
) -> Result<NewSession, DomainError> {
    let key = throttle_key(name);
    let throttle = count_attempt(db, &key).await?;
    if throttle.wait > 0 {
        let refusal = DomainError::TooManyAttempts(format!(
            "Too many failed sign-ins for this name. Wait {} seconds, then try again.",
            throttle.wait
        ));
        // The first refusal of a wait is recorded; the others are counted and told with the
        // next attempt that is checked, so that a flood of attempts cannot fill the log.
        if throttle.refused <= 1 {
            audit_sign_in(db, name, Outcome::Refused, &refusal.to_string()).await;
        }
        return Err(refusal);
    }
    let also_refused = match throttle.refused {
        0 => String::new(),
        n => format!(" ({n} attempts were refused while it had to wait)"),
    };
    let Some(user) = users::verify(db, name, password).await? else {
        let detail = format!("wrong name or password{also_refused}");
        audit_sign_in(db, name, Outcome::Failed, &detail).await;
        return Err(DomainError::Invalid(WRONG_CREDENTIALS.into()));
    };
    audit_sign_in(db, &user.name, Outcome::Succeeded, also_refused.trim()).await;

    let token = new_token()?;
    let seconds = lifetime.as_secs().max(1);
    db.query(
        "BEGIN TRANSACTION;
         DELETE type::record('signin_failure', $key);
         CREATE type::record('session', $id) CONTENT {
             user: $user, agent: $agent, created_at: time::now(),
             expires_at: time::now() + type::duration($lifetime)
         };
         COMMIT TRANSACTION;",
    )
    .bind(("key", key))
    .bind(("id", digest(&token)))
    .bind(("user", user.name.clone()))
    .bind(("lifetime", format!("{seconds}s")))
    .bind(("agent", audit::bounded(agent, AGENT_MAX)))
    .await
    .and_then(check_transaction)?;
    Ok(NewSession {
        token,
        actor: Actor {
            name: user.name,
            role: user.role,
        },
    })
}

/// Who holds the session with this token, if it is still valid. An expired session is
/// removed on the way.
///
/// # Errors
///
/// A database error.
pub async fn resolve(db: &Db, token: &str) -> Result<Option<Actor>, DomainError> {
    #[derive(serde::Deserialize)]
    struct Row {
        name: Option<String>,
        role: Option<String>,
        expired: bool,
    }
    let id = digest(token);
    let mut response = db
        .query(
            "SELECT type::record('user', user).name AS name, type::record('user', user).role AS role,
                    expires_at <= time::now() AS expired
             FROM ONLY type::record('session', $id)",
        )
        .bind(("id", id.clone()))
        .await?;
    let row: Option<Row> = take_json(&mut response, 0)?;
    let Some(row) = row else {
        return Ok(None);
    };
    if row.expired {
        end(db, token).await?;
        return Ok(None);
    }
    Ok(
        match (row.name, row.role.as_deref().and_then(Role::parse)) {
            (Some(name), Some(role)) => Some(Actor { name, role }),
            _ => None,
        },
    )
}

/// Ends the session with this token (signing out). Ending one that does not exist is fine.
///
/// # Errors
///
/// A database error.
pub async fn end(db: &Db, token: &str) -> Result<(), DomainError> {
    db.query("DELETE type::record('session', $id)")
        .bind(("id", digest(token)))
        .await?
        .check()?;
    Ok(())
}

/// Longest browser name kept with a session, in characters.
const AGENT_MAX: usize = 120;

/// The sessions of `user` that have not expired, newest first; the one with token
/// `current` is marked.
///
/// # Errors
///
/// A database error.
pub async fn list_of(
    db: &Db,
    user: &str,
    current: Option<&str>,
) -> Result<Vec<SessionInfo>, DomainError> {
    let mut response = db
        .query(
            "SELECT meta::id(id) AS id, created_at, expires_at, agent ?? '' AS agent,
                    meta::id(id) = $current AS current
             FROM session WHERE user = $user AND expires_at > time::now()
             ORDER BY created_at DESC",
        )
        .bind(("user", user.to_string()))
        .bind(("current", current.map(digest).unwrap_or_default()))
        .await?;
    take_json(&mut response, 0)
}

/// Ends session `id` of `user` (as [`list_of`] names it). Ending one that is gone already
/// is fine.
///
/// # Errors
///
/// A database error.
pub async fn end_one_of(db: &Db, user: &str, id: &str) -> Result<(), DomainError> {
    db.query("DELETE session WHERE user = $user AND meta::id(id) = $id")
        .bind(("user", user.to_string()))
        .bind(("id", id.to_string()))
        .await?
        .check()?;
    Ok(())
}

/// Ends every session of `user` except the one with token `keep`.
///
/// # Errors
///
/// A database error.
pub async fn end_all_of(db: &Db, user: &str, keep: Option<&str>) -> Result<(), DomainError> {
    db.query("DELETE session WHERE user = $user AND meta::id(id) != $keep")
        .bind(("user", user.to_string()))
        .bind(("keep", keep.map(digest).unwrap_or_default()))
        .await?
        .check()?;
    Ok(())
}

/// Removes expired sessions and stale failure counters (run at start-up).
///
/// # Errors
///
/// A database error.
pub async fn sweep(db: &Db) -> Result<(), DomainError> {
    db.query(
        "DELETE session WHERE expires_at <= time::now();
         DELETE signin_failure WHERE last_at < time::now() - 1d;",
    )
    .await?
    .check()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_after_the_free_failures_up_to_the_maximum() {
        assert_eq!(wait_after(FREE_FAILURES - 1), Duration::ZERO);
        assert_eq!(wait_after(FREE_FAILURES), FIRST_WAIT);
        assert_eq!(wait_after(FREE_FAILURES + 1), FIRST_WAIT * 2);
        assert_eq!(wait_after(FREE_FAILURES + 40), MAX_WAIT);
    }
}
