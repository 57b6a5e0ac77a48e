//! The namespace bar: choose a namespace; administrators create and delete them.

use super::*;

/// Choosing, creating and deleting namespaces.
#[component]
pub(super) fn NamespaceBar(
    namespaces: Resource<Result<Vec<crate::types::NamespaceInfo>, crate::error::AppError>>,
) -> impl IntoView {
    let location = expect_context::<Location>();
    let toasts = use_toasts();
    let hydrated = use_hydrated();
    let is_admin = use_is_admin();
    let creating = RwSignal::new(false);
    let name = RwSignal::new(String::new());
    let title = RwSignal::new(String::new());
    let name_problem = move || {
        let name = name.get();
        if name.is_empty() {
            None
        } else {
            validate::namespace_name(&name).err()
        }
    };
    let create = Action::new(move |(name, title): &(String, String)| {
        let (name, title) = (name.clone(), title.clone());
        async move { create_namespace(name, title).await }
    });
    when_done(create, move |created| {
        toasts.success(format!("Namespace {} created", created.name));
        creating.set(false);
        name.set(String::new());
        title.set(String::new());
        // Opening the new namespace reads its tree; only the list needs reading again.
        location.list_changed();
        location.go(&created.name, None, None);
    });
    let confirm_delete = RwSignal::new(false);
    let delete = Action::new(move |name: &String| {
        let name = name.clone();
        async move { delete_namespace(name.clone()).await.map(|()| name) }
    });
    when_done(delete, move |name| {
        toasts.success(format!("Namespace {name} deleted"));
        location.list_changed();
        use_navigate()("/explorer", Default::default());
    });
    let create_disabled = move || {
        !hydrated.get()
            || create.pending().get()
            || name.get().is_empty()
            || name_problem().is_some()
    };

    view! {
        <div class="toolbar namespace-bar">
            <label for="namespace-select">"Namespace"</label>
            <Transition fallback=|| view! { <select id="namespace-select" disabled=true></select> }>
                {move || {
                    let list = namespaces.get().and_then(Result::ok).unwrap_or_default();
                    let current = location.namespace.get().unwrap_or_default();
                    view! {
                        <select
                            id="namespace-select"
                            prop:value=current.clone()
                            on:change=move |ev| {
                                let chosen = event_target_value(&ev);
                                if chosen.is_empty() {
                                    use_navigate()("/explorer", Default::default());
                                } else {
                                    location.go(&chosen, None, None);
                                }
                            }
                        >
                            <option value="" selected=current.is_empty()>"Choose a namespace…"</option>
                            {list
                                .into_iter()
                                .map(|ns| {
                                    let selected = ns.name == current;
                                    let label = if ns.title.is_empty() { ns.name.clone() } else { format!("{} — {}", ns.name, ns.title) };
                                    view! { <option value=ns.name.clone() selected=selected>{label}</option> }
                                })
                                .collect_view()}
                        </select>
                    }
                }}
            </Transition>
            // Namespaces are created and deleted by administrators (the server insists).
            <Transition fallback=|| ()>
            <Show when=move || is_admin.get()>
            <button type="button" disabled=move || !hydrated.get() on:click=move |_| creating.update(|c| *c = !*c)>
                "New namespace"
            </button>
            </Show>
            <Show when=move || is_admin.get() && location.namespace.get().is_some()>
                <button type="button" class="danger" disabled=move || !hydrated.get() on:click=move |_| confirm_delete.set(true)>
                    "Delete namespace"
                </button>
            </Show>
            </Transition>
        </div>
        <Show when=move || creating.get()>
            <form
                class="card inline-form"
                aria-label="New namespace"
                on:submit=move |ev| {
                    ev.prevent_default();
                    create.dispatch((name.get_untracked(), title.get_untracked()));
                }
            >
                <div class="field">
                    <label for="new-namespace-name">"Name"</label>
                    <input
                        id="new-namespace-name"
                        type="text"
                        autocomplete="off"
                        placeholder="sales-processes"
                        prop:value=name
                        on:input=move |ev| name.set(event_target_value(&ev))
                        aria-describedby="new-namespace-hint"
                    />
                    <small id="new-namespace-hint" class=move || if name_problem().is_some() { "hint error" } else { "hint" }>
                        {move || name_problem().unwrap_or_else(|| "Lowercase letters, digits, - and _.".to_string())}
                    </small>
                </div>
                <div class="field">
                    <label for="new-namespace-title">"Title"</label>
                    <input id="new-namespace-title" type="text" prop:value=title on:input=move |ev| title.set(event_target_value(&ev))/>
                </div>
                <div class="form-actions">
                    <button type="submit" class="primary" disabled=create_disabled>"Create"</button>
                    <button type="button" on:click=move |_| creating.set(false)>"Cancel"</button>
                </div>
            </form>
        </Show>
        <ConfirmDialog
            open=confirm_delete
            title=Signal::derive(move || format!("Delete namespace {}?", location.namespace.get().unwrap_or_default()))
            message="All folders, services, models and forms of this namespace will be deleted. Its backups stay and can restore it."
            confirm_label="Delete namespace"
            danger=true
            on_confirm=Callback::new(move |()| {
                if let Some(name) = location.namespace.get_untracked() {
                    delete.dispatch(name);
                }
            })
        />
    }
}
