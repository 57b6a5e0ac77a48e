//! The light/dark theme switch in the header.

use leptos::prelude::*;

use super::hydration::use_hydrated;

const STORAGE_KEY: &str = "nsbackup-theme";

/// A toggle button for the dark theme. The choice is remembered in the browser; until one is
/// made, the system's preference applies (the head script of the shell picks it before the
/// first paint).
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let hydrated = use_hydrated();
    let dark = RwSignal::new(false);
    Effect::new(move |_| dark.set(current_theme_is_dark()));
    let toggle = move |_| {
        let now_dark = !dark.get_untracked();
        dark.set(now_dark);
        apply_theme(now_dark);
    };
    view! {
        <button
            type="button"
            class="theme-toggle"
            aria-pressed=move || dark.get().to_string()
            disabled=move || !hydrated.get()
            on:click=toggle
        >
            <span aria-hidden="true">{move || if dark.get() { "☀" } else { "☾" }}</span>
            <span class="toggle-label">" Dark theme"</span>
        </button>
    }
}

#[cfg(feature = "hydrate")]
fn current_theme_is_dark() -> bool {
    web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.document_element())
        .and_then(|root| root.get_attribute("data-theme"))
        .is_some_and(|theme| theme == "dark")
}

#[cfg(not(feature = "hydrate"))]
fn current_theme_is_dark() -> bool {
    false
}

#[cfg(feature = "hydrate")]
fn apply_theme(dark: bool) {
    let theme = if dark { "dark" } else { "light" };
    let Some(window) = web_sys::window() else {
        return;
    };
    if let Some(root) = window
        .document()
        .and_then(|document| document.document_element())
    {
        // Setting an attribute on the root element cannot fail in practice; a failure only
        // means the theme does not change, which the button's state then shows.
        let _ = root.set_attribute("data-theme", theme);
    }
    if let Ok(Some(storage)) = window.local_storage() {
        // Private browsing may refuse storage: the theme then lasts for this page only.
        let _ = storage.set_item(STORAGE_KEY, theme);
    }
}

#[cfg(not(feature = "hydrate"))]
fn apply_theme(_dark: bool) {
    let _ = STORAGE_KEY;
}
