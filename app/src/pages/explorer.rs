//! The explorer: pick a namespace, browse its folder tree, and create, rename, move and
//! delete folders and items; edit an item's content and a folder's permissions.
//!
//! Where you are lives in the address (`/explorer/NAMESPACE?folder=ID&item=ID`), so a reload
//! or a shared link opens the same place.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use crate::api::explorer::*;
use crate::components::dialog::ConfirmDialog;
use crate::components::errors::ErrorPanel;
use crate::components::hydration::use_hydrated;
use crate::components::session::use_is_admin;
use crate::components::time::LocalTime;
use crate::components::toast::{use_toasts, when_done};
use crate::error::AppError;
use crate::types::{
    Access, ClashPolicy, FolderInfo, ItemInfo, ItemKind, NamespaceTree, Permission, Principal,
    PrincipalKind,
};
use crate::validate;

/// Where the explorer is: the namespace, the folder and the item in view.
#[derive(Clone, Copy)]
struct Location {
    namespace: Memo<Option<String>>,
    folder: Memo<Option<String>>,
    item: Memo<Option<String>>,
    /// Bumped when namespaces are created, deleted or retitled: the list is read again.
    list_version: RwSignal<u64>,
    /// Bumped when folders change: the tree (and all below it) is read again.
    tree_version: RwSignal<u64>,
    /// Bumped when items change: item lists and the open item are read again.
    content_version: RwSignal<u64>,
}

impl Location {
    fn go(&self, namespace: &str, folder: Option<&str>, item: Option<&str>) {
        let mut url = format!("/explorer/{namespace}");
        let mut query = Vec::new();
        if let Some(folder) = folder {
            query.push(format!("folder={folder}"));
        }
        if let Some(item) = item {
            query.push(format!("item={item}"));
        }
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query.join("&"));
        }
        use_navigate()(&url, Default::default());
    }

    fn list_changed(&self) {
        self.list_version.update(|n| *n += 1);
    }

    fn tree_changed(&self) {
        self.tree_version.update(|n| *n += 1);
    }

    fn content_changed(&self) {
        self.content_version.update(|n| *n += 1);
    }
}

/// `/explorer` and `/explorer/NAMESPACE`.
#[component]
pub fn ExplorerPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let location = Location {
        namespace: Memo::new(move |_| params.read().get("namespace").filter(|s| !s.is_empty())),
        folder: Memo::new(move |_| query.read().get("folder").filter(|s| !s.is_empty())),
        item: Memo::new(move |_| query.read().get("item").filter(|s| !s.is_empty())),
        list_version: RwSignal::new(0),
        tree_version: RwSignal::new(0),
        content_version: RwSignal::new(0),
    };
    provide_context(location);

    let namespaces = Resource::new(move || location.list_version.get(), |_| list_namespaces());
    let tree = Resource::new(
        move || (location.namespace.get(), location.tree_version.get()),
        |(namespace, _)| async move {
            match namespace {
                Some(namespace) => get_namespace_tree(namespace).await.map(Some),
                None => Ok(None),
            }
        },
    );

    view! {
        <Title text="Explorer"/>
        <h1>"Explorer"</h1>
        <NamespaceBar namespaces/>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                {move || {
                    tree.get().map(|result| {
                        result.map(|tree| match tree {
                            Some(tree) => view! { <NamespaceView tree/> }.into_any(),
                            None => view! {
                                <p class="muted">"Choose a namespace to see its folders, services, models and forms, or create one."</p>
                            }
                            .into_any(),
                        })
                    })
                }}
            </ErrorBoundary>
        </Transition>
    }
}

