//! Administration → Backup and Restore → Schedules: scheduled backups and retention
//! (administrators only).

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;
use crate::types::{ScheduleDraft, ScheduleInfo, SchedulePreview};

#[cfg(feature = "ssr")]
use crate::domain::schedule;

/// Every schedule, by namespace.
#[server(input = Json, endpoint = "list_schedules")]
pub async fn list_schedules() -> Result<Vec<ScheduleInfo>, AppError> {
    super::admin()?;
    let db = super::services()?.db;
    super::respond(schedule::list(&db).await)
}

/// The time zones a schedule may use, and the server's own (the default).
#[server(input = Json, endpoint = "schedule_time_zones")]
pub async fn schedule_time_zones() -> Result<(Vec<String>, String), AppError> {
    super::admin()?;
    let zones = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|zone| zone.name().to_string())
        .collect();
    Ok((zones, schedule::when::server_timezone()))
}

/// What saving `draft` would do: its problem, its next five runs, and what its retention
/// policy would delete now.
#[server(input = Json, endpoint = "preview_schedule")]
pub async fn preview_schedule(draft: ScheduleDraft) -> Result<SchedulePreview, AppError> {
    super::admin()?;
    let engine = super::services()?.backups;
    super::respond(schedule::preview(&engine, &draft, chrono::Utc::now()).await)
}

/// Sets (creates or replaces) a namespace's schedule.
#[server(input = Json, endpoint = "set_schedule")]
pub async fn set_schedule(draft: ScheduleDraft) -> Result<ScheduleInfo, AppError> {
    let actor = super::admin()?;
    let engine = super::services()?.backups;
    super::respond(schedule::set(&engine, &draft, &actor.name, chrono::Utc::now()).await)
}

/// Pauses or resumes a namespace's schedule.
#[server(input = Json, endpoint = "pause_schedule")]
pub async fn pause_schedule(namespace: String, paused: bool) -> Result<ScheduleInfo, AppError> {
    let actor = super::admin()?;
    let engine = super::services()?.backups;
    super::respond(if paused {
        schedule::pause(&engine, &namespace, &actor.name).await
    } else {
        schedule::resume(&engine, &namespace, &actor.name).await
    })
}

/// Removes a namespace's schedule (its backups stay).
#[server(input = Json, endpoint = "delete_schedule")]
pub async fn delete_schedule(namespace: String) -> Result<(), AppError> {
    let actor = super::admin()?;
    let engine = super::services()?.backups;
    super::respond(schedule::delete(&engine, &namespace, &actor.name).await)
}
