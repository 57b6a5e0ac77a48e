//! The frame around every page: the header with the product name, the navigation, the
//! main area.

use leptos::prelude::*;
use leptos_router::components::A;

use super::session::{UserMenu, use_actor};
use super::theme::ThemeToggle;

/// The application frame; `children` is the routed page.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let actor = use_actor();
    let signed_in = move || actor.get().is_some();
    let admin = move || actor.get().is_some_and(|actor| actor.is_admin());
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="app-header">
            <A href="/" attr:class="brand">
                <span class="brand-mark" aria-hidden="true">"ns"</span>
                <span class="brand-name">"nsbackup"</span>
            </A>
            <div class="header-end">
                <UserMenu/>
                <ThemeToggle/>
            </div>
        </header>
        <div class="app-body">
            <Transition fallback=|| ()>
            <Show when=signed_in>
                <nav class="app-nav" aria-label="Main">
                    <ul>
                        <li><A href="/" exact=true>"Overview"</A></li>
                        <li><A href="/explorer">"Explorer"</A></li>
                        // Hidden from modelers for clarity; the server refuses them anyway.
                        <Show when=admin>
                            <li class="nav-group">
                                <span class="nav-group-title" id="nav-administration">"Administration"</span>
                                <ul aria-labelledby="nav-administration">
                                    <li><A href="/admin/backups">"Backup and Restore"</A></li>
                                    <li><A href="/admin/users">"Users"</A></li>
                                    <li><A href="/admin/audit">"Audit Log"</A></li>
                                </ul>
                            </li>
                        </Show>
                    </ul>
                </nav>
            </Show>
            </Transition>
            <main id="main" class="app-main" tabindex="-1">
                {children()}
            </main>
        </div>
    }
}
