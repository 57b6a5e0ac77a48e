//! `GET /api/health`: for load balancers, monitoring and people.

use app::domain::{Services, health};
use app::types::ServerStatus;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::AppState;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/health", get(get_health))
}

#[derive(Serialize)]
struct HealthBody {
    status: &'static str,
    #[serde(flatten)]
    server: ServerStatus,
}

/// 200 with `"status": "ok"` when the database answers, 503 with `"status": "degraded"`
/// when it does not; the body also names the application and schema versions.
async fn get_health(State(services): State<Services>) -> (StatusCode, Json<HealthBody>) {
    let server = health::check(&services.db).await;
    let code = if server.database_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        code,
        Json(HealthBody {
            status: server.status(),
            server,
        }),
    )
}
