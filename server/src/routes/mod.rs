//! The HTTP router: the Leptos pages and server functions, and the plain routes beside them.

pub mod assets;
pub mod audit;
pub mod export;
pub mod extract;
pub mod guard;
pub mod health;
pub mod moved;
pub mod problem;
pub mod v1;

use app::domain::Services;
use app::{App, shell};
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::trace::TraceLayer;

/// `attachment` with an ASCII fallback and the UTF-8 name (RFC 6266): how every file to
/// download is named.
pub(crate) fn content_disposition(file_name: &str) -> axum::http::HeaderValue {
    let ascii: String = file_name
        .chars()
        .map(|c| if c.is_ascii() && c != '"' { c } else { '_' })
        .collect();
    let encoded = app::text::percent_encode(file_name, b"");
    axum::http::HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| axum::http::HeaderValue::from_static("attachment; filename=\"download\""))
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
        .merge(moved::router())
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
