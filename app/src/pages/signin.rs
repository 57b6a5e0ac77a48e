//! `/signin`: signing in; `/account`: the signed-in user's own password and sessions.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::account::{change_own_password, end_own_sessions, list_own_sessions, sign_in};
use crate::api::rules::safe_next;
use crate::components::errors::ErrorPanel;
use crate::components::hydration::use_hydrated;
use crate::components::session::{reload_at, use_actor};
use crate::components::time::LocalTime;
use crate::components::toast::{use_toasts, when_done};
use crate::validate;

/// The sign-in form. After signing in the browser goes where it was going (`?next=`), or to
/// the overview.
#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let next = Memo::new(move |_| safe_next(query.read().get("next").as_deref()));
    let hydrated = use_hydrated();
    let actor = use_actor();
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let enter =
        Action::new(|(name, password): &(String, String)| sign_in(name.clone(), password.clone()));
    Effect::new(move |_| match enter.value().get() {
        Some(Ok(_)) => reload_at(&next.get_untracked()),
        Some(Err(error)) => {
            password.set(String::new());
            problem.set(Some(error.to_string()));
        }
        None => {}
    });
    let disabled = move || {
        !hydrated.get()
            || enter.pending().get()
            || name.get().trim().is_empty()
            || password.get().is_empty()
    };

    view! {
        <Title text="Sign in"/>
        <section class="card signin" aria-labelledby="signin-heading">
            <h1 id="signin-heading">"Sign in to nsbackup"</h1>
            <Transition fallback=|| ()>
                {move || {
                    actor
                        .get()
                        .map(|actor| {
                            view! {
                                <p class="notice">
                                    "You are signed in as " <strong>{actor.name}</strong> ". "
                                    <a href=next.get()>"Continue"</a>
                                    " or sign in as someone else below."
                                </p>
                            }
                        })
                }}
            </Transition>
            <form on:submit=move |ev| {
                ev.prevent_default();
                problem.set(None);
                enter.dispatch((name.get_untracked(), password.get_untracked()));
            }>
                <div class="field">
                    <label for="signin-name">"Name"</label>
                    <input id="signin-name" type="text" autocomplete="username" autofocus=true required=true
                        prop:value=name on:input=move |ev| name.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="signin-password">"Password"</label>
                    <input id="signin-password" type="password" autocomplete="current-password" required=true
                        prop:value=password on:input=move |ev| password.set(event_target_value(&ev))/>
                </div>
                <p class="hint error" role="alert">{move || problem.get()}</p>
                <button type="submit" class="primary" disabled=disabled>
                    {move || if enter.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
            <p class="muted">"Forgot your password? An administrator can set a new one under Administration → Users, or with " <code>"nsbackup user passwd NAME"</code> "."</p>
        </section>
    }
}

/// The signed-in user's account: who they are and a new password.
#[component]
pub fn AccountPage() -> impl IntoView {
    let actor = use_actor();
    let hydrated = use_hydrated();
    let toasts = use_toasts();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    let change = Action::new(|(current, new): &(String, String)| {
        change_own_password(current.clone(), new.clone())
    });
    when_done(change, move |()| {
        toasts.success("Password changed. Your other sessions have ended.");
        current.set(String::new());
        new.set(String::new());
        repeat.set(String::new());
    });
    let problem = move || {
        let new = new.get();
        if new.is_empty() {
            None
        } else if let Err(problem) = validate::password(&new) {
            Some(problem)
        } else if !repeat.get().is_empty() && repeat.get() != new {
            Some("The two new passwords differ.".to_string())
        } else {
            None
        }
    };
    let disabled = move || {
        !hydrated.get()
            || change.pending().get()
            || current.get().is_empty()
            || new.get().is_empty()
            || repeat.get() != new.get()
            || problem().is_some()
    };
    view! {
        <Title text="Account"/>
        <h1>"Account"</h1>
        <Transition fallback=|| ()>
            {move || actor.get().map(|actor| view! {
                <p>"Signed in as " <strong>{actor.name.clone()}</strong> ", " {if actor.is_admin() { "administrator" } else { "modeler" }} "."</p>
            })}
        </Transition>
        <section class="card" aria-labelledby="password-heading">
            <h2 id="password-heading">"Change your password"</h2>
            <form on:submit=move |ev| {
                ev.prevent_default();
                change.dispatch((current.get_untracked(), new.get_untracked()));
            }>
                <div class="field">
                    <label for="current-password">"Current password"</label>
                    <input id="current-password" type="password" autocomplete="current-password"
                        prop:value=current on:input=move |ev| current.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="new-password">"New password"</label>
                    <input id="new-password" type="password" autocomplete="new-password"
                        prop:value=new on:input=move |ev| new.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="repeat-password">"Repeat the new password"</label>
                    <input id="repeat-password" type="password" autocomplete="new-password"
                        prop:value=repeat on:input=move |ev| repeat.set(event_target_value(&ev))/>
                </div>
                <p class="hint error" role="alert">{problem}</p>
                <button type="submit" class="primary" disabled=disabled>"Change password"</button>
            </form>
        </section>
        <OwnSessions/>
    }
}

/// The signed-in user's sessions (browsers where they are signed in), with a way to end
/// one, or every one but this.
#[component]
fn OwnSessions() -> impl IntoView {
    let hydrated = use_hydrated();
    let toasts = use_toasts();
    let end = Action::new(|id: &Option<String>| end_own_sessions(id.clone()));
    let sessions = Resource::new(move || end.version().get(), |_| list_own_sessions());
    when_done(end, move |()| {
        toasts.success("Session ended: that browser is signed out.")
    });
    view! {
        <section class="card" aria-labelledby="sessions-heading">
            <h2 id="sessions-heading">"Your sessions"</h2>
            <p class="muted">"Every browser where you are signed in. End the ones you do not recognise, and change your password if someone else may know it."</p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || sessions.get().map(|result| result.map(|sessions| {
                        let others = sessions.iter().filter(|s| !s.current).count();
                        view! {
                            <table class="listing sessions">
                                <thead><tr><th scope="col">"Browser"</th><th scope="col">"Signed in"</th><th scope="col" class="col-minor">"Ends"</th><th scope="col">"Actions"</th></tr></thead>
                                <tbody>
                                    {sessions.into_iter().map(|session| {
                                        let id = session.id.clone();
                                        let agent = if session.agent.is_empty() { "Unknown browser".to_string() } else { session.agent.clone() };
                                        view! {
                                            <tr>
                                                <td>{agent}{session.current.then_some(" (this session)")}</td>
                                                <td><LocalTime at=session.created_at/></td>
                                                <td class="col-minor"><LocalTime at=session.expires_at/></td>
                                                <td class="session-actions">
                                                    {(!session.current).then(|| view! {
                                                        <button type="button" disabled=move || !hydrated.get() || end.pending().get()
                                                            on:click={
                                                                let id = id.clone();
                                                                move |_| { end.dispatch(Some(id.clone())); }
                                                            }>"End session"</button>
                                                    })}
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <button type="button" class="danger"
                                disabled=move || !hydrated.get() || end.pending().get() || others == 0
                                on:click=move |_| { end.dispatch(None); }>
                                "End all other sessions"
                            </button>
                        }
                    }))}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}
