//! The list of backups: select a completed one to restore it, download or delete any.

use super::*;

/// The search above the list: backups whose name or namespace contains the text.
#[component]
pub(super) fn BackupSearch() -> impl IntoView {
    let console = expect_context::<Console>();
    let hydrated = use_hydrated();
    view! {
        <div class="list-search">
            <label for="backup-search">"Search backups"</label>
            <input id="backup-search" type="search" placeholder="Name or namespace"
                maxlength=crate::types::BACKUP_SEARCH_MAX.to_string()
                disabled=move || !hydrated.get()
                prop:value=move || console.search.get()
                on:input=move |ev| {
                    console.search.set(event_target_value(&ev));
                    console.offset.set(0);
                }/>
        </div>
    }
}

/// One page of the list, with the way to the others.
#[component]
pub(super) fn BackupList(page: BackupListPage) -> impl IntoView {
    let console = expect_context::<Console>();
    if page.items.is_empty() {
        let search = console.search.get_untracked();
        return if search.trim().is_empty() {
            view! {
                <p class="empty">"There are no backups yet. Create one with Create New Backup, or upload a backup file with Upload Backup."</p>
            }
            .into_any()
        } else {
            view! {
                <p class="empty">{format!("No backup’s name or namespace contains “{}”.", search.trim())}</p>
            }
            .into_any()
        };
    }
    let (offset, total, shown) = (page.offset, page.total, page.items.len());
    view! {
        <table class="listing backups">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col" class="col-minor">"Namespace"</th>
                    <th scope="col">"Creation Date"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col" class="col-minor">"Size"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {page.items.into_iter().map(|backup| view! { <BackupRow backup/> }).collect_view()}
            </tbody>
        </table>
        <Pager offset shown total/>
    }
    .into_any()
}

/// "Backups 101–200 of 1,000", with Previous and Next.
#[component]
fn Pager(offset: usize, shown: usize, total: usize) -> impl IntoView {
    let console = expect_context::<Console>();
    let hydrated = use_hydrated();
    let size = crate::types::BACKUP_PAGE_SIZE;
    if offset == 0 && shown >= total {
        return view! { <p class="muted pager-count">{count(total)}</p> }.into_any();
    }
    let (previous, next) = (offset.saturating_sub(size), offset + size);
    let (first, last) = (offset == 0, next >= total);
    view! {
        <nav class="pager" aria-label="Pages of backups">
            <button type="button" disabled=move || !hydrated.get() || first
                on:click=move |_| console.offset.set(previous)>"Previous"</button>
            <span class="pager-count" aria-live="polite">
                {format!("Backups {}–{} of {}", offset + 1, offset + shown, crate::text::thousands(total))}
            </span>
            <button type="button" disabled=move || !hydrated.get() || last
                on:click=move |_| console.offset.set(next)>"Next"</button>
        </nav>
    }
    .into_any()
}

fn count(total: usize) -> String {
    match total {
        1 => "1 backup".to_string(),
        n => format!("{} backups", crate::text::thousands(n)),
    }
}

