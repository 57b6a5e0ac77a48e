//! Schedules as administrators set them: one per namespace, kept with the namespace
//! (`namespace:⟨name⟩.schedule`, so that it goes when the namespace goes and a restore
//! leaves it as it is), with the next due time the scheduler claims runs by.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::retention;
use super::when::{self, When};
use crate::domain::backup::{self, Engine};
use crate::domain::content::namespace as namespaces;
use crate::domain::db::take_json;
use crate::domain::{Db, DomainError, audit};
use crate::types::{
    AuditAction, BackupInfo, ScheduleDraft, ScheduleInfo, SchedulePreview, ScheduleRun,
};

/// How long a name template may be.
const TEMPLATE_MAX: usize = 100;

/// A schedule as it is stored.
#[derive(Clone, Debug, serde::Deserialize)]
pub(super) struct Stored {
    #[serde(flatten)]
    pub draft: ScheduleDraft,
    pub next_due: Option<DateTime<Utc>>,
    pub last_run: Option<ScheduleRun>,
}

/// The fields of a namespace record's schedule as [`Stored`] reads them.
const SELECT: &str = "schedule.namespace AS namespace, schedule.cron AS cron, schedule.timezone AS timezone,
    schedule.enabled AS enabled, schedule.name_template AS name_template, schedule.retention AS retention,
    schedule.next_due AS next_due, schedule.last_run AS last_run";

impl Stored {
    fn info(self) -> ScheduleInfo {
        let description = when::parse(&self.draft.cron, &self.draft.timezone)
            .map(|when| when.describe())
            .unwrap_or_default();
        ScheduleInfo {
            next_run: self.next_due.filter(|_| self.draft.enabled),
            last_run: self.last_run,
            description,
            draft: self.draft,
        }
    }
}

/// The name a run due at `due` gives its backup.
pub(super) fn backup_name(draft: &ScheduleDraft, when: &When, due: DateTime<Utc>) -> String {
    let local = due.with_timezone(&when.timezone());
    draft
        .name_template
        .replace("{date}", &local.format("%Y-%m-%d").to_string())
        .replace("{time}", &local.format("%H:%M").to_string())
        .replace("{namespace}", &draft.namespace)
}

/// Checks a draft: its expression, time zone and name template; the namespace is checked by
/// [`set`]. Returns the parsed schedule.
fn check(draft: &ScheduleDraft, now: DateTime<Utc>) -> Result<When, DomainError> {
    crate::validate::namespace_name(&draft.namespace).map_err(DomainError::Invalid)?;
    let when = when::parse(&draft.cron, &draft.timezone).map_err(DomainError::Invalid)?;
    if draft.name_template.chars().count() > TEMPLATE_MAX {
        return Err(DomainError::Invalid(format!(
            "The name template is longer than {TEMPLATE_MAX} characters; shorten it."
        )));
    }
    backup::check_name(&backup_name(draft, &when, now)).map_err(|problem| {
        DomainError::Invalid(format!(
            "The name template does not make a usable name: {problem}"
        ))
    })?;
    Ok(when)
}

/// The completed backups of `ns`, and which of them a job uses.
pub(super) async fn backups_of(
    db: &Db,
    ns: &str,
) -> Result<(Vec<BackupInfo>, HashSet<String>), DomainError> {
    let backups: Vec<BackupInfo> = backup::list(db)
        .await?
        .into_iter()
        .filter(|b| b.namespace == ns)
        .collect();
    // One query for every backup a job that has not ended uses.
    let mut response = db
        .query("SELECT VALUE backup FROM job WHERE status IN ['queued', 'running']")
        .await?;
    let in_use: HashSet<String> = take_json::<Vec<String>>(&mut response, 0)?
        .into_iter()
        .collect();
    Ok((backups, in_use))
}

/// What saving `draft` would do: its problem if it has one, its next five runs, and the
/// backups its retention policy would delete now.
///
/// # Errors
///
/// A database error.
pub async fn preview(
    engine: &Engine,
    draft: &ScheduleDraft,
    now: DateTime<Utc>,
) -> Result<SchedulePreview, DomainError> {
    let when = match check(draft, now) {
        Ok(when) => when,
        Err(DomainError::Invalid(problem)) => {
            return Ok(SchedulePreview {
                problem: Some(problem),
                ..SchedulePreview::default()
            });
        }
        Err(error) => return Err(error),
    };
    let (backups, in_use) = backups_of(&engine.db, &draft.namespace).await?;
    Ok(SchedulePreview {
        problem: None,
        description: when.describe(),
        next_runs: when.next_runs(now, 5),
        deletions: retention::plan(&backups, &draft.retention, &in_use, when.timezone()),
    })
}

/// Every schedule, by namespace.
///
/// # Errors
///
/// A database error.
pub async fn list(db: &Db) -> Result<Vec<ScheduleInfo>, DomainError> {
    let mut response = db
        .query(format!(
            "SELECT {SELECT} FROM namespace WHERE schedule != NONE ORDER BY namespace"
        ))
        .await?;
    let stored: Vec<Stored> = take_json(&mut response, 0)?;
    Ok(stored.into_iter().map(Stored::info).collect())
}

