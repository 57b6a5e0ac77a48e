//! The two backup routes that stream: download (`GET /api/backups/download?id=`) and
//! upload (`POST /api/backups/upload?namespace=&name=&file_name=`, the zip as the request
//! body). Administrators only (the request guard refuses everyone else first). What they
//! may do and what gets audited is the backup engine's (`app::domain::backup`).

use app::api::rules::ADMINS_ONLY;
use app::domain::Services;
use app::domain::backup;
use app::error::AppError;
use app::types::{Actor, Uploaded};
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Extension, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::export::content_disposition;
use super::{ApiError, AppState, Params};

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/backups/download", get(download))
        .route("/api/jobs/report", get(report))
        .route(
            "/api/backups/upload",
            post(upload).layer(DefaultBodyLimit::disable()),
        )
}

fn admin(actor: Option<Extension<Actor>>) -> Result<Actor, ApiError> {
    match actor {
        Some(Extension(actor)) if actor.is_admin() => Ok(actor),
        Some(_) => Err(AppError::Forbidden(ADMINS_ONLY.into()).into()),
        None => Err(AppError::Unauthorized(app::api::rules::SIGN_IN_FIRST.into()).into()),
    }
}

/// Which backup to download.
#[derive(Debug, Deserialize)]
pub struct DownloadQuery {
    id: String,
}

/// The backup's zip, streamed from the store, as `<name>_<YYYY-MM-DD_HH-mm-ss>.zip`; with a
/// `Range` of one part, that part (206), so that a download cut off can resume.
async fn download(
    State(services): State<Services>,
    actor: Option<Extension<Actor>>,
    Params(query): Params<DownloadQuery>,
    request: HeaderMap,
) -> Result<Response, ApiError> {
    let actor = admin(actor)?;
    let wanted = range_of(&request)?;
    Ok(download_response(&services, &query.id, &actor, wanted, &request).await?)
}

/// The one part of the file the `Range` of `request` asks for; `None` for the whole file.
///
/// # Errors
///
/// [`AppError::BadRequest`] for a range of bytes that is not written as one.
pub(crate) fn range_of(request: &HeaderMap) -> Result<Option<backup::Wanted>, AppError> {
    match request.get(header::RANGE).map(|value| value.to_str()) {
        None => Ok(None),
        Some(Ok(text)) => backup::Wanted::parse(text).map_err(AppError::BadRequest),
        Some(Err(_)) => Err(AppError::BadRequest(
            "The Range header is not a range of bytes: send `bytes=FIRST-`.".into(),
        )),
    }
}

