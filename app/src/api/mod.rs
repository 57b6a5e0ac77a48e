//! Server functions, one file per area. Each is a few lines: take the services from context,
//! call the domain, convert the error.

pub mod account;
pub mod admin;
pub mod backups;
pub mod explorer;
pub mod rules;
pub mod schedules;
pub mod status;

#[cfg(feature = "ssr")]
use crate::types::AuditAction;
#[cfg(feature = "ssr")]
use crate::{domain::Services, error::AppError, types::Actor};

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

/// The session token of the request, put there by the server's session layer.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug)]
pub struct SessionToken(pub String);

/// Who sent the request, as the server's session layer found it.
#[cfg(feature = "ssr")]
pub fn current_actor() -> Option<Actor> {
    leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Actor>().cloned())
}

/// Who sent the request; [`AppError::Unauthorized`] (with its status) when nobody is signed in.
///
/// The server's access rules ([`rules`]) refuse such requests before they get here; this is
/// the second lock on the door.
#[cfg(feature = "ssr")]
pub(crate) fn actor() -> Result<Actor, AppError> {
    respond(current_actor().ok_or_else(|| AppError::Unauthorized(rules::SIGN_IN_FIRST.into())))
}

/// The signed-in administrator; [`AppError::Forbidden`] for anyone else.
#[cfg(feature = "ssr")]
pub(crate) fn admin() -> Result<Actor, AppError> {
    let actor = actor()?;
    if actor.is_admin() {
        Ok(actor)
    } else {
        respond(Err(AppError::Forbidden(rules::ADMINS_ONLY.into())))
    }
}

/// Converts a result for the wire, setting the HTTP status that goes with an error.
#[cfg(feature = "ssr")]
pub(crate) fn respond<T, E: Into<AppError>>(result: Result<T, E>) -> Result<T, AppError> {
    result.map_err(|error| {
        let error: AppError = error.into();
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
            && let Ok(status) = http::StatusCode::from_u16(error.status_code())
        {
            response.set_status(status);
        }
        error
    })
}

/// Records `result` in the audit log ([`crate::domain::audit::audited`]), then converts it
/// for the wire like [`respond`].
#[cfg(feature = "ssr")]
pub(crate) async fn audited<T>(
    db: &crate::domain::Db,
    actor: &Actor,
    action: AuditAction,
    target: &str,
    detail: &str,
    result: Result<T, crate::domain::DomainError>,
) -> Result<T, AppError> {
    let result =
        crate::domain::audit::audited(db, &actor.name, action, target, detail, result).await;
    respond(result)
}
