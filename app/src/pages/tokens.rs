//! `/admin/tokens`: personal API tokens for scripts — made (the secret shown once), listed,
//! revoked.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::admin::{create_token, list_tokens, revoke_token};
use crate::components::dialog::ConfirmDialog;
use crate::components::errors::ErrorPanel;
use crate::components::hydration::use_hydrated;
use crate::components::session::AdminOnly;
use crate::components::time::LocalTime;
use crate::components::toast::{use_toasts, when_done};
use crate::types::{ApiTokenInfo, NewApiToken};

/// The lifetimes offered, in days; the empty choice is "never".
const LIFETIMES: [(&str, &str); 4] = [
    ("30", "30 days"),
    ("90", "90 days"),
    ("365", "1 year"),
    ("", "Never (until revoked)"),
];

#[component]
pub fn TokensPage() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let tokens = Resource::new(move || version.get(), |_| list_tokens());
    let made = RwSignal::new(None::<NewApiToken>);
    view! {
        <AdminOnly>
            <Title text="API tokens"/>
            <p class="breadcrumb">"Administration"</p>
            <h1>"API tokens"</h1>
            <p class="lead">"A script sends a token as "<code>"Authorization: Bearer TOKEN"</code>" and acts as you. Give each script its own, with an expiry, and revoke one the moment it may have leaked."</p>
            <NewTokenForm version made/>
            {move || made.get().map(|token| view! {
                <div class="notice token-secret" role="status">
                    <p><strong>{format!("Token \u{201c}{}\u{201d} created. Copy it now: it is not shown again.", token.info.name)}</strong></p>
                    <p><code class="secret">{token.secret}</code></p>
                </div>
            })}
            // Focusable: on a phone the table scrolls sideways inside its card, and the keys
            // must reach it also when no token in it has a button (all revoked).
            <section class="card" aria-labelledby="tokens-heading" tabindex="0">
                <h2 id="tokens-heading">"Tokens"</h2>
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                        {move || tokens.get().map(|result| result.map(|list| view! { <TokenTable list version/> }))}
                    </ErrorBoundary>
                </Transition>
            </section>
        </AdminOnly>
    }
}

#[component]
fn NewTokenForm(version: RwSignal<u32>, made: RwSignal<Option<NewApiToken>>) -> impl IntoView {
    let hydrated = use_hydrated();
    let name = RwSignal::new(String::new());
    let days = RwSignal::new("90".to_string());
    let create =
        Action::new(move |(name, days): &(String, Option<u32>)| create_token(name.clone(), *days));
    when_done(create, move |token: NewApiToken| {
        name.set(String::new());
        made.set(Some(token));
        version.update(|v| *v += 1);
    });
    let never = move || days.get().is_empty();
    view! {
        <section class="card" aria-labelledby="new-token-heading">
            <h2 id="new-token-heading">"New token"</h2>
            <form class="inline-form" on:submit=move |ev| {
                ev.prevent_default();
                create.dispatch((name.get_untracked(), days.get_untracked().parse().ok()));
            }>
                <div class="field">
                    <label for="token-name">"Name"</label>
                    <input id="token-name" type="text" maxlength="100" autocomplete="off"
                        placeholder="what it is for: nightly copy" prop:value=name
                        on:input=move |ev| name.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="token-expires">"Expires after"</label>
                    <select id="token-expires" aria-describedby="token-expires-hint"
                        on:change=move |ev| days.set(event_target_value(&ev))>
                        {LIFETIMES.into_iter().map(|(value, label)| view! {
                            <option value=value selected=value == "90">{label}</option>
                        }).collect_view()}
                    </select>
                    <p id="token-expires-hint" class="hint" class:error=never>
                        {move || if never() {
                            "A token that never expires works until someone revokes it, also when it has leaked. Prefer an expiry."
                        } else {
                            "It stops working then; make a new one before."
                        }}
                    </p>
                </div>
                <button type="submit" class="primary"
                    disabled=move || !hydrated.get() || name.get().trim().is_empty() || create.pending().get()>
                    "Create Token"
                </button>
            </form>
        </section>
    }
}

#[component]
fn TokenTable(list: Vec<ApiTokenInfo>, version: RwSignal<u32>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="empty">"No API token yet."</p> }.into_any();
    }
    view! {
        <table class="listing tokens">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"User"</th>
                    <th scope="col" class="col-minor">"Created"</th>
                    <th scope="col">"Last Used"</th>
                    <th scope="col">"Expires"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {list.into_iter().map(|token| view! { <TokenRow token version/> }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn TokenRow(token: ApiTokenInfo, version: RwSignal<u32>) -> impl IntoView {
    let hydrated = use_hydrated();
    let toasts = use_toasts();
    let confirm = RwSignal::new(false);
    let revoke = Action::new({
        let handle = token.handle.clone();
        move |()| revoke_token(handle.clone())
    });
    when_done(revoke, move |token: ApiTokenInfo| {
        toasts.success(format!("Token {} revoked", token.name));
        version.update(|v| *v += 1);
    });
    let revoked = token.revoked_at.is_some();
    let name = token.name.clone();
    view! {
        <tr class="token-row">
            <td>{token.name.clone()}<br/><span class="hint">{token.handle.clone()}</span></td>
            <td>{token.user.clone()}</td>
            <td class="col-minor"><LocalTime at=token.created_at/></td>
            <td>{match token.last_used_at {
                Some(at) => view! { <LocalTime at/> }.into_any(),
                None => view! { <span class="muted">"never"</span> }.into_any(),
            }}</td>
            <td>{match (token.revoked_at, token.expires_at) {
                (Some(at), _) => view! { <span class="status status-failed">"revoked"</span>" "<LocalTime at/> }.into_any(),
                (None, Some(at)) => view! { <LocalTime at/> }.into_any(),
                (None, None) => view! { <span class="hint error">"never"</span> }.into_any(),
            }}</td>
            <td class="actions">
                {(!revoked).then(|| view! {
                    <button type="button" class="danger" disabled=move || !hydrated.get() || revoke.pending().get()
                        aria-label=format!("Revoke token {name}")
                        on:click=move |_| confirm.set(true)>
                        "Revoke"
                    </button>
                })}
                <ConfirmDialog
                    open=confirm
                    title=format!("Revoke token {}?", token.name)
                    message="Every script that uses it is refused from now on. This cannot be undone: a script needs a new token then."
                    confirm_label="Revoke"
                    danger=true
                    on_confirm=Callback::new(move |()| { revoke.dispatch(()); })
                />
            </td>
        </tr>
    }
}
