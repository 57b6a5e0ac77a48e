//! `/admin/backups`: Administration → Backup and Restore. Create a backup of a namespace,
//! upload a backup file, download, delete, and restore a backup into a namespace. The labels,
//! the rules for what is enabled, the confirmations and the notifications follow the product
//! page word for word.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::backups::{create_backup, delete_backup, get_job, list_backups, restore_backup};
use crate::api::explorer::list_namespaces;
use crate::components::browser::sleep;
use crate::components::dialog::ConfirmDialog;
use crate::components::errors::ErrorPanel;
use crate::components::hydration::use_hydrated;
use crate::components::session::AdminOnly;
use crate::components::time::LocalTime;
use crate::components::toast::{Toasts, use_toasts};
use crate::error::AppError;
use crate::types::{BackupInfo, BackupStatus, JobInfo, JobStatus, NamespaceInfo};

/// Which section below the two buttons is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Section {
    Closed,
    Create,
    Upload,
    Restore,
}

/// What the page shares between its parts.
#[derive(Clone, Copy)]
struct Console {
    section: RwSignal<Section>,
    /// Bumped to read the list again.
    version: RwSignal<u32>,
    /// The backup row selected for a restore.
    selected: RwSignal<Option<BackupInfo>>,
    /// The job being followed, with its progress.
    job: RwSignal<Option<JobInfo>>,
    /// The namespace whose folder permissions should be checked after a restore.
    restored: RwSignal<Option<String>>,
    toasts: Toasts,
}

impl Console {
    fn refresh(&self) {
        self.version.update(|v| *v += 1);
    }

    /// Follows a job until it ends, with a notification saying `message` and, below it, what
    /// the job does and how far it is ("writing items — 40%"); returns how it ended.
    async fn follow(self, message: String, mut job: JobInfo) -> JobInfo {
        let followed = self.job;
        let detail = Signal::derive(move || {
            followed
                .get()
                .map(|job| format!("{} — {}%", job.phase, percent(&job)))
                .unwrap_or_default()
        });
        let notification = self.toasts.progress(message, detail);
        self.job.set(Some(job.clone()));
        while !job.status.is_final() {
            sleep(400).await;
            match get_job(job.id.clone()).await {
                Ok(now) => {
                    job = now;
                    self.job.set(Some(job.clone()));
                }
                Err(AppError::Transport(_)) => {}
                Err(error) => {
                    self.toasts.error(error.to_string());
                    break;
                }
            }
        }
        self.toasts.dismiss(notification);
        self.job.set(None);
        self.refresh();
        job
    }
}

/// How far a job is, in percent of its current phase.
fn percent(job: &JobInfo) -> u64 {
    (job.done * 100)
        .checked_div(job.total)
        .unwrap_or(0)
        .min(100)
}

/// `/admin/backups`.
#[component]
pub fn BackupAndRestorePage() -> impl IntoView {
    view! {
        <AdminOnly>
            <BackupConsole/>
        </AdminOnly>
    }
}

