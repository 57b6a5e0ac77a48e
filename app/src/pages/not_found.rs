//! The page for addresses that lead nowhere.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// Any unknown address: says so (with HTTP status 404) and offers a way back.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found"/>
        <h1>"Page not found"</h1>
        <p>"There is nothing at this address. It may have moved, or the link may be wrong."</p>
        <p><A href="/">"Go to the overview"</A></p>
    }
}
