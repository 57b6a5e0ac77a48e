//! Restore points and undo: the content a restore replaced is kept as a snapshot for
//! `--snapshot-retention`; switching a namespace back to it is one small transaction, like
//! a restore's switch (killed at any moment, the namespace is exactly the one or the other),
//! and keeps the content it replaces as a restore point in turn.

use chrono::{DateTime, Utc};

use super::Engine;
use super::faults::pause_point;
use crate::domain::content::active_generation;
use crate::domain::db::{check_transaction, is_thrown, retry_conflicts, take_json};
use crate::domain::generation as generations;
use crate::domain::{Db, DomainError, audit};
use crate::types::{AuditAction, RestorePoint, RestoreReport, UndoCheck};

#[derive(serde::Deserialize)]
struct Snapshot {
    generation: String,
    namespace: String,
    replaced_at: DateTime<Utc>,
    replaced_by: Option<String>,
    replaced_how: Option<String>,
    replaced_actor: Option<String>,
}

#[derive(serde::Deserialize)]
struct Holds {
    items: Option<u64>,
    bytes: Option<u64>,
}

/// The restore points of every namespace (of `ns` only, when given), newest first.
///
/// # Errors
///
/// A database error.
pub async fn restore_points(
    engine: &Engine,
    ns: Option<&str>,
) -> Result<Vec<RestorePoint>, DomainError> {
    let db = &engine.db;
    let snapshots: Vec<Snapshot> = generations::restore_points(db, ns).await?;
    let keep = chrono::Duration::from_std(engine.snapshot_retention).unwrap_or_default();
    let mut points = Vec::with_capacity(snapshots.len());
    for snapshot in snapshots {
        let mut response = db
            .query(
                "RETURN {
                     items: count(SELECT VALUE id FROM item:[$gen, NONE]..[$gen, {}]),
                     bytes: math::sum(SELECT VALUE size FROM item:[$gen, NONE]..[$gen, {}])
                 }",
            )
            .bind(("gen", snapshot.generation.clone()))
            .await?;
        let holds: Option<Holds> = take_json(&mut response, 0)?;
        let holds = holds.unwrap_or(Holds {
            items: None,
            bytes: None,
        });
        points.push(RestorePoint {
            replaced_by: replaced_by(db, &snapshot).await?,
            namespace: snapshot.namespace,
            generation: snapshot.generation,
            kept_until: snapshot.replaced_at + keep,
            replaced_at: snapshot.replaced_at,
            items: holds.items.unwrap_or(0),
            bytes: holds.bytes.unwrap_or(0),
        });
    }
    Ok(points)
}

/// What replaced a snapshot, in words.
async fn replaced_by(db: &Db, snapshot: &Snapshot) -> Result<String, DomainError> {
    if snapshot.replaced_how.as_deref() == Some("undo") {
        return Ok(format!(
            "undo by {}",
            snapshot.replaced_actor.as_deref().unwrap_or("someone")
        ));
    }
    let Some(job) = &snapshot.replaced_by else {
        return Ok("a restore".to_string());
    };
    let mut response = db
        .query(
            "LET $job = type::record('job', $id);
             RETURN { by: $job.started_by, backup: type::record('backup', $job.backup).name };",
        )
        .bind(("id", job.clone()))
        .await?;
    let found: Option<serde_json::Value> = take_json(&mut response, 1)?;
    let text = |key: &str| {
        found
            .as_ref()
            .and_then(|found| found.get(key))
            .and_then(|value| value.as_str())
            .map(str::to_string)
    };
    Ok(match (text("backup"), text("by")) {
        (Some(backup), Some(by)) => format!("restore of backup \u{201c}{backup}\u{201d} by {by}"),
        (None, Some(by)) => format!("restore by {by}"),
        _ => "a restore".to_string(),
    })
}

/// What switching `ns` back to restore point `generation` would discard: what was created
/// or changed in the namespace since that point was replaced.
///
/// # Errors
///
/// [`DomainError::NotFound`] for a restore point that is not (any more) one of `ns`.
pub async fn check(engine: &Engine, ns: &str, generation: &str) -> Result<UndoCheck, DomainError> {
    let point = point(engine, ns, generation).await?;
    let current = active_generation(&engine.db, ns).await?;
    let mut response = engine
        .db
        .query(
            "RETURN {
                 changed_items: count(SELECT VALUE id FROM item:[$gen, NONE]..[$gen, {}] WHERE updated_at > <datetime>$since),
                 new_folders: count(SELECT VALUE id FROM folder:[$gen, NONE]..[$gen, {}] WHERE created_at > <datetime>$since)
             }",
        )
        .bind(("gen", current))
        .bind(("since", point.replaced_at.to_rfc3339()))
        .await?;
    let found: Option<UndoCheck> = take_json(&mut response, 0)?;
    Ok(found.unwrap_or(UndoCheck {
        changed_items: 0,
        new_folders: 0,
    }))
}

async fn point(engine: &Engine, ns: &str, generation: &str) -> Result<RestorePoint, DomainError> {
    restore_points(engine, Some(ns))
        .await?
        .into_iter()
        .find(|point| point.generation == generation)
        .ok_or_else(|| {
            DomainError::NotFound(format!(
                "That restore point of namespace `{ns}` is gone: it was used or expired. Reload the page."
            ))
        })
}