#[component]
fn BackupConsole() -> impl IntoView {
    let hydrated = use_hydrated();
    let console = Console {
        section: RwSignal::new(Section::Closed),
        version: RwSignal::new(0),
        selected: RwSignal::new(None),
        job: RwSignal::new(None),
        restored: RwSignal::new(None),
        toasts: use_toasts(),
    };
    provide_context(console);
    let backups = Resource::new(move || console.version.get(), |_| list_backups());
    // Read again whenever a section opens: namespaces made elsewhere meanwhile appear.
    let namespaces = Resource::new(move || console.section.get(), |_| list_namespaces());
    // A selected backup that is gone or no longer completed (deleted elsewhere, found
    // damaged) is selected no longer.
    Effect::new(move |_| {
        let Some(Ok(list)) = backups.get() else {
            return;
        };
        if let Some(selected) = console.selected.get_untracked()
            && !list
                .iter()
                .any(|b| b.id == selected.id && b.status == BackupStatus::Completed)
        {
            console.selected.set(None);
        }
    });
    // The list stays true while jobs run elsewhere and other administrators work: it is read
    // again in the background (every two seconds while a backup is in progress, else every
    // five) and redrawn only when it changed.
    Effect::new(move |_| {
        let Some(shown) = backups.get().and_then(Result::ok) else {
            return;
        };
        let version = console.version.get_untracked();
        leptos::task::spawn_local(async move {
            loop {
                let busy = shown.iter().any(|b| b.status == BackupStatus::InProgress);
                sleep(if busy { 2000 } else { 5000 }).await;
                // The page is gone, or the list was read again meanwhile (that reading
                // watches from now on).
                if console.version.try_get_untracked() != Some(version) {
                    return;
                }
                if let Ok(now) = list_backups().await
                    && now != shown
                {
                    if console.version.try_get_untracked() == Some(version) {
                        console.refresh();
                    }
                    return;
                }
            }
        });
    });
    let toggle = move |section: Section| {
        console.section.update(|open| {
            *open = if *open == section {
                Section::Closed
            } else {
                section
            }
        });
        if section != Section::Restore {
            console.selected.set(None);
        }
    };
    // A memo: the choices are drawn again only when the namespaces really changed.
    let namespace_list: Signal<Vec<NamespaceInfo>> =
        Memo::new(move |_| namespaces.get().and_then(Result::ok).unwrap_or_default()).into();

    view! {
        <Title text="Backup and Restore"/>
        <p class="breadcrumb">"Administration"</p>
        <h1>"Backup and Restore"</h1>
        <div class="toolbar">
            <button type="button" class="primary" disabled=move || !hydrated.get()
                aria-expanded=move || (console.section.get() == Section::Create).to_string()
                on:click=move |_| toggle(Section::Create)>
                "Create New Backup"
            </button>
            <button type="button" disabled=move || !hydrated.get()
                aria-expanded=move || (console.section.get() == Section::Upload).to_string()
                on:click=move |_| toggle(Section::Upload)>
                "Upload Backup"
            </button>
        </div>
        <JobProgress/>
        <Show when=move || console.restored.get().is_some()>
            <div class="notice" role="status">
                {move || format!(
                    "Namespace {} was restored. Check the permissions of its folders: they are those of the backup.",
                    console.restored.get().unwrap_or_default()
                )}
                " "
                <a href=move || format!("/explorer/{}", console.restored.get().unwrap_or_default())>"Open it in the explorer"</a>
            </div>
        </Show>
        <Show when=move || console.section.get() == Section::Create>
            <CreateSection namespaces=namespace_list/>
        </Show>
        <Show when=move || console.section.get() == Section::Upload>
            <UploadSection namespaces=namespace_list/>
        </Show>
        <Show when=move || console.section.get() == Section::Restore>
            <RestoreSection namespaces=namespace_list/>
        </Show>
        <section class="card" aria-labelledby="backups-heading">
            <h2 id="backups-heading">"Backups"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || backups.get().map(|result| result.map(|list| view! { <BackupList list/> }))}
                </ErrorBoundary>
            </Transition>
        </section>
        <section class="card" aria-labelledby="backup-caveats">
            <h2 id="backup-caveats">"Before you work with backups"</h2>
            <ul>
                <li>"Backups are always created for an entire namespace. To copy a single service, model or form, use the export function in the explorer."</li>
                <li>"Restoring a backup deletes all existing data from the namespace and replaces it with the data from the backup. Check the permissions of the folders after a restore."</li>
                <li>"An uploaded backup is not directly available: restore it after the upload."</li>
            </ul>
        </section>
    }
}

/// The job being followed: what it does and how far it is.
#[component]
fn JobProgress() -> impl IntoView {
    let console = expect_context::<Console>();
    view! {
        <div class="job-progress" role="status" aria-live="polite">
            {move || console.job.get().map(|job| {
                let percent = percent(&job);
                let what = match job.kind {
                    crate::types::JobKind::Backup => format!("Creating backup of {}", job.namespace),
                    crate::types::JobKind::Restore => format!("Restoring into {}", job.namespace),
                };
                view! {
                    <p>{format!("{what}: {} — {percent}%", job.phase)}</p>
                    <progress max="100" value=percent.to_string()></progress>
                }
            })}
        </div>
    }
}

