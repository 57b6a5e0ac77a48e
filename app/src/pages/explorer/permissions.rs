//! A folder's own permissions, or inheritance from its parent.

use super::*;

/// A folder's own permissions, or the inherited ones.
#[component]
pub(super) fn PermissionsEditor(namespace: String, folder: FolderInfo) -> impl IntoView {
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
