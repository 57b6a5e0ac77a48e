//! Who is signed in, for every component: read once per page load (on the server while
//! rendering, then handed to the browser with the page), and the controls that depend on it.

use leptos::prelude::*;

use crate::api::account::{current_user, sign_out};
use crate::components::hydration::use_hydrated;
use crate::components::toast::use_toasts;
use crate::types::Actor;

/// The signed-in user as a resource; `None` inside when nobody is signed in.
#[derive(Clone, Copy)]
pub struct CurrentUser(pub Resource<Option<Actor>>);

/// Reads who is signed in and provides it to every component below. The page waits for it
/// on the server, so the first HTML already shows the right menu.
pub fn provide_current_user() {
    let user = Resource::new_blocking(
        || (),
        |_| async move { current_user().await.ok().flatten() },
    );
    provide_context(CurrentUser(user));
}

/// The signed-in user, as far as it is known yet (`None` while loading or signed out).
pub fn use_actor() -> Signal<Option<Actor>> {
    let CurrentUser(user) = expect_context::<CurrentUser>();
    Signal::derive(move || user.get().flatten())
}

/// Whether the signed-in user is an administrator.
pub fn use_is_admin() -> Signal<bool> {
    let actor = use_actor();
    Signal::derive(move || actor.get().is_some_and(|actor| actor.is_admin()))
}

/// Sends the browser to `path`, loading the page afresh (so everything is read again as the
/// new user, or as nobody).
pub fn reload_at(path: &str) {
    #[cfg(feature = "hydrate")]
    {
        if let Some(window) = web_sys::window() {
            let _ = window.location().assign(path);
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}

/// The signed-in user's name with the way out.
#[component]
pub fn UserMenu() -> impl IntoView {
    let actor = use_actor();
    let hydrated = use_hydrated();
    let toasts = use_toasts();
    let leave = Action::new(|_: &()| sign_out());
    Effect::new(move |_| match leave.value().get() {
        Some(Ok(())) => reload_at(crate::api::rules::SIGN_IN_PAGE),
        Some(Err(error)) => toasts.error(format!("Signing out failed: {error}")),
        None => {}
    });
    view! {
        <Transition fallback=|| ()>
            {move || {
                actor
                    .get()
                    .map(|actor| {
                        let role = if actor.is_admin() { "administrator" } else { "modeler" };
                        view! {
                            <div class="user-menu">
                                <span class="user-name" title=format!("Signed in as {} ({role})", actor.name)>
                                    {actor.name.clone()}
                                    <span class="user-role">{role}</span>
                                </span>
                                <a href="/account">"Account"</a>
                                <button
                                    type="button"
                                    disabled=move || !hydrated.get() || leave.pending().get()
                                    on:click=move |_| {
                                        leave.dispatch(());
                                    }
                                >
                                    "Sign out"
                                </button>
                            </div>
                        }
                    })
            }}
        </Transition>
    }
}

/// Whether the signed-in user is an administrator, known when a page is built: on the server
/// from the request itself, in the browser from the session the server sent with the page
/// (read when the page loads, so it is there from the first render on).
fn is_admin_now() -> bool {
    #[cfg(feature = "ssr")]
    {
        crate::api::current_actor().is_some_and(|actor| actor.is_admin())
    }
    #[cfg(not(feature = "ssr"))]
    {
        let CurrentUser(user) = expect_context::<CurrentUser>();
        user.get_untracked()
            .flatten()
            .is_some_and(|actor| actor.is_admin())
    }
}

/// Shows `children` to administrators only. Anyone else gets a refusal (and, from the
/// server, the status 403); the data of such pages is refused by the server anyway.
///
/// The choice is made once, outside any reactive closure: the server renders a closure more
/// than once while it waits for data (to find every read), and each time the page inside
/// would start its reads again and send their answers with the page once more.
#[component]
pub fn AdminOnly(children: Children) -> impl IntoView {
    if is_admin_now() {
        return children().into_any();
    }
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::FORBIDDEN);
    }
    view! {
        <leptos_meta::Title text="Administrators only"/>
        <h1>"Administrators only"</h1>
        <div class="notice notice-error" role="alert">
            <p>"This page is for administrators. Ask an administrator if you need something done here."</p>
            <p><a href="/">"Back to the overview"</a></p>
        </div>
    }
    .into_any()
}
