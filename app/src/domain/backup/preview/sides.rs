//! The two sides of a restore preview as compared — a folder's and an item's signature —
//! how they are collected (from the archive as it streams, from a generation in key
//! ranges), and how they are matched into counted, named changes.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::{BackupSide, Engine, Tracker};
use crate::domain::DomainError;
use crate::domain::backup::archive::{self, ArchiveError, FolderRecord, ItemRecord, Manifest};
use crate::domain::content::key_ranges;
use crate::domain::db::take_json;
use crate::types::Changes;

/// A folder as compared: its name, parent and permissions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct FolderSig {
    pub(super) name: String,
    pub(super) parent: Option<String>,
    pub(super) permissions: Option<String>,
}

/// An item as compared: its place, name, kind and content's SHA-256.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ItemSig {
    pub(super) name: String,
    pub(super) folder: Option<String>,
    pub(super) kind: String,
    pub(super) sha: [u8; 32],
}

pub(super) fn sha(content: &str) -> [u8; 32] {
    Sha256::digest(content.as_bytes()).into()
}

/// Collects the backup's side as the archive reader passes its records.
pub(super) struct SideReader {
    pub(super) side: BackupSide,
    pub(super) tracker: Arc<Tracker>,
}

impl archive::Visitor for SideReader {
    fn manifest(&mut self, manifest: &Manifest) {
        self.tracker.add_total(manifest.counts.items);
    }

    fn folder(&mut self, folder: FolderRecord) -> Result<(), ArchiveError> {
        if let Some(permissions) = &folder.permissions {
            principals(permissions, &mut self.side.principals);
        }
        self.side.folders.push((
            folder.id,
            FolderSig {
                name: folder.name,
                parent: folder.parent,
                permissions: folder.permissions.as_ref().map(ToString::to_string),
            },
        ));
        Ok(())
    }

    fn item(&mut self, item: ItemRecord, content: String) -> Result<(), ArchiveError> {
        self.side.items.push((
            item.id,
            ItemSig {
                sha: sha(&content),
                name: item.name,
                folder: item.folder,
                kind: item.kind.as_str().to_string(),
            },
        ));
        self.tracker.add_done(1);
        Ok(())
    }
}

/// Notes the `(kind, name)` of every principal of `permissions`.
fn principals(permissions: &serde_json::Value, into: &mut BTreeSet<(String, String)>) {
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
        into.insert((kind, name));
    }
}

/// Counts one change and names it, while fewer than [`Changes::NAMES`] are named.
fn note(count: &mut u64, names: &mut Vec<String>, name: String) {
    *count += 1;
    if names.len() < Changes::NAMES {
        names.push(name);
    }
}

fn note_added(changes: &mut Changes, name: &str) {
    note(
        &mut changes.added,
        &mut changes.added_names,
        name.to_string(),
    );
}

/// Counts what only the namespace has: the restore removes it.
fn note_removed(changes: &mut Changes, names: impl Iterator<Item = String>) {
    for name in names {
        note(&mut changes.removed, &mut changes.removed_names, name);
    }
}

fn sort_names(changes: &mut Changes) {
    for names in [
        &mut changes.added_names,
        &mut changes.removed_names,
        &mut changes.changed_names,
    ] {
        names.sort();
    }
}

/// Counts a record both sides have: as it is, or changed.
fn note_kept(changes: &mut Changes, same: bool, name: &str) {
    if same {
        changes.unchanged += 1;
    } else {
        note(
            &mut changes.changed,
            &mut changes.changed_names,
            name.to_string(),
        );
    }
}

/// Matches the records a namespace will have (`folders`, `items`) with the `content` it
/// has, by id: added, changed (as `same_folder` and the items' signatures say) or as they
/// are; what is left of `content` is removed. The names are sorted.
pub(super) fn match_sides<'a>(
    content: (HashMap<String, FolderSig>, HashMap<String, ItemSig>),
    folders: impl IntoIterator<Item = (&'a String, &'a FolderSig)>,
    items: impl IntoIterator<Item = (&'a String, &'a ItemSig)>,
    same_folder: impl Fn(&FolderSig, &FolderSig) -> bool,
) -> (Changes, Changes) {
    let (mut had_folders, mut had_items) = content;
    let mut folder_changes = Changes::default();
    for (id, folder) in folders {
        match had_folders.remove(id) {
            None => note_added(&mut folder_changes, &folder.name),
            Some(there) => note_kept(
                &mut folder_changes,
                same_folder(&there, folder),
                &folder.name,
            ),
        }
    }
    let mut item_changes = Changes::default();
    for (id, item) in items {
        match had_items.remove(id) {
            None => note_added(&mut item_changes, &item.name),
            Some(there) => note_kept(&mut item_changes, there == *item, &item.name),
        }
    }
    note_removed(
        &mut folder_changes,
        had_folders.into_values().map(|f| f.name),
    );
    note_removed(&mut item_changes, had_items.into_values().map(|i| i.name));
    sort_names(&mut folder_changes);
    sort_names(&mut item_changes);
    (folder_changes, item_changes)
}

/// The folders and items of `generation`, as compared.
pub(super) async fn generation_content(
    engine: &Engine,
    generation: &str,
    tracker: &Tracker,
) -> Result<(HashMap<String, FolderSig>, HashMap<String, ItemSig>), DomainError> {
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
    let total = total.unwrap_or(0);
    tracker.add_total(total);
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
    let mut items = HashMap::with_capacity(usize::try_from(total).unwrap_or(0));
    for (from, to) in key_ranges(total) {
        let mut response = db
            .query("SELECT id[1] AS id, folder, kind, name, content FROM item:[$gen, $from]..[$gen, $to]")
            .bind(("gen", generation.to_string()))
            .bind(("from", from))
            .bind(("to", to))
            .await?;
        let rows: Vec<ItemRow> = take_json(&mut response, 0)?;
        tracker.add_done(rows.len() as u64);
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
