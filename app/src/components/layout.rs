//! The frame around every page: the header with the product name, the navigation, the
//! main area.

use leptos::prelude::*;
use leptos_router::components::A;

use super::theme::ThemeToggle;

/// The application frame; `children` is the routed page.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="app-header">
            <A href="/" attr:class="brand">
                <span class="brand-mark" aria-hidden="true">"ns"</span>
                <span class="brand-name">"nsbackup"</span>
            </A>
            <ThemeToggle/>
        </header>
        <div class="app-body">
            <nav class="app-nav" aria-label="Main">
                <ul>
                    <li><A href="/" exact=true>"Overview"</A></li>
                    <li><A href="/explorer">"Explorer"</A></li>
                    <li class="nav-group">
                        <span class="nav-group-title" id="nav-administration">"Administration"</span>
                        <ul aria-labelledby="nav-administration">
                            <li><A href="/admin/backups">"Backup and Restore"</A></li>
                        </ul>
                    </li>
                </ul>
            </nav>
            <main id="main" class="app-main" tabindex="-1">
                {children()}
            </main>
        </div>
    }
}
