//! The server's status, as the overview page shows it.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;
use crate::types::ServerStatus;

/// The application's version, its schema version and whether the database answers.
#[server(input = Json, endpoint = "get_server_status")]
pub async fn get_server_status() -> Result<ServerStatus, AppError> {
    super::actor()?;
    let services = super::services()?;
    Ok(crate::domain::health::check(&services.db).await)
}
