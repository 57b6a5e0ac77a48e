//! The start page: what nsbackup is for and whether the server is well.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::api::status::get_server_status;
use crate::components::errors::ErrorPanel;
use crate::types::ServerStatus;

/// `/`: an overview of the product and the server's status.
#[component]
pub fn OverviewPage() -> impl IntoView {
    let status = Resource::new(|| (), |_| get_server_status());
    view! {
        <Title text="Overview"/>
        <h1>"Overview"</h1>
        <p class="lead">
            "nsbackup backs up and restores whole namespaces: folders with their permissions, "
            "services, models and forms."
        </p>
        <div class="cards">
            <section class="card" aria-labelledby="status-heading">
                <h2 id="status-heading">"Server status"</h2>
                <Transition fallback=|| view! { <p class="muted">"Checking the server…"</p> }>
                    <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                        {move || status.get().map(|result| result.map(|status| view! { <StatusList status/> }))}
                    </ErrorBoundary>
                </Transition>
            </section>
            <section class="card" aria-labelledby="start-heading">
                <h2 id="start-heading">"Get started"</h2>
                <ul class="link-list">
                    <li><A href="/explorer">"Explorer"</A>" — browse the content of a namespace."</li>
                    <li><A href="/admin/backups">"Backup and Restore"</A>" — create, manage and restore namespace backups."</li>
                </ul>
            </section>
        </div>
    }
}

#[component]
fn StatusList(status: ServerStatus) -> impl IntoView {
    let database = if status.database_ok {
        "Connected"
    } else {
        "Not answering"
    };
    let state = status.status();
    view! {
        <dl class="facts" data-status=state>
            <dt>"Application version"</dt>
            <dd>{status.version}</dd>
            <dt>"Schema version"</dt>
            <dd>{status.schema_version}</dd>
            <dt>"Database"</dt>
            <dd class=if status.database_ok { "ok" } else { "bad" }>{database}</dd>
        </dl>
    }
}
