//! `/api/v1/…`: the versioned HTTP API for scripts. JSON in and out, errors as a problem
//! object (`{"code", "status", "message", "next"}`) with a stable code, authentication by
//! `Authorization: Bearer TOKEN` (or an administrator's session). Every route is registered
//! through [`utoipa_axum`], so the OpenAPI document at `/api/v1/openapi.json` is generated
//! from the same handlers and cannot miss one. The operations are the backup engine's, the
//! same the page's server functions call.

use app::domain::backup::{self, jobs};
use app::domain::{DomainError, Services};
use app::error::AppError;
use app::types::{Actor, BackupInfo, JobInfo};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Extension, FromRequest, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

/// The prefix of every route of this API.
pub const PREFIX: &str = "/api/v1";

/// The document's frame: title, version, the bearer scheme every operation uses.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "nsbackup API",
        description = "Backups of whole namespaces for scripts. Authenticate with `Authorization: Bearer TOKEN` (Administration → API tokens, or `nsbackup token create`). Errors are problem objects: a stable `code`, the `status`, a `message` for a person and the `next` step.",
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "backups", description = "Backups of namespaces"),
        (name = "jobs", description = "Backups, restores and undos on the server"),
        (name = "restores", description = "Restores, their preview, and undoing them"),
        (name = "schedules", description = "Scheduled backups and their retention"),
    ),
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A personal API token: nsb_…"))
                    .build(),
            ),
        );
    }
}

/// The routes, and the OpenAPI document made from them.
pub fn router() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, api) = OpenApiRouter::<AppState>::with_openapi(ApiDoc::openapi())
        .routes(routes!(list_backups, create_backup))
        .routes(routes!(get_backup, delete_backup))
        .routes(routes!(get_job))
        .routes(routes!(list_jobs))
        .routes(routes!(job_events))
        .routes(routes!(all_job_events))
        .routes(routes!(get_report))
        .routes(routes!(restore_backup))
        .routes(routes!(preview_restore))
        .routes(routes!(download_backup))
        .routes(routes!(upload_backup))
        .routes(routes!(list_restore_points))
        .routes(routes!(undo_restore))
        .routes(routes!(list_schedules))
        .routes(routes!(set_schedule, delete_schedule))
        .routes(routes!(pause_schedule))
        .routes(routes!(resume_schedule))
        .routes(routes!(preview_schedule))
        .split_for_parts();
    let document = api.clone();
    let router = router
        .route(
            &format!("{PREFIX}/openapi.json"),
            axum::routing::get(move || {
                let document = document.clone();
                async move { axum::Json(document) }
            }),
        )
        .route(
            &format!("{PREFIX}/{{*rest}}"),
            axum::routing::any(no_such_operation),
        );
    (router, api)
}

/// An error of this API: `{"code", "status", "message", "next"}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// Stable, for scripts: `bad_request`, `unauthorized`, `forbidden`, `not_found`,
    /// `conflict`, `too_large`, `invalid`, `range_not_satisfiable`, `too_many_requests`,
    /// `internal`.
    pub code: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong, for a person.
    pub message: String,
    /// What to do next.
    pub next: String,
}

impl Problem {
    fn new(status: StatusCode, code: &str, message: String) -> Self {
        let next = match code {
            "bad_request" => {
                "Correct the request as the message says; the OpenAPI document at /api/v1/openapi.json describes every operation."
            }
            "unauthorized" => {
                "Send a working API token as `Authorization: Bearer TOKEN` (Administration → API tokens, or `nsbackup token create`)."
            }
            "forbidden" => "Use a token of a user who may do this: backups are for administrators.",
            "not_found" => "List the backups (GET /api/v1/backups) for the ids there are.",
            "conflict" => "Wait until what is running has finished, then send the request again.",
            "too_large" => "Send less at once.",
            "invalid" => "Change what the message names, then send the request again.",
            "too_many_requests" => "Wait, then try again.",
            "range_not_satisfiable" => "Download it again from the start (without a Range header).",
            _ => "Try again; if it keeps failing, the server's log says why.",
        };
        Problem {
            code: code.to_string(),
            status: status.as_u16(),
            message,
            next: next.to_string(),
        }
    }

