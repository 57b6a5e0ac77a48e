//! Showing errors in place of content, never a blank page.

use leptos::prelude::*;

/// The fallback of an `<ErrorBoundary>`: every error's message, and a way to try again.
#[component]
pub fn ErrorPanel(errors: ArcRwSignal<Errors>) -> impl IntoView {
    let messages = move || {
        errors
            .get()
            .into_iter()
            .map(|(_, error)| view! { <li>{error.to_string()}</li> })
            .collect_view()
    };
    view! {
        <div class="notice notice-error" role="alert">
            <strong>"Something went wrong."</strong>
            <ul>{messages}</ul>
            <p>"Reload the page to try again."</p>
        </div>
    }
}
