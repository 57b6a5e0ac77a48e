//! Administration pages: Users and Audit Log (Backup and Restore is in `backups.rs`). Each is for administrators
//! only ([`AdminOnly`]); the server refuses their data to everyone else.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::admin::{
    create_user, delete_user, list_audit, list_users, set_user_password, set_user_role,
};
use crate::components::dialog::ConfirmDialog;
use crate::components::errors::ErrorPanel;
use crate::components::hydration::use_hydrated;
use crate::components::session::{AdminOnly, use_actor};
use crate::components::time::LocalTime;
use crate::components::toast::{use_toasts, when_done};
use crate::error::AppError;
use crate::text::percent_encode;
use crate::types::{AuditAction, AuditEntry, AuditFilter, Role, UserInfo};
use crate::validate;

fn role_label(role: Role) -> &'static str {
    match role {
        Role::Admin => "Administrator",
        Role::Modeler => "Modeler",
    }
}

/// `/admin/users`: the user accounts, a new one, passwords, roles, deletion.
#[component]
pub fn UsersPage() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let users = Resource::new(move || version.get(), |_| list_users());
    view! {
        <AdminOnly>
            <Title text="Users"/>
            <p class="breadcrumb">"Administration"</p>
            <h1>"Users"</h1>
            <NewUserForm version/>
            <section class="card" aria-labelledby="users-heading">
                <h2 id="users-heading">"Accounts"</h2>
                <p class="muted">"Administrators reach Administration and manage every folder; modelers work in the explorer as the folder permissions allow. Roles are also principals in folder permissions."</p>
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                        {move || users.get().map(|result| result.map(|users| view! {
                            <table class="listing users">
                                <thead><tr><th scope="col">"Name"</th><th scope="col">"Role"</th><th scope="col">"Created"</th><th scope="col">"Actions"</th></tr></thead>
                                <tbody>
                                    {
                                        let admins = users.iter().filter(|user| user.role == Role::Admin).count();
                                        users.into_iter().map(|user| {
                                            let last_admin = user.role == Role::Admin && admins == 1;
                                            view! { <UserRow user version last_admin/> }
                                        }).collect_view()
                                    }
                                </tbody>
                            </table>
                        }))}
                    </ErrorBoundary>
                </Transition>
            </section>
        </AdminOnly>
    }
}

#[component]
fn NewUserForm(version: RwSignal<u32>) -> impl IntoView {
    let hydrated = use_hydrated();
    let toasts = use_toasts();
    let name = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Modeler);
    let password = RwSignal::new(String::new());
    let create = Action::new(|(name, role, password): &(String, Role, String)| {
        create_user(name.clone(), *role, password.clone())
    });
    when_done(create, move |user| {
        toasts.success(format!("User {} created", user.name));
        name.set(String::new());
        password.set(String::new());
        version.update(|v| *v += 1);
    });
    let problem = move || {
        let (n, p) = (name.get(), password.get());
        if !n.is_empty()
            && let Err(problem) = validate::principal_name(n.trim())
        {
            return Some(problem);
        }
        if !p.is_empty() {
            return validate::password(&p).err();
        }
        None
    };
    let disabled = move || {
        !hydrated.get()
            || create.pending().get()
            || name.get().trim().is_empty()
            || password.get().is_empty()
            || problem().is_some()
    };
    view! {
        <section class="card" aria-labelledby="new-user-heading">
            <h2 id="new-user-heading">"New user"</h2>
            <form class="new-user" on:submit=move |ev| {
                ev.prevent_default();
                create.dispatch((name.get_untracked(), role.get_untracked(), password.get_untracked()));
            }>
                <div class="field">
                    <label for="new-user-name">"Name"</label>
                    <input id="new-user-name" type="text" autocomplete="off" prop:value=name on:input=move |ev| name.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="new-user-role">"Role"</label>
                    <select id="new-user-role" on:change=move |ev| role.set(Role::parse(&event_target_value(&ev)).unwrap_or(Role::Modeler))>
                        <option value="modeler" selected=true>"Modeler"</option>
                        <option value="admin">"Administrator"</option>
                    </select>
                </div>
                <div class="field">
                    <label for="new-user-password">"Password"</label>
                    <input id="new-user-password" type="password" autocomplete="new-password" prop:value=password on:input=move |ev| password.set(event_target_value(&ev))/>
                </div>
                <p class="hint error" role="alert">{problem}</p>
                <button type="submit" class="primary" disabled=disabled>"Create user"</button>
            </form>
        </section>
    }
}

