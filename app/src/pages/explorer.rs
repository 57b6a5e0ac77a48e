//! The explorer: the content of a namespace.

use leptos::prelude::*;
use leptos_meta::Title;

/// `/explorer`: browse and edit the folders, services, models and forms of a namespace.
#[component]
pub fn ExplorerPage() -> impl IntoView {
    view! {
        <Title text="Explorer"/>
        <h1>"Explorer"</h1>
        <div class="notice">
            <strong>"Coming soon."</strong>
            " The explorer will show the folders, services, models and forms of each namespace."
        </div>
    }
}
