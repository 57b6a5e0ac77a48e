//! The frame around every page: the header with the product name, the navigation, the
//! main area with the notifications at its top (in the flow of the page, so that they never
//! cover anything). On a narrow screen the navigation folds away behind a Menu button.

use leptos::prelude::*;
use leptos_router::components::A;

use super::hydration::use_hydrated;
use super::session::{UserMenu, use_actor};
use super::theme::ThemeToggle;
use super::toast::ToastRegion;

/// The application frame; `children` is the routed page.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let actor = use_actor();
    let signed_in = move || actor.get().is_some();
    let admin = move || actor.get().is_some_and(|actor| actor.is_admin());
    let hydrated = use_hydrated();
    // On a narrow screen: whether the navigation is unfolded. Following a link folds it.
    let menu = RwSignal::new(false);
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="app-header">
            // Who is signed in is read inside a transition, as everywhere on the page: the
            // server renders it once it knows, and hydration finds the same.
            <Transition fallback=|| ()>
            <Show when=signed_in>
                <button type="button" class="menu-toggle" aria-controls="app-nav"
                    aria-expanded=move || menu.get().to_string()
                    disabled=move || !hydrated.get()
                    on:click=move |_| menu.update(|open| *open = !*open)>
                    <span aria-hidden="true">"☰"</span>
                    " Menu"
                </button>
            </Show>
            </Transition>
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
                <nav id="app-nav" class="app-nav" class:open=move || menu.get() aria-label="Main">
                    // Following a link (a click anywhere in the list) folds the menu again.
                    <ul on:click=move |_| menu.set(false)>
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
                                    <li><A href="/admin/tokens">"API Tokens"</A></li>
                                </ul>
                            </li>
                        </Show>
                    </ul>
                </nav>
            </Show>
            </Transition>
            <main id="main" class="app-main" tabindex="-1">
                <ToastRegion/>
                {children()}
            </main>
        </div>
    }
}
