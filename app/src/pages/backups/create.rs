//! Create New Backup: a namespace and a name, confirmed, then the job followed to its end.

use super::*;

/// Starts a backup of `namespace` named `name` and follows it to its end, with the product
/// page's notifications.
async fn run_backup(console: Console, namespace: String, name: String) {
    match create_backup(namespace, name).await {
        Ok((_, job)) => {
            console.refresh();
            // One notification for the job: started, then what it does, then (replacing it)
            // how it ended.
            let ended = console
                .follow("Backup process started".into(), "Creating backup... ", job)
                .await;
            console.tell_end(
                &ended,
                "Backup process finished successfully".into(),
                "The backup failed",
            );
        }
        Err(error) => console.toasts.error(error.to_string()),
    }
}

#[component]
pub(super) fn CreateSection(namespaces: Signal<Vec<NamespaceInfo>>) -> impl IntoView {
    let console = expect_context::<Console>();
    let hydrated = use_hydrated();
    let chosen = RwSignal::new(None::<String>);
    let name = RwSignal::new(String::new());
    let confirm = RwSignal::new(false);
    let create = Action::new_unsync(move |(namespace, name): &(String, String)| {
        run_backup(console, namespace.clone(), name.clone())
    });
    let ready = move || chosen.get().is_some() && !name.get().trim().is_empty();
    let start = move || {
        if let Some(namespace) = chosen.get_untracked() {
            create.dispatch((namespace, name.get_untracked()));
        }
    };
    view! {
        <section class="card" aria-labelledby="create-heading">
            <h2 id="create-heading">"Select Namespace"</h2>
            <NamespaceChoice namespaces chosen group="backup-namespace"/>
            <div class="field">
                <label for="backup-name">"Name"</label>
                <input id="backup-name" type="text" maxlength=validate::BACKUP_NAME_MAX prop:value=name
                    on:input=move |ev| name.set(event_target_value(&ev))/>
            </div>
            <button type="button" class="primary"
                disabled=move || !hydrated.get() || !ready() || create.pending().get()
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