/// The schedule of namespace `ns`, if it has one.
///
/// # Errors
///
/// A database error.
pub async fn get(db: &Db, ns: &str) -> Result<Option<ScheduleInfo>, DomainError> {
    Ok(stored(db, ns).await?.map(Stored::info))
}

pub(super) async fn stored(db: &Db, ns: &str) -> Result<Option<Stored>, DomainError> {
    if crate::validate::namespace_name(ns).is_err() {
        return Ok(None);
    }
    let mut response = db
        .query(format!(
            "SELECT {SELECT} FROM ONLY type::record('namespace', $ns) WHERE schedule != NONE"
        ))
        .bind(("ns", ns.to_string()))
        .await?;
    take_json(&mut response, 0)
}

/// Sets (creates or replaces) the schedule of a namespace; its next run is computed from
/// `now`. Audited.
///
/// # Errors
///
/// [`DomainError::Invalid`] naming what is wrong with the draft, [`DomainError::NotFound`]
/// for a namespace that does not exist.
pub async fn set(
    engine: &Engine,
    draft: &ScheduleDraft,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<ScheduleInfo, DomainError> {
    let result = async {
        let when = check(draft, now)?;
        namespaces::get(&engine.db, &draft.namespace).await?;
        let next_due = if draft.enabled {
            when.next_after(now)
        } else {
            None
        };
        let retention = serde_json::to_value(&draft.retention)
            .map_err(|error| DomainError::Corrupt(error.to_string()))?;
        engine
            .db
            .query(
                "UPDATE type::record('namespace', $ns) SET
                     schedule.namespace = $ns, schedule.cron = $cron, schedule.timezone = $tz,
                     schedule.enabled = $enabled, schedule.name_template = $template,
                     schedule.retention = $retention,
                     schedule.next_due = IF $next = NONE { NONE } ELSE { <datetime>$next },
                     schedule.updated_at = time::now()",
            )
            .bind(("ns", draft.namespace.clone()))
            .bind(("cron", draft.cron.trim().to_string()))
            .bind(("tz", draft.timezone.trim().to_string()))
            .bind(("enabled", draft.enabled))
            .bind(("template", draft.name_template.clone()))
            .bind(("retention", retention))
            .bind(("next", next_due.map(|at| at.to_rfc3339())))
            .await?
            .check()?;
        get(&engine.db, &draft.namespace)
            .await?
            .ok_or_else(|| DomainError::NotFound("The schedule was removed meanwhile.".into()))
    }
    .await;
    let detail = format!(
        "{} ({}), {}; {}",
        draft.cron.trim(),
        draft.timezone.trim(),
        if draft.enabled { "enabled" } else { "paused" },
        draft.retention.describe()
    );
    audit::audited(
        &engine.db,
        actor,
        AuditAction::ScheduleSet,
        &draft.namespace,
        &detail,
        result,
    )
    .await
}

/// Pauses the schedule of `ns`: it does not run until it is resumed.
///
/// # Errors
///
/// [`DomainError::NotFound`] for a namespace without a schedule.
pub async fn pause(engine: &Engine, ns: &str, actor: &str) -> Result<ScheduleInfo, DomainError> {
    switch(engine, ns, false, actor, Utc::now()).await
}

/// Resumes the schedule of `ns`: its next run is the next one from now (missed ones are not
/// made up).
///
/// # Errors
///
/// [`DomainError::NotFound`] for a namespace without a schedule.
pub async fn resume(engine: &Engine, ns: &str, actor: &str) -> Result<ScheduleInfo, DomainError> {
    switch(engine, ns, true, actor, Utc::now()).await
}

async fn switch(
    engine: &Engine,
    ns: &str,
    enabled: bool,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<ScheduleInfo, DomainError> {
    let Some(current) = stored(&engine.db, ns).await? else {
        return Err(no_schedule(ns));
    };
    let draft = ScheduleDraft {
        enabled,
        ..current.draft
    };
    set(engine, &draft, actor, now).await
}

fn no_schedule(ns: &str) -> DomainError {
    DomainError::NotFound(format!("Namespace `{ns}` has no schedule."))
}

/// Removes the schedule of `ns` (its backups stay). Audited.
///
/// # Errors
///
/// [`DomainError::NotFound`] for a namespace without a schedule.
pub async fn delete(engine: &Engine, ns: &str, actor: &str) -> Result<(), DomainError> {
    let result = async {
        if stored(&engine.db, ns).await?.is_none() {
            return Err(no_schedule(ns));
        }
        engine
            .db
            .query("UPDATE type::record('namespace', $ns) UNSET schedule")
            .bind(("ns", ns.to_string()))
            .await?
            .check()?;
        Ok(())
    }
    .await;
    audit::audited(
        &engine.db,
        actor,
        AuditAction::ScheduleDelete,
        ns,
        "",
        result,
    )
    .await
}
