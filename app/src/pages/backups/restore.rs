//! Restore: the selected backup into a listed namespace or a new one, confirmed, then the
//! job followed to its end.

use super::*;

/// Restores `backup` into namespace `target` and follows the job to its end, with the
/// product page's notifications.
async fn run_restore(
    console: Console,
    backup: BackupInfo,
    target: String,
    passphrase: Option<String>,
) {
    console.restored.set(None);
    console.report.set(None);
    match restore_backup(backup.id.clone(), target.clone(), passphrase).await {
        Ok(job) => {
            let message = format!(
                "Restoring backup {} into namespace {target}...",
                backup.name
            );
            let ended = console.follow(message, "", job).await;
            let migrated = ended
                .report
                .as_ref()
                .and_then(|report| report.migrated)
                .map(|m| format!(" Its content was {}.", m.words()))
                .unwrap_or_default();
            let success = format!(
                "Backup {} restored into namespace {target}. Check the permissions of its folders.{migrated}",
                backup.name
            );
            if console.tell_end(&ended, success, "The restore failed") {
                console.report.set(
                    ended
                        .report
                        .clone()
                        .map(|report| (ended.id.clone(), report)),
                );
                console.restored.set(Some(target));
                console.selected.set(None);
                console.section.set(Section::Closed);
            }
        }
        Err(error) => console.toasts.error(error.to_string()),
    }
}

