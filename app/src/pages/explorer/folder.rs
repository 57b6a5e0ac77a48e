//! A folder's content and what can be done with it: items, new entries, rename, move, delete.

use super::*;

/// A name field with a Rename button; `label` names the form, `field` the text field.
#[component]
pub(super) fn RenameForm(
    label: &'static str,
    field: &'static str,
    initial: String,
    on_rename: Callback<String>,
    /// The button's text.
    #[prop(default = "Rename")]
    button: &'static str,
    /// Whether an empty value may be submitted (a title may be empty, a name may not).
    #[prop(optional)]
    allow_empty: bool,
) -> impl IntoView {
    let hydrated = use_hydrated();
    let name = RwSignal::new(initial);
    view! {
        <form class="inline" aria-label=label on:submit=move |ev| {
            ev.prevent_default();
            on_rename.run(name.get_untracked());
        }>
            <input type="text" aria-label=field placeholder=field prop:value=name on:input=move |ev| name.set(event_target_value(&ev))/>
            <button type="submit" disabled=move || !hydrated.get() || (!allow_empty && name.get().trim().is_empty())>{button}</button>
        </form>
    }
}

/// A choice of target folder with a Move button; `targets` are `(folder id, path)`, the
/// empty id standing for the top level.
#[component]
pub(super) fn MoveForm(
    label: &'static str,
    targets: Vec<(String, String)>,
    initial: String,
    on_move: Callback<Option<String>>,
) -> impl IntoView {
    let hydrated = use_hydrated();
    let target = RwSignal::new(initial);
    view! {
        <form class="inline" aria-label=label on:submit=move |ev| {
            ev.prevent_default();
            on_move.run(some_id(target.get_untracked()));
        }>
            <select aria-label="Move to" prop:value=target on:change=move |ev| target.set(event_target_value(&ev))>
                {targets.into_iter().map(|(value, path)| {
                    let selected = value == target.get_untracked();
                    view! { <option value=value selected=selected>{path}</option> }
                }).collect_view()}
            </select>
            <button type="submit" disabled=move || !hydrated.get()>"Move"</button>
        </form>
    }
}

