//! Upload Backup: a file, a name (the file's by default), a namespace and, for a file
//! encrypted with a passphrase, the passphrase; sent with its progress, then listed (the
//! server checks it completely first).

use super::*;

/// The file name without `.zip`, as the default backup name.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn name_of_file(file: &str) -> String {
    validate::name_from_file(file)
        .chars()
        .take(validate::BACKUP_NAME_MAX)
        .collect()
}

/// Sends `file` to be listed under `label` for `namespace`, with its progress in `sent`, and
/// says how it went. Whether the server accepted it.
#[cfg(feature = "hydrate")]
async fn send(
    console: Console,
    file: web_sys::File,
    (namespace, label, passphrase): (String, String, Option<String>),
    sent: RwSignal<Option<u32>>,
) -> bool {
    use crate::text::percent_encode;
    use crate::types::{ProblemMessage, Uploaded};

    let url = format!(
        "/api/v1/uploads?namespace={}&name={}&file_name={}",
        percent_encode(&namespace, b""),
        percent_encode(label.trim(), b""),
        percent_encode(&file.name(), b""),
    );
    sent.set(Some(0));
    let headers: Vec<(&str, String)> = passphrase
        .iter()
        .map(|secret| ("Backup-Passphrase", percent_encode(secret, b"")))
        .collect();
    let answer = crate::components::files::upload(&url, file, &headers, move |done, total| {
        if total > 0.0 {
            sent.set(Some((done * 100.0 / total) as u32));
        }
    })
    .await;
    sent.set(None);
    let Some(answer) = answer else {
        console
            .toasts
            .error("The upload did not reach the server. Check your connection and try again.");
        return false;
    };
    if answer.status != 201 {
        let reason = serde_json::from_str::<ProblemMessage>(&answer.body)
            .map(|problem| problem.message)
            .unwrap_or_else(|_| {
                format!("The server refused the upload (status {}).", answer.status)
            });
        console
            .toasts
            .error(format!("The upload was refused: {reason}"));
        return false;
    }
    match serde_json::from_str::<Uploaded>(&answer.body) {
        Ok(uploaded) => {
            console.toasts.success(format!(
                "Backup {} uploaded. Restore it to use its data.",
                uploaded.backup.name
            ));
            if let Some(note) = uploaded.note {
                console.toasts.info(note);
            }
        }
        Err(_) => console.toasts.error(
            "The upload was accepted, but the server's answer could not be read. Reload the page to see the backup.",
        ),
    }
    true
}

#[component]
pub(super) fn UploadSection(namespaces: Signal<Vec<NamespaceInfo>>) -> impl IntoView {
    let console = expect_context::<Console>();
    let hydrated = use_hydrated();
    let chosen = RwSignal::new(None::<String>);
    let file_name = RwSignal::new(None::<String>);
    let name = RwSignal::new(String::new());
    // The chosen file is encrypted with a passphrase, which is asked for.
    let locked = RwSignal::new(false);
    let passphrase = RwSignal::new(String::new());
    // How much of the file has been sent, in percent, while it is being sent.
    let sent = RwSignal::new(None::<u32>);
    let input = NodeRef::<leptos::html::Input>::new();
    // A blank name is no obstacle: the server lists the backup under the file's name then.
    let ready = move || {
        file_name.get().is_some()
            && chosen.get().is_some()
            && (!locked.get() || !passphrase.get().is_empty())
    };
    let browse = move || {
        if let Some(input) = input.get() {
            input.click();
        }
    };
    let on_file = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(picked) = input
            .get()
            .and_then(|input| crate::components::files::chosen(&input))
        {
            name.set(name_of_file(&picked.name()));
            file_name.set(Some(picked.name()));
            locked.set(false);
            passphrase.set(String::new());
            leptos::task::spawn_local(async move {
                let needs = crate::components::files::needs_passphrase(&picked).await;
                // Only for the file still chosen.
                if file_name.get_untracked().as_deref() == Some(picked.name().as_str()) {
                    locked.set(needs);
                }
            });
        }
    };
    let upload = Action::new_unsync_local(move |(namespace, label): &(String, String)| {
        let (namespace, label) = (namespace.clone(), label.clone());
        async move {
            #[cfg(feature = "hydrate")]
            {
                let Some(file) = input
                    .get_untracked()
                    .and_then(|input| crate::components::files::chosen(&input))
                else {
                    return;
                };
                let secret = passphrase.get_untracked();
                let secret = (locked.get_untracked() && !secret.is_empty()).then_some(secret);
                if send(console, file, (namespace, label, secret), sent).await {
                    file_name.set(None);
                    name.set(String::new());
                    locked.set(false);
                    passphrase.set(String::new());
                    // The same file may be chosen again: the input must notice it.
                    if let Some(input) = input.get_untracked() {
                        input.set_value("");
                    }
                    console.refresh();
                }
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = (namespace, label, console, sent, locked, passphrase);
        }
    });
    let confirm = move |_| {
        if let Some(namespace) = chosen.get_untracked() {
            upload.dispatch_local((namespace, name.get_untracked()));
        }
    };
    view! {
        <section class="card" aria-labelledby="upload-heading">
            <h2 id="upload-heading">"Upload Backup"</h2>
            // The file input itself stays out of sight and out of the accessibility tree:
            // Browse (or Change File) opens it.
            <input node_ref=input type="file" accept=".zip,.age,application/zip" class="visually-hidden" tabindex="-1"
                aria-hidden="true" on:change=on_file/>
            <div class="file-field">
                <span class="label" id="upload-file-label">"Backup file"</span>
                {move || match file_name.get() {
                    None => view! {
                        <button type="button" aria-describedby="upload-file-label" disabled=move || !hydrated.get() on:click=move |_| browse()>"Browse"</button>
                    }.into_any(),
                    Some(file) => view! {
                        <p class="chosen-file">
                            <span class="file-name">{file}</span>
                            " "
                            <button type="button" class="link" on:click=move |_| browse()>"Change File"</button>
                        </p>
                    }.into_any(),
                }}
            </div>
            <div class="field">
                <label for="upload-name">"Name"</label>
                <input id="upload-name" type="text" maxlength=validate::BACKUP_NAME_MAX prop:value=name
                    placeholder=move || file_name.get().map(|file| name_of_file(&file)).unwrap_or_default()
                    on:input=move |ev| name.set(event_target_value(&ev))/>
            </div>
            <Show when=move || locked.get()>
                <div class="field">
                    <label for="upload-passphrase">"Passphrase"</label>
                    <PassphraseInput id="upload-passphrase" value=passphrase described_by="upload-passphrase-hint"/>
                    <p id="upload-passphrase-hint" class="hint">
                        "This file is encrypted with a passphrase: the server opens it with the passphrase to check it before it is listed. Restoring it asks for the passphrase again."
                    </p>
                </div>
            </Show>
            <NamespaceChoice namespaces chosen group="upload-namespace"/>
            <Show when=move || sent.get().is_some()>
                <p role="status">{move || format!("Uploading… {}%", sent.get().unwrap_or(0))}</p>
                <progress max="100" value=move || sent.get().unwrap_or(0).to_string() aria-label="Upload"></progress>
            </Show>
            <button type="button" class="primary"
                disabled=move || !hydrated.get() || !ready() || upload.pending().get()
                on:click=confirm>
                "Confirm"
            </button>
        </section>
    }
}
