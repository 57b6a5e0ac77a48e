//! Administration: user accounts and the audit log (administrators only).

#[cfg(feature = "ssr")]
use crate::types::AuditAction;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;
use crate::types::{AuditFilter, AuditPage, Role, UserInfo};

#[cfg(feature = "ssr")]
use crate::domain::{accounts, audit, users};

/// Every user, sorted by name.
#[server(input = Json, endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<UserInfo>, AppError> {
    super::admin()?;
    let db = super::services()?.db;
    super::respond(users::list(&db).await)
}

/// Creates a user.
#[server(input = Json, endpoint = "create_user")]
pub async fn create_user(name: String, role: Role, password: String) -> Result<UserInfo, AppError> {
    let actor = super::admin()?;
    let db = super::services()?.db;
    let name = name.trim().to_string();
    let created = users::create(&db, &name, role, &password).await;
    let detail = format!("role {}", role.as_str());
    super::audited(
        &db,
        &actor,
        AuditAction::UserCreate,
        &name,
        &detail,
        created,
    )
    .await
}

/// Sets a user's password; every session of that user ends. With `revoke_tokens` (an
/// account that may be in other hands), every API token of theirs is revoked too. Returns
/// how many tokens were revoked.
#[server(input = Json, endpoint = "set_user_password")]
pub async fn set_user_password(
    name: String,
    password: String,
    #[server(default)] revoke_tokens: bool,
) -> Result<usize, AppError> {
    let actor = super::admin()?;
    let db = super::services()?.db;
    let changed = accounts::change_password(&db, &name, &password, None).await;
    let detail = if revoke_tokens {
        "with their API tokens revoked"
    } else {
        ""
    };
    super::audited(
        &db,
        &actor,
        AuditAction::UserPassword,
        &name,
        detail,
        changed,
    )
    .await?;
    if !revoke_tokens {
        return Ok(0);
    }
    let revoked = crate::domain::tokens::revoke_all_of(&db, &name, &actor.name).await;
    super::respond(revoked.map(|tokens| tokens.len()))
}

/// Changes a user's role. The last administrator stays one.
#[server(input = Json, endpoint = "set_user_role")]
pub async fn set_user_role(name: String, role: Role) -> Result<UserInfo, AppError> {
    let actor = super::admin()?;
    let db = super::services()?.db;
    let changed = users::set_role(&db, &name, role).await;
    let detail = format!("role {}", role.as_str());
    super::audited(&db, &actor, AuditAction::UserRole, &name, &detail, changed).await
}

/// Deletes a user (their sessions end). Administrators cannot delete themselves, and the
/// last administrator stays.
#[server(input = Json, endpoint = "delete_user")]
pub async fn delete_user(name: String) -> Result<(), AppError> {
    let actor = super::admin()?;
    let db = super::services()?.db;
    let deleted = accounts::delete(&db, &name, &actor.name).await;
    super::audited(&db, &actor, AuditAction::UserDelete, &name, "", deleted).await
}

/// One page of the audit log, newest first: entries older than `before` (`None`: the newest)
/// that match `filter` (`None`: all).
#[server(input = Json, endpoint = "list_audit")]
pub async fn list_audit(
    before: Option<String>,
    limit: u32,
    filter: Option<AuditFilter>,
) -> Result<AuditPage, AppError> {
    super::admin()?;
    let db = super::services()?.db;
    let limit = usize::try_from(limit).unwrap_or(audit::MAX_PAGE);
    let filter = filter.unwrap_or_default();
    super::respond(audit::page(&db, &filter, before.as_deref(), limit).await)
}

/// Every API token (never a secret), newest first.
#[server(input = Json, endpoint = "list_tokens")]
pub async fn list_tokens() -> Result<Vec<crate::types::ApiTokenInfo>, AppError> {
    super::admin()?;
    let db = super::services()?.db;
    super::respond(crate::domain::tokens::list(&db).await)
}

/// Makes a personal API token for the signed-in administrator, working for `days` (`None`:
/// until revoked); its secret is in the answer, this once.
#[server(input = Json, endpoint = "create_token")]
pub async fn create_token(
    name: String,
    days: Option<u32>,
) -> Result<crate::types::NewApiToken, AppError> {
    let actor = super::admin()?;
    let db = super::services()?.db;
    let lifetime = days.map(|days| std::time::Duration::from_secs(u64::from(days) * 86_400));
    super::respond(
        crate::domain::tokens::create(&db, &actor.name, &name, lifetime, &actor.name).await,
    )
}

/// Revokes the API token `handle`.
#[server(input = Json, endpoint = "revoke_token")]
pub async fn revoke_token(handle: String) -> Result<crate::types::ApiTokenInfo, AppError> {
    let actor = super::admin()?;
    let db = super::services()?.db;
    super::respond(crate::domain::tokens::revoke(&db, &handle, &actor.name).await)
}
