//! The audit log: who did what, when, to what, and how it ended. Entries are only ever
//! added; they are `audit:⟨key⟩` records whose key is time-ordered, so the newest sort last.

use super::content::new_generation_id;
use super::db::take_json;
use super::{Db, DomainError};
use crate::types::{AuditEntry, AuditPage, Outcome};

/// The actor recorded for changes made with the `nsbackup` command line.
pub const COMMAND_LINE: &str = "(command line)";

/// The most entries one page of the log shows.
pub const MAX_PAGE: usize = 200;

/// One thing to record.
#[derive(Clone, Debug)]
pub struct Event<'a> {
    /// Who: a user name, [`COMMAND_LINE`], or the name someone tried to sign in with.
    pub actor: &'a str,
    /// What, as a short verb phrase: `sign-in`, `user create`, `backup restore`, …
    pub action: &'a str,
    /// To what: a user, a namespace, a backup.
    pub target: &'a str,
    pub outcome: Outcome,
    /// Anything else worth knowing: the reason of a refusal, a new role. Never a password.
    pub detail: &'a str,
}

/// Adds an entry to the log.
///
/// # Errors
///
/// A database error.
pub async fn record(db: &Db, event: Event<'_>) -> Result<(), DomainError> {
    db.query(
        "CREATE type::record('audit', $key) CONTENT {
             key: $key, at: time::now(), actor: $actor, action: $action, target: $target,
             outcome: $outcome, detail: $detail
         }",
    )
    .bind(("key", new_generation_id()))
    .bind(("actor", event.actor.to_string()))
    .bind(("action", event.action.to_string()))
    .bind(("target", event.target.to_string()))
    .bind(("outcome", event.outcome.as_str()))
    .bind(("detail", event.detail.to_string()))
    .await?
    .check()?;
    Ok(())
}

/// Adds an entry, logging instead of failing when the database refuses: the action it
/// records has happened already and must not be reported as failed because of its log.
pub async fn record_or_log(db: &Db, event: Event<'_>) {
    if let Err(error) = record(db, event.clone()).await {
        tracing::error!(%error, action = event.action, target = event.target, "could not write the audit log");
    }
}

/// Records how `action` on `target` by `actor` ended — `result`'s outcome: refusals (a bad
/// request, a clash, a missing thing, no permission) as `refused`, other errors as `failed` —
/// and passes `result` on. `detail` is recorded on success; an error's message otherwise.
pub async fn audited<T>(
    db: &Db,
    actor: &str,
    action: &str,
    target: &str,
    detail: &str,
    result: Result<T, DomainError>,
) -> Result<T, DomainError> {
    let (outcome, detail) = match &result {
        Ok(_) => (Outcome::Succeeded, detail.to_string()),
        Err(
            error @ (DomainError::Invalid(_)
            | DomainError::Conflict(_)
            | DomainError::Forbidden(_)
            | DomainError::NotFound(_)),
        ) => (Outcome::Refused, error.to_string()),
        Err(error) => (Outcome::Failed, error.to_string()),
    };
    let event = Event {
        actor,
        action,
        target,
        outcome,
        detail: &detail,
    };
    record_or_log(db, event).await;
    result
}

/// Up to `limit` entries older than `before` (all when `None`), newest first.
///
/// # Errors
///
/// A database error.
pub async fn page(db: &Db, before: Option<&str>, limit: usize) -> Result<AuditPage, DomainError> {
    let limit = limit.clamp(1, MAX_PAGE);
    let mut response = db
        .query(
            "SELECT key, at, actor, action, target, outcome, detail FROM audit
                 WHERE $before = NONE OR key < $before
                 ORDER BY key DESC LIMIT $limit;
             RETURN count(SELECT VALUE key FROM audit);",
        )
        .bind(("before", before.map(str::to_string)))
        .bind(("limit", limit + 1))
        .await?;
    let mut entries: Vec<AuditEntry> = take_json(&mut response, 0)?;
    let total: Option<u64> = take_json(&mut response, 1)?;
    let older = if entries.len() > limit {
        entries.truncate(limit);
        entries.last().map(|entry| entry.key.clone())
    } else {
        None
    };
    Ok(AuditPage {
        entries,
        older,
        total: total.unwrap_or_default(),
    })
}
