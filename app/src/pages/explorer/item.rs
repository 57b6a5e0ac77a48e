//! One item: its editor and its form.

use super::*;

/// One item: its content in an editor, and rename, move and delete.
#[component]
pub(super) fn ItemEditor(
    namespace: String,
    id: String,
    folders: StoredValue<Vec<FolderInfo>>,
) -> impl IntoView {
    let location = expect_context::<Location>();
    let toasts = use_toasts();
    let hydrated = use_hydrated();
    let document = Resource::new(
        {
            let (namespace, id) = (namespace.clone(), id.clone());
            move || {
                (
                    namespace.clone(),
                    id.clone(),
                    location.content_version.get(),
                )
            }
        },
        |(namespace, id, _)| get_item(namespace, id),
    );
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                {
                    let namespace = namespace.clone();
                    move || {
                        let namespace = namespace.clone();
                        document.get().map(move |result| result.map(|doc| {
                            view! { <ItemForm namespace=namespace.clone() doc folders toasts hydrated location/> }
                        }))
                    }
                }
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
pub(super) fn ItemForm(
    namespace: String,
    doc: crate::types::ItemDocument,
    folders: StoredValue<Vec<FolderInfo>>,
    toasts: crate::components::toast::Toasts,
    hydrated: ReadSignal<bool>,
    location: Location,
) -> impl IntoView {
    let info = doc.info.clone();
    let original = StoredValue::new(doc.content.clone());
    let content = RwSignal::new(doc.content.clone());
    let confirm_delete = RwSignal::new(false);
    let targets = folders.with_value(|all| target_options(all, &[]));
    let path = folders.with_value(|all| folder_path(all, info.folder.as_deref()));
    let can_write =
        folders.with_value(|all| access_in(all, info.folder.as_deref())) >= Some(Access::Write);
    let (ns, id, revision) = (namespace.clone(), info.id.clone(), info.revision);

    let save = Action::new({
        let (ns, id) = (ns.clone(), id.clone());
        move |text: &String| save_item_content(ns.clone(), id.clone(), text.clone(), revision)
    });
    let rename = Action::new({
        let (ns, id) = (ns.clone(), id.clone());
        move |name: &String| rename_item(ns.clone(), id.clone(), name.clone())
    });
    let relocate = Action::new({
        let (ns, id) = (ns.clone(), id.clone());
        move |folder: &Option<String>| move_item(ns.clone(), id.clone(), folder.clone())
    });
    let remove = Action::new({
        let (ns, id) = (ns.clone(), id.clone());
        move |_: &()| delete_item(ns.clone(), id.clone())
    });
    when_done(save, move |saved| {
        toasts.success(format!(
            "{} saved (revision {})",
            saved.name, saved.revision
        ));
        location.content_changed();
    });
    when_done(rename, move |item| {
        toasts.success(format!("Renamed to {}", item.name));
        location.content_changed();
    });
    {
        let ns = ns.clone();
        when_done(relocate, move |item| {
            toasts.success(format!("{} moved", item.name));
            location.content_changed();
            location.go(&ns, item.folder.as_deref(), Some(&item.id));
        });
    }
    {
        let (ns, folder, name) = (ns.clone(), info.folder.clone(), info.name.clone());
        when_done(remove, move |()| {
            toasts.success(format!("{name} deleted"));
            // The folder's list is read afresh when it opens.
            location.go(&ns, folder.as_deref(), None);
        });
    }
    let problem = move || validate::content(info.kind, &content.get()).err();
    let changed = move || original.with_value(|original| *original != content.get());
    let back = {
        let (ns, folder) = (ns.clone(), info.folder.clone());
        move |_| location.go(&ns, folder.as_deref(), None)
    };
    let name = info.name.clone();
    view! {
        <section class="card" aria-labelledby="item-heading">
            <p class="breadcrumb">
                <button type="button" class="link" on:click=back>{format!("← {path}")}</button>
            </p>
            <h2 id="item-heading">{format!("{}: {}", info.kind.label(), info.name)}</h2>
            <p class="muted">
                {format!("Revision {} · {} · updated ", info.revision, crate::text::size(info.size))}
                <LocalTime at=info.updated_at/>
                {format!(" by {}", info.updated_by)}
            </p>
            <label for="item-content">"Content"</label>
            <textarea
                id="item-content"
                class="editor"
                spellcheck="false"
                readonly=!can_write
                prop:value=content
                on:input=move |ev| content.set(event_target_value(&ev))
                aria-describedby="item-content-problem"
            ></textarea>
            <p id="item-content-problem" class="hint error" role="status">{problem}</p>
            <div class="toolbar">
                {(!can_write).then(|| view! { <span class="muted">"Read only: you may not change items in this folder."</span> })}
                {can_write.then(|| view! {
                <button type="button" class="primary"
                    disabled=move || !hydrated.get() || !changed() || problem().is_some() || save.pending().get()
                    on:click=move |_| { save.dispatch(content.get_untracked()); }>
                    "Save"
                </button>
                <RenameForm label="Rename item" field="Item name" initial=info.name.clone() on_rename=Callback::new(move |name| { rename.dispatch(name); })/>
                <MoveForm label="Move item" targets=targets.clone() initial=info.folder.clone().unwrap_or_default() on_move=Callback::new(move |target| { relocate.dispatch(target); })/>
                })}
                <a class="button" href=format!("/api/export?namespace={ns}&item={id}") download>"Export item"</a>
                {can_write.then(|| view! {
                <button type="button" class="danger" disabled=move || !hydrated.get() on:click=move |_| confirm_delete.set(true)>"Delete item"</button>
                })}
            </div>
        </section>
        <ConfirmDialog
            open=confirm_delete
            title=format!("Delete {name}?")
            message="The item and its content will be deleted."
            confirm_label="Delete item"
            danger=true
            on_confirm=Callback::new(move |()| { remove.dispatch(()); })
        />
    }
}
