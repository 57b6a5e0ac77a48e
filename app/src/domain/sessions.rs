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

use std::time::Duration;

use sha2::{Digest, Sha256};

use super::db::take_json;
use super::{Db, DomainError, users};
use crate::types::{Actor, Role};

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

fn digest(token: &str) -> String {
    let hash = Sha256::digest(token.as_bytes());
    hash.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn new_token() -> Result<String, DomainError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| DomainError::Corrupt(format!("no randomness for a session token: {e}")))?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// The key under which failures for `name` are counted: names are compared as typed but
/// case does not buy an attacker fresh attempts.
fn throttle_key(name: &str) -> String {
    name.trim().to_lowercase()
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
) -> Result<NewSession, DomainError> {
    let key = throttle_key(name);
    let mut response = db
        .query("RETURN type::record('signin_failure', $key).retry_at")
        .bind(("key", key.clone()))
        .await?;
    let retry_at: Option<chrono::DateTime<chrono::Utc>> = take_json(&mut response, 0)?;
    if let Some(retry_at) = retry_at {
        let wait = (retry_at - chrono::Utc::now()).num_seconds();
        if wait > 0 {
            return Err(DomainError::TooManyAttempts(format!(
                "Too many failed sign-ins for this name. Wait {wait} seconds, then try again."
            )));
        }
    }

    let Some(user) = users::verify(db, name, password).await? else {
        let mut response = db
            .query(
                "UPSERT type::record('signin_failure', $key)
                 SET failures = (failures ?? 0) + 1, last_at = time::now()
                 RETURN VALUE failures",
            )
            .bind(("key", key.clone()))
            .await?;
        let failures: Vec<u32> = take_json(&mut response, 0)?;
        let failures = failures.first().copied().unwrap_or(1);
        let wait = wait_after(failures);
        if wait > Duration::ZERO {
            db.query("UPDATE type::record('signin_failure', $key) SET retry_at = time::now() + type::duration($wait)")
                .bind(("key", key))
                .bind(("wait", format!("{}s", wait.as_secs())))
                .await?
                .check()?;
        }
        return Err(DomainError::Invalid(WRONG_CREDENTIALS.into()));
    };

    let token = new_token()?;
    let seconds = lifetime.as_secs().max(1);
    db.query(
        "BEGIN TRANSACTION;
         DELETE type::record('signin_failure', $key);
         CREATE type::record('session', $id) CONTENT {
             user: $user, created_at: time::now(), expires_at: time::now() + type::duration($lifetime)
         };
         COMMIT TRANSACTION;",
    )
    .bind(("key", key))
    .bind(("id", digest(&token)))
    .bind(("user", user.name.clone()))
    .bind(("lifetime", format!("{seconds}s")))
    .await
    .and_then(super::db::check_transaction)?;
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
