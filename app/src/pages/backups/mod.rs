//! `/admin/backups`: Administration → Backup and Restore. Create a backup of a namespace,
//! upload a backup file, download, delete, and restore a backup into a namespace. The labels,
//! the rules for what is enabled, the confirmations and the notifications follow the product
//! page word for word.
//!
//! This file holds the page, what its parts share and the job being followed; each section
//! has a file: `create`, `upload`, `restore`, the list (`list`), the restore points and
//! their undo (`points`) and `schedules`.

mod create;
#[cfg(feature = "hydrate")]
mod events;
mod list;
mod points;
mod restore;
mod schedules;
mod upload;

use self::create::CreateSection;
use self::list::{BackupList, BackupSearch, DeleteConfirmation};
use self::points::{RestorePoints, UndoLastRestore};
use self::restore::RestoreSection;
use self::schedules::SchedulesSection;
use self::upload::UploadSection;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::backups::{
    create_backup, delete_backup, get_job, list_backup_page, restore_backup,
};
use crate::api::explorer::list_namespaces;
use crate::components::browser::sleep;
use crate::components::dialog::{ConfirmDialog, FormDialog};
use crate::components::errors::ErrorPanel;
use crate::components::hydration::use_hydrated;
use crate::components::session::AdminOnly;
use crate::components::time::LocalTime;
use crate::components::toast::{Toasts, use_toasts, when_done};
use crate::error::AppError;
use crate::types::{BackupInfo, BackupListPage, BackupStatus, JobInfo, JobStatus, NamespaceInfo};
use crate::validate;

/// Which section below the two buttons is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Section {
    Closed,
    Create,
    Upload,
    Restore,
}

/// What the page shares between its parts.
#[derive(Clone, Copy)]
pub(super) struct Console {
    section: RwSignal<Section>,
    /// Bumped to read the list again.
    version: RwSignal<u32>,
    /// What the list is searched for, and the first of its backups shown.
    search: RwSignal<String>,
    offset: RwSignal<usize>,
    /// The backup row selected for a restore.
    selected: RwSignal<Option<BackupInfo>>,
    /// The backup (id, name) whose deletion is being confirmed, whether its confirmation is
    /// open, and the deletion. Kept here and shown beside the list, not in its row: a refresh
    /// of the list rebuilds the rows, and neither the open confirmation nor a deletion under
    /// way may be rebuilt with them.
    deleting: RwSignal<Option<(String, String)>>,
    confirm_delete: RwSignal<bool>,
    remove: Action<(String, String), Result<String, AppError>>,
    /// The job being followed, with its progress.
    job: RwSignal<Option<JobInfo>>,
    /// The namespace whose folder permissions should be checked after a restore.
    restored: RwSignal<Option<String>>,
    /// The report of the restore that just finished, with its job's id.
    report: RwSignal<Option<(String, crate::types::RestoreReport)>>,
    /// The restore point a namespace is being switched back to.
    undo: RwSignal<Option<crate::types::RestorePoint>>,
    toasts: Toasts,
}

impl Console {
    fn refresh(&self) {
        self.version.update(|v| *v += 1);
    }

    /// Says how a followed job ended: `success`, or `failed` with the job's reason. Whether
    /// it succeeded.
    fn tell_end(&self, ended: &JobInfo, success: String, failed: &str) -> bool {
        if ended.status == JobStatus::Succeeded {
            self.toasts.success(success);
            true
        } else {
            self.toasts.error(format!(
                "{failed}: {}",
                ended.error.clone().unwrap_or_default()
            ));
            false
        }
    }

    /// Follows a job until it ends, with a notification saying `message` and, below it,
    /// `doing` and what the job does and how far it is ("writing items — 40%"); returns how
    /// it ended.
    async fn follow(self, message: String, doing: &'static str, mut job: JobInfo) -> JobInfo {
        let followed = self.job;
        // One progress for the whole job, which only grows (a phase that starts does not
        // take it back to 0).
        let reached = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let percent = Signal::derive(move || {
            followed.with(|job| {
                job.as_ref().map(|job| {
                    let now = job.percent();
                    reached
                        .fetch_max(now, std::sync::atomic::Ordering::Relaxed)
                        .max(now)
                })
            })
        });
        let progress = crate::components::toast::Progress {
            words: doing,
            percent,
            step: Signal::derive(move || {
                followed.with(|job| {
                    job.as_ref()
                        .map(|job| job.phase.clone())
                        .unwrap_or_default()
                })
            }),
        };
        let notification = self.toasts.progress(message, progress);
        let shown = now_ms();
        self.job.set(Some(job.clone()));
        // Live events from the server; when they cannot be had (or break off), asking for
        // the job every 400 ms instead.
        #[cfg(feature = "hydrate")]
        if events::watch_job(self.job, &job.id).await {
            // The end as the events told it; once more in full (a restore's report).
            match get_job(job.id.clone()).await {
                Ok(now) => job = now,
                Err(_) => job = self.job.get_untracked().unwrap_or(job),
            }
            self.job.set(Some(job.clone()));
        }
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
        // A job that ends at once still shows what it did, long enough to read.
        let left = JOB_NOTICE_AT_LEAST_MS - (now_ms() - shown);
        if left > 0.0 {
            sleep(left as u32).await;
        }
        self.toasts.dismiss(notification);
        self.job.set(None);
        self.refresh();
        job
    }
}