/// The folder in view: its subfolders and items, and what can be done with them.
#[component]
pub(super) fn FolderPanel(
    namespace: String,
    folder: Option<FolderInfo>,
    folders: StoredValue<Vec<FolderInfo>>,
) -> impl IntoView {
    let location = expect_context::<Location>();
    let toasts = use_toasts();
    let hydrated = use_hydrated();
    let folder_id = folder.as_ref().map(|f| f.id.clone());
    let access = folders.with_value(|all| access_in(all, folder_id.as_deref()));
    let can_write = access >= Some(Access::Write);
    let heading = folders.with_value(|all| folder_path(all, folder_id.as_deref()));
    let subfolders: Vec<FolderInfo> = folders.with_value(|all| {
        all.iter()
            .filter(|f| f.parent == folder_id)
            .cloned()
            .collect()
    });

    let items = Resource::new(
        {
            let (namespace, folder_id) = (namespace.clone(), folder_id.clone());
            move || {
                (
                    namespace.clone(),
                    folder_id.clone(),
                    location.content_version.get(),
                )
            }
        },
        |(namespace, folder, _)| list_items(namespace, folder),
    );

    // New folder / new item.
    let new_folder_name = RwSignal::new(String::new());
    let new_item_name = RwSignal::new(String::new());
    let new_item_kind = RwSignal::new(ItemKind::Service);
    let create_folder_action = Action::new({
        let (namespace, folder_id) = (namespace.clone(), folder_id.clone());
        move |name: &String| create_folder(namespace.clone(), folder_id.clone(), name.clone())
    });
    let create_item_action = Action::new({
        let (namespace, folder_id) = (namespace.clone(), folder_id.clone());
        move |(kind, name): &(ItemKind, String)| {
            create_item(namespace.clone(), folder_id.clone(), *kind, name.clone())
        }
    });
    when_done(create_folder_action, move |created| {
        toasts.success(format!("Folder {} created", created.name));
        new_folder_name.set(String::new());
        location.tree_changed();
    });
    {
        let namespace = namespace.clone();
        when_done(create_item_action, move |created| {
            toasts.success(format!("{} {} created", created.kind.label(), created.name));
            new_item_name.set(String::new());
            location.content_changed();
            location.go(&namespace, created.folder.as_deref(), Some(&created.id));
        });
    }

    view! {
        <section class="card" aria-labelledby="folder-heading">
            <h2 id="folder-heading">{heading}</h2>
            {(!can_write).then(|| view! {
                <p class="notice read-only">"You may look at this folder but not change it. Ask someone who manages it for write access."</p>
            })}
            {can_write.then(|| view! {
            <div class="toolbar">
                <form
                    class="inline"
                    aria-label="New folder"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        create_folder_action.dispatch(new_folder_name.get_untracked());
                    }
                >
                    <input
                        type="text"
                        aria-label="New folder name"
                        placeholder="Folder name"
                        prop:value=new_folder_name
                        on:input=move |ev| new_folder_name.set(event_target_value(&ev))
                    />
                    <button type="submit" disabled=move || !hydrated.get() || new_folder_name.get().trim().is_empty()>
                        "New folder"
                    </button>
                </form>
                <form
                    class="inline"
                    aria-label="New item"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        create_item_action.dispatch((new_item_kind.get_untracked(), new_item_name.get_untracked()));
                    }
                >
                    <select
                        aria-label="Kind"
                        on:change=move |ev| {
                            if let Some(kind) = ItemKind::parse(&event_target_value(&ev)) {
                                new_item_kind.set(kind);
                            }
                        }
                    >
                        {ItemKind::ALL.map(|kind| view! { <option value=kind.as_str()>{kind.label()}</option> }).collect_view()}
                    </select>
                    <input
                        type="text"
                        aria-label="New item name"
                        placeholder="Item name"
                        prop:value=new_item_name
                        on:input=move |ev| new_item_name.set(event_target_value(&ev))
                    />
                    <button type="submit" disabled=move || !hydrated.get() || new_item_name.get().trim().is_empty()>
                        "New item"
                    </button>
                </form>
            </div>
            <ImportForm namespace=namespace.clone() folder=folder_id.clone()/>
            })}
            {folder.clone().map(|folder| view! { <FolderActions namespace=namespace.clone() folder folders/> })}
            <table class="listing">
                <thead>
                    <tr><th scope="col">"Name"</th><th scope="col">"Kind"</th><th scope="col">"Size"</th><th scope="col">"Revision"</th><th scope="col">"Updated"</th></tr>
                </thead>
                <tbody>
                    {subfolders
                        .into_iter()
                        .map(|sub| {
                            let ns = namespace.clone();
                            view! {
                                <tr>
                                    <td>
                                        <a href=format!("/explorer/{}?folder={}", ns, sub.id)>
                                            <span class="folder-icon" aria-hidden="true"></span>
                                            {sub.name.clone()}
                                        </a>
                                    </td>
                                    <td>"Folder"</td>
                                    <td></td>
                                    <td></td>
                                    <td></td>
                                </tr>
                            }
                        })
                        .collect_view()}
                    <Transition fallback=|| ()>
                        {
                            let namespace = namespace.clone();
                            move || {
                                let namespace = namespace.clone();
                                items.get().map(move |result| match result {
                                    Ok(items) => items.into_iter().map(|item| view! { <ItemRow namespace=namespace.clone() item/> }).collect_view().into_any(),
                                    Err(error) => view! { <tr><td colspan="5" class="error">{error.to_string()}</td></tr> }.into_any(),
                                })
                            }
                        }
                    </Transition>
                </tbody>
            </table>
        </section>
    }
}