/// Choosing, creating and deleting namespaces.
#[component]
fn NamespaceBar(
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

/// The folder tree beside the content of the folder (or item) in view.
#[component]
fn NamespaceView(tree: NamespaceTree) -> impl IntoView {
    let location = expect_context::<Location>();
    let is_admin = use_is_admin();
    provide_context(TopAccess(tree.top_access));
    let namespace = tree.namespace.name.clone();
    let folders = StoredValue::new(tree.folders);
    let current_folder = Memo::new(move |_| {
        let id = location.folder.get()?;
        folders.with_value(|folders| folders.iter().find(|f| f.id == id).cloned())
    });
    let ns = namespace.clone();
    let retitle = Action::new({
        let ns = ns.clone();
        move |title: &String| set_namespace_title(ns.clone(), title.clone())
    });
    let toasts = use_toasts();
    when_done(retitle, move |info| {
        toasts.success(format!("Title of {} saved", info.name));
        location.list_changed();
    });
    view! {
        <Show when=move || is_admin.get()>
        <div class="toolbar">
            <RenameForm
                label="Namespace title"
                field="Title"
                button="Save title"
                allow_empty=true
                initial=tree.namespace.title.clone()
                on_rename=Callback::new(move |title| { retitle.dispatch(title); })
            />
        </div>
        </Show>
        <div class="explorer">
            <nav class="explorer-tree card" aria-label="Folders">
                <button
                    type="button"
                    class="tree-node"
                    aria-current=move || location.folder.get().is_none().then_some("true")
                    on:click={
                        let ns = ns.clone();
                        move |_| location.go(&ns, None, None)
                    }
                >
                    {format!("{} (top level)", namespace)}
                </button>
                <FolderTree namespace=ns.clone() folders/>
            </nav>
            <div class="explorer-content">
                {move || match location.item.get() {
                    Some(item) => view! { <ItemEditor namespace=ns.clone() id=item folders/> }.into_any(),
                    None => view! { <FolderPanel namespace=ns.clone() folder=current_folder.get() folders/> }.into_any(),
                }}
            </div>
        </div>
    }
}

/// What the signed-in user may do at the top level of the namespace in view.
#[derive(Clone, Copy, Debug)]
struct TopAccess(Option<Access>);

/// What the signed-in user may do in `folder` (`None`: the top level) of the tree in view.
fn access_in(folders: &[FolderInfo], folder: Option<&str>) -> Option<Access> {
    match folder {
        Some(id) => folders.iter().find(|f| f.id == id).and_then(|f| f.access),
        None => use_context::<TopAccess>().and_then(|TopAccess(access)| access),
    }
}

/// The folder tree as one flat list in reading order, each folder indented by its depth.
/// It is built without recursion, so however deep folders nest, drawing them costs no
/// stack (on the server or in the browser).
#[component]
fn FolderTree(namespace: String, folders: StoredValue<Vec<FolderInfo>>) -> impl IntoView {
    let location = expect_context::<Location>();
    let rows = folders.with_value(|all| in_tree_order(all));
    if rows.is_empty() {
        return ().into_any();
    }
    view! {
        <ul class="tree">
            {rows
                .into_iter()
                .map(|(depth, folder)| {
                    let id = folder.id.clone();
                    let ns = namespace.clone();
                    let selected = {
                        let id = id.clone();
                        move || (location.folder.get().as_deref() == Some(id.as_str())).then_some("true")
                    };
                    view! {
                        <li class=format!("depth-{}", depth.min(validate::FOLDER_DEPTH_MAX))>
                            <button
                                type="button"
                                class="tree-node"
                                aria-current=selected
                                on:click=move |_| location.go(&ns, Some(&id), None)
                            >
                                <span class="folder-icon" aria-hidden="true"></span>
                                {folder.name.clone()}
                            </button>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

/// Folders in reading order (each followed by its children, siblings in the order given),
/// with their depth (0 at the top). Folders whose parent is missing are left out, as they
/// cannot be reached from the top.
fn in_tree_order(folders: &[FolderInfo]) -> Vec<(usize, FolderInfo)> {
    let mut children: HashMap<Option<&str>, Vec<&FolderInfo>> = HashMap::new();
    for folder in folders {
        children
            .entry(folder.parent.as_deref())
            .or_default()
            .push(folder);
    }
    let mut rows = Vec::with_capacity(folders.len());
    // A stack of sibling lists still to draw, each reversed so that `pop` keeps their order.
    let mut stack: Vec<(usize, Vec<&FolderInfo>)> = Vec::new();
    if let Some(top) = children.get(&None) {
        stack.push((0, top.iter().rev().copied().collect()));
    }
    while let Some((depth, siblings)) = stack.last_mut() {
        let depth = *depth;
        let Some(folder) = siblings.pop() else {
            stack.pop();
            continue;
        };
        rows.push((depth, folder.clone()));
        if let Some(below) = children.get(&Some(folder.id.as_str()))
            && rows.len() <= folders.len()
        {
            stack.push((depth + 1, below.iter().rev().copied().collect()));
        }
    }
    rows
}

/// A folder path such as `Processes / Orders`.
fn folder_path(folders: &[FolderInfo], id: Option<&str>) -> String {
    let by_id: HashMap<&str, &FolderInfo> = folders.iter().map(|f| (f.id.as_str(), f)).collect();
    let mut names = Vec::new();
    let mut current = id;
    while let Some(folder) = current.and_then(|id| by_id.get(id)) {
        names.push(folder.name.as_str());
        current = folder.parent.as_deref();
        if names.len() > folders.len() {
            break;
        }
    }
    names.reverse();
    if names.is_empty() {
        "Top level".to_string()
    } else {
        names.join(" / ")
    }
}

/// A `<select>` of every folder (and the top level) as a move target.
fn target_options(folders: &[FolderInfo], exclude: &[String]) -> Vec<(String, String)> {
    let mut options = vec![(String::new(), "Top level".to_string())];
    let mut paths: Vec<(String, String)> = folders
        .iter()
        .filter(|f| !exclude.contains(&f.id))
        .map(|f| (f.id.clone(), folder_path(folders, Some(&f.id))))
        .collect();
    paths.sort_by_cached_key(|(_, path)| path.to_lowercase());
    options.extend(paths);
    options
}

fn some_id(value: String) -> Option<String> {
    if value.is_empty() { None } else { Some(value) }
}

/// Import of an export file into the folder in view. A name clash is shown with the choice
/// to import a copy under a free name; nothing is ever overwritten.
#[component]
fn ImportForm(namespace: String, folder: Option<String>) -> impl IntoView {
    let location = expect_context::<Location>();
    let toasts = use_toasts();
    let hydrated = use_hydrated();
    // The chosen file's name and text, read in the browser.
    let chosen = RwSignal::new(None::<(String, String)>);
    let clash = RwSignal::new(None::<String>);
    let import = Action::new({
        let (namespace, folder) = (namespace.clone(), folder.clone());
        move |(text, policy): &(String, ClashPolicy)| {
            import_entry(namespace.clone(), folder.clone(), text.clone(), *policy)
        }
    });
    Effect::new(move |_| match import.value().get() {
        Some(Ok(report)) => {
            clash.set(None);
            let mut message = format!(
                "Imported {} ({}, {})",
                report.name,
                counted(report.folders, "folder"),
                counted(report.items, "item")
            );
            if let Some(version) = report.migrated_from {
                message.push_str(&format!(", migrated from schema version {version}"));
            }
            if report.permissions_dropped > 0 {
                message.push_str(&format!(
                    ". The permissions of {} were not imported: you may not manage permissions here, so they inherit them",
                    counted(report.permissions_dropped, "folder")
                ));
            }
            toasts.success(message);
            location.tree_changed();
            location.content_changed();
        }
        Some(Err(AppError::Conflict(message))) => clash.set(Some(message)),
        Some(Err(error)) => toasts.error(error.to_string()),
        None => {}
    });
    let run = move |policy: ClashPolicy| {
        if let Some((_, text)) = chosen.get_untracked() {
            import.dispatch((text, policy));
        }
    };
    view! {
        <form class="inline import" aria-label="Import" on:submit=move |ev| {
            ev.prevent_default();
            run(ClashPolicy::Refuse);
        }>
            <input
                type="file"
                accept=".json,application/json"
                aria-label="Export file to import"
                on:change=move |ev| {
                    clash.set(None);
                    chosen.set(None);
                    read_chosen_file(ev, chosen, toasts);
                }
            />
            <button type="submit" disabled=move || !hydrated.get() || chosen.get().is_none() || import.pending().get()>
                "Import"
            </button>
        </form>
        <Show when=move || clash.get().is_some()>
            <div class="notice" role="alert">
                <p>{move || clash.get().unwrap_or_default()}</p>
                <div class="form-actions">
                    <button type="button" class="primary" on:click=move |_| run(ClashPolicy::Copy)>"Import as a copy"</button>
                    <button type="button" on:click=move |_| clash.set(None)>"Cancel"</button>
                </div>
            </div>
        </Show>
    }
}

/// Reads the file chosen in a file input into `chosen` (in the browser only).
#[cfg(feature = "hydrate")]
fn read_chosen_file(
    ev: leptos::ev::Event,
    chosen: RwSignal<Option<(String, String)>>,
    toasts: crate::components::toast::Toasts,
) {
    let input: leptos::web_sys::HtmlInputElement = event_target(&ev);
    let Some(file) = input.files().and_then(|files| files.get(0)) else {
        return;
    };
    leptos::task::spawn_local(async move {
        match wasm_bindgen_futures::JsFuture::from(file.text())
            .await
            .ok()
            .and_then(|text| text.as_string())
        {
            Some(text) => chosen.set(Some((file.name(), text))),
            None => toasts.error(format!(
                "{} could not be read. Choose the file again.",
                file.name()
            )),
        }
    });
}

#[cfg(not(feature = "hydrate"))]
fn read_chosen_file(
    _ev: leptos::ev::Event,
    _chosen: RwSignal<Option<(String, String)>>,
    _toasts: crate::components::toast::Toasts,
) {
}

/// A name field with a Rename button; `label` names the form, `field` the text field.
#[component]
fn RenameForm(
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
fn MoveForm(
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
fn FolderPanel(
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
fn ItemRow(namespace: String, item: ItemInfo) -> impl IntoView {
    let href = match &item.folder {
        Some(folder) => format!("/explorer/{namespace}?folder={folder}&item={}", item.id),
        None => format!("/explorer/{namespace}?item={}", item.id),
    };
    view! {
        <tr>
            <td><a href=href>{item.name.clone()}</a></td>
            <td>{item.kind.label()}</td>
            <td>{format_size(item.size)}</td>
            <td>{item.revision}</td>
            <td><LocalTime at=item.updated_at/>{format!(" by {}", item.updated_by)}</td>
        </tr>
    }
}

/// `1 folder`, `2 folders`.
fn counted(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

pub(crate) fn format_size(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KiB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MiB", bytes as f64 / 1_048_576.0),
    }
}

/// Rename, move, delete and permissions of the folder in view.
#[component]
fn FolderActions(
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

/// A folder's own permissions, or the inherited ones.
#[component]
fn PermissionsEditor(namespace: String, folder: FolderInfo) -> impl IntoView {
    let location = expect_context::<Location>();
    let toasts = use_toasts();
    let hydrated = use_hydrated();
    let inherits = RwSignal::new(folder.permissions.is_none());
    let entries = RwSignal::new(
        folder
            .permissions
            .clone()
            .unwrap_or_else(|| folder.effective_permissions.clone()),
    );
    let new_kind = RwSignal::new(PrincipalKind::User);
    let new_name = RwSignal::new(String::new());
    let new_access = RwSignal::new(Access::Read);
    let save = Action::new({
        let (namespace, id) = (namespace.clone(), folder.id.clone());
        move |permissions: &Option<Vec<Permission>>| {
            set_folder_permissions(namespace.clone(), id.clone(), permissions.clone())
        }
    });
    when_done(save, move |_| {
        toasts.success("Permissions saved");
        location.tree_changed();
    });
    let add = move |_| {
        let name = new_name.get_untracked().trim().to_string();
        if let Err(problem) = validate::principal_name(&name) {
            toasts.error(problem);
            return;
        }
        let principal = Principal {
            kind: new_kind.get_untracked(),
            name,
        };
        entries.update(|list| {
            list.retain(|p| p.principal != principal);
            list.push(Permission {
                principal,
                access: new_access.get_untracked(),
            });
        });
        new_name.set(String::new());
    };
    view! {
        <details class="permissions">
            <summary>"Permissions"</summary>
            <label class="check">
                <input type="checkbox" prop:checked=inherits on:change=move |ev| inherits.set(event_target_checked(&ev))/>
                " Inherit from the parent folder"
            </label>
            <table class="listing">
                <thead><tr><th scope="col">"Principal"</th><th scope="col">"Access"</th><th scope="col"><span class="visually-hidden">"Remove"</span></th></tr></thead>
                <tbody>
                    <For each=move || entries.get() key=|p| (p.principal.clone(), p.access) let:permission>
                        {
                            let principal = permission.principal.clone();
                            let label = format!("{} {}", permission.principal.kind.as_str(), permission.principal.name);
                            view! {
                                <tr>
                                    <td>{label.clone()}</td>
                                    <td>{permission.access.as_str()}</td>
                                    <td>
                                        <button type="button" aria-label=format!("Remove {label}") disabled=move || inherits.get()
                                            on:click=move |_| entries.update(|list| list.retain(|p| p.principal != principal))>
                                            "Remove"
                                        </button>
                                    </td>
                                </tr>
                            }
                        }
                    </For>
                </tbody>
            </table>
            <div class="toolbar">
                <select aria-label="Principal kind" disabled=move || inherits.get() on:change=move |ev| {
                    new_kind.set(PrincipalKind::parse(&event_target_value(&ev)).unwrap_or(PrincipalKind::User));
                }>
                    <option value="user">"User"</option>
                    <option value="role">"Role"</option>
                </select>
                <input type="text" aria-label="Principal name" placeholder="Name" disabled=move || inherits.get()
                    prop:value=new_name on:input=move |ev| new_name.set(event_target_value(&ev))/>
                <select aria-label="Access" disabled=move || inherits.get() on:change=move |ev| {
                    new_access.set(Access::parse(&event_target_value(&ev)).unwrap_or(Access::Read));
                }>
                    {Access::ALL.map(|a| view! { <option value=a.as_str()>{a.as_str()}</option> }).collect_view()}
                </select>
                <button type="button" disabled=move || inherits.get() || new_name.get().trim().is_empty() on:click=add>"Add"</button>
                <button type="button" class="primary" disabled=move || !hydrated.get() || save.pending().get()
                    on:click=move |_| {
                        let permissions = if inherits.get_untracked() { None } else { Some(entries.get_untracked()) };
                        save.dispatch(permissions);
                    }>
                    "Save permissions"
                </button>
            </div>
        </details>
    }
}

/// One item: its content in an editor, and rename, move and delete.
#[component]
fn ItemEditor(
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
fn ItemForm(
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
                {format!("Revision {} · {} · updated ", info.revision, format_size(info.size))}
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