#[component]
fn BackupRow(backup: BackupInfo) -> impl IntoView {
    let console = expect_context::<Console>();
    let hydrated = use_hydrated();
    let completed = backup.status == BackupStatus::Completed;
    let id = backup.id.clone();
    let is_selected = {
        let id = id.clone();
        move || console.selected.get().is_some_and(|b| b.id == id)
    };
    let select = {
        let backup = backup.clone();
        move || {
            if completed {
                console.selected.set(Some(backup.clone()));
                console.section.set(Section::Restore);
            }
        }
    };
    let pinned = backup.pinned;
    let pin = Action::new({
        let id = backup.id.clone();
        move |()| crate::api::backups::pin_backup(id.clone(), !pinned)
    });
    when_done(pin, move |changed: BackupInfo| {
        console.toasts.success(if changed.pinned {
            format!(
                "Backup {} pinned: no retention policy deletes it",
                changed.name
            )
        } else {
            format!("Backup {} unpinned", changed.name)
        });
        console.refresh();
    });
    let status = match backup.status {
        BackupStatus::InProgress => "In progress",
        BackupStatus::Completed => "Completed",
        BackupStatus::Failed => "Failed",
        BackupStatus::Damaged => "Damaged",
    };
    let origin = match backup.origin {
        crate::types::BackupOrigin::Created => "",
        crate::types::BackupOrigin::Uploaded => " (uploaded)",
        crate::types::BackupOrigin::Found => " (found in the store)",
        crate::types::BackupOrigin::Scheduled => " (scheduled)",
    };
    let select_click = select.clone();
    let name = backup.name.clone();
    // This backup's deletion is under way.
    let removing = {
        let id = id.clone();
        move || {
            console
                .remove
                .input()
                .with(|input| input.as_ref().is_some_and(|(removed, _)| *removed == id))
        }
    };
    view! {
        <tr
            class="backup-row"
            class:selected=is_selected.clone()
            aria-selected=move || is_selected().to_string()
            tabindex=if completed { "0" } else { "-1" }
            title=if completed { "Select to restore" } else { "" }
            on:click=move |_| select_click()
            on:keydown=move |ev| {
                if ev.key() == "Enter" || ev.key() == " " {
                    ev.prevent_default();
                    select();
                }
            }
        >
            <td>
                {backup.name.clone()}{origin}{pinned.then(|| view! { " " <span class="badge">"pinned"</span> })}
                // On a phone the namespace and size columns fold into the name's cell.
                <span class="phone-only hint">
                    <br/>
                    {format!(
                        "{}{}",
                        backup.namespace,
                        backup.size.map(|size| format!(" · {}", crate::text::size(size))).unwrap_or_default()
                    )}
                </span>
                {backup.made_from.clone().map(|made| view! {
                    <br/>
                    <span class="hint made-from">
                        {format!("made from namespace {}", made.namespace)}
                        {made.created_at.map(|at| view! { " on " <LocalTime at/> })}
                        {made.app_version.map(|version| format!(", nsbackup {version}"))}
                        {backup.schema_version.map(|schema| format!(", schema {schema}"))}
                    </span>
                })}
            </td>
            <td class="col-minor">{backup.namespace.clone()}</td>
            <td><LocalTime at=backup.created_at/></td>
            <td title=backup.error.clone().unwrap_or_default()>
                <span class=format!("status status-{}", status.to_lowercase().replace(' ', "-"))>{status}</span>
                {backup.verdict().map(|verdict| view! { <br/><span class="hint verdict">{verdict.words()}</span> })}
                {backup.encryption.is_some().then(|| view! {
                    <br/><span class="hint encrypted">{if backup.locked.is_some() {
                        "encrypted: this server lacks its key"
                    } else if backup.needs_passphrase() {
                        "encrypted with a passphrase"
                    } else {
                        "encrypted"
                    }}</span>
                })}
            </td>
            <td class="col-minor">{backup.size.map(crate::text::size).unwrap_or_default()}</td>
            <td class="actions" on:click=|ev| ev.stop_propagation()>
                {completed.then(|| view! {
                    <a class="button icon" href=crate::types::backup_download_path(&id) download
                        aria-label=format!("Download backup {name}") title="Download">
                        <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
                            <path d="M12 4v11"/><path d="M7 10l5 5 5-5"/><path d="M5 20h14"/>
                        </svg>
                    </a>
                })}
                {completed.then(|| view! {
                    <button type="button" class="icon" aria-pressed=pinned.to_string()
                        disabled=move || !hydrated.get() || pin.pending().get()
                        aria-label=format!("Keep backup {} forever", backup.name)
                        title=if pinned { "Pinned: kept forever. Select to unpin." } else { "Pin: keep forever" }
                        on:click=move |_| { pin.dispatch(()); }>
                        <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" fill=if pinned { "currentColor" } else { "none" } stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
                            <path d="M9 4h6l-1 6 4 4H6l4-4z"/><path d="M12 14v7"/>
                        </svg>
                    </button>
                })}
                <button type="button" class="icon danger" disabled=move || !hydrated.get() || removing()
                    aria-label=format!("Delete backup {}", backup.name) title="Delete"
                    on:click=move |_| {
                        console.deleting.set(Some((id.clone(), name.clone())));
                        console.confirm_delete.set(true);
                    }>
                    <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
                        <path d="M4 7h16"/><path d="M10 11v6"/><path d="M14 11v6"/><path d="M6 7l1 13h10l1-13"/><path d="M9 7V4h6v3"/>
                    </svg>
                </button>
            </td>
        </tr>
    }
}

/// The confirmation of a backup's deletion, and what follows it: beside the list, so that
/// a refresh of the list (which rebuilds its rows) leaves an open confirmation as it is.
#[component]
pub(super) fn DeleteConfirmation() -> impl IntoView {
    let console = expect_context::<Console>();
    when_done(console.remove, move |name| {
        console.toasts.success(format!("Backup {name} deleted"));
        console.selected.set(None);
        console.refresh();
    });
    let title = Signal::derive(move || {
        console.deleting.with(|deleting| {
            deleting
                .as_ref()
                .map(|(_, name)| format!("Delete backup {name}?"))
                .unwrap_or_default()
        })
    });
    view! {
        <ConfirmDialog
            open=console.confirm_delete
            title
            message="The backup file is deleted from the server. This cannot be undone."
            confirm_label="Delete"
            danger=true
            on_confirm=Callback::new(move |()| {
                if let Some(target) = console.deleting.get_untracked() {
                    console.remove.dispatch(target);
                }
            })
        />
    }
}