    /// The problem `error` is, answered with `status` (405 and 415 have no [`AppError`]).
    pub fn with_status(status: StatusCode, error: &AppError) -> Self {
        if matches!(status.as_u16(), 405 | 415) {
            return Problem::new(status, "bad_request", error.to_string());
        }
        Problem::from_app(error)
    }

    /// The problem an [`AppError`] is.
    pub fn from_app(error: &AppError) -> Self {
        let (status, code) = match error {
            AppError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            AppError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            AppError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            AppError::TooManyRequests(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            AppError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            AppError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            AppError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            AppError::Internal(_) | AppError::Transport(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        };
        Problem::new(status, code, error.to_string())
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(self)).into_response();
        response.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

impl From<AppError> for Problem {
    fn from(error: AppError) -> Self {
        Problem::from_app(&error)
    }
}

impl From<DomainError> for Problem {
    fn from(error: DomainError) -> Self {
        // A well-formed request whose content cannot be accepted: 422, not 400.
        if let DomainError::Invalid(message) = &error {
            return Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message.clone());
        }
        Problem::from_app(&AppError::from(error))
    }
}

/// A JSON body; one that does not parse is a problem (400) naming what is wrong.
pub struct Body<T>(pub T);

impl<T, S> FromRequest<S> for Body<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(
        request: axum::extract::Request,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Body(value)),
            Err(rejection) => {
                let status = match &rejection {
                    JsonRejection::MissingJsonContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    _ => StatusCode::BAD_REQUEST,
                };
                Err(Problem::new(
                    status,
                    "bad_request",
                    format!(
                        "The body is not what this operation reads: {}.",
                        rejection.body_text()
                    ),
                ))
            }
        }
    }
}

/// A query string; one that does not parse is a problem (400) naming what is wrong.
pub struct Query<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Query<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(Problem::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("The query string is not right: {}.", rejection.body_text()),
            )),
        }
    }
}

/// Any path under `/api/v1/` that is no operation.
async fn no_such_operation(uri: axum::http::Uri) -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("There is no operation `{}` in this API.", uri.path()),
    )
}

fn admin(actor: Option<Extension<Actor>>) -> Result<Actor, Problem> {
    match actor {
        Some(Extension(actor)) if actor.is_admin() => Ok(actor),
        Some(_) => Err(AppError::Forbidden(app::api::rules::ADMINS_ONLY.into()).into()),
        None => Err(AppError::Unauthorized(app::api::rules::SIGN_IN_FIRST.into()).into()),
    }
}

/// What a backup is.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BackupStatus {
    InProgress,
    Completed,
    Failed,
    Damaged,
}

/// How a backup came to be.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BackupOrigin {
    Created,
    Uploaded,
    Scheduled,
    Found,
}

/// A backup.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Backup {
    pub id: String,
    pub name: String,
    /// The namespace it belongs to.
    pub namespace: String,
    pub created_at: DateTime<Utc>,
    pub status: BackupStatus,
    pub origin: BackupOrigin,
    /// Bytes of its file, once completed.
    pub size: Option<u64>,
    /// SHA-256 of its file, once completed.
    pub sha256: Option<String>,
    /// Why it failed or is damaged.
    pub error: Option<String>,
    pub created_by: String,
    /// Kept forever: no retention policy deletes it.
    pub pinned: bool,
    /// The schema version of its content.
    pub schema_version: Option<u32>,
    /// Whether this server can restore it (a backup of a newer nsbackup cannot be).
    pub restorable: bool,
}