#[component]
fn UserRow(
    user: UserInfo,
    version: RwSignal<u32>,
    /// The only administrator: making them a modeler would leave nobody to administer.
    last_admin: bool,
) -> impl IntoView {
    let hydrated = use_hydrated();
    let toasts = use_toasts();
    let actor = use_actor();
    let name = user.name.clone();
    let is_me = {
        let name = name.clone();
        move || actor.get().is_some_and(|actor| actor.name == name)
    };
    let new_password = RwSignal::new(String::new());
    // A reset because the account may be in other hands: its API tokens go too.
    let revoke_tokens = RwSignal::new(false);
    let set_password = Action::new(|(name, password, revoke): &(String, String, bool)| {
        set_user_password(name.clone(), password.clone(), *revoke)
    });
    {
        let name = name.clone();
        when_done(set_password, move |revoked: usize| {
            let tokens = match (revoke_tokens.get_untracked(), revoked) {
                (false, _) => String::new(),
                (true, 0) => "; they had no API token to revoke".to_string(),
                (true, 1) => " and their API token was revoked".to_string(),
                (true, n) => format!(" and their {n} API tokens were revoked"),
            };
            toasts.success(format!(
                "Password of {name} changed; their sessions have ended{tokens}"
            ));
            new_password.set(String::new());
            revoke_tokens.set(false);
        });
    }
    let change_role =
        Action::new(|(name, role): &(String, Role)| set_user_role(name.clone(), *role));
    when_done(change_role, move |user: UserInfo| {
        toasts.success(format!("{} is now: {}", user.name, role_label(user.role)));
        version.update(|v| *v += 1);
    });
    let confirm_delete = RwSignal::new(false);
    let delete = Action::new(|name: &String| delete_user(name.clone()));
    {
        let name = name.clone();
        when_done(delete, move |()| {
            toasts.success(format!("User {name} deleted"));
            version.update(|v| *v += 1);
        });
    }
    let other_role = match user.role {
        Role::Admin => Role::Modeler,
        Role::Modeler => Role::Admin,
    };
    let password_problem = move || {
        let p = new_password.get();
        if p.is_empty() {
            None
        } else {
            validate::password(&p).err()
        }
    };
    let row_label = format!("User {name}");
    let (n1, n2, n3, n4) = (name.clone(), name.clone(), name.clone(), name.clone());
    let is_me_delete = is_me.clone();
    view! {
        <tr aria-label=row_label>
            <td>{name.clone()}</td>
            <td>{role_label(user.role)}</td>
            <td><LocalTime at=user.created_at/></td>
            <td class="actions">
                <form class="inline" aria-label=format!("New password for {n1}") on:submit=move |ev| {
                    ev.prevent_default();
                    set_password.dispatch((n1.clone(), new_password.get_untracked(), revoke_tokens.get_untracked()));
                }>
                    <input type="password" autocomplete="new-password" aria-label=format!("New password for {n2}") placeholder="New password"
                        prop:value=new_password on:input=move |ev| new_password.set(event_target_value(&ev))/>
                    <label class="check" title="For an account that may be in other hands: scripts using its tokens stop too">
                        <input type="checkbox" prop:checked=revoke_tokens
                            on:change=move |ev| revoke_tokens.set(event_target_checked(&ev))/>
                        "Revoke API tokens"
                    </label>
                    <button type="submit" disabled=move || !hydrated.get() || set_password.pending().get() || new_password.get().is_empty() || password_problem().is_some()>"Set password"</button>
                </form>
                <button type="button" disabled=move || !hydrated.get() || change_role.pending().get() || last_admin
                    title=if last_admin { "The last administrator stays one: make another user an administrator first" } else { "" }
                    on:click=move |_| { change_role.dispatch((n3.clone(), other_role)); }>
                    {format!("Make {}", role_label(other_role).to_lowercase())}
                </button>
                <button type="button" class="danger" disabled=move || !hydrated.get() || delete.pending().get() || is_me_delete()
                    title=move || if is_me() { "You cannot delete your own account" } else { "" }
                    on:click=move |_| confirm_delete.set(true)>
                    "Delete"
                </button>
                <p class="hint error">{password_problem}</p>
            </td>
        </tr>
        <ConfirmDialog
            open=confirm_delete
            title=format!("Delete user {name}?")
            message="The user can no longer sign in; their sessions end at once. What they changed stays."
            confirm_label="Delete user"
            danger=true
            on_confirm=Callback::new(move |()| { delete.dispatch(n4.clone()); })
        />
    }
}

