//! The server's status, as the overview page shows it.

use leptos::prelude::*;

use crate::error::AppError;
use crate::types::ServerStatus;

/// The application's version, its schema version and whether the database answers.
#[server]
pub async fn get_server_status() -> Result<ServerStatus, AppError> {
    let services = super::services()?;
    Ok(crate::domain::health::check(&services.db).await)
}