impl From<BackupInfo> for Backup {
    fn from(backup: BackupInfo) -> Self {
        let restorable = backup.status == app::types::BackupStatus::Completed
            && !matches!(backup.verdict(), Some(app::types::Verdict::Newer { .. }));
        Backup {
            status: match backup.status {
                app::types::BackupStatus::InProgress => BackupStatus::InProgress,
                app::types::BackupStatus::Completed => BackupStatus::Completed,
                app::types::BackupStatus::Failed => BackupStatus::Failed,
                app::types::BackupStatus::Damaged => BackupStatus::Damaged,
            },
            origin: match backup.origin {
                app::types::BackupOrigin::Created => BackupOrigin::Created,
                app::types::BackupOrigin::Uploaded => BackupOrigin::Uploaded,
                app::types::BackupOrigin::Scheduled => BackupOrigin::Scheduled,
                app::types::BackupOrigin::Found => BackupOrigin::Found,
            },
            id: backup.id,
            name: backup.name,
            namespace: backup.namespace,
            created_at: backup.created_at,
            size: backup.size,
            sha256: backup.sha256,
            error: backup.error,
            created_by: backup.created_by,
            pinned: backup.pinned,
            schema_version: backup.schema_version,
            restorable,
        }
    }
}

/// A job: a backup or a restore running on the server, or one that ended.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Job {
    pub id: String,
    /// `backup`, `restore` or `undo`.
    pub kind: String,
    pub namespace: String,
    /// The backup it makes or restores.
    pub backup: String,
    /// `queued`, `running`, `succeeded` or `failed`.
    pub status: String,
    /// What it does now, in a few words.
    pub phase: String,
    pub done: u64,
    pub total: u64,
    /// Why it failed.
    pub error: Option<String>,
    pub started_by: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<JobInfo> for Job {
    fn from(job: JobInfo) -> Self {
        let text = |value: serde_json::Result<serde_json::Value>| {
            value
                .ok()
                .and_then(|value| value.as_str().map(str::to_string))
                .unwrap_or_default()
        };
        Job {
            kind: text(serde_json::to_value(job.kind)),
            status: text(serde_json::to_value(job.status)),
            id: job.id,
            namespace: job.namespace,
            backup: job.backup,
            phase: job.phase,
            done: job.done,
            total: job.total,
            error: job.error,
            started_by: job.started_by,
            created_at: job.created_at,
            finished_at: job.finished_at,
        }
    }
}

/// One page of backups, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BackupPage {
    pub items: Vec<Backup>,
    /// How many backups match, on every page.
    pub total: usize,
}

/// Which backups: of one namespace, and which page.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only the backups of this namespace.
    namespace: Option<String>,
    /// How many at most (1 to 500; 100 when not given).
    limit: Option<usize>,
    /// How many to skip.
    offset: Option<usize>,
}

/// The most one page holds.
const PAGE_MAX: usize = 500;

/// The backups, newest first.
#[utoipa::path(
    get, path = "/api/v1/backups", tag = "backups",
    params(ListQuery),
    responses(
        (status = 200, description = "One page of backups", body = BackupPage),
        (status = 400, description = "A parameter is wrong", body = Problem),
        (status = 401, description = "No working token", body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
    )
)]
async fn list_backups(
    State(services): State<Services>,
    actor: Option<Extension<Actor>>,
    Query(query): Query<ListQuery>,
) -> Result<axum::Json<BackupPage>, Problem> {
    admin(actor)?;
    let limit = query.limit.unwrap_or(100);
    if limit == 0 || limit > PAGE_MAX {
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("`limit` is 1 to {PAGE_MAX}; it was {limit}."),
        ));
    }
    let all: Vec<BackupInfo> = backup::list(&services.db)
        .await?
        .into_iter()
        .filter(|b| query.namespace.as_ref().is_none_or(|ns| &b.namespace == ns))
        .collect();
    let total = all.len();
    let items = all
        .into_iter()
        .skip(query.offset.unwrap_or(0))
        .take(limit)
        .map(Backup::from)
        .collect();
    Ok(axum::Json(BackupPage { items, total }))
}