/// How long a job's notification shows at least (ms), however fast the job ends.
const JOB_NOTICE_AT_LEAST_MS: f64 = 2000.0;

/// Milliseconds on the browser's clock (the server never follows a job).
fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    return js_sys::Date::now();
    #[cfg(not(feature = "hydrate"))]
    0.0
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
        search: RwSignal::new(String::new()),
        offset: RwSignal::new(0),
        selected: RwSignal::new(None),
        deleting: RwSignal::new(None),
        confirm_delete: RwSignal::new(false),
        remove: Action::new(|(id, name): &(String, String)| {
            let (id, name) = (id.clone(), name.clone());
            async move { delete_backup(id).await.map(|_| name) }
        }),
        job: RwSignal::new(None),
        restored: RwSignal::new(None),
        undo: RwSignal::new(None),
        report: RwSignal::new(None),
        toasts: use_toasts(),
    };
    provide_context(console);
    let backups = Resource::new(
        move || {
            (
                console.version.get(),
                console.search.get(),
                console.offset.get(),
            )
        },
        |(_, search, offset)| list_backup_page(search, offset),
    );
    // Read again whenever a section opens: namespaces made elsewhere meanwhile appear.
    let namespaces = Resource::new(move || console.section.get(), |_| list_namespaces());
    // A selected backup that is listed as no longer completed (found damaged, being
    // deleted) is selected no longer; one on another page of the list stays selected.
    Effect::new(move |_| {
        let Some(Ok(page)) = backups.get() else {
            return;
        };
        if let Some(selected) = console.selected.get_untracked()
            && page
                .items
                .iter()
                .any(|b| b.id == selected.id && b.status != BackupStatus::Completed)
        {
            console.selected.set(None);
        }
    });
    // The list stays true while jobs run elsewhere and other administrators work: it is read
    // again as soon as the server's job events say a job started or changed (at most once a
    // second), and every five seconds for what no job does (an upload, a deletion); it is
    // redrawn only when it changed.
    let job_events = RwSignal::new(0u64);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(source) = events::listen_to_jobs(job_events) {
            on_cleanup(move || source.close());
        }
    });
    // One watcher at a time: each new reading (another page, another search) ends the last.
    let watcher = StoredValue::new(0u64);
    Effect::new(move |_| {
        let Some(shown) = backups.get().and_then(Result::ok) else {
            return;
        };
        let version = console.version.get_untracked();
        watcher.update_value(|w| *w += 1);
        let me = watcher.get_value();
        leptos::task::spawn_local(async move {
            loop {
                let seen = job_events.try_get_untracked().unwrap_or(0);
                sleep(1000).await;
                let mut waited = 1000;
                while waited < 5000 && job_events.try_get_untracked() == Some(seen) {
                    sleep(250).await;
                    waited += 250;
                }
                // The page is gone, or the list was read again meanwhile (that reading
                // watches from now on).
                if console.version.try_get_untracked() != Some(version)
                    || watcher.try_get_value() != Some(me)
                {
                    return;
                }
                let (search, offset) = (
                    console.search.try_get_untracked().unwrap_or_default(),
                    console.offset.try_get_untracked().unwrap_or_default(),
                );
                if let Ok(now) = list_backup_page(search, offset).await
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
        <Show when=move || console.restored.get().is_some()>
            <div class="notice" role="status">
                {move || format!(
                    "Namespace {} was restored. Check the permissions of its folders: they are those of the backup.",
                    console.restored.get().unwrap_or_default()
                )}
                " "
                <a href=move || format!("/explorer/{}", console.restored.get().unwrap_or_default())>"Open it in the explorer"</a>
                " "
                {move || console.restored.get().map(|namespace| view! { <UndoLastRestore namespace/> })}
                {move || console.report.get().map(|(job, report)| view! {
                    <p class="report">
                        {format!("Report: {}.", report.summary())}
                        " "
                        <a href=crate::types::report_path(&job) download>"Download the report"</a>
                    </p>
                    {(!report.warnings.is_empty()).then(|| view! {
                        <ul class="warnings">{report.warnings.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
                    })}
                })}
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
            <BackupSearch/>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || backups.get().map(|result| result.map(|page| view! { <BackupList page/> }))}
                </ErrorBoundary>
            </Transition>
            <DeleteConfirmation/>
        </section>
        <RestorePoints/>
        <SchedulesSection namespaces=namespace_list/>
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

/// A passphrase's input: hidden as it is typed, never offered by the browser's autofill
/// except as a new one (`new`), at most [`validate::PASSPHRASE_MAX`] characters.
#[component]
pub(super) fn PassphraseInput(
    id: &'static str,
    value: RwSignal<String>,
    described_by: &'static str,
    #[prop(optional)] new: bool,
    #[prop(optional)] on_enter: Option<Callback<()>>,
) -> impl IntoView {
    view! {
        <input id=id type="password" autocomplete=if new { "new-password" } else { "off" }
            maxlength=validate::PASSPHRASE_MAX aria-describedby=described_by
            prop:value=value on:input=move |ev| value.set(event_target_value(&ev))
            on:keydown=move |ev| if ev.key() == "Enter" && let Some(enter) = on_enter { enter.run(()) }/>
    }
}

/// A choice of one namespace, as radio buttons.
#[component]
pub(super) fn NamespaceChoice(
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