#[component]
pub(super) fn RestoreSection(namespaces: Signal<Vec<NamespaceInfo>>) -> impl IntoView {
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
            .and_then(|name| validate::namespace_name(&name).err())
    };
    let confirm = RwSignal::new(false);
    // A backup encrypted with a passphrase: what is typed, and the passphrase unlocked with
    // (the preview and the restore use it). Both go when another backup is selected.
    let typed_passphrase = RwSignal::new(String::new());
    let passphrase = RwSignal::new(None::<String>);
    let selected_id = Memo::new(move |_| {
        console
            .selected
            .with(|backup| backup.as_ref().map(|backup| backup.id.clone()))
    });
    Effect::new(move |_| {
        selected_id.track();
        typed_passphrase.set(String::new());
        passphrase.set(None);
    });
    let needs_passphrase = move || {
        console
            .selected
            .with(|backup| backup.as_ref().is_some_and(BackupInfo::needs_passphrase))
    };
    let unlock = move || {
        let typed = typed_passphrase.get_untracked();
        if !typed.is_empty() {
            passphrase.set(Some(typed));
        }
    };
    let restore = Action::new_unsync(
        move |(backup, target, passphrase): &(BackupInfo, String, Option<String>)| {
            run_restore(console, backup.clone(), target.clone(), passphrase.clone())
        },
    );
    // A backup made by a newer nsbackup, or encrypted to a key this server lacks, cannot be
    // restored here: the reason stands by the button.
    let refused = move || console.selected.get().and_then(|backup| backup.refusal());
    let start = move || {
        if let (Some(backup), Some(target)) =
            (console.selected.get_untracked(), chosen.get_untracked())
        {
            restore.dispatch((backup, target, passphrase.get_untracked()));
        }
    };
    view! {
        <section class="card" aria-labelledby="restore-heading">
            <h2 id="restore-heading">"Select Namespace"</h2>
            <p>{move || console.selected.get().map(|b| format!("Restore backup \u{201c}{}\u{201d} (namespace {}) into:", b.name, b.namespace))}</p>
            <NamespaceChoice namespaces chosen group="restore-namespace"/>
            <div class="field">
                <label for="restore-new-namespace">"Or into a new namespace"</label>
                <input id="restore-new-namespace" type="text" maxlength=validate::NAMESPACE_NAME_MAX autocomplete="off"
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
            <Show when=needs_passphrase>
                <div class="field">
                    <label for="restore-passphrase">"Passphrase"</label>
                    <div class="inline-field">
                        <PassphraseInput id="restore-passphrase" value=typed_passphrase described_by="restore-passphrase-hint"
                            on_enter=Callback::new(move |()| unlock())/>
                        <button type="button" disabled=move || typed_passphrase.get().is_empty()
                            on:click=move |_| unlock()>"Unlock"</button>
                    </div>
                    <p id="restore-passphrase-hint" class="hint">
                        "This backup is encrypted with a passphrase: enter it to see what the restore does, and to restore it."
                    </p>
                </div>
            </Show>
            <RestorePreviewPanel chosen new_problem=Signal::derive(new_problem)
                passphrase=Signal::derive(move || if needs_passphrase() { passphrase.get().map(Some) } else { Some(None) })/>
            <button type="button" class="primary danger-solid"
                disabled=move || !hydrated.get() || chosen.get().is_none() || new_problem().is_some()
                    || (needs_passphrase() && passphrase.get().is_none())
                    || console.selected.get().is_none() || restore.pending().get() || refused().is_some()
                aria-describedby="restore-refusal"
                on:click=move |_| confirm.set(true)>
                "Restore"
            </button>
            <span id="restore-refusal" class="hint error">{move || refused().map(|why| format!("This backup {why}."))}</span>
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

/// What the restore of the selected backup into the chosen namespace will do, worked out by
/// the server as soon as both are chosen.
#[component]
fn RestorePreviewPanel(
    chosen: RwSignal<Option<String>>,
    new_problem: Signal<Option<String>>,
    /// The passphrase to preview with: `Some(None)` for a backup that needs none, `None`
    /// while one is needed and not given yet.
    passphrase: Signal<Option<Option<String>>>,
) -> impl IntoView {
    let console = expect_context::<Console>();
    let asked = move || {
        let backup = console.selected.get()?;
        let target = chosen.get().filter(|_| new_problem.get().is_none())?;
        let passphrase = passphrase.get()?;
        Some((backup.id, target, passphrase))
    };
    // The same, read without tracking (from a task).
    let asked_now = move || {
        let backup = console.selected.get_untracked()?;
        let target = chosen
            .get_untracked()
            .filter(|_| new_problem.get_untracked().is_none())?;
        let passphrase = passphrase.get_untracked()?;
        Some((backup.id, target, passphrase))
    };
    // The answer for the latest choice only: a preview still running for an earlier one
    // (a large namespace) never holds up the answer for the one chosen now.
    type Asked = (String, String, Option<String>);
    type Answer = (Asked, Result<crate::types::RestorePreview, AppError>);
    let answer = RwSignal::new(None::<Answer>);
    // While the server works it out, how far it is, asked for every half second.
    let progress = RwSignal::new(None::<crate::types::PreviewProgress>);
    Effect::new(move |_| {
        let Some(key) = asked() else {
            return;
        };
        progress.set(None);
        let (id, target, passphrase) = key.clone();
        let still = move |key: &Asked| asked_now().as_ref() == Some(key);
        let asking = key.clone();
        leptos::task::spawn_local(async move {
            let result = crate::api::backups::preview_restore(id, target, passphrase).await;
            if still(&asking) {
                answer.set(Some((asking, result)));
            }
        });
        leptos::task::spawn_local(async move {
            loop {
                sleep(500).await;
                let answered = answer
                    .try_with_untracked(|a| a.as_ref().is_some_and(|(k, _)| *k == key))
                    .unwrap_or(true);
                if answered || !still(&key) {
                    break;
                }
                if let Ok(Some(now)) =
                    crate::api::backups::preview_progress(key.0.clone(), key.1.clone()).await
                    && still(&key)
                {
                    progress.set(Some(now));
                }
            }
        });
    });
    let working = move || {
        let told = move || {
            progress.get().filter(|p| p.total > 0).map(|p| {
                view! {
                    " "
                    <progress max=p.total value=p.done aria-label="Restore preview"></progress>
                    {format!(" {} of {} items compared", p.done.min(p.total), p.total)}
                }
            })
        };
        view! {
            <p class="muted preview-progress" role="status">
                "Working out what this restore does…" {told}
            </p>
        }
    };
    let changes = |label: &'static str, changes: crate::types::Changes| {
        let named = |what: &'static str, count: u64, names: Vec<String>| {
            (count > 0).then(|| {
                let more = count.saturating_sub(names.len() as u64);
                view! {
                    <details>
                        <summary>{format!("{what}: {count}")}</summary>
                        <p class="names">{names.join(", ")}{(more > 0).then(|| format!(" and {more} more"))}</p>
                    </details>
                }
            })
        };
        view! {
            <li>
                <strong>{label}</strong>
                {format!(
                    ": {} added, {} removed, {} changed, {} as they are",
                    changes.added, changes.removed, changes.changed, changes.unchanged
                )}
                {named("Added", changes.added, changes.added_names)}
                {named("Removed", changes.removed, changes.removed_names)}
                {named("Changed", changes.changed, changes.changed_names)}
            </li>
        }
    };
    view! {
        <div class="restore-preview" aria-live="polite">
            {move || {
                let key = asked()?;
                let Some((_, answer)) = answer.get().filter(|(k, _)| *k == key) else {
                    return Some(working().into_any());
                };
                Some(match answer {
                    Err(error) => view! { <p class="hint error">{error.to_string()}</p> }.into_any(),
                    Ok(p) => view! {
                        <h3>"What this restore does"</h3>
                        {(!p.target_exists).then(|| view! { <p>{format!("Namespace {} is created.", p.namespace)}</p> })}
                        <ul>
                            {changes("Folders", p.folders)}
                            {changes("Items", p.items)}
                        </ul>
                        {p.changed_since_backup.filter(|n| *n > 0).map(|n| view! {
                            <p class="notice">{format!("{n} item(s) changed since this backup; the restore discards those changes.")}</p>
                        })}
                        {(!p.migrations.is_empty()).then(|| view! {
                            <p>"The backup is of an older version; these migrations run on it:"</p>
                            <ul>{p.migrations.into_iter().map(|step| view! { <li>{step}</li> }).collect_view()}</ul>
                        })}
                        {(!p.unknown_principals.is_empty()).then(|| view! {
                            <p class="notice">
                                {format!(
                                    "Its folder permissions name users or roles this installation does not have: {}. They are kept, and grant nothing until such a user or role exists.",
                                    p.unknown_principals.join(", ")
                                )}
                            </p>
                        })}
                    }.into_any(),
                })
            }}
        </div>
    }
}