/// What to back up.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewBackup {
    /// The namespace.
    pub namespace: String,
    /// The backup's name.
    pub name: String,
}

/// A backup that was started, and the job that makes it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Started {
    pub backup: Backup,
    pub job: Job,
}

/// Starts a backup of a namespace; follow its job (GET /api/v1/jobs/{id}).
#[utoipa::path(
    post, path = "/api/v1/backups", tag = "backups",
    request_body = NewBackup,
    responses(
        (status = 202, description = "Started", body = Started),
        (status = 400, description = "The body does not parse", body = Problem),
        (status = 401, description = "No working token", body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, description = "No such namespace", body = Problem),
        (status = 409, description = "A backup or restore of the namespace is running", body = Problem),
        (status = 422, description = "A name that cannot be", body = Problem),
    )
)]
async fn create_backup(
    State(services): State<Services>,
    actor: Option<Extension<Actor>>,
    Body(wanted): Body<NewBackup>,
) -> Result<(StatusCode, axum::Json<Started>), Problem> {
    let actor = admin(actor)?;
    let (made, job) = backup::create(
        &services.backups,
        &wanted.namespace,
        &wanted.name,
        &actor.name,
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(Started {
            backup: made.into(),
            job: job.into(),
        }),
    ))
}

/// One backup.
#[utoipa::path(
    get, path = "/api/v1/backups/{id}", tag = "backups",
    params(("id" = String, Path, description = "The backup's id")),
    responses(
        (status = 200, description = "The backup", body = Backup),
        (status = 401, description = "No working token", body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, description = "No such backup", body = Problem),
    )
)]
async fn get_backup(
    State(services): State<Services>,
    actor: Option<Extension<Actor>>,
    Path(id): Path<String>,
) -> Result<axum::Json<Backup>, Problem> {
    admin(actor)?;
    Ok(axum::Json(backup::get(&services.db, &id).await?.into()))
}

/// Deletes a backup: its file and its entry.
#[utoipa::path(
    delete, path = "/api/v1/backups/{id}", tag = "backups",
    params(("id" = String, Path, description = "The backup's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No working token", body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, description = "No such backup", body = Problem),
        (status = 409, description = "A job uses it", body = Problem),
    )
)]
async fn delete_backup(
    State(services): State<Services>,
    actor: Option<Extension<Actor>>,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    let actor = admin(actor)?;
    backup::delete(&services.backups, &id, &actor.name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One job: how far it is, how it ended.
#[utoipa::path(
    get, path = "/api/v1/jobs/{id}", tag = "jobs",
    params(("id" = String, Path, description = "The job's id")),
    responses(
        (status = 200, description = "The job", body = Job),
        (status = 401, description = "No working token", body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, description = "No such job", body = Problem),
    )
)]
async fn get_job(
    State(services): State<Services>,
    actor: Option<Extension<Actor>>,
    Path(id): Path<String>,
) -> Result<axum::Json<Job>, Problem> {
    admin(actor)?;
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
        (status = 401, description = "No working token", body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
    )
)]
async fn list_jobs(
    State(services): State<Services>,
    actor: Option<Extension<Actor>>,
    Query(query): Query<JobsQuery>,
) -> Result<axum::Json<Vec<Job>>, Problem> {
    admin(actor)?;
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

/// What a finished restore (or undo) did.
#[utoipa::path(
    get, path = "/api/v1/jobs/{id}/report", tag = "jobs",
    params(("id" = String, Path, description = "The job's id")),
    responses(
        (status = 200, description = "The report", body = app::types::RestoreReport),
        (status = 401, description = "No working token", body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, description = "No such job, or one without a report (a backup, or a restore that has not finished well)", body = Problem),
    )
)]
async fn get_report(
    State(services): State<Services>,
    actor: Option<Extension<Actor>>,
    Path(id): Path<String>,
) -> Result<axum::Json<app::types::RestoreReport>, Problem> {
    admin(actor)?;
    let job = jobs::get(&services.db, &id).await?;
    job.report.map(axum::Json).ok_or_else(|| {
        AppError::NotFound(
            "This job has no report: only a restore or undo that finished has one.".into(),
        )
        .into()
    })
}