/// Switches namespace `ns` back to restore point `generation`, in one transaction; the
/// content it has now becomes a restore point itself. Refused while a backup or restore
/// runs on the namespace. Audited.
///
/// # Errors
///
/// [`DomainError::NotFound`] for a restore point that is gone, [`DomainError::Conflict`]
/// while a job holds the namespace.
pub async fn undo(
    engine: &Engine,
    ns: &str,
    generation: &str,
    actor: &str,
) -> Result<RestorePoint, DomainError> {
    let result = async {
        let target = point(engine, ns, generation).await?;
        let discarded = check(engine, ns, generation).await?;
        // The report: what the switch changes, worked out before it (both sides are read).
        let started_at = Utc::now();
        let from = active_generation(&engine.db, ns).await?;
        let (folders, items) = super::preview::compare_generations(engine, &from, generation).await?;
        let finished_at = Utc::now();
        let mut warnings = Vec::new();
        if discarded.changed_items > 0 || discarded.new_folders > 0 {
            warnings.push(format!(
                "{} item(s) created or changed and {} folder(s) created in the namespace since the restore were discarded.",
                discarded.changed_items, discarded.new_folders
            ));
        }
        let report = RestoreReport {
            backup: generation.to_string(),
            backup_name: format!(
                "the content of {} (before {})",
                target.replaced_at.format("%Y-%m-%d %H:%M:%S UTC"),
                target.replaced_by
            ),
            namespace: ns.to_string(),
            started_by: actor.to_string(),
            started_at,
            finished_at,
            duration_ms: u64::try_from((finished_at - started_at).num_milliseconds()).unwrap_or(0),
            folders,
            items,
            migrations: Vec::new(),
            migrated: None,
            warnings,
        };
        let report = serde_json::to_value(&report)
            .map_err(|error| DomainError::Corrupt(error.to_string()))?;
        let job = super::engine::new_id();
        pause_point("undo:switching", ns).await;
        let (is_restore_point, switch) = (generations::is_restore_point(), generations::switch());
        let switched = retry_conflicts(|| async {
            engine
                .db
                .query(format!(
                    "BEGIN TRANSACTION;
                     IF type::record('namespace_lock', $ns).job != NONE {{ THROW 'busy' }};
                     IF !({is_restore_point}) {{ THROW 'gone' }};
                     IF type::record('namespace', $ns).generation != $from {{ THROW 'moved' }};
                     CREATE type::record('job', $job) CONTENT {{
                         kind: 'undo', namespace: $ns, backup: $target, status: 'succeeded',
                         phase: 'finished', done: 0, total: 0, error: NONE, started_by: $actor,
                         created_at: time::now(), finished_at: time::now(), replica: $replica,
                         lease_until: NONE, report: $report
                     }};
                     {switch}
                     COMMIT TRANSACTION;",
                ))
                .bind(("ns", ns.to_string()))
                .bind(("target", generation.to_string()))
                .bind(("gen", generation.to_string()))
                .bind(("how", "undo"))
                .bind(("actor", actor.to_string()))
                .bind(("from", from.clone()))
                .bind(("job", job.clone()))
                .bind(("replica", engine.replica.id.to_string()))
                .bind(("report", report.clone()))
                .await
                .and_then(check_transaction)
        })
        .await;
        match switched {
            Ok(_) => {}
            Err(error) if is_thrown(&error, "busy") => {
                return Err(DomainError::Conflict(format!(
                    "A backup or restore of namespace `{ns}` is running. Wait until it has finished, then undo."
                )));
            }
            Err(error) if is_thrown(&error, "moved") => {
                return Err(DomainError::Conflict(format!(
                    "Namespace `{ns}` was restored or switched back meanwhile. Look at its restore points again, then undo."
                )));
            }
            Err(error) if is_thrown(&error, "gone") => {
                return Err(DomainError::NotFound(format!(
                    "That restore point of namespace `{ns}` is gone: it was used or expired. Reload the page."
                )));
            }
            Err(error) => return Err(error.into()),
        }
        pause_point("undo:switched", ns).await;
        Ok((target, discarded, job))
    }
    .await;
    let detail = match &result {
        Ok((point, discarded, job)) => format!(
            "switched back to the content of {} (before {}); {} item(s) created or changed and {} folder(s) created since were discarded (report: {})",
            point.replaced_at.format("%Y-%m-%d %H:%M:%S UTC"),
            point.replaced_by,
            discarded.changed_items,
            discarded.new_folders,
            crate::types::report_path(job)
        ),
        Err(_) => String::new(),
    };
    let result = result.map(|(point, _, _)| point);
    audit::audited(
        &engine.db,
        actor,
        AuditAction::RestoreUndo,
        ns,
        &detail,
        result,
    )
    .await
}

/// Retires the restore points older than the engine's snapshot retention (their content is
/// removed in the background). Returns how many.
///
/// # Errors
///
/// A database error.
pub async fn retire_expired(engine: &Engine) -> Result<usize, DomainError> {
    generations::retire_snapshots_older_than(&engine.db, engine.snapshot_retention).await
}
