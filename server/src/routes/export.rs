//! `GET /api/export`: one folder or item of a namespace as an export file to download.

use app::api::rules::SIGN_IN_FIRST;
use app::domain::Services;
use app::domain::content::operations;
use app::domain::content::transfer::ExportTarget;
use app::error::AppError;
use app::types::Actor;
use axum::extract::{Extension, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::{ApiError, AppState, Params};

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
    actor: Option<Extension<Actor>>,
    Params(query): Params<ExportQuery>,
) -> Result<Response, ApiError> {
    let Some(Extension(actor)) = actor else {
        return Err(AppError::Unauthorized(SIGN_IN_FIRST.into()).into());
    };
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

/// `attachment` with an ASCII fallback and the UTF-8 name (RFC 6266).
pub(crate) fn content_disposition(file_name: &str) -> HeaderValue {
    let ascii: String = file_name
        .chars()
        .map(|c| if c.is_ascii() && c != '"' { c } else { '_' })
        .collect();
    let encoded = app::text::percent_encode(file_name, b"");
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment; filename=\"export.json\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_survive_in_the_header() {
        let value = content_disposition("Übersicht \"Q1\".export.json");
        let text = value.to_str().expect("ascii header");
        assert!(
            text.contains("filename=\"_bersicht _Q1_.export.json\""),
            "{text}"
        );
        assert!(
            text.contains("filename*=UTF-8''%C3%9Cbersicht%20%22Q1%22.export.json"),
            "{text}"
        );
    }
}