/// Where to restore a backup.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RestoreInto {
    /// The namespace to replace (or to create, when there is none of that name).
    pub namespace: String,
}

/// Restores a backup into a namespace, all or nothing; follow its job. The namespace's
/// content before it is kept as a restore point (see undo).
#[utoipa::path(
    post, path = "/api/v1/backups/{id}/restore", tag = "restores",
    params(("id" = String, Path, description = "The backup's id")),
    request_body = RestoreInto,
    responses(
        (status = 202, description = "Started", body = Job),
        (status = 400, description = "The body does not parse", body = Problem),
        (status = 401, description = "No working token", body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, description = "No such backup", body = Problem),
        (status = 409, description = "A backup or restore of the namespace is running", body = Problem),
        (status = 422, description = "A backup that cannot be restored here, or a namespace name that cannot be", body = Problem),
    )
)]
async fn restore_backup(
    State(services): State<Services>,
    actor: Option<Extension<Actor>>,
    Path(id): Path<String>,
    Body(into): Body<RestoreInto>,
) -> Result<(StatusCode, axum::Json<Job>), Problem> {
    let actor = admin(actor)?;
    let job = backup::restore(&services.backups, &id, &into.namespace, &actor.name).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(job.into())))
}

/// Which namespace a preview is for.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PreviewQuery {
    /// The namespace the restore would replace.
    namespace: String,
}

/// What restoring a backup into a namespace would do, changing nothing.
#[utoipa::path(
    get, path = "/api/v1/backups/{id}/preview", tag = "restores",
    params(("id" = String, Path, description = "The backup's id"), PreviewQuery),
    responses(
        (status = 200, description = "What the restore would do", body = app::types::RestorePreview),
        (status = 401, description = "No working token", body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, description = "No such backup", body = Problem),
        (status = 422, description = "A backup that cannot be restored here", body = Problem),
    )
)]
async fn preview_restore(
    State(services): State<Services>,
    actor: Option<Extension<Actor>>,
    Path(id): Path<String>,
    Query(query): Query<PreviewQuery>,
) -> Result<axum::Json<app::types::RestorePreview>, Problem> {
    admin(actor)?;
    Ok(axum::Json(
        backup::preview::preview(&services.backups, &id, &query.namespace).await?,
    ))
}

/// The backup's file, streamed; a `Range: bytes=N-` header resumes a download that was cut
/// off (206 with that part; 416 for a part past its end), safely with `If-Range` naming
/// the `ETag` (the file's SHA-256) of the part held: another validator gets the whole file.
#[utoipa::path(
    get, path = "/api/v1/backups/{id}/download", tag = "backups",
    params(("id" = String, Path, description = "The backup's id")),
    responses(
        (status = 200, description = "The zip", content_type = "application/zip", body = Vec<u8>),
        (status = 206, description = "The part asked for", content_type = "application/zip", body = Vec<u8>),
        (status = 304, description = "Not sent: `If-None-Match` names the file's ETag"),
        (status = 400, description = "A Range header that is not a range of bytes", body = Problem),
        (status = 401, description = "No working token", body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, description = "No such backup", body = Problem),
        (status = 416, description = "A part past the end", body = Problem),
        (status = 422, description = "A backup that is not complete, or damaged", body = Problem),
    )
)]
async fn download_backup(
    State(services): State<Services>,
    actor: Option<Extension<Actor>>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Response, Problem> {
    let actor = admin(actor)?;
    let wanted = super::backups::range_of(&headers)?;
    let response =
        super::backups::download_response(&services, &id, &actor, wanted, &headers).await?;
    if response.status() != StatusCode::RANGE_NOT_SATISFIABLE {
        return Ok(response);
    }
    // A part past the end: the same answer as a problem object, with its Content-Range.
    let range = response
        .headers()
        .get(axum::http::header::CONTENT_RANGE)
        .cloned();
    let size = range
        .as_ref()
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("bytes */"))
        .unwrap_or("?")
        .to_string();
    let mut answer = Problem::new(
        StatusCode::RANGE_NOT_SATISFIABLE,
        "range_not_satisfiable",
        format!("The download cannot go on from there: the file has {size} bytes."),
    )
    .into_response();
    if let Some(range) = range {
        answer
            .headers_mut()
            .insert(axum::http::header::CONTENT_RANGE, range);
    }
    Ok(answer)
}

