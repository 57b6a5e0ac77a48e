//! Create New Backup: a namespace, a name and, if wanted, a passphrase (entered twice, with a
//! hint of its strength), confirmed, then the job followed to its end.

use super::*;

/// Starts a backup of `namespace` named `name` and follows it to its end, with the product
/// page's notifications.
async fn run_backup(console: Console, namespace: String, name: String, passphrase: Option<String>) {
    match create_backup(namespace, name, passphrase).await {
        Ok((_, job)) => {
            console.refresh();
            // One notification for the job: started, then what it does, then (replacing it)
            // how it ended. Start Backup stays disabled meanwhile.
            let ended = console
                .follow("Backup process started".into(), "Creating backup...", job)
                .await;
            let made = console.tell_end(
                &ended,
                "Backup process finished successfully".into(),
                "The backup failed",
            );
            // The form did its work: it closes, so that one more click does not make the
            // same backup again. (After a failure it stays, to try again.)
            if made {
                console.section.set(Section::Closed);
            }
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
    // Optional: with a passphrase, the backup is encrypted with it.
    let passphrase = RwSignal::new(String::new());
    let repeated = RwSignal::new(String::new());
    let passphrase_problem = move || {
        let (first, second) = (passphrase.get(), repeated.get());
        if first.is_empty() && second.is_empty() {
            return None;
        }
        match validate::passphrase_strength(&first) {
            validate::Strength::TooShort => Some(validate::Strength::TooShort.words()),
            _ if first != second => Some("The two passphrases differ."),
            _ => None,
        }
    };
    let create = Action::new_unsync(
        move |(namespace, name, passphrase): &(String, String, Option<String>)| {
            run_backup(console, namespace.clone(), name.clone(), passphrase.clone())
        },
    );
    let ready = move || {
        chosen.get().is_some() && !name.get().trim().is_empty() && passphrase_problem().is_none()
    };
    let start = move || {
        if let Some(namespace) = chosen.get_untracked() {
            let secret = passphrase.get_untracked();
            create.dispatch((
                namespace,
                name.get_untracked(),
                (!secret.is_empty()).then_some(secret),
            ));
            // A passphrase stays on the page no longer than it is needed.
            passphrase.set(String::new());
            repeated.set(String::new());
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
            <div class="field">
                <label for="backup-passphrase">"Encrypt with a passphrase"</label>
                <PassphraseInput id="backup-passphrase" value=passphrase described_by="backup-passphrase-hint" new=true/>
                <p id="backup-passphrase-hint" class="hint">
                    {move || {
                        let typed = passphrase.get();
                        if typed.is_empty() {
                            "Optional: the backup file is then unreadable without it.".to_string()
                        } else {
                            format!(
                                "{} It is not stored anywhere: without it, this backup cannot be restored.",
                                validate::passphrase_strength(&typed).words()
                            )
                        }
                    }}
                </p>
            </div>
            <Show when=move || !passphrase.get().is_empty() || !repeated.get().is_empty()>
                <div class="field">
                    <label for="backup-passphrase-repeat">"Repeat the passphrase"</label>
                    <PassphraseInput id="backup-passphrase-repeat" value=repeated described_by="backup-passphrase-problem" new=true/>
                    <p id="backup-passphrase-problem" class="hint error">
                        {move || passphrase_problem().filter(|_| !repeated.get().is_empty())}
                    </p>
                </div>
            </Show>
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