/// How many audit entries one page shows.
const AUDIT_PAGE: u32 = 50;

/// The filter parts of the page's address, in the order of [`AuditFilter::from_query`].
const FILTER_KEYS: [&str; 5] = ["actor", "action", "target", "from", "until"];

/// `/admin/audit`: the audit log, newest first, a page at a time (`?before=` pages back),
/// filtered by who, what, target and days (`?actor=&action=&target=&from=&until=`), and
/// exported as CSV with the same filter.
#[component]
pub fn AuditLogPage() -> impl IntoView {
    let query = use_query_map();
    let before = Memo::new(move |_| query.read().get("before").filter(|b| !b.is_empty()));
    let parts = Memo::new(move |_| {
        let query = query.read();
        FILTER_KEYS.map(|key| query.get(key).unwrap_or_default())
    });
    // The filter's own part of the address (`actor=…&…`), kept by the pager and the export.
    let filter_query = Memo::new(move |_| {
        let parts = parts.get();
        FILTER_KEYS
            .iter()
            .zip(parts.iter())
            .filter(|(_, value)| !value.trim().is_empty())
            .map(|(key, value)| format!("{key}={}", percent_encode(value, b"")))
            .collect::<Vec<_>>()
            .join("&")
    });
    let page = Resource::new(
        move || (before.get(), parts.get()),
        |(before, parts)| async move {
            let [actor, action, target, from, until] = parts;
            let filter = AuditFilter::from_query(
                Some(&actor),
                Some(&action),
                Some(&target),
                Some(&from),
                Some(&until),
            )
            .map_err(AppError::BadRequest)?;
            list_audit(before, AUDIT_PAGE, Some(filter)).await
        },
    );
    let value = move |index: usize| move || parts.get()[index].clone();
    view! {
        <AdminOnly>
            <Title text="Audit Log"/>
            <p class="breadcrumb">"Administration"</p>
            <h1>"Audit Log"</h1>
            <p class="muted">"Every sign-in, every change to users, namespaces, folders and items, every import, export and backup operation, and refused requests: who, when, what, and how it ended. Newest first."</p>
            <form class="card audit-filter" method="get" action="/admin/audit" role="search" aria-label="Filter the audit log">
                <div class="field">
                    <label for="audit-actor">"Who"</label>
                    <input id="audit-actor" name="actor" type="text" maxlength="200" prop:value=value(0)/>
                </div>
                <div class="field">
                    <label for="audit-action">"What"</label>
                    <input id="audit-action" name="action" type="text" list="audit-actions" maxlength="200" prop:value=value(1)/>
                    <datalist id="audit-actions">
                        {AuditAction::ALL.iter().map(|action| view! { <option value=action.as_str()></option> }).collect_view()}
                    </datalist>
                </div>
                <div class="field">
                    <label for="audit-target">"Target contains"</label>
                    <input id="audit-target" name="target" type="text" maxlength="200" prop:value=value(2)/>
                </div>
                <div class="field">
                    <label for="audit-from">"From (UTC)"</label>
                    <input id="audit-from" name="from" type="date" prop:value=value(3)/>
                </div>
                <div class="field">
                    <label for="audit-until">"Until (UTC)"</label>
                    <input id="audit-until" name="until" type="date" prop:value=value(4)/>
                </div>
                <div class="actions">
                    <button type="submit" class="primary">"Filter"</button>
                    <a class="button" href="/admin/audit">"Clear"</a>
                    <a class="button" download href=move || {
                        let query = filter_query.get();
                        if query.is_empty() { "/api/audit.csv".to_string() } else { format!("/api/audit.csv?{query}") }
                    }>"Export CSV"</a>
                </div>
            </form>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || page.get().map(|result| result.map(|page| {
                        let empty = page.entries.is_empty();
                        let older = page.older.clone();
                        let first_page = before.get().is_none();
                        let filter = filter_query.get();
                        let with_filter = move |extra: Option<String>| {
                            let parts: Vec<String> = [Some(filter.clone()).filter(|f| !f.is_empty()), extra]
                                .into_iter()
                                .flatten()
                                .collect();
                            if parts.is_empty() { "/admin/audit".to_string() } else { format!("/admin/audit?{}", parts.join("&")) }
                        };
                        let newest = with_filter(None);
                        view! {
                            <p class="muted">{format!("{} entries{}.", page.total, if filter_query.get().is_empty() { " in all" } else { " match" })}</p>
                            <Show when=move || empty fallback=|| ()>
                                <p class="empty">"The audit log has no entries here."</p>
                            </Show>
                            // Wider than a phone: it scrolls sideways by itself (by keyboard too).
                            <div class="table-scroll" tabindex="0" role="region" aria-label="Audit log entries" hidden=empty>
                                <table class="listing audit">
                                    <thead><tr>
                                        <th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"What"</th>
                                        <th scope="col">"Target"</th><th scope="col">"Outcome"</th><th scope="col">"Details"</th>
                                    </tr></thead>
                                    <tbody>{page.entries.into_iter().map(|entry| view! { <AuditRow entry/> }).collect_view()}</tbody>
                                </table>
                            </div>
                            <nav class="pager" aria-label="Audit log pages">
                                {(!first_page).then(|| view! { <a href=newest>"Newest"</a> })}
                                {older.map(|key| view! { <a href=with_filter(Some(format!("before={key}"))) rel="next">"Older entries"</a> })}
                            </nav>
                        }
                    }))}
                </ErrorBoundary>
            </Transition>
        </AdminOnly>
    }
}

#[component]
fn AuditRow(entry: AuditEntry) -> impl IntoView {
    let outcome = entry.outcome.as_str();
    view! {
        <tr>
            <td><LocalTime at=entry.at/></td>
            <td>{entry.actor}</td>
            <td>{entry.action}</td>
            <td>{entry.target}</td>
            <td><span class=format!("outcome outcome-{outcome}")>{outcome}</span></td>
            <td>{detail_with_links(entry.detail)}</td>
        </tr>
    }
}

/// An audit entry's detail, with the report it names as a link.
fn detail_with_links(detail: String) -> impl IntoView {
    let Some((span, job)) = crate::types::report_named_in(&detail) else {
        return view! { {detail} }.into_any();
    };
    let href = crate::types::report_path(job);
    view! {
        {detail[..span.start].to_string()}
        <a href=href download>"download"</a>
        {detail[span.end..].to_string()}
    }
    .into_any()
}
