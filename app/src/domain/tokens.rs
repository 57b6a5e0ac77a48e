//! Personal API tokens: a script's way in. A token acts as the user who made it, is shown
//! once when it is made, and is kept only as its SHA-256 (the record's key, as for
//! sessions), with a handle that names it in lists and in the audit log. It stops working
//! when it expires, when it is revoked, or when its user is deleted.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::db::take_json;
use super::sessions::{digest, new_token};
use super::{Db, DomainError, audit, users};
use crate::types::{Actor, ApiTokenInfo, AuditAction, NewApiToken, Role};

/// What every secret starts with: a token is recognisable in a script or a leaked file.
pub const PREFIX: &str = "nsb_";
/// How long a token's name may be.
pub const NAME_MAX: usize = 100;
/// How many tokens (working or not) one user may hold at most.
pub const PER_USER_MAX: usize = 50;
/// The longest a token may work: five years.
pub const LONGEST: Duration = Duration::from_secs(5 * 365 * 24 * 60 * 60);
/// How often a token's use is recorded (its last use, and the audit log) at most.
const USE_RECORDED_EVERY: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

const SELECT: &str = "handle, name, user, created_at, expires_at, last_used_at, revoked_at";

/// Makes a token named `name` for `user`, working for `lifetime` (`None`: until revoked).
///
/// # Errors
///
/// [`DomainError::Invalid`] for a name that is empty, too long or holds control characters,
/// a lifetime beyond [`LONGEST`], or a user who holds [`PER_USER_MAX`] tokens already;
/// [`DomainError::NotFound`] for an unknown user.
pub async fn create(
    db: &Db,
    user: &str,
    name: &str,
    lifetime: Option<Duration>,
    actor: &str,
) -> Result<NewApiToken, DomainError> {
    let result = async {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > NAME_MAX {
            return Err(DomainError::Invalid(format!(
                "A token's name has 1 to {NAME_MAX} characters: say what it is for (\u{201c}nightly copy\u{201d})."
            )));
        }
        if name.chars().any(char::is_control) {
            return Err(DomainError::Invalid(
                "A token's name cannot contain control characters (such as line breaks).".into(),
            ));
        }
        if lifetime.is_some_and(|lifetime| lifetime > LONGEST || lifetime.is_zero()) {
            return Err(DomainError::Invalid(
                "A token works for at most five years; choose a shorter time, or none to keep it until it is revoked.".into(),
            ));
        }
        users::get(db, user).await?;
        let mut response = db
            .query("RETURN count(SELECT VALUE id FROM api_token WHERE user = $user)")
            .bind(("user", user.to_string()))
            .await?;
        let held: Option<usize> = take_json(&mut response, 0)?;
        if held.unwrap_or(0) >= PER_USER_MAX {
            return Err(DomainError::Invalid(format!(
                "User {user} holds {PER_USER_MAX} tokens already: revoke and delete those no script uses any more first."
            )));
        }
        let secret = format!("{PREFIX}{}", new_token()?);
        let handle = uuid::Uuid::now_v7().simple().to_string()[20..].to_string();
        let expires_at = match lifetime {
            Some(lifetime) => Some(
                Utc::now()
                    + chrono::TimeDelta::from_std(lifetime)
                        .map_err(|e| DomainError::Invalid(e.to_string()))?,
            ),
            None => None,
        };
        let mut response = db
            .query(format!(
                "CREATE ONLY type::record('api_token', $key) CONTENT {{
                     handle: $handle, name: $name, user: $user, created_at: time::now(),
                     expires_at: IF $expires = NONE {{ NONE }} ELSE {{ <datetime>$expires }},
                     last_used_at: NONE, revoked_at: NONE
                 }} RETURN {SELECT}"
            ))
            .bind(("key", digest(&secret)))
            .bind(("handle", handle))
            .bind(("name", name.to_string()))
            .bind(("user", user.to_string()))
            .bind(("expires", expires_at.map(|at| at.to_rfc3339())))
            .await?;
        let info: Option<ApiTokenInfo> = take_json(&mut response, 0)?;
        let info = info.ok_or_else(|| DomainError::Corrupt("a new token was not stored".into()))?;
        Ok(NewApiToken { info, secret })
    }
    .await;
    let detail = match &result {
        Ok(made) => format!(
            "token {} \u{201c}{}\u{201d} for {user}, {}",
            made.info.handle,
            made.info.name,
            match made.info.expires_at {
                Some(at) => format!("expires {}", at.format("%Y-%m-%d %H:%M UTC")),
                None => "never expires".to_string(),
            }
        ),
        Err(_) => String::new(),
    };
    audit::audited(db, actor, AuditAction::TokenCreate, user, &detail, result).await
}

/// Every token, newest first.
///
/// # Errors
///
/// A database error.
pub async fn list(db: &Db) -> Result<Vec<ApiTokenInfo>, DomainError> {
    let mut response = db
        .query(format!(
            "SELECT {SELECT} FROM api_token ORDER BY created_at DESC"
        ))
        .await?;
    take_json(&mut response, 0)
}

