//! The explorer: pick a namespace, browse its folder tree, and create, rename, move and
//! delete folders and items; edit an item's content and a folder's permissions.
//!
//! Where you are lives in the address (`/explorer/NAMESPACE?folder=ID&item=ID`), so a reload
//! or a shared link opens the same place.
//!
//! One component (or a close family) a file: the namespace bar (`namespaces`), the tree
//! (`tree`), a folder's panel and actions (`folder`), import (`import`), permissions
//! (`permissions`) and the item editor (`item`).

mod folder;
mod import;
mod item;
mod namespaces;
mod permissions;
mod tree;

use self::folder::*;
use self::import::*;
use self::item::*;
use self::namespaces::*;
use self::permissions::*;
use self::tree::*;

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

    // Opened without a namespace: the one this user chose last (remembered in this browser),
    // or the only one there is.
    let actor = crate::components::session::use_actor();
    Effect::new(move |_| {
        let Some(user) = actor.get().map(|actor| actor.name) else {
            return;
        };
        match location.namespace.get() {
            Some(namespace) => remember_namespace(&user, &namespace),
            None => {
                let Some(Ok(list)) = namespaces.get() else {
                    return;
                };
                let names: Vec<String> = list.into_iter().map(|ns| ns.name).collect();
                if let Some(start) = start_namespace(&names, remembered_namespace(&user).as_deref())
                {
                    use_navigate()(
                        &format!("/explorer/{start}"),
                        leptos_router::NavigateOptions {
                            replace: true,
                            ..Default::default()
                        },
                    );
                }
            }
        }
    });

    view! {
        <Title text="Explorer"/>
        <h1>"Explorer"</h1>
        <NamespaceBar namespaces/>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                {move || {
                    tree.get().map(|result| {
                        result.map(|tree| match (tree, location.namespace.get()) {
                            (Some(tree), Some(name)) if tree.namespace.name == name => {
                                view! { <NamespaceView tree/> }.into_any()
                            }
                            (None, None) => view! {
                                <p class="muted">"Choose a namespace to see its folders, services, models and forms, or create one."</p>
                            }
                            .into_any(),
                            // The tree of the namespace just left, while the new one loads:
                            // never shown under the new namespace's name.
                            _ => view! { <p class="muted">"Loading…"</p> }.into_any(),
                        })
                    })
                }}
            </ErrorBoundary>
        </Transition>
    }
}

/// The namespace the explorer opens with when none is asked for: the one chosen last, while
/// it exists, else the only one there is; else none (the user chooses).
pub fn start_namespace(names: &[String], remembered: Option<&str>) -> Option<String> {
    if let Some(last) = remembered.filter(|last| names.iter().any(|name| name == last)) {
        return Some(last.to_string());
    }
    match names {
        [only] => Some(only.clone()),
        _ => None,
    }
}

/// Where the last chosen namespace of `user` is kept in the browser.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn last_namespace_key(user: &str) -> String {
    format!("nsbackup-explorer-namespace:{user}")
}

#[cfg(feature = "hydrate")]
fn remembered_namespace(user: &str) -> Option<String> {
    let storage = web_sys::window()?.local_storage().ok().flatten()?;
    storage.get_item(&last_namespace_key(user)).ok().flatten()
}

#[cfg(feature = "hydrate")]
fn remember_namespace(user: &str, namespace: &str) {
    if let Some(Ok(Some(storage))) = web_sys::window().map(|window| window.local_storage()) {
        // Private browsing may refuse storage: the explorer then only forgets the choice.
        let _ = storage.set_item(&last_namespace_key(user), namespace);
    }
}

#[cfg(not(feature = "hydrate"))]
fn remembered_namespace(_user: &str) -> Option<String> {
    None
}

#[cfg(not(feature = "hydrate"))]
fn remember_namespace(_user: &str, _namespace: &str) {}

#[cfg(test)]
mod tests {
    use super::start_namespace;

    #[test]
    fn the_explorer_starts_with_the_last_namespace_or_the_only_one() {
        let names = |list: &[&str]| list.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(
            start_namespace(&names(&["a", "b"]), Some("b")),
            Some("b".into())
        );
        assert_eq!(start_namespace(&names(&["a", "b"]), None), None);
        assert_eq!(
            start_namespace(&names(&["a", "b"]), Some("gone")),
            None,
            "a namespace deleted since is forgotten"
        );
        assert_eq!(start_namespace(&names(&["a"]), None), Some("a".into()));
        assert_eq!(
            start_namespace(&names(&["a"]), Some("gone")),
            Some("a".into())
        );
        assert_eq!(start_namespace(&[], None), None);
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

/// `1 folder`, `2 folders`.
fn counted(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
