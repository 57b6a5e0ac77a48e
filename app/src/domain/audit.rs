//! The audit log: who did what, when, to what, and how it ended. Entries are only ever
//! added; they are `audit:⟨key⟩` records whose key is time-ordered, so the newest sort last.

use super::db::take_json;
use super::{Db, DomainError};
use crate::types::AuditAction;
use crate::types::{AuditEntry, AuditFilter, AuditPage, Outcome};

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
    pub action: AuditAction,
    /// To what: a user, a namespace, a backup.
    pub target: &'a str,
    pub outcome: Outcome,
    /// Anything else worth knowing: the reason of a refusal, a new role. Never a password.
    pub detail: &'a str,
}

/// Longest actor or target kept in the log, in characters; longer ones are cut and marked.
pub const NAME_MAX: usize = 200;
/// Longest detail kept in the log, in characters.
pub const DETAIL_MAX: usize = 1000;

/// `text` cut to `max` characters (with `…` where it was cut), with control characters
/// shown as escapes: whatever a request carried, an entry stays small and readable.
pub fn bounded(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (count, c) in text.chars().enumerate() {
        if count == max {
            out.push('…');
            break;
        }
        if c.is_control() || crate::validate::is_invisible_format(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// The detail recorded for an error: its message when it is one for the user, a plain
/// sentence otherwise (internal errors' text, from the database or the file system, stays in
/// the server's log).
pub fn error_detail(error: &DomainError) -> String {
    if error.is_for_the_user() {
        error.to_string()
    } else {
        "the server could not complete it (its log says why)".to_string()
    }
}

/// Adds an entry to the log. Actor, target and detail are cut to [`NAME_MAX`] and
/// [`DETAIL_MAX`] characters.
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
    // Time-ordered: the log pages by it.
    .bind(("key", uuid::Uuid::now_v7().simple().to_string()))
    .bind(("actor", bounded(event.actor, NAME_MAX)))
    .bind(("action", event.action.as_str()))
    .bind(("target", bounded(event.target, NAME_MAX)))
    .bind(("outcome", event.outcome.as_str()))
    .bind(("detail", bounded(event.detail, DETAIL_MAX)))
    .await?
    .check()?;
    Ok(())
}

/// Adds an entry, logging instead of failing when the database refuses: the action it
/// records has happened already and must not be reported as failed because of its log.
pub async fn record_or_log(db: &Db, event: Event<'_>) {
    if let Err(error) = record(db, event.clone()).await {
        tracing::error!(%error, action = event.action.as_str(), target = event.target, "could not write the audit log");
    }
}

/// Records how `action` on `target` by `actor` ended — `result`'s outcome: refusals (a bad
/// request, a clash, a missing thing, no permission) as `refused`, other errors as `failed` —
/// and passes `result` on. `detail` is recorded on success; an error's message otherwise.
pub async fn audited<T>(
    db: &Db,
    actor: &str,
    action: AuditAction,
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
        Err(error) => (Outcome::Failed, error_detail(error)),
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

/// The condition of [`AuditFilter`] in SurrealQL, over `$actor`, `$action`, `$target`,
/// `$from` and `$until` (see [`bind_filter`]).
const MATCHES: &str = "($actor = NONE OR string::lowercase(actor) = $actor)
    AND ($action = NONE OR action = $action)
    AND ($target = NONE OR string::contains(string::lowercase(target), $target))
    AND ($from = NONE OR at >= $from)
    AND ($until = NONE OR at < $until)";

/// A filter's parts, cleaned: blank ones are no filter, names compare in lower case, and
/// each is cut to what the log keeps.
fn filter_parts(filter: &AuditFilter) -> [Option<String>; 3] {
    let clean = |part: &Option<String>, lower: bool| {
        part.as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                let p = bounded(p, NAME_MAX);
                if lower { p.to_lowercase() } else { p }
            })
    };
    [
        clean(&filter.actor, true),
        clean(&filter.action, false),
        clean(&filter.target, true),
    ]
}

/// Up to `limit` entries that match `filter` and are older than `before` (all when `None`),
/// newest first, with how many match in all.
///
/// # Errors
///
/// A database error.
pub async fn page(
    db: &Db,
    filter: &AuditFilter,
    before: Option<&str>,
    limit: usize,
) -> Result<AuditPage, DomainError> {
    let limit = limit.clamp(1, MAX_PAGE);
    let [actor, action, target] = filter_parts(filter);
    let mut response = db
        .query(format!(
            "SELECT key, at, actor, action, target, outcome, detail FROM audit
                 WHERE ($before = NONE OR key < $before) AND {MATCHES}
                 ORDER BY key DESC LIMIT $limit;
             RETURN count(SELECT VALUE key FROM audit WHERE {MATCHES});"
        ))
        .bind(("before", before.map(str::to_string)))
        .bind(("limit", limit + 1))
        .bind(("actor", actor))
        .bind(("action", action))
        .bind(("target", target))
        .bind(("from", filter.from.map(surrealdb::types::Datetime::from)))
        .bind(("until", filter.until.map(surrealdb::types::Datetime::from)))
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
