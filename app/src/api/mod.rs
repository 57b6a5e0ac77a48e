//! Server functions, one file per area. Each is a few lines: take the services from context,
//! call the domain, convert the error.

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
