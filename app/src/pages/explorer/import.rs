//! Importing an export file into the folder in view.

use super::*;

/// Import of an export file into the folder in view. A name clash is shown with the choice
/// to import a copy under a free name; nothing is ever overwritten.
#[component]
pub(super) fn ImportForm(namespace: String, folder: Option<String>) -> impl IntoView {
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
                    #[cfg(feature = "hydrate")]
                    crate::components::files::read_chosen_text(ev, chosen, toasts);
                    #[cfg(not(feature = "hydrate"))]
                    let _ = ev;
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
