//! The HTTP router: the Leptos pages and server functions, and the plain routes beside them.

pub mod assets;
pub mod audit;
pub mod backups;
pub mod export;
pub mod guard;
pub mod health;
pub mod v1;

use app::domain::{DomainError, Services};
use app::error::AppError;
use app::{App, shell};
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::trace::TraceLayer;

/// What a plain route answers when it refuses or fails: the user's message as
/// `{"error": "…"}`, with the status of its kind. Made from an [`AppError`], or from a
/// [`DomainError`] (whose conversion logs what is internal and tells the user what to do).
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        ApiError(error)
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        ApiError(error.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        error_body(status, &self.0)
    }
}

/// `{"error": "…"}` with `status`: every plain route's refusal, and the request guard's.
pub(crate) fn error_body(status: StatusCode, error: &AppError) -> Response {
    let reply = app::types::ErrorReply {
        error: error.to_string(),
    };
    (status, Json(reply)).into_response()
}

/// The query string of a plain route, parsed as `T`; a query that lacks a parameter or has
/// one of the wrong kind is refused with 400 and `{"error": "…"}` naming it, as every other
/// refusal (axum's own [`Query`](axum::extract::Query) answers in plain text).
#[derive(Debug)]
pub struct Params<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Params<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Params(value)),
            Err(rejection) => Err(ApiError(AppError::BadRequest(format!(
                "The query string is not right: {}. See the README for the parameters this endpoint takes.",
                rejection.body_text()
            )))),
        }
    }
}

/// The state every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub services: Services,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for Services {
    fn from_ref(state: &AppState) -> Self {
        state.services.clone()
    }
}

/// The largest request body a server function accepts: an item's content (8 MiB, more once
/// escaped as JSON) or an export file to import (64 MiB) must fit. axum's default is 2 MB.
const SERVER_FN_BODY_LIMIT: usize = 80 * 1024 * 1024;

/// What every answer says about itself: never to be framed by another site (clickjacking),
/// never to be read as another type than it declares, never to tell other sites which page
/// it came from, and no plugins, foreign base URLs or foreign form targets.
const SECURITY_HEADERS: [(&str, &str); 4] = [
    (
        "content-security-policy",
        "frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
];

async fn security_headers(mut response: axum::response::Response) -> axum::response::Response {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        // A page sets a fuller policy of its own (with its scripts' nonce; see `app::shell`).
        if name == "content-security-policy" && headers.contains_key(name) {
            continue;
        }
        headers.insert(name, axum::http::HeaderValue::from_static(value));
    }
    assets::default_cache_control(&mut response);
    response
}

/// Builds the whole router: plain routes first, then pages and server functions, then static
/// files and the 404 page.
pub fn router(services: Services, leptos_options: LeptosOptions) -> Router {
    let state = AppState {
        leptos_options: leptos_options.clone(),
        services: services.clone(),
    };
    let site_root = std::path::PathBuf::from(leptos_options.site_root.as_ref());
    let hashes = assets::Hashes::read(&site_root);
    let guard_layer = axum::middleware::from_fn_with_state(services.clone(), guard::guard);
    let context = move || provide_context(services.clone());
    let page_shell = {
        let options = leptos_options.clone();
        move || shell(options.clone())
    };
    Router::new()
        .merge(health::router())
        .merge(export::router())
        .merge(backups::router())
        .merge(audit::router())
        .merge(assets::router(&site_root, hashes))
        // Bodies of the API are capped by the guard (uploads by their own limit).
        .merge(v1::router().0.layer(DefaultBodyLimit::disable()))
        .leptos_routes_with_context(
            &state,
            generate_route_list(App),
            context.clone(),
            page_shell,
        )
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell))
        .layer(guard_layer)
        .layer(axum::middleware::map_response(security_headers))
        .layer(assets::compression())
        .layer(DefaultBodyLimit::max(SERVER_FN_BODY_LIMIT))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