/// A choice of one namespace, as radio buttons.
#[component]
fn NamespaceChoice(
    namespaces: Signal<Vec<NamespaceInfo>>,
    chosen: RwSignal<Option<String>>,
    group: &'static str,
) -> impl IntoView {
    view! {
        <fieldset class="namespace-choice">
            <legend>"Namespace"</legend>
            {move || {
                let list = namespaces.get();
                if list.is_empty() {
                    return view! { <p class="muted">"There is no namespace yet."</p> }.into_any();
                }
                list.into_iter()
                    .map(|ns| {
                        let name = ns.name.clone();
                        let checked = {
                            let name = name.clone();
                            move || chosen.get().as_deref() == Some(name.as_str())
                        };
                        let label = if ns.title.is_empty() { ns.name.clone() } else { format!("{} — {}", ns.name, ns.title) };
                        view! {
                            <label class="check">
                                <input type="radio" name=group value=name.clone() prop:checked=checked
                                    on:change=move |_| chosen.set(Some(name.clone()))/>
                                {label}
                            </label>
                        }
                    })
                    .collect_view()
                    .into_any()
            }}
        </fieldset>
    }
}

#[component]
fn CreateSection(namespaces: Signal<Vec<NamespaceInfo>>) -> impl IntoView {
    let console = expect_context::<Console>();
    let hydrated = use_hydrated();
    let chosen = RwSignal::new(None::<String>);
    let name = RwSignal::new(String::new());
    let confirm = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let ready = move || chosen.get().is_some() && !name.get().trim().is_empty();
    let start = move || {
        let (Some(namespace), name) = (chosen.get_untracked(), name.get_untracked()) else {
            return;
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match create_backup(namespace, name).await {
                Ok((_, job)) => {
                    console.toasts.info("Backup process started");
                    console.refresh();
                    let ended = console.follow("Creating backup...".into(), job).await;
                    if ended.status == JobStatus::Succeeded {
                        console
                            .toasts
                            .success("Backup process finished successfully");
                    } else {
                        console.toasts.error(format!(
                            "The backup failed: {}",
                            ended.error.unwrap_or_default()
                        ));
                    }
                }
                Err(error) => console.toasts.error(error.to_string()),
            }
            busy.set(false);
        });
    };
    view! {
        <section class="card" aria-labelledby="create-heading">
            <h2 id="create-heading">"Select Namespace"</h2>
            <NamespaceChoice namespaces chosen group="backup-namespace"/>
            <div class="field">
                <label for="backup-name">"Name"</label>
                <input id="backup-name" type="text" maxlength="100" prop:value=name
                    on:input=move |ev| name.set(event_target_value(&ev))/>
            </div>
            <button type="button" class="primary"
                disabled=move || !hydrated.get() || !ready() || busy.get()
                on:click=move |_| confirm.set(true)>
                "Start Backup"
            </button>
        </section>
        <ConfirmDialog
            open=confirm
            title="Start backup?"
            message=Signal::derive(move || format!(
                "A backup of the entire namespace {} will be created under the name \u{201c}{}\u{201d}.",
                chosen.get().unwrap_or_default(),
                name.get().trim()
            ))
            confirm_label="Start Backup"
            on_confirm=Callback::new(move |()| start())
        />
    }
}

/// The file name without `.zip`, as the default backup name.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn name_of_file(file: &str) -> String {
    crate::validate::name_from_file(file)
        .chars()
        .take(100)
        .collect()
}

