//! `/api/v1/jobs`: one job, the recent ones, a finished restore's report, and their events.

use app::domain::Services;
use app::domain::backup::jobs;
use app::error::AppError;
use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa::IntoParams;

use super::wire::Job;
use crate::routes::extract::{Admin, Query};
use crate::routes::problem::Problem;

/// One job: how far it is, how it ended.
#[utoipa::path(
    get, path = "/api/v1/jobs/{id}", tag = "jobs",
    params(("id" = String, Path, description = "The job's id")),
    responses(
        (status = 200, description = "The job", body = Job),
        (status = 404, description = "No such job", body = Problem),
    )
)]
pub(super) async fn get_job(
    State(services): State<Services>,
    _: Admin,
    Path(id): Path<String>,
) -> Result<axum::Json<Job>, Problem> {
    Ok(axum::Json(jobs::get(&services.db, &id).await?.into()))
}

/// Which jobs.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobsQuery {
    /// Only the jobs of this namespace.
    namespace: Option<String>,
}

/// The jobs that have not ended, and those that ended in the last hour, newest first.
#[utoipa::path(
    get, path = "/api/v1/jobs", tag = "jobs",
    params(JobsQuery),
    responses(
        (status = 200, description = "The jobs", body = Vec<Job>),
    )
)]
pub(super) async fn list_jobs(
    State(services): State<Services>,
    _: Admin,
    Query(query): Query<JobsQuery>,
) -> Result<axum::Json<Vec<Job>>, Problem> {
    let jobs = jobs::recent(&services.db)
        .await?
        .into_iter()
        .filter(|job| {
            query
                .namespace
                .as_ref()
                .is_none_or(|ns| &job.namespace == ns)
        })
        .map(Job::from)
        .collect();
    Ok(axum::Json(jobs))
}

/// What a finished restore (or undo) did, as a file to keep:
/// `restore-report_<namespace>_<finished>.json`.
#[utoipa::path(
    get, path = "/api/v1/jobs/{id}/report", tag = "jobs",
    params(("id" = String, Path, description = "The job's id")),
    responses(
        (status = 200, description = "The report", body = app::types::RestoreReport),
        (status = 404, description = "No such job, or one without a report (a backup, or a restore that has not finished well)", body = Problem),
    )
)]
pub(super) async fn get_report(
    State(services): State<Services>,
    _: Admin,
    Path(id): Path<String>,
) -> Result<axum::response::Response, Problem> {
    use axum::response::IntoResponse;
    let job = jobs::get(&services.db, &id).await?;
    let Some(report) = job.report else {
        return Err(AppError::NotFound(
            "This job has no report: only a restore or undo that finished has one.".into(),
        )
        .into());
    };
    let name = format!(
        "restore-report_{}_{}.json",
        report.namespace,
        report.finished_at.format("%Y-%m-%d_%H-%M-%S")
    );
    // Laid out for a person who opens the file.
    let body = serde_json::to_vec_pretty(&report)
        .map_err(|e| AppError::Internal(format!("The report could not be written: {e}")))?;
    let headers = [
        (
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        ),
        (
            axum::http::header::CONTENT_DISPOSITION,
            crate::routes::content_disposition(&name),
        ),
    ];
    Ok((headers, body).into_response())
}

/// How often an event stream looks at the jobs (they are kept in the database, so a stream
/// sees every replica's jobs).
const EVENTS_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// A job as an event: `event: job`, the job as JSON.
fn job_event(job: &Job) -> axum::response::sse::Event {
    axum::response::sse::Event::default()
        .event("job")
        .json_data(job)
        .unwrap_or_else(|_| axum::response::sse::Event::default().event("job"))
}

type Events = axum::response::sse::Sse<
    axum::response::sse::KeepAliveStream<
        futures_util::stream::BoxStream<
            'static,
            Result<axum::response::sse::Event, std::convert::Infallible>,
        >,
    >,
>;

/// A job's progress as server-sent events (`event: job`, the job as JSON), one each time it
/// changes; the stream ends with the event of its end.
#[utoipa::path(
    get, path = "/api/v1/jobs/{id}/events", tag = "jobs",
    params(("id" = String, Path, description = "The job's id")),
    responses(
        (status = 200, description = "`text/event-stream`: an event `job` whenever the job changes, the last one when it has ended", content_type = "text/event-stream", body = String),
        (status = 404, description = "No such job", body = Problem),
    )
)]
pub(super) async fn job_events(
    State(services): State<Services>,
    _: Admin,
    Path(id): Path<String>,
) -> Result<Events, Problem> {
    let first: Job = jobs::get(&services.db, &id).await?.into();
    let db = services.db.clone();
    // (the job shown last, whether the stream has ended)
    let stream = futures_util::stream::unfold(
        (None::<Job>, Some(first), false),
        move |(shown, mut next, ended)| {
            let db = db.clone();
            let id = id.clone();
            async move {
                if ended {
                    return None;
                }
                loop {
                    let now = match next.take() {
                        Some(job) => job,
                        None => {
                            tokio::time::sleep(EVENTS_EVERY).await;
                            match jobs::get(&db, &id).await {
                                Ok(job) => Job::from(job),
                                // Gone, or the database does not answer: the stream ends.
                                Err(_) => return None,
                            }
                        }
                    };
                    let changed = shown.as_ref().is_none_or(|shown| {
                        serde_json::to_value(shown).ok() != serde_json::to_value(&now).ok()
                    });
                    if changed {
                        let ended = now.status.is_final();
                        let event = job_event(&now);
                        return Some((Ok(event), (Some(now), None, ended)));
                    }
                }
            }
        },
    );
    Ok(axum::response::sse::Sse::new(
        Box::pin(stream) as futures_util::stream::BoxStream<'static, _>
    )
    .keep_alive(axum::response::sse::KeepAlive::default()))
}

/// Every job as server-sent events (`event: job`): those running or ended in the last hour
/// first, then each one whenever it changes. The stream does not end by itself.
#[utoipa::path(
    get, path = "/api/v1/jobs/events", tag = "jobs",
    responses(
        (status = 200, description = "`text/event-stream`: an event `job` for every job that starts or changes", content_type = "text/event-stream", body = String),
    )
)]
pub(super) async fn all_job_events(
    State(services): State<Services>,
    _: Admin,
) -> Result<Events, Problem> {
    let db = services.db.clone();
    let stream = futures_util::stream::unfold(
        (
            std::collections::HashMap::<String, serde_json::Value>::new(),
            std::collections::VecDeque::<Job>::new(),
            true,
        ),
        move |(mut shown, mut pending, mut first)| {
            let db = db.clone();
            async move {
                loop {
                    if let Some(job) = pending.pop_front() {
                        let event = job_event(&job);
                        return Some((Ok(event), (shown, pending, first)));
                    }
                    if !first {
                        tokio::time::sleep(EVENTS_EVERY).await;
                    }
                    first = false;
                    let Ok(recent) = jobs::recent(&db).await else {
                        return None;
                    };
                    // Oldest first, so that a reader sees them in the order they came.
                    for job in recent.into_iter().rev().map(Job::from) {
                        let value = serde_json::to_value(&job).unwrap_or_default();
                        if shown.get(&job.id) != Some(&value) {
                            shown.insert(job.id.clone(), value);
                            pending.push_back(job);
                        }
                    }
                }
            }
        },
    );
    Ok(axum::response::sse::Sse::new(
        Box::pin(stream) as futures_util::stream::BoxStream<'static, _>
    )
    .keep_alive(axum::response::sse::KeepAlive::default()))
}
