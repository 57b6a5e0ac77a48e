//! `/api/v1/backups` and `/api/v1/uploads`: list, start, get, delete, download, upload.

use app::domain::Services;
use app::domain::backup;
use app::types::BackupInfo;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::extract::{Admin, Body, Query};
use super::problem::{Code, Problem};
use super::wire::{Backup, BackupPage, Started, UploadedBackup};

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
    )
)]
pub(super) async fn list_backups(
    State(services): State<Services>,
    _: Admin,
    Query(query): Query<ListQuery>,
) -> Result<axum::Json<BackupPage>, Problem> {
    let limit = query.limit.unwrap_or(100);
    if limit == 0 || limit > PAGE_MAX {
        return Err(Problem::new(
            Code::BadRequest,
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

/// Starts a backup of a namespace; follow its job (GET /api/v1/jobs/{id}).
#[utoipa::path(
    post, path = "/api/v1/backups", tag = "backups",
    request_body = NewBackup,
    responses(
        (status = 202, description = "Started", body = Started),
        (status = 400, description = "The body does not parse", body = Problem),
        (status = 404, description = "No such namespace", body = Problem),
        (status = 409, description = "A backup or restore of the namespace is running", body = Problem),
        (status = 422, description = "A name that cannot be", body = Problem),
    )
)]
pub(super) async fn create_backup(
    State(services): State<Services>,
    Admin(actor): Admin,
    Body(wanted): Body<NewBackup>,
) -> Result<(StatusCode, axum::Json<Started>), Problem> {
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
        (status = 404, description = "No such backup", body = Problem),
    )
)]
pub(super) async fn get_backup(
    State(services): State<Services>,
    _: Admin,
    Path(id): Path<String>,
) -> Result<axum::Json<Backup>, Problem> {
    Ok(axum::Json(backup::get(&services.db, &id).await?.into()))
}

/// Deletes a backup: its file and its entry.
#[utoipa::path(
    delete, path = "/api/v1/backups/{id}", tag = "backups",
    params(("id" = String, Path, description = "The backup's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such backup", body = Problem),
        (status = 409, description = "A job uses it", body = Problem),
    )
)]
pub(super) async fn delete_backup(
    State(services): State<Services>,
    Admin(actor): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    backup::delete(&services.backups, &id, &actor.name).await?;
    Ok(StatusCode::NO_CONTENT)
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
        (status = 404, description = "No such backup", body = Problem),
        (status = 416, description = "A part past the end", body = Problem),
        (status = 422, description = "A backup that is not complete, or damaged", body = Problem),
    )
)]
pub(super) async fn download_backup(
    State(services): State<Services>,
    Admin(actor): Admin,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Response, Problem> {
    let wanted = super::super::backups::range_of(&headers)?;
    let response =
        super::super::backups::download_response(&services, &id, &actor, wanted, &headers).await?;
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
        Code::RangeNotSatisfiable,
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

/// Uploads a backup file (the zip as the body, streamed; at most `--max-upload-size`). It is
/// checked completely before it is listed; nothing refused stays behind.
#[utoipa::path(
    post, path = "/api/v1/uploads", tag = "backups",
    params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/zip"),
    responses(
        (status = 201, description = "Listed", body = UploadedBackup),
        (status = 413, description = "Larger than the server accepts", body = Problem),
        (status = 422, description = "Not a backup this server accepts (the message says why)", body = Problem),
    )
)]
pub(super) async fn upload_backup(
    State(services): State<Services>,
    Admin(actor): Admin,
    Query(query): Query<UploadQuery>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Result<(StatusCode, axum::Json<UploadedBackup>), Problem> {
    let (backup, note) = super::super::backups::receive_upload(
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
