//! `GET /api/export`: one folder or item of a namespace as an export file to download.

use app::domain::Services;
use app::domain::content::operations;
use app::domain::content::transfer::ExportTarget;
use app::error::AppError;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::extract::{Query, SignedIn};
use super::problem::Problem;
use super::{AppState, content_disposition};

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/export", get(get_export))
}

/// Which entry to export: `namespace` and exactly one of `folder` and `item`.
#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    namespace: String,
    folder: Option<String>,
    item: Option<String>,
}

/// The export file as an attachment named `<entry name>.export.json`. The user must be able
/// to read the item, or the folder and everything in it ([`operations::export`]).
async fn get_export(
    State(services): State<Services>,
    SignedIn(actor): SignedIn,
    Query(query): Query<ExportQuery>,
) -> Result<Response, Problem> {
    let target = match (query.folder, query.item) {
        (Some(folder), None) => ExportTarget::Folder(folder),
        (None, Some(item)) => ExportTarget::Item(item),
        _ => {
            return Err(
                AppError::BadRequest("Name either a folder or an item to export.".into()).into(),
            );
        }
    };
    let (file_name, file) =
        operations::export(&services.db, &actor, &query.namespace, &target).await?;
    let disposition = content_disposition(&file_name);
    Ok(([(header::CONTENT_DISPOSITION, disposition)], Json(file)).into_response())
}