/// Under which name and namespace an upload is listed.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The namespace it is listed under (restoring it there creates it when there is none).
    namespace: String,
    /// Its name; without one, `file_name` without `.zip` (and a download's timestamp).
    name: Option<String>,
    /// The file's name.
    file_name: Option<String>,
}

/// An uploaded backup, and anything the user should know about it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UploadedBackup {
    pub backup: Backup,
    /// An identical backup listed already, or a backup of a newer nsbackup.
    pub note: Option<String>,
}

/// Uploads a backup file (the zip as the body, streamed; at most `--max-upload-size`). It is
/// checked completely before it is listed; nothing refused stays behind.
#[utoipa::path(
    post, path = "/api/v1/uploads", tag = "backups",
    params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/zip"),
    responses(
        (status = 201, description = "Listed", body = UploadedBackup),
        (status = 401, description = "No working token", body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 413, description = "Larger than the server accepts", body = Problem),
        (status = 422, description = "Not a backup this server accepts (the message says why)", body = Problem),
    )
)]
async fn upload_backup(
    State(services): State<Services>,
    actor: Option<Extension<Actor>>,
    Query(query): Query<UploadQuery>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Result<(StatusCode, axum::Json<UploadedBackup>), Problem> {
    let actor = admin(actor)?;
    let (backup, note) = super::backups::receive_upload(
        &services,
        &actor,
        query.name.as_deref(),
        query.file_name.as_deref(),
        &query.namespace,
        &headers,
        body,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(UploadedBackup {
            backup: backup.into(),
            note,
        }),
    ))
}

/// The restore points of a namespace: the content restores (and undos) replaced, newest
/// first, while they are kept.
#[utoipa::path(
    get, path = "/api/v1/namespaces/{namespace}/restore-points", tag = "restores",
    params(("namespace" = String, Path, description = "The namespace")),
    responses(
        (status = 200, description = "Its restore points", body = Vec<app::types::RestorePoint>),
        (status = 401, description = "No working token", body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
    )
)]
async fn list_restore_points(
    State(services): State<Services>,
    actor: Option<Extension<Actor>>,
    Path(namespace): Path<String>,
) -> Result<axum::Json<Vec<app::types::RestorePoint>>, Problem> {
    admin(actor)?;
    Ok(axum::Json(
        backup::undo::restore_points(&services.backups, Some(&namespace)).await?,
    ))
}

/// Which restore point to switch back to.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UndoTo {
    /// The restore point's `generation`.
    pub generation: String,
}

