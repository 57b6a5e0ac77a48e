//! Addresses that moved to `/api/v1`, answered with a permanent redirect (308, which keeps
//! the method and body) so that bookmarks, older audit entries' report links and scripts
//! written against them keep working: `GET /api/backups/download?id=`, `GET
//! /api/jobs/report?id=` and `POST /api/backups/upload?…`.

use axum::Router;
use axum::extract::RawQuery;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::AppState;
use super::extract::Query;
use super::problem::{Code, Problem};
use super::v1::PREFIX;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/backups/download", get(download))
        .route("/api/jobs/report", get(report))
        .route("/api/backups/upload", post(upload))
}

/// The one parameter the two downloads took.
#[derive(Debug, Deserialize)]
pub struct Id {
    id: String,
}

/// An id as one segment of a path: nothing in it can reach another address.
fn segment(id: &str) -> String {
    app::text::percent_encode(id, b"")
}

/// 308 to `location`.
fn moved_to(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, value)]).into_response(),
        Err(_) => Problem::new(
            Code::BadRequest,
            format!("This address moved to {PREFIX}; see its OpenAPI document."),
        )
        .into_response(),
    }
}

async fn download(Query(Id { id }): Query<Id>) -> Response {
    moved_to(&format!("{PREFIX}/backups/{}/download", segment(&id)))
}

async fn report(Query(Id { id }): Query<Id>) -> Response {
    moved_to(&format!("{PREFIX}/jobs/{}/report", segment(&id)))
}

/// The upload took the same parameters as `/api/v1/uploads`.
async fn upload(RawQuery(query): RawQuery) -> Response {
    let query = query.map(|query| format!("?{query}")).unwrap_or_default();
    moved_to(&format!("{PREFIX}/uploads{query}"))
}
