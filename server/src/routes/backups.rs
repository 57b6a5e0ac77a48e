//! The two backup routes that stream: download (`GET /api/backups/download?id=`) and
//! upload (`POST /api/backups/upload?namespace=&name=&file_name=`, the zip as the request
//! body).
//! Administrators only (the request guard refuses everyone else first).

use app::api::rules::ADMINS_ONLY;
use app::domain::backup::store::ByteStream;
use app::domain::backup::{self, Engine, verify};
use app::domain::{DomainError, Services, audit};
use app::error::AppError;
use app::types::{Actor, BackupInfo, BackupStatus, Outcome};
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Extension, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

use super::export::{content_disposition, error_response};
use super::{AppState, Params};

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
    Params(query): Params<DownloadQuery>,
) -> Response {
    let actor = match admin(actor) {
        Ok(actor) => actor,
        Err(error) => return error_response(error),
    };
    let engine = &services.backups;
    let (found, bytes) = match open_for_download(engine, &query.id).await {
        Ok(opened) => opened,
        Err(error) => {
            let outcome = if error.status_code() >= 500 {
                Outcome::Failed
            } else {
                Outcome::Refused
            };
            let event = audit::Event {
                actor: &actor.name,
                action: "backup download",
                target: &query.id,
                outcome,
                detail: &error.to_string(),
            };
            audit::record_or_log(&engine.db, event).await;
            return error_response(error);
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
    let stream = checked_stream(bytes, engine.clone(), found.clone());
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
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

/// Backup `id` and its file's bytes, when it may be downloaded: completed, and its file as
/// long as it was written (a damaged one is listed as such and refused).
async fn open_for_download(
    engine: &Engine,
    id: &str,
) -> Result<(BackupInfo, ByteStream), AppError> {
    let found = backup::get(&engine.db, id).await?;
    if found.status == BackupStatus::Damaged {
        return Err(damaged(&found, found.error.as_deref().unwrap_or_default()));
    }
    if found.status != BackupStatus::Completed {
        return Err(AppError::Conflict(format!(
            "Backup \u{201c}{}\u{201d} is not complete, so there is nothing to download.",
            found.name
        )));
    }
    let opened = match engine.store.size(&found.id).await {
        Ok(Some(length)) => match engine.store.get(&found.id, None).await {
            Ok(bytes) => Ok((bytes, length)),
            Err(error) => Err(error),
        },
        Ok(None) => Err(std::io::Error::from(std::io::ErrorKind::NotFound)),
        Err(error) => Err(error),
    };
    match opened {
        Ok((bytes, length)) => {
            let Some(reason) = verify::mismatch_reason(found.size, length, true) else {
                return Ok((found, bytes));
            };
            if let Err(error) = verify::mark_damaged(engine, &found.id, &reason).await {
                tracing::error!(%error, backup = found.id, "could not list a damaged backup as such");
            }
            Err(damaged(&found, &reason))
        }
        Err(error) => {
            tracing::error!(%error, backup = found.id, "a listed backup's file cannot be opened");
            Err(AppError::Internal(
                "The backup's file cannot be read on the server; its log says why.".into(),
            ))
        }
    }
}

fn damaged(backup: &BackupInfo, reason: &str) -> AppError {
    AppError::Conflict(format!(
        "Backup \u{201c}{}\u{201d} is damaged: {reason} It cannot be downloaded; delete it, or upload an intact copy.",
        backup.name
    ))
}

/// The file's bytes as they are read, hashed on the way. The last chunk is held back until
/// the whole file is hashed: when the bytes turn out not to be the listed file, the download
/// ends with an error short of its announced length instead of a clean end (the browser then
/// reports it failed, and nobody keeps a damaged copy for a good one), and the backup is
/// listed as damaged.
fn checked_stream(
    file: ByteStream,
    engine: Engine,
    listed: BackupInfo,
) -> impl futures_util::Stream<Item = std::io::Result<axum::body::Bytes>> {
    struct State {
        file: ByteStream,
        check: verify::StreamCheck,
        held: Option<axum::body::Bytes>,
        engine: Engine,
        listed: BackupInfo,
    }
    let state = State {
        file,
        check: verify::StreamCheck::default(),
        held: None,
        engine,
        listed,
    };
    futures_util::stream::unfold(Some(state), |state| async move {
        let mut state = state?;
        loop {
            match state.file.next().await {
                Some(Ok(chunk)) => {
                    state.check.update(&chunk);
                    if let Some(previous) = state.held.replace(chunk) {
                        return Some((Ok(previous), Some(state)));
                    }
                }
                Some(Err(error)) => return Some((Err(error), None)),
                None => {
                    let State {
                        check,
                        held,
                        engine,
                        listed,
                        ..
                    } = state;
                    let Some(reason) = check.finish(&listed) else {
                        return held.map(|last| (Ok(last), None));
                    };
                    if let Err(error) = verify::mark_damaged(&engine, &listed.id, &reason).await {
                        tracing::error!(%error, backup = listed.id, "could not list a damaged backup as such");
                    }
                    return Some((Err(std::io::Error::other(reason)), None));
                }
            }
        }
    })
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
    Params(query): Params<UploadQuery>,
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
    let scratch = ScratchFile(engine.store.scratch_path(&format!(
        "upload-{}",
        app::domain::content::new_generation_id()
    )));
    if let Err(refusal) = receive(engine, &scratch.0, body).await {
        return refusal_response(refusal);
    }
    let name = backup::upload_name(query.name.as_deref(), query.file_name.as_deref());
    let uploaded = backup::upload(
        engine,
        scratch.0.clone(),
        &name,
        &query.namespace,
        &actor.name,
    );
    match uploaded.await {
        Ok((backup, duplicate_of)) => Json(Uploaded {
            backup,
            duplicate_of,
        })
        .into_response(),
        Err(error) => error_response(error.into()),
    }
}

/// A scratch file that goes whatever ends the request: an answer, a refusal, or a client that
/// leaves (axum then drops the handler where it waits, and this with it). Once the upload is
/// accepted the file has been moved into the store, and there is nothing left to remove.
struct ScratchFile(std::path::PathBuf);

impl Drop for ScratchFile {
    fn drop(&mut self) {
        match std::fs::remove_file(&self.0) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                tracing::warn!(%error, path = %self.0.display(), "could not remove an upload's scratch file; it is removed at the next start");
            }
        }
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
