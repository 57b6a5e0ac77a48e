//! `/api/v1/backups` and `/api/v1/uploads`: list, start, get, delete, download, upload.

use app::domain::Services;
use app::domain::backup;
use app::error::AppError;
use app::types::BackupInfo;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::wire::{Backup, BackupPage, Started, UploadedBackup};
use crate::routes::content_disposition;
use crate::routes::extract::{Admin, Body, PassphraseHeader, Query};
use crate::routes::problem::{Code, Problem};

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
    let listed = backup::list(&services.db).await?;
    let all: Vec<BackupInfo> = backup::mark_locked(&services.backups, listed)
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
    /// Encrypt it with this passphrase (at least 10 characters), instead of to the server's
    /// recipients; restoring it asks for it. Not stored anywhere: lost, it cannot be found.
    #[serde(default)]
    pub passphrase: Option<String>,
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
        (status = 422, description = "A name that cannot be, or a passphrase too short", body = Problem),
    )
)]
pub(super) async fn create_backup(
    State(services): State<Services>,
    Admin(actor): Admin,
    Body(wanted): Body<NewBackup>,
) -> Result<(StatusCode, axum::Json<Started>), Problem> {
    let passphrase = backup::passphrase_to_seal(wanted.passphrase)?;
    let (made, job) = backup::create_with_passphrase(
        &services.backups,
        &wanted.namespace,
        &wanted.name,
        &actor.name,
        passphrase,
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
    let found = backup::get(&services.db, &id).await?;
    let found = backup::mark_locked(&services.backups, vec![found]);
    found
        .into_iter()
        .next()
        .map(|backup| axum::Json(backup.into()))
        .ok_or_else(|| Problem::new(Code::NotFound, format!("There is no backup `{id}`.")))
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
    request: HeaderMap,
) -> Result<Response, Problem> {
    let text = |name: header::HeaderName| {
        request
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string)
    };
    let wanted = match request.get(header::RANGE).map(|value| value.to_str()) {
        None => None,
        Some(Ok(range)) => backup::Wanted::parse(range).map_err(AppError::BadRequest)?,
        Some(Err(_)) => {
            return Err(AppError::BadRequest(
                "The Range header is not a range of bytes: send `bytes=FIRST-`.".into(),
            )
            .into());
        }
    };
    let conditions = backup::Conditions {
        if_none_match: text(header::IF_NONE_MATCH),
        if_range: text(header::IF_RANGE),
    };
    let download =
        backup::download(&services.backups, &id, &actor.name, wanted, &conditions).await?;
    let size = download.size;
    // Every answer carries the file's strong `ETag` (its SHA-256) and `Last-Modified`.
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
    let content_range = |text: String| {
        HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("bytes */0"))
    };
    let file = |headers: &mut HeaderMap, length: u64| {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/zip"),
        );
        headers.insert(
            header::CONTENT_DISPOSITION,
            content_disposition(&backup::download_name(&download.backup)),
        );
        headers.insert(header::CONTENT_LENGTH, length.into());
    };
    match download.body {
        backup::Body::Unchanged => Ok((StatusCode::NOT_MODIFIED, headers).into_response()),
        backup::Body::Whole(bytes) => {
            file(&mut headers, size);
            Ok((headers, axum::body::Body::from_stream(bytes)).into_response())
        }
        backup::Body::Part(range, bytes) => {
            file(&mut headers, range.end - range.start);
            headers.insert(
                header::CONTENT_RANGE,
                content_range(format!("bytes {}-{}/{size}", range.start, range.end - 1)),
            );
            let body = axum::body::Body::from_stream(bytes);
            Ok((StatusCode::PARTIAL_CONTENT, headers, body).into_response())
        }
        backup::Body::Outside => {
            headers.insert(
                header::CONTENT_RANGE,
                content_range(format!("bytes */{size}")),
            );
            let problem = Problem::new(
                Code::RangeNotSatisfiable,
                format!("The download cannot go on from there: the file has {size} bytes."),
            );
            Ok((headers, problem).into_response())
        }
    }
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
    params(
        UploadQuery,
        ("Backup-Passphrase" = Option<String>, Header, description = "The passphrase of a file encrypted with one, percent-encoded"),
    ),
    request_body(content = Vec<u8>, content_type = "application/zip"),
    responses(
        (status = 201, description = "Listed", body = UploadedBackup),
        (status = 413, description = "Larger than the server accepts", body = Problem),
        (status = 422, description = "Not a backup this server accepts, or a passphrase missing or wrong (the message says why)", body = Problem),
    )
)]
pub(super) async fn upload_backup(
    State(services): State<Services>,
    Admin(actor): Admin,
    Query(query): Query<UploadQuery>,
    PassphraseHeader(passphrase): PassphraseHeader,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<(StatusCode, axum::Json<UploadedBackup>), Problem> {
    let incoming = backup::Incoming {
        namespace: &query.namespace,
        name: query.name.as_deref(),
        file_name: query.file_name.as_deref(),
        declared: headers
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok()),
        passphrase: backup::passphrase_to_open(passphrase)?,
    };
    let (backup, note) = backup::receive_upload(
        &services.backups,
        incoming,
        &actor.name,
        body.into_data_stream(),
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
