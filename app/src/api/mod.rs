//! Server functions, one file per area. Each is a few lines: take the services from context,
//! call the domain, convert the error.

pub mod explorer;
pub mod status;

#[cfg(feature = "ssr")]
use crate::{domain::Services, error::AppError};

/// The services the server provides to every server function.
///
/// # Errors
///
/// [`AppError::Internal`] when the server was assembled without them (a bug, logged).
#[cfg(feature = "ssr")]
pub(crate) fn services() -> Result<Services, AppError> {
    leptos::prelude::use_context::<Services>().ok_or_else(|| {
        tracing::error!("server function called without the services in context");
        AppError::Internal("The server is not set up correctly; its log says more.".into())
    })
}

/// Converts a domain result for the wire, setting the HTTP status that goes with an error.
#[cfg(feature = "ssr")]
pub(crate) fn respond<T>(result: Result<T, crate::domain::DomainError>) -> Result<T, AppError> {
    result.map_err(|error| {
        let error = AppError::from(error);
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
            && let Ok(status) = http::StatusCode::from_u16(error.status_code())
        {
            response.set_status(status);
        }
        error
    })
}
