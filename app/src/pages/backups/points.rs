//! Restore points: the content each restore replaced, kept for a while, and the undo that
//! switches a namespace back to one of them — from the list, or from the notice of a restore
//! that just finished. The undo says first what it discards.

use super::*;
use crate::api::backups::{check_undo, list_restore_points, list_restores, undo_restore};
use crate::types::{JobInfo, JobKind, JobStatus, RestorePoint};

#[component]
pub(super) fn RestorePoints() -> impl IntoView {
    let console = expect_context::<Console>();
    let points = Resource::new(move || console.version.get(), |_| list_restore_points());
    view! {
        <section class="card restore-points" aria-labelledby="points-heading">
            <h2 id="points-heading">"Restore Points"</h2>
            <p class="hint">"The content a restore replaced is kept for a while: switch a namespace back to it to undo the restore."</p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || points.get().map(|result| result.map(|list| view! { <PointTable list/> }))}
                </ErrorBoundary>
            </Transition>
        </section>
        <RestoreHistory/>
        <UndoFlow/>
    }
}

/// The last restores and undos: what each did, by whom, and its report.
#[component]
fn RestoreHistory() -> impl IntoView {
    let console = expect_context::<Console>();
    let restores = Resource::new(move || console.version.get(), |_| list_restores());
    view! {
        <section class="card restore-history" aria-labelledby="history-heading">
            <h2 id="history-heading">"Restore History"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || restores.get().map(|result| result.map(|list| view! { <HistoryTable list/> }))}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

#[component]
fn HistoryTable(list: Vec<JobInfo>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="empty">"Nothing was restored yet."</p> }.into_any();
    }
    view! {
        <table class="listing history">
            <thead>
                <tr>
                    <th scope="col">"Started"</th>
                    <th scope="col">"Namespace"</th>
                    <th scope="col">"What"</th>
                    <th scope="col">"By"</th>
                    <th scope="col">"Result"</th>
                    <th scope="col"><span class="visually-hidden">"Report"</span></th>
                </tr>
            </thead>
            <tbody>
                {list.into_iter().map(|job| {
                    let what = match (job.kind, &job.report) {
                        (JobKind::Undo, Some(report)) => format!("switch back to {}", report.backup_name),
                        (JobKind::Undo, None) => "switch back".to_string(),
                        (_, report) => format!(
                            "restore of backup \u{201c}{}\u{201d}",
                            job.backup_name.clone()
                                .or_else(|| report.as_ref().map(|r| r.backup_name.clone()))
                                .unwrap_or_else(|| "(deleted)".to_string())
                        ),
                    };
                    let result = match job.status {
                        JobStatus::Queued | JobStatus::Running => view! { <span>"running"</span> }.into_any(),
                        JobStatus::Failed => view! {
                            <span class="error">{format!("failed: {}", job.error.clone().unwrap_or_default())}</span>
                        }.into_any(),
                        JobStatus::Succeeded => match job.report.clone() {
                            Some(report) => view! {
                                <details>
                                    <summary>{report.summary()}</summary>
                                    {(!report.migrations.is_empty()).then(|| view! {
                                        <p>{format!("Migrated: {}", report.migrations.join("; "))}</p>
                                    })}
                                    <ul class="warnings">{report.warnings.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
                                </details>
                            }.into_any(),
                            None => view! { <span>"succeeded"</span> }.into_any(),
                        },
                    };
                    let report_link = job.report.is_some().then(|| view! {
                        <a href=crate::types::report_path(&job.id) download
                            aria-label=format!("Download the report: {what}")>"Report"</a>
                    });
                    view! {
                        <tr class="history-row">
                            <td><LocalTime at=job.created_at/></td>
                            <td>{job.namespace.clone()}</td>
                            <td>{what.clone()}</td>
                            <td>{job.started_by.clone()}</td>
                            <td>{result}</td>
                            <td class="actions">{report_link}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn PointTable(list: Vec<RestorePoint>) -> impl IntoView {
    let console = expect_context::<Console>();
    let hydrated = use_hydrated();
    if list.is_empty() {
        return view! { <p class="empty">"No restore point: nothing was restored recently."</p> }
            .into_any();
    }
    view! {
        <table class="listing points">
            <thead>
                <tr>
                    <th scope="col">"Namespace"</th>
                    <th scope="col">"Content Until"</th>
                    <th scope="col">"Replaced By"</th>
                    <th scope="col">"Holds"</th>
                    <th scope="col">"Kept Until"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {list.into_iter().map(|point| {
                    let chosen = point.clone();
                    view! {
                        <tr class="point-row">
                            <td>{point.namespace.clone()}</td>
                            <td><LocalTime at=point.replaced_at/></td>
                            <td>{point.replaced_by.clone()}</td>
                            <td>{format!(
                                "{} {}, {}",
                                point.items,
                                if point.items == 1 { "item" } else { "items" },
                                crate::text::size(point.bytes)
                            )}</td>
                            <td><LocalTime at=point.kept_until/></td>
                            <td class="actions">
                                <button type="button" disabled=move || !hydrated.get() || console.undo.get().is_some()
                                    aria-label=format!("Switch {} back to this content", point.namespace)
                                    on:click=move |_| console.undo.set(Some(chosen.clone()))>
                                    "Switch Back"
                                </button>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// The undo of the restore point in `console.undo`: what it discards is asked for, then
/// told in a confirmation; confirmed, the namespace is switched back.
#[component]
fn UndoFlow() -> impl IntoView {
    let console = expect_context::<Console>();
    let open = RwSignal::new(false);
    let message = RwSignal::new(String::new());
    let title = RwSignal::new(String::new());
    let checking = Action::new(move |point: &RestorePoint| {
        let point = point.clone();
        async move {
            check_undo(point.namespace.clone(), point.generation.clone())
                .await
                .map(|check| (point, check))
        }
    });
    Effect::new(move |_| {
        if let Some(point) = console.undo.get() {
            checking.dispatch(point);
        }
    });
    when_done(
        checking,
        move |(point, check): (RestorePoint, crate::types::UndoCheck)| {
            let discarded = match (check.changed_items, check.new_folders) {
                (0, 0) => "Nothing was changed in it since then.".to_string(),
                (items, 0) => {
                    format!("{items} item(s) created or changed since then are discarded.")
                }
                (items, folders) => format!(
                    "{items} item(s) created or changed and {folders} folder(s) created since then are discarded."
                ),
            };
            title.set(format!("Switch namespace {} back?", point.namespace));
            message.set(format!(
            "Namespace {} gets back the content it had until {} ({} items). {discarded} The content it has now is kept as a restore point, so this can be undone too.",
            point.namespace,
            point.replaced_at.format("%Y-%m-%d %H:%M:%S UTC"),
            point.items
        ));
            open.set(true);
        },
    );
    // A check that failed (the point expired meanwhile) is told by `when_done`; the flow ends.
    Effect::new(move |_| {
        if let Some(Err(_)) = checking.value().get() {
            console.undo.set(None);
        }
    });
    let switching = Action::new(move |point: &RestorePoint| {
        undo_restore(point.namespace.clone(), point.generation.clone())
    });
    when_done(switching, move |point: RestorePoint| {
        console.toasts.success(format!(
            "Namespace {} switched back to its content of {}",
            point.namespace,
            point.replaced_at.format("%Y-%m-%d %H:%M:%S UTC")
        ));
        console.restored.set(None);
        console.report.set(None);
        console.refresh();
    });
    // Closed (confirmed or not): the flow is over.
    Effect::new(move |previous: Option<bool>| {
        let now = open.get();
        if previous == Some(true) && !now {
            console.undo.set(None);
        }
        now
    });
    view! {
        <ConfirmDialog
            open
            title=Signal::derive(move || title.get())
            message=Signal::derive(move || message.get())
            confirm_label="Switch Back"
            danger=true
            on_confirm=Callback::new(move |()| {
                if let Some(point) = console.undo.get_untracked() {
                    switching.dispatch(point);
                }
            })
        />
    }
}

/// "Undo restore" in the notice of a finished restore: the namespace's newest restore point
/// is the content that restore replaced.
#[component]
pub(super) fn UndoLastRestore(namespace: String) -> impl IntoView {
    let console = expect_context::<Console>();
    let hydrated = use_hydrated();
    let find = Action::new(move |ns: &String| {
        let ns = ns.clone();
        async move {
            list_restore_points()
                .await
                .map(|points| points.into_iter().find(|point| point.namespace == ns))
        }
    });
    when_done(find, move |point: Option<RestorePoint>| match point {
        Some(point) => console.undo.set(Some(point)),
        None => console.toasts.error(
            "There is nothing to undo: the content this restore replaced is no longer kept.",
        ),
    });
    view! {
        <button type="button" disabled=move || !hydrated.get() || find.pending().get()
            on:click=move |_| { find.dispatch(namespace.clone()); }>
            "Undo Restore"
        </button>
    }
}
