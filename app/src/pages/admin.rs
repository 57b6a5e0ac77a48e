//! Administration pages.

use leptos::prelude::*;
use leptos_meta::Title;

/// `/admin/backups`: create, manage and restore namespace backups.
#[component]
pub fn BackupAndRestorePage() -> impl IntoView {
    view! {
        <Title text="Backup and Restore"/>
        <p class="breadcrumb">"Administration"</p>
        <h1>"Backup and Restore"</h1>
        <div class="notice">
            <strong>"Coming soon."</strong>
            " Here you will create, download, upload, delete and restore backups of whole namespaces."
        </div>
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