#[component]
fn UploadSection(namespaces: Signal<Vec<NamespaceInfo>>) -> impl IntoView {
    let console = expect_context::<Console>();
    let hydrated = use_hydrated();
    let chosen = RwSignal::new(None::<String>);
    let file_name = RwSignal::new(None::<String>);
    let name = RwSignal::new(String::new());
    let sent = RwSignal::new(None::<u32>);
    let input = NodeRef::<leptos::html::Input>::new();
    // A blank name is no obstacle: the server lists the backup under the file's name then.
    let ready = move || file_name.get().is_some() && chosen.get().is_some();
    let browse = move || {
        if let Some(input) = input.get() {
            input.click();
        }
    };
    let on_file = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let picked = input
                .get()
                .and_then(|input| input.files())
                .and_then(|files| files.get(0))
                .map(|file| file.name());
            if let Some(picked) = picked {
                name.set(name_of_file(&picked));
                file_name.set(Some(picked));
            }
        }
    };
    let confirm = move |_| {
        let (Some(namespace), label) = (chosen.get_untracked(), name.get_untracked()) else {
            return;
        };
        #[cfg(feature = "hydrate")]
        {
            let Some(file) = input.get().and_then(|i| i.files()).and_then(|f| f.get(0)) else {
                return;
            };
            let url = format!(
                "/api/backups/upload?namespace={}&name={}&file_name={}",
                String::from(js_sys::encode_uri_component(&namespace)),
                String::from(js_sys::encode_uri_component(label.trim())),
                String::from(js_sys::encode_uri_component(&file.name())),
            );
            sent.set(Some(0));
            leptos::task::spawn_local(async move {
                let answer = crate::components::browser::upload(&url, file, move |done, total| {
                    if total > 0.0 {
                        sent.set(Some((done * 100.0 / total) as u32));
                    }
                })
                .await;
                sent.set(None);
                match answer {
                    Some(answer) if answer.status == 200 => {
                        let body: serde_json::Value =
                            serde_json::from_str(&answer.body).unwrap_or_default();
                        let listed = body["backup"]["name"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string();
                        console.toasts.success(format!(
                            "Backup {listed} uploaded. Restore it to use its data."
                        ));
                        if let Some(duplicate) = body["duplicate_of"].as_str() {
                            console.toasts.info(duplicate.to_string());
                        }
                        file_name.set(None);
                        name.set(String::new());
                        // The same file may be chosen again: the input must notice it.
                        if let Some(input) = input.get_untracked() {
                            input.set_value("");
                        }
                        console.refresh();
                    }
                    Some(answer) => {
                        let body: serde_json::Value =
                            serde_json::from_str(&answer.body).unwrap_or_default();
                        let reason =
                            body["error"]
                                .as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| {
                                    format!(
                                        "The server refused the upload (status {}).",
                                        answer.status
                                    )
                                });
                        console
                            .toasts
                            .error(format!("The upload was refused: {reason}"));
                    }
                    None => console.toasts.error(
                        "The upload did not reach the server. Check your connection and try again.",
                    ),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (namespace, label, sent, console);
    };
    view! {
        <section class="card" aria-labelledby="upload-heading">
            <h2 id="upload-heading">"Upload Backup"</h2>
            <input node_ref=input type="file" accept=".zip,application/zip" class="visually-hidden" tabindex="-1"
                aria-label="Backup file" on:change=on_file/>
            {move || match file_name.get() {
                None => view! {
                    <button type="button" disabled=move || !hydrated.get() on:click=move |_| browse()>"Browse"</button>
                }.into_any(),
                Some(file) => view! {
                    <p class="chosen-file">
                        <span class="file-name">{file}</span>
                        " "
                        <button type="button" class="link" on:click=move |_| browse()>"Change File"</button>
                    </p>
                }.into_any(),
            }}
            <div class="field">
                <label for="upload-name">"Name"</label>
                <input id="upload-name" type="text" maxlength="100" prop:value=name
                    placeholder=move || file_name.get().map(|file| name_of_file(&file)).unwrap_or_default()
                    on:input=move |ev| name.set(event_target_value(&ev))/>
            </div>
            <NamespaceChoice namespaces chosen group="upload-namespace"/>
            <Show when=move || sent.get().is_some()>
                <p role="status">{move || format!("Uploading… {}%", sent.get().unwrap_or(0))}</p>
                <progress max="100" value=move || sent.get().unwrap_or(0).to_string()></progress>
            </Show>
            <button type="button" class="primary"
                disabled=move || !hydrated.get() || !ready() || sent.get().is_some()
                on:click=confirm>
                "Confirm"
            </button>
        </section>
    }
}

#[component]
fn RestoreSection(namespaces: Signal<Vec<NamespaceInfo>>) -> impl IntoView {
    let console = expect_context::<Console>();
    let hydrated = use_hydrated();
    let chosen = RwSignal::new(None::<String>);
    // What is typed as a new namespace; picking a listed one clears it.
    let typed = RwSignal::new(String::new());
    Effect::new(move |_| {
        let picked = chosen.get();
        if picked.as_deref() != Some(typed.get_untracked().as_str()) {
            typed.set(String::new());
        }
    });
    // The target is a namespace that does not exist yet.
    let is_new = move || {
        chosen.with(|chosen| {
            chosen
                .as_deref()
                .is_some_and(|name| namespaces.with(|list| list.iter().all(|ns| ns.name != name)))
        })
    };
    let new_problem = move || {
        chosen
            .get()
            .filter(|_| is_new())
            .and_then(|name| crate::validate::namespace_name(&name).err())
    };
    let confirm = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let start = move || {
        let (Some(backup), Some(target)) =
            (console.selected.get_untracked(), chosen.get_untracked())
        else {
            return;
        };
        busy.set(true);
        console.restored.set(None);
        leptos::task::spawn_local(async move {
            match restore_backup(backup.id.clone(), target.clone()).await {
                Ok(job) => {
                    let message = format!(
                        "Restoring backup {} into namespace {target}...",
                        backup.name
                    );
                    let ended = console.follow(message, job).await;
                    if ended.status == JobStatus::Succeeded {
                        console.toasts.success(format!(
                            "Backup {} restored into namespace {target}. Check the permissions of its folders.",
                            backup.name
                        ));
                        console.restored.set(Some(target));
                        console.selected.set(None);
                        console.section.set(Section::Closed);
                    } else {
                        console.toasts.error(format!(
                            "The restore failed: {}",
                            ended.error.unwrap_or_default()
                        ));
                    }
                }
                Err(error) => console.toasts.error(error.to_string()),
            }
            busy.set(false);
        });
    };
    view! {
        <section class="card" aria-labelledby="restore-heading">
            <h2 id="restore-heading">"Select Namespace"</h2>
            <p>{move || console.selected.get().map(|b| format!("Restore backup \u{201c}{}\u{201d} (namespace {}) into:", b.name, b.namespace))}</p>
            <NamespaceChoice namespaces chosen group="restore-namespace"/>
            <div class="field">
                <label for="restore-new-namespace">"Or into a new namespace"</label>
                <input id="restore-new-namespace" type="text" maxlength="63" autocomplete="off"
                    aria-describedby="restore-new-namespace-hint"
                    prop:value=typed
                    on:input=move |ev| {
                        let name = event_target_value(&ev).trim().to_string();
                        typed.set(name.clone());
                        chosen.set((!name.is_empty()).then_some(name));
                    }/>
                <p id="restore-new-namespace-hint" class="hint">
                    {move || match new_problem() {
                        Some(problem) => problem,
                        None => "Lowercase letters, digits, hyphens and underscores. The restore creates it.".to_string(),
                    }}
                </p>
            </div>
            <button type="button" class="primary danger-solid"
                disabled=move || !hydrated.get() || chosen.get().is_none() || new_problem().is_some()
                    || console.selected.get().is_none() || busy.get()
                on:click=move |_| confirm.set(true)>
                "Restore"
            </button>
        </section>
        <ConfirmDialog
            open=confirm
            title=Signal::derive(move || format!("Restore into namespace {}?", chosen.get().unwrap_or_default()))
            message=Signal::derive(move || if is_new() {
                format!(
                    "Namespace {} will be created with the data from backup \u{201c}{}\u{201d}. Check the permissions of the folders afterwards.",
                    chosen.get().unwrap_or_default(),
                    console.selected.get().map(|b| b.name).unwrap_or_default()
                )
            } else {
                format!(
                    "All existing data of namespace {} will be deleted and replaced with the data from backup \u{201c}{}\u{201d}. Check the permissions of the folders afterwards.",
                    chosen.get().unwrap_or_default(),
                    console.selected.get().map(|b| b.name).unwrap_or_default()
                )
            })
            confirm_label="Restore"
            danger=true
            on_confirm=Callback::new(move |()| start())
        />
    }
}

#[component]
fn BackupList(list: Vec<BackupInfo>) -> impl IntoView {
    if list.is_empty() {
        return view! {
            <p class="empty">"There are no backups yet. Create one with Create New Backup, or upload a backup file with Upload Backup."</p>
        }
        .into_any();
    }
    view! {
        <table class="listing backups">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Namespace"</th>
                    <th scope="col">"Creation Date"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Size"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {list.into_iter().map(|backup| view! { <BackupRow backup/> }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn BackupRow(backup: BackupInfo) -> impl IntoView {
    let console = expect_context::<Console>();
    let hydrated = use_hydrated();
    let confirm_delete = RwSignal::new(false);
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
    let remove = {
        let (id, name) = (backup.id.clone(), backup.name.clone());
        move || {
            let (id, name) = (id.clone(), name.clone());
            leptos::task::spawn_local(async move {
                match delete_backup(id).await {
                    Ok(_) => {
                        console.toasts.success(format!("Backup {name} deleted"));
                        console.selected.set(None);
                        console.refresh();
                    }
                    Err(error) => console.toasts.error(error.to_string()),
                }
            });
        }
    };
    let status = match backup.status {
        BackupStatus::InProgress => "In progress",
        BackupStatus::Completed => "Completed",
        BackupStatus::Failed => "Failed",
        BackupStatus::Damaged => "Damaged",
    };
    let origin = match backup.origin {
        crate::types::BackupOrigin::Created => "",
        crate::types::BackupOrigin::Uploaded => " (uploaded)",
    };
    let select_click = select.clone();
    let name = backup.name.clone();
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
            <td>{backup.name.clone()}{origin}</td>
            <td>{backup.namespace.clone()}</td>
            <td><LocalTime at=backup.created_at/></td>
            <td title=backup.error.clone().unwrap_or_default()>
                <span class=format!("status status-{}", status.to_lowercase().replace(' ', "-"))>{status}</span>
            </td>
            <td>{backup.size.map(crate::text::size).unwrap_or_default()}</td>
            <td class="actions" on:click=|ev| ev.stop_propagation()>
                {completed.then(|| view! {
                    <a class="button icon" href=format!("/api/backups/download?id={id}") download
                        aria-label=format!("Download backup {name}") title="Download">
                        <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
                            <path d="M12 4v11"/><path d="M7 10l5 5 5-5"/><path d="M5 20h14"/>
                        </svg>
                    </a>
                })}
                <button type="button" class="icon danger" disabled=move || !hydrated.get()
                    aria-label=format!("Delete backup {}", backup.name) title="Delete"
                    on:click=move |_| confirm_delete.set(true)>
                    <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
                        <path d="M4 7h16"/><path d="M10 11v6"/><path d="M14 11v6"/><path d="M6 7l1 13h10l1-13"/><path d="M9 7V4h6v3"/>
                    </svg>
                </button>
                <ConfirmDialog
                    open=confirm_delete
                    title=format!("Delete backup {}?", backup.name)
                    message="The backup file is deleted from the server. This cannot be undone."
                    confirm_label="Delete"
                    danger=true
                    on_confirm=Callback::new(move |()| remove())
                />
            </td>
        </tr>
    }
}
