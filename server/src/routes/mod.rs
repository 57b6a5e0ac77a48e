//! The HTTP router: the Leptos pages and server functions, and the plain routes beside them.

pub mod backups;
pub mod export;
pub mod guard;
pub mod health;

use app::domain::Services;
use app::{App, shell};
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::trace::TraceLayer;

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

/// Builds the whole router: plain routes first, then pages and server functions, then static
/// files and the 404 page.
pub fn router(services: Services, leptos_options: LeptosOptions) -> Router {
    let state = AppState {
        leptos_options: leptos_options.clone(),
        services: services.clone(),
    };
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
        .layer(DefaultBodyLimit::max(SERVER_FN_BODY_LIMIT))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
