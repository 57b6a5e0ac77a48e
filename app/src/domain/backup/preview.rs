//! What a restore will do, before it runs: the backup's records compared with the target
//! namespace's content — folders and items matched by id, contents by SHA-256 — read from
//! the archive as it streams and from the namespace in key ranges. (Not kept between
//! requests: an edit changes the answer without changing the namespace's generation.)

use std::collections::{BTreeSet, HashMap};

use sha2::{Digest, Sha256};

use super::Engine;
use super::archive::{self, ArchiveError, FolderRecord, ItemRecord};
use super::catalog::get;
use crate::domain::content::{active_generation, key_ranges};
use crate::domain::db::take_json;
use crate::domain::{DomainError, schema, users};
use crate::types::{BackupStatus, Changes, RestorePreview, Verdict};

/// A folder as compared: its name, parent and permissions.
#[derive(Clone, Debug, PartialEq, Eq)]
struct FolderSig {
    name: String,
    parent: Option<String>,
    permissions: Option<String>,
}

/// An item as compared: its place, name, kind and content's SHA-256.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ItemSig {
    name: String,
    folder: Option<String>,
    kind: String,
    sha: String,
}

fn sha(content: &str) -> String {
    Sha256::digest(content.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What restoring backup `id` into namespace `target` will do.
///
/// # Errors
///
/// [`DomainError::NotFound`] for an unknown backup, [`DomainError::Invalid`] for one that is
/// not completed, made by a newer nsbackup, or whose file is refused.
pub async fn preview(
    engine: &Engine,
    id: &str,
    target: &str,
) -> Result<RestorePreview, DomainError> {
    crate::validate::namespace_name(target).map_err(DomainError::Invalid)?;
    let backup = get(&engine.db, id).await?;
    if let Some(Verdict::Newer { .. }) = backup.verdict() {
        return Err(DomainError::Invalid(format!(
            "Backup \u{201c}{}\u{201d} was made by a newer nsbackup: it cannot be restored here. Upgrade first.",
            backup.name
        )));
    }
    if backup.status != BackupStatus::Completed {
        return Err(DomainError::Invalid(format!(
            "Backup \u{201c}{}\u{201d} is not complete, so it cannot be restored.",
            backup.name
        )));
    }
    let local = engine.store.local_file(id).await?;
    let (_, preview) = compare(engine, &backup, target, local.path()).await?;
    drop(local);
    Ok(preview)
}

/// The comparison itself, over the backup's file at `path` (which it checks completely on
/// the way, as a restore's first pass does): the archive's manifest and namespace, and the
/// preview.
///
/// # Errors
///
/// [`DomainError::Invalid`] for a file that is refused; a database error.
pub(super) async fn compare(
    engine: &Engine,
    backup: &crate::types::BackupInfo,
    target: &str,
    path: &std::path::Path,
) -> Result<(archive::Checked, RestorePreview), DomainError> {
    let id = backup.id.as_str();
    let generation = match active_generation(&engine.db, target).await {
        Ok(generation) => Some(generation),
        Err(DomainError::NotFound(_)) => None,
        Err(error) => return Err(error),
    };
    let (folders, items) = match &generation {
        Some(generation) => target_content(engine, generation).await?,
        None => (HashMap::new(), HashMap::new()),
    };
    let known_users: BTreeSet<String> = users::list(&engine.db)
        .await?
        .into_iter()
        .map(|user| user.name)
        .collect();
    let path = path.to_path_buf();
    let limits = engine.limits;
    let mut diff = Diff {
        folders,
        items,
        current: backup.schema_version == Some(crate::types::SCHEMA_VERSION),
        known_users,
        unknown: BTreeSet::new(),
        folder_changes: Changes::default(),
        item_changes: Changes::default(),
    };
    let (checked, mut diff) = tokio::task::spawn_blocking(move || {
        let checked = archive::read(&path, limits, &mut diff)?;
        Ok::<_, ArchiveError>((checked, diff))
    })
    .await
    .map_err(DomainError::stopped("the restore preview"))??;
    // What the target holds and the backup does not goes.
    for folder in std::mem::take(&mut diff.folders).into_values() {
        note(
            &mut diff.folder_changes.removed,
            &mut diff.folder_changes.removed_names,
            folder.name,
        );
    }
    for item in std::mem::take(&mut diff.items).into_values() {
        note(
            &mut diff.item_changes.removed,
            &mut diff.item_changes.removed_names,
            item.name,
        );
    }
    for names in [
        &mut diff.folder_changes.added_names,
        &mut diff.folder_changes.removed_names,
        &mut diff.folder_changes.changed_names,
        &mut diff.item_changes.added_names,
        &mut diff.item_changes.removed_names,
        &mut diff.item_changes.changed_names,
    ] {
        names.sort();
    }
    let migrations = schema::generation_steps(checked.manifest.schema_version)?
        .into_iter()
        .map(|step| format!("to schema version {}: {}", step.version, step.description))
        .collect();
    let changed_since_backup = match &generation {
        Some(generation) if backup.namespace == target => {
            let mut response = engine
                .db
                .query(
                    "RETURN count(SELECT VALUE id FROM item:[$gen, NONE]..[$gen, {}]
                         WHERE updated_at > <datetime>$since)",
                )
                .bind(("gen", generation.clone()))
                .bind(("since", backup.created_at.to_rfc3339()))
                .await?;
            take_json::<Option<u64>>(&mut response, 0)?
        }
        _ => None,
    };
    let preview = RestorePreview {
        backup: id.to_string(),
        namespace: target.to_string(),
        target_exists: generation.is_some(),
        folders: diff.folder_changes,
        items: diff.item_changes,
        unknown_principals: diff.unknown.into_iter().collect(),
        migrations,
        changed_since_backup,
    };
    Ok((checked, preview))
}

/// Counts one change and names it, while fewer than [`Changes::NAMES`] are named.
fn note(count: &mut u64, names: &mut Vec<String>, name: String) {
    *count += 1;
    if names.len() < Changes::NAMES {
        names.push(name);
    }
}

type Content = (HashMap<String, FolderSig>, HashMap<String, ItemSig>);

/// The folders and items of `generation`, as compared.
async fn target_content(engine: &Engine, generation: &str) -> Result<Content, DomainError> {
    #[derive(serde::Deserialize)]
    struct FolderRow {
        id: String,
        parent: Option<String>,
        name: String,
        permissions: Option<serde_json::Value>,
    }
    #[derive(serde::Deserialize)]
    struct ItemRow {
        id: String,
        folder: Option<String>,
        kind: String,
        name: String,
        content: String,
    }
    let db = &engine.db;
    let mut response = db
        .query(
            "SELECT id[1] AS id, parent, name, permissions FROM folder:[$gen, NONE]..[$gen, {}];
             RETURN count(SELECT VALUE id FROM item:[$gen, NONE]..[$gen, {}]);",
        )
        .bind(("gen", generation.to_string()))
        .await?;
    let rows: Vec<FolderRow> = take_json(&mut response, 0)?;
    let total: Option<u64> = take_json(&mut response, 1)?;
    let folders = rows
        .into_iter()
        .map(|row| {
            let sig = FolderSig {
                name: row.name,
                parent: row.parent,
                permissions: row.permissions.map(|p| p.to_string()),
            };
            (row.id, sig)
        })
        .collect();
    let mut items = HashMap::new();
    for (from, to) in key_ranges(total.unwrap_or(0)) {
        let mut response = db
            .query("SELECT id[1] AS id, folder, kind, name, content FROM item:[$gen, $from]..[$gen, $to]")
            .bind(("gen", generation.to_string()))
            .bind(("from", from))
            .bind(("to", to))
            .await?;
        let rows: Vec<ItemRow> = take_json(&mut response, 0)?;
        for row in rows {
            let sig = ItemSig {
                sha: sha(&row.content),
                name: row.name,
                folder: row.folder,
                kind: row.kind,
            };
            items.insert(row.id, sig);
        }
    }
    Ok((folders, items))
}

/// The comparison, fed by the archive reader: every record of the backup is matched with
/// the target's by id and taken out of the target's maps; what is left there at the end is
/// removed by the restore.
struct Diff {
    folders: HashMap<String, FolderSig>,
    items: HashMap<String, ItemSig>,
    /// Whether the backup is of the current schema version (so that permissions compare
    /// as they are stored; an older one's are migrated first, and compare by name only).
    current: bool,
    known_users: BTreeSet<String>,
    unknown: BTreeSet<String>,
    folder_changes: Changes,
    item_changes: Changes,
}

impl Diff {
    /// Notes the principals of `permissions` that this installation does not have.
    fn principals(&mut self, permissions: &serde_json::Value) {
        let Some(entries) = permissions.as_array() else {
            return;
        };
        for entry in entries {
            // Version 1 kept `KIND:NAME:ACCESS`; later versions a structured principal.
            let (kind, name) = match entry {
                serde_json::Value::String(text) => {
                    let mut parts = text.splitn(3, ':');
                    (
                        parts.next().unwrap_or_default().to_string(),
                        parts.next().unwrap_or_default().to_string(),
                    )
                }
                other => (
                    other["principal"]["kind"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    other["principal"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                ),
            };
            let known = match kind.as_str() {
                "user" => self.known_users.contains(&name),
                "role" => matches!(name.as_str(), "admin" | "modeler"),
                _ => true,
            };
            if !known {
                self.unknown.insert(format!("{kind} {name}"));
            }
        }
    }
}

impl archive::Visitor for Diff {
    fn folder(&mut self, folder: FolderRecord) -> Result<(), ArchiveError> {
        if let Some(permissions) = &folder.permissions {
            self.principals(permissions);
        }
        let changes = &mut self.folder_changes;
        match self.folders.remove(&folder.id) {
            None => note(&mut changes.added, &mut changes.added_names, folder.name),
            Some(there) => {
                let same = there.name == folder.name
                    && there.parent == folder.parent
                    && (!self.current
                        || there.permissions == folder.permissions.as_ref().map(|p| p.to_string()));
                if same {
                    changes.unchanged += 1;
                } else {
                    note(
                        &mut changes.changed,
                        &mut changes.changed_names,
                        folder.name,
                    );
                }
            }
        }
        Ok(())
    }

    fn item(&mut self, item: ItemRecord, content: String) -> Result<(), ArchiveError> {
        let changes = &mut self.item_changes;
        match self.items.remove(&item.id) {
            None => note(&mut changes.added, &mut changes.added_names, item.name),
            Some(there) => {
                let same = there.name == item.name
                    && there.folder == item.folder
                    && there.kind == item.kind.as_str()
                    && there.sha == sha(&content);
                if same {
                    changes.unchanged += 1;
                } else {
                    note(&mut changes.changed, &mut changes.changed_names, item.name);
                }
            }
        }
        Ok(())
    }
}