/// Backup `id`'s zip as a response: whole, or the one part `wanted` (206), or 416 for a
/// part past its end, or 304 when `If-None-Match` names the file. Every answer carries the
/// file's strong `ETag` (its SHA-256) and `Last-Modified`; an `If-Range` that names
/// another validator gets the whole file, as RFC 9110 asks.
pub(crate) async fn download_response(
    services: &Services,
    id: &str,
    actor: &Actor,
    wanted: Option<backup::Wanted>,
    request: &HeaderMap,
) -> Result<Response, app::domain::DomainError> {
    let text = |name: header::HeaderName| {
        request
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string)
    };
    let conditions = backup::Conditions {
        if_none_match: text(header::IF_NONE_MATCH),
        if_range: text(header::IF_RANGE),
    };
    let download =
        backup::download(&services.backups, id, &actor.name, wanted, &conditions).await?;
    let size = download.size;
    let mut headers = HeaderMap::new();
    if let Some(etag) = backup::etag(&download.backup)
        && let Ok(value) = HeaderValue::from_str(&etag)
    {
        headers.insert(header::ETAG, value);
    }
    let modified = download
        .backup
        .created_at
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    if let Ok(value) = HeaderValue::from_str(&modified) {
        headers.insert(header::LAST_MODIFIED, value);
    }
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if matches!(download.body, backup::Body::Unchanged) {
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        content_disposition(&backup::download_name(&download.backup)),
    );
    let content_range = |text: String| {
        HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("bytes */0"))
    };
    match download.body {
        backup::Body::Whole(bytes) => {
            headers.insert(header::CONTENT_LENGTH, size.into());
            Ok((headers, Body::from_stream(bytes)).into_response())
        }
        backup::Body::Part(range, bytes) => {
            headers.insert(header::CONTENT_LENGTH, (range.end - range.start).into());
            headers.insert(
                header::CONTENT_RANGE,
                content_range(format!("bytes {}-{}/{size}", range.start, range.end - 1)),
            );
            Ok((
                StatusCode::PARTIAL_CONTENT,
                headers,
                Body::from_stream(bytes),
            )
                .into_response())
        }
        backup::Body::Outside => {
            headers.remove(header::CONTENT_DISPOSITION);
            headers.insert(
                header::CONTENT_RANGE,
                content_range(format!("bytes */{size}")),
            );
            let reply = app::types::ErrorReply {
                error: format!(
                    "The download cannot go on from there: the file has {size} bytes. Download it again from the start."
                ),
            };
            Ok((StatusCode::RANGE_NOT_SATISFIABLE, headers, Json(reply)).into_response())
        }
        backup::Body::Unchanged => Ok((StatusCode::NOT_MODIFIED, headers).into_response()),
    }
}

/// The name and namespace an upload is listed under; without a name (or a blank one), the
/// file's name without `.zip`.
#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    name: Option<String>,
    file_name: Option<String>,
    namespace: String,
}

/// Receives the body within the size limit, then checks it completely and lists it.
/// Anything refused, cut off or too large leaves nothing behind.
async fn upload(
    State(services): State<Services>,
    actor: Option<Extension<Actor>>,
    Params(query): Params<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Uploaded>, ApiError> {
    let actor = admin(actor)?;
    let (backup, note) = receive_upload(
        &services,
        &actor,
        query.name.as_deref(),
        query.file_name.as_deref(),
        &query.namespace,
        &headers,
        body,
    )
    .await?;
    Ok(Json(Uploaded { backup, note }))
}

/// Receives an uploaded backup file (within the size limit), checks it completely and lists
/// it as `name` (or the file's name) under `namespace`: the backup, and a note for the user.
pub(crate) async fn receive_upload(
    services: &Services,
    actor: &Actor,
    name: Option<&str>,
    file_name: Option<&str>,
    namespace: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<(app::types::BackupInfo, Option<String>), app::domain::DomainError> {
    let engine = &services.backups;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    let name = backup::upload_name(name, file_name)?;
    let received = backup::receive(engine, declared, body.into_data_stream()).await?;
    backup::upload(
        engine,
        received.path().to_path_buf(),
        &name,
        namespace,
        &actor.name,
    )
    .await
}

/// Which job's report.
#[derive(Debug, Deserialize)]
pub struct ReportQuery {
    id: String,
}

/// `GET /api/jobs/report?id=`: the report of a finished restore, as a JSON file.
async fn report(
    State(services): State<Services>,
    actor: Option<Extension<Actor>>,
    Params(query): Params<ReportQuery>,
) -> Result<Response, ApiError> {
    admin(actor)?;
    let job = backup::jobs::get(&services.db, &query.id).await?;
    let Some(report) = job.report else {
        return Err(AppError::NotFound(
            "This job has no report: only a restore that finished has one.".into(),
        )
        .into());
    };
    let name = format!(
        "restore-report_{}_{}.json",
        report.namespace,
        report.finished_at.format("%Y-%m-%d_%H-%M-%S")
    );
    let body = serde_json::to_vec_pretty(&report)
        .map_err(|e| ApiError::from(app::domain::DomainError::Corrupt(e.to_string())))?;
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CONTENT_DISPOSITION, content_disposition(&name));
    Ok((headers, body).into_response())
}
