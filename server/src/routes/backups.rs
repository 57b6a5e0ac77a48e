//! The two backup routes that stream: download (`GET /api/backups/download?id=`) and
//! upload (`POST /api/backups/upload?namespace=&name=&file_name=`, the zip as the request
//! body).
//! Administrators only (the request guard refuses everyone else first).

use app::api::rules::ADMINS_ONLY;
use app::domain::backup::{self, Engine};
use app::domain::{DomainError, Services, audit};
use app::error::AppError;
use app::types::{Actor, BackupInfo, BackupStatus, Outcome};
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Extension, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

use super::AppState;
use super::export::{content_disposition, error_response};

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/backups/download", get(download))
        .route(
            "/api/backups/upload",
            post(upload).layer(DefaultBodyLimit::disable()),
        )
}

fn admin(actor: Option<Extension<Actor>>) -> Result<Actor, AppError> {
    match actor {
        Some(Extension(actor)) if actor.is_admin() => Ok(actor),
        Some(_) => Err(AppError::Forbidden(ADMINS_ONLY.into())),
        None => Err(AppError::Unauthorized(
            app::api::rules::SIGN_IN_FIRST.into(),
        )),
    }
}

/// A refusal with its status (413 has no [`AppError`] of its own).
type Refusal = (StatusCode, AppError);

fn refusal_response((status, error): Refusal) -> Response {
    let mut response = error_response(error);
    *response.status_mut() = status;
    response
}

/// Which backup to download.
#[derive(Debug, Deserialize)]
pub struct DownloadQuery {
    id: String,
}

/// The backup's zip, streamed from its file, as `<name>_<YYYY-MM-DD_HH-mm-ss>.zip`.
async fn download(
    State(services): State<Services>,
    actor: Option<Extension<Actor>>,
    Query(query): Query<DownloadQuery>,
) -> Response {
    let actor = match admin(actor) {
        Ok(actor) => actor,
        Err(error) => return error_response(error),
    };
    let engine = &services.backups;
    let found = match backup::get(&engine.db, &query.id).await {
        Ok(found) => found,
        Err(error) => return error_response(error.into()),
    };
    if found.status != BackupStatus::Completed {
        return error_response(AppError::Conflict(format!(
            "Backup \u{201c}{}\u{201d} is not complete, so there is nothing to download.",
            found.name
        )));
    }
    let file = match tokio::fs::File::open(engine.store.path(&found.id)).await {
        Ok(file) => file,
        Err(error) => {
            tracing::error!(%error, backup = found.id, "a listed backup's file cannot be opened");
            return error_response(AppError::Internal(
                "The backup's file cannot be read on the server; its log says why.".into(),
            ));
        }
    };
    let event = audit::Event {
        actor: &actor.name,
        action: "backup download",
        target: &found.namespace,
        outcome: Outcome::Succeeded,
        detail: &found.name,
    };
    audit::record_or_log(&engine.db, event).await;
    let stream = tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024);
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        "application/zip".parse().expect("static"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        content_disposition(&backup::download_name(&found)),
    );
    if let Some(size) = found.size {
        headers.insert(header::CONTENT_LENGTH, size.into());
    }
    (headers, Body::from_stream(stream)).into_response()
}

/// The name and namespace an upload is listed under; without a name (or a blank one), the
/// file's name without `.zip`.
#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    name: Option<String>,
    file_name: Option<String>,
    namespace: String,
}

/// What an accepted upload answers.
#[derive(Debug, Serialize)]
pub struct Uploaded {
    pub backup: BackupInfo,
    /// Set when the same file is listed already (it is listed again, never overwritten).
    pub duplicate_of: Option<String>,
}

/// Streams the body into a scratch file under the size limit, then checks it completely and
/// lists it. Anything refused, cut off or too large leaves nothing behind.
async fn upload(
    State(services): State<Services>,
    actor: Option<Extension<Actor>>,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let actor = match admin(actor) {
        Ok(actor) => actor,
        Err(error) => return error_response(error),
    };
    let engine = &services.backups;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > engine.max_upload_bytes) {
        return refusal_response(too_large(engine));
    }
    let scratch = engine.store.scratch_path(&format!(
        "upload-{}",
        app::domain::content::new_generation_id()
    ));
    match receive(engine, &scratch, body).await {
        Ok(()) => {}
        Err(refusal) => {
            let _ = tokio::fs::remove_file(&scratch).await;
            return refusal_response(refusal);
        }
    }
    let name = backup::upload_name(query.name.as_deref(), query.file_name.as_deref());
    match backup::upload(engine, scratch, &name, &query.namespace, &actor.name).await {
        Ok((backup, duplicate_of)) => Json(Uploaded {
            backup,
            duplicate_of,
        })
        .into_response(),
        Err(error) => error_response(error.into()),
    }
}

async fn receive(engine: &Engine, scratch: &std::path::Path, body: Body) -> Result<(), Refusal> {
    let failed = |error: std::io::Error| {
        tracing::error!(%error, "could not store an upload");
        let error = AppError::from(DomainError::Io(error));
        (StatusCode::INTERNAL_SERVER_ERROR, error)
    };
    let mut file = tokio::fs::File::create(scratch).await.map_err(failed)?;
    let mut stream = body.into_data_stream();
    let mut written = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| {
            (
                StatusCode::BAD_REQUEST,
                AppError::BadRequest(
                    "The upload was interrupted before the whole file arrived. Try again.".into(),
                ),
            )
        })?;
        written += chunk.len() as u64;
        if written > engine.max_upload_bytes {
            return Err(too_large(engine));
        }
        file.write_all(&chunk).await.map_err(failed)?;
    }
    if written == 0 {
        return Err((
            StatusCode::BAD_REQUEST,
            AppError::BadRequest(
                "The file is empty: not a zip file. Choose a backup file (.zip) made by nsbackup."
                    .into(),
            ),
        ));
    }
    file.sync_all().await.map_err(failed)?;
    Ok(())
}

fn too_large(engine: &Engine) -> Refusal {
    let error = AppError::BadRequest(format!(
        "The file is larger than the {} the server accepts for uploads.",
        human_size(engine.max_upload_bytes)
    ));
    (StatusCode::PAYLOAD_TOO_LARGE, error)
}

fn human_size(bytes: u64) -> String {
    const GIB: u64 = 1 << 30;
    const MIB: u64 = 1 << 20;
    if bytes >= GIB && bytes.is_multiple_of(GIB) {
        format!("{} GiB", bytes / GIB)
    } else if bytes >= MIB {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    } else {
        format!("{bytes} bytes")
    }
}
