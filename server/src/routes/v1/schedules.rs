//! `/api/v1/schedules` and `/api/v1/schedule-previews`.

use app::domain::Services;
use app::domain::schedule;
use app::types::{ScheduleDraft, ScheduleInfo, SchedulePreview};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;

use crate::routes::extract::{Admin, Body};
use crate::routes::problem::{Code, Problem};

/// Every schedule, with its next run and last result.
#[utoipa::path(
    get, path = "/api/v1/schedules", tag = "schedules",
    responses(
        (status = 200, description = "The schedules", body = Vec<ScheduleInfo>),
    )
)]
pub(super) async fn list_schedules(
    State(services): State<Services>,
    _: Admin,
) -> Result<axum::Json<Vec<ScheduleInfo>>, Problem> {
    Ok(axum::Json(schedule::list(&services.db).await?))
}

/// Sets a namespace's schedule (made or replaced); the body's `namespace` must be the
/// path's.
#[utoipa::path(
    put, path = "/api/v1/schedules/{namespace}", tag = "schedules",
    params(("namespace" = String, Path, description = "The namespace")),
    request_body = ScheduleDraft,
    responses(
        (status = 200, description = "The schedule as set", body = ScheduleInfo),
        (status = 400, description = "The body does not parse", body = Problem),
        (status = 404, description = "No such namespace", body = Problem),
        (status = 422, description = "An expression, time zone, name or policy that cannot be", body = Problem),
    )
)]
pub(super) async fn set_schedule(
    State(services): State<Services>,
    Admin(actor): Admin,
    Path(namespace): Path<String>,
    Body(draft): Body<ScheduleDraft>,
) -> Result<axum::Json<ScheduleInfo>, Problem> {
    if draft.namespace != namespace {
        return Err(Problem::new(
            Code::Invalid,
            format!(
                "The body is the schedule of namespace `{}`, the path names `{namespace}`: send it to /api/v1/schedules/{}.",
                draft.namespace, draft.namespace
            ),
        ));
    }
    Ok(axum::Json(
        schedule::set(&services.backups, &draft, &actor.name, Utc::now()).await?,
    ))
}

/// Deletes a namespace's schedule (the backups it made stay).
#[utoipa::path(
    delete, path = "/api/v1/schedules/{namespace}", tag = "schedules",
    params(("namespace" = String, Path, description = "The namespace")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No schedule there", body = Problem),
    )
)]
pub(super) async fn delete_schedule(
    State(services): State<Services>,
    Admin(actor): Admin,
    Path(namespace): Path<String>,
) -> Result<StatusCode, Problem> {
    schedule::delete(&services.backups, &namespace, &actor.name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pauses a namespace's schedule.
#[utoipa::path(
    post, path = "/api/v1/schedules/{namespace}/pause", tag = "schedules",
    params(("namespace" = String, Path, description = "The namespace")),
    responses(
        (status = 200, description = "Paused", body = ScheduleInfo),
        (status = 404, description = "No schedule there", body = Problem),
    )
)]
pub(super) async fn pause_schedule(
    State(services): State<Services>,
    Admin(actor): Admin,
    Path(namespace): Path<String>,
) -> Result<axum::Json<ScheduleInfo>, Problem> {
    Ok(axum::Json(
        schedule::pause(&services.backups, &namespace, &actor.name).await?,
    ))
}

/// Resumes a namespace's schedule.
#[utoipa::path(
    post, path = "/api/v1/schedules/{namespace}/resume", tag = "schedules",
    params(("namespace" = String, Path, description = "The namespace")),
    responses(
        (status = 200, description = "Running again", body = ScheduleInfo),
        (status = 404, description = "No schedule there", body = Problem),
    )
)]
pub(super) async fn resume_schedule(
    State(services): State<Services>,
    Admin(actor): Admin,
    Path(namespace): Path<String>,
) -> Result<axum::Json<ScheduleInfo>, Problem> {
    Ok(axum::Json(
        schedule::resume(&services.backups, &namespace, &actor.name).await?,
    ))
}

/// What a schedule would do, changing nothing: its next runs, and the backups its retention
/// policy would delete now.
#[utoipa::path(
    post, path = "/api/v1/schedule-previews", tag = "schedules",
    request_body = ScheduleDraft,
    responses(
        (status = 200, description = "What it would do (`problem` says why it cannot be set)", body = SchedulePreview),
        (status = 400, description = "The body does not parse", body = Problem),
    )
)]
pub(super) async fn preview_schedule(
    State(services): State<Services>,
    _: Admin,
    Body(draft): Body<ScheduleDraft>,
) -> Result<axum::Json<SchedulePreview>, Problem> {
    Ok(axum::Json(
        schedule::preview(&services.backups, &draft, Utc::now()).await?,
    ))
}