#[component]
pub(super) fn ItemRow(namespace: String, item: ItemInfo) -> impl IntoView {
    let href = match &item.folder {
        Some(folder) => format!("/explorer/{namespace}?folder={folder}&item={}", item.id),
        None => format!("/explorer/{namespace}?item={}", item.id),
    };
    view! {
        <tr>
            <td><a href=href>{item.name.clone()}</a></td>
            <td>{item.kind.label()}</td>
            <td>{crate::text::size(item.size)}</td>
            <td>{item.revision}</td>
            <td><LocalTime at=item.updated_at/>{format!(" by {}", item.updated_by)}</td>
        </tr>
    }
}

/// Rename, move, delete and permissions of the folder in view.
#[component]
pub(super) fn FolderActions(
    namespace: String,
    folder: FolderInfo,
    folders: StoredValue<Vec<FolderInfo>>,
) -> impl IntoView {
    let location = expect_context::<Location>();
    let toasts = use_toasts();
    let hydrated = use_hydrated();
    let id = folder.id.clone();
    let confirm_delete = RwSignal::new(false);
    let excluded: Vec<String> = folders.with_value(|all| {
        let mut ids: Vec<String> = vec![id.clone()];
        let mut frontier = vec![id.clone()];
        while let Some(current) = frontier.pop() {
            for child in all
                .iter()
                .filter(|f| f.parent.as_deref() == Some(current.as_str()))
            {
                ids.push(child.id.clone());
                frontier.push(child.id.clone());
            }
        }
        ids
    });
    let targets = folders.with_value(|all| target_options(all, &excluded));

    let rename = Action::new({
        let (namespace, id) = (namespace.clone(), id.clone());
        move |name: &String| rename_folder(namespace.clone(), id.clone(), name.clone())
    });
    let relocate = Action::new({
        let (namespace, id) = (namespace.clone(), id.clone());
        move |parent: &Option<String>| move_folder(namespace.clone(), id.clone(), parent.clone())
    });
    let remove = Action::new({
        let (namespace, id) = (namespace.clone(), id.clone());
        move |_: &()| delete_folder(namespace.clone(), id.clone())
    });
    when_done(rename, move |folder| {
        toasts.success(format!("Folder renamed to {}", folder.name));
        location.tree_changed();
    });
    when_done(relocate, move |folder| {
        toasts.success(format!("Folder {} moved", folder.name));
        location.tree_changed();
    });
    {
        let (namespace, parent) = (namespace.clone(), folder.parent.clone());
        when_done(remove, move |(folders, items)| {
            toasts.success(format!(
                "Folder deleted ({}, {})",
                counted(folders, "folder"),
                counted(items, "item")
            ));
            // Leave the deleted folder first, so that nothing asks for it again.
            location.go(&namespace, parent.as_deref(), None);
            location.tree_changed();
        });
    }
    let name = folder.name.clone();
    let can_write = folder.access >= Some(Access::Write);
    let can_manage = folder.access >= Some(Access::Manage);
    view! {
        <div class="toolbar">
            {can_write.then(|| view! {
            <RenameForm label="Rename folder" field="Folder name" initial=folder.name.clone() on_rename=Callback::new(move |name| { rename.dispatch(name); })/>
            <MoveForm label="Move folder" targets=targets.clone() initial=folder.parent.clone().unwrap_or_default() on_move=Callback::new(move |target| { relocate.dispatch(target); })/>
            })}
            <a class="button" href=format!("/api/export?namespace={namespace}&folder={id}") download>"Export folder"</a>
            {can_write.then(|| view! {
            <button type="button" class="danger" disabled=move || !hydrated.get() on:click=move |_| confirm_delete.set(true)>"Delete folder"</button>
            })}
        </div>
        {can_manage.then(|| view! { <PermissionsEditor namespace=namespace.clone() folder=folder.clone()/> })}
        <ConfirmDialog
            open=confirm_delete
            title=format!("Delete folder {name}?")
            message="The folder, its subfolders and all the services, models and forms in them will be deleted."
            confirm_label="Delete folder"
            danger=true
            on_confirm=Callback::new(move |()| { remove.dispatch(()); })
        />
    }
}