/// Revokes the token `handle`: every later use is refused.
///
/// # Errors
///
/// [`DomainError::NotFound`] for an unknown handle.
pub async fn revoke(db: &Db, handle: &str, actor: &str) -> Result<ApiTokenInfo, DomainError> {
    let result = async {
        let mut response = db
            .query(format!(
                "UPDATE api_token SET revoked_at = revoked_at ?? time::now()
                 WHERE handle = $handle RETURN {SELECT}"
            ))
            .bind(("handle", handle.to_string()))
            .await?;
        let found: Vec<ApiTokenInfo> = take_json(&mut response, 0)?;
        found.into_iter().next().ok_or_else(|| {
            DomainError::NotFound(format!(
                "There is no token `{handle}`. The list of tokens shows every handle."
            ))
        })
    }
    .await;
    let detail = match &result {
        Ok(token) => format!("token {} \u{201c}{}\u{201d}", token.handle, token.name),
        Err(_) => String::new(),
    };
    let target = result
        .as_ref()
        .map(|token| token.user.clone())
        .unwrap_or_else(|_| handle.to_string());
    audit::audited(
        db,
        actor,
        AuditAction::TokenRevoke,
        &target,
        &detail,
        result,
    )
    .await
}

/// Revokes every working token of `user` (when an administrator resets a password because
/// the account may be in other hands); each revocation is audited as done by `actor`.
/// Returns the tokens revoked.
///
/// # Errors
///
/// A database error.
pub async fn revoke_all_of(
    db: &Db,
    user: &str,
    actor: &str,
) -> Result<Vec<ApiTokenInfo>, DomainError> {
    let mut response = db
        .query(format!(
            "UPDATE api_token SET revoked_at = time::now()
             WHERE user = $user AND revoked_at = NONE RETURN {SELECT}"
        ))
        .bind(("user", user.to_string()))
        .await?;
    let revoked: Vec<ApiTokenInfo> = take_json(&mut response, 0)?;
    for token in &revoked {
        let detail = format!(
            "token {} \u{201c}{}\u{201d}, with a new password",
            token.handle, token.name
        );
        audit::record_or_log(
            db,
            audit::Event {
                actor,
                action: AuditAction::TokenRevoke,
                target: user,
                outcome: crate::types::Outcome::Succeeded,
                detail: &detail,
            },
        )
        .await;
    }
    Ok(revoked)
}

/// Who a request presenting `secret` acts as; `Ok(Err(why))` when the token does not work
/// (unknown, revoked, expired, its user deleted), with the message for the 401.
///
/// # Errors
///
/// A database error.
pub async fn authenticate(db: &Db, secret: &str) -> Result<Result<Actor, String>, DomainError> {
    #[derive(serde::Deserialize)]
    struct Row {
        #[serde(flatten)]
        info: ApiTokenInfo,
        role: Option<String>,
    }
    const UNKNOWN: &str = "This API token is not known here: it was mistyped, or it was deleted. Create a new one under Administration \u{2192} API tokens.";
    if !secret.starts_with(PREFIX) || secret.len() > 200 {
        return Ok(Err(UNKNOWN.into()));
    }
    let mut response = db
        .query(format!(
            "SELECT {SELECT}, type::record('user', user).role AS role
             FROM ONLY type::record('api_token', $key)"
        ))
        .bind(("key", digest(secret)))
        .await?;
    let row: Option<Row> = take_json(&mut response, 0)?;
    let Some(row) = row else {
        return Ok(Err(UNKNOWN.into()));
    };
    let token = &row.info;
    let now = Utc::now();
    if let Some(at) = token.revoked_at {
        return Ok(Err(format!(
            "API token \u{201c}{}\u{201d} was revoked on {}. Create a new one under Administration \u{2192} API tokens.",
            token.name,
            at.format("%Y-%m-%d %H:%M UTC")
        )));
    }
    if let Some(at) = token.expires_at.filter(|at| *at <= now) {
        return Ok(Err(format!(
            "API token \u{201c}{}\u{201d} expired on {}. Create a new one under Administration \u{2192} API tokens.",
            token.name,
            at.format("%Y-%m-%d %H:%M UTC")
        )));
    }
    let Some(role) = row.role.as_deref().and_then(Role::parse) else {
        return Ok(Err(format!(
            "API token \u{201c}{}\u{201d} acts as user {}, who no longer exists.",
            token.name, token.user
        )));
    };
    if token
        .last_used_at
        .is_none_or(|last: DateTime<Utc>| now - last >= USE_RECORDED_EVERY)
    {
        // Several requests with one token at once all try to note it; the use is noted once,
        // and a note that cannot be written never turns a working token away.
        let noted = super::db::retry_conflicts(|| async {
            db.query(
                "UPDATE api_token SET last_used_at = time::now()
                 WHERE handle = $handle AND (last_used_at = NONE OR last_used_at < time::now() - 1m)",
            )
            .bind(("handle", token.handle.clone()))
            .await?
            .check()
        })
        .await;
        if let Err(error) = noted {
            tracing::warn!(%error, handle = token.handle, "could not note an API token's use");
        }
        let detail = format!("token {} \u{201c}{}\u{201d}", token.handle, token.name);
        let event = audit::Event {
            actor: &token.user,
            action: AuditAction::TokenUse,
            target: &token.user,
            outcome: crate::types::Outcome::Succeeded,
            detail: &detail,
        };
        audit::record_or_log(db, event).await;
    }
    Ok(Ok(Actor {
        name: token.user.clone(),
        role,
    }))
}