/// Switches a namespace back to one of its restore points, in one transaction; its content
/// until then becomes a restore point in turn. Edits made since are discarded: the page
/// asks first, a script decides itself (`GET …/restore-points` and the job report say what).
#[utoipa::path(
    post, path = "/api/v1/namespaces/{namespace}/undo", tag = "restores",
    params(("namespace" = String, Path, description = "The namespace")),
    request_body = UndoTo,
    responses(
        (status = 200, description = "Switched back: the point it switched to", body = app::types::RestorePoint),
        (status = 400, description = "The body does not parse", body = Problem),
        (status = 401, description = "No working token", body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, description = "No such restore point (used or expired)", body = Problem),
        (status = 409, description = "A backup or restore of the namespace is running", body = Problem),
    )
)]
async fn undo_restore(
    State(services): State<Services>,
    actor: Option<Extension<Actor>>,
    Path(namespace): Path<String>,
    Body(to): Body<UndoTo>,
) -> Result<axum::Json<app::types::RestorePoint>, Problem> {
    let actor = admin(actor)?;
    Ok(axum::Json(
        backup::undo::undo(&services.backups, &namespace, &to.generation, &actor.name).await?,
    ))
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
        (status = 401, description = "No working token", body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, description = "No such job", body = Problem),
    )
)]
async fn job_events(
    State(services): State<Services>,
    actor: Option<Extension<Actor>>,
    Path(id): Path<String>,
) -> Result<Events, Problem> {
    admin(actor)?;
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
                        let ended = matches!(now.status.as_str(), "succeeded" | "failed");
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
        (status = 401, description = "No working token", body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
    )
)]
async fn all_job_events(
    State(services): State<Services>,
    actor: Option<Extension<Actor>>,
) -> Result<Events, Problem> {
    admin(actor)?;
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

use app::domain::schedule;
use app::types::{ScheduleDraft, ScheduleInfo, SchedulePreview};

/// Every schedule, with its next run and last result.
#[utoipa::path(
    get, path = "/api/v1/schedules", tag = "schedules",
    responses(
        (status = 200, description = "The schedules", body = Vec<ScheduleInfo>),
        (status = 401, description = "No working token", body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
    )
)]
async fn list_schedules(
    State(services): State<Services>,
    actor: Option<Extension<Actor>>,
) -> Result<axum::Json<Vec<ScheduleInfo>>, Problem> {
    admin(actor)?;
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
        (status = 401, description = "No working token", body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, description = "No such namespace", body = Problem),
        (status = 422, description = "An expression, time zone, name or policy that cannot be", body = Problem),
    )
)]
async fn set_schedule(
    State(services): State<Services>,
    actor: Option<Extension<Actor>>,
    Path(namespace): Path<String>,
    Body(draft): Body<ScheduleDraft>,
) -> Result<axum::Json<ScheduleInfo>, Problem> {
    let actor = admin(actor)?;
    if draft.namespace != namespace {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
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
        (status = 401, description = "No working token", body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, description = "No schedule there", body = Problem),
    )
)]
async fn delete_schedule(
    State(services): State<Services>,
    actor: Option<Extension<Actor>>,
    Path(namespace): Path<String>,
) -> Result<StatusCode, Problem> {
    let actor = admin(actor)?;
    schedule::delete(&services.backups, &namespace, &actor.name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pauses a namespace's schedule.
#[utoipa::path(
    post, path = "/api/v1/schedules/{namespace}/pause", tag = "schedules",
    params(("namespace" = String, Path, description = "The namespace")),
    responses(
        (status = 200, description = "Paused", body = ScheduleInfo),
        (status = 401, description = "No working token", body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, description = "No schedule there", body = Problem),
    )
)]
async fn pause_schedule(
    State(services): State<Services>,
    actor: Option<Extension<Actor>>,
    Path(namespace): Path<String>,
) -> Result<axum::Json<ScheduleInfo>, Problem> {
    let actor = admin(actor)?;
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
        (status = 401, description = "No working token", body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, description = "No schedule there", body = Problem),
    )
)]
async fn resume_schedule(
    State(services): State<Services>,
    actor: Option<Extension<Actor>>,
    Path(namespace): Path<String>,
) -> Result<axum::Json<ScheduleInfo>, Problem> {
    let actor = admin(actor)?;
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
        (status = 401, description = "No working token", body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
    )
)]
async fn preview_schedule(
    State(services): State<Services>,
    actor: Option<Extension<Actor>>,
    Body(draft): Body<ScheduleDraft>,
) -> Result<axum::Json<SchedulePreview>, Problem> {
    admin(actor)?;
    Ok(axum::Json(
        schedule::preview(&services.backups, &draft, Utc::now()).await?,
    ))
}
