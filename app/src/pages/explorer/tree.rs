//! The folder tree beside the content in view, drawn as one flat list without recursion.

use super::*;

/// The folder tree beside the content of the folder (or item) in view.
#[component]
pub(super) fn NamespaceView(tree: NamespaceTree) -> impl IntoView {
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

/// The folder tree as one flat list in reading order, each folder indented by its depth.
/// It is built without recursion, so however deep folders nest, drawing them costs no
/// stack (on the server or in the browser).
#[component]
pub(super) fn FolderTree(
    namespace: String,
    folders: StoredValue<Vec<FolderInfo>>,
) -> impl IntoView {
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
pub(super) fn in_tree_order(folders: &[FolderInfo]) -> Vec<(usize, FolderInfo)> {
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
