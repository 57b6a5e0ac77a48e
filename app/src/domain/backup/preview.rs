//! What a restore will do, before it runs: the backup's records compared with the target
//! namespace's content — folders and items matched by id, contents by SHA-256. The two sides
//! are read at once: the backup's from its archive as it streams (checked completely on the
//! way), the namespace's in key ranges. A backup never changes, so its side is kept for the
//! next previews of it ([`Previews`]); the namespace's side is read every time (an edit
//! changes it without changing the namespace's generation). While a preview runs, how far
//! it is can be asked for ([`Previews::progress`]).

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use sha2::{Digest, Sha256};

use super::Engine;
use super::archive::{self, ArchiveError, FolderRecord, ItemRecord, Manifest};
use super::catalog::get;
use super::faults::pause_point;
use crate::domain::content::{active_generation, key_ranges};
use crate::domain::db::take_json;
use crate::domain::{DomainError, schema, users};
use crate::types::{BackupInfo, BackupStatus, Changes, PreviewProgress, RestorePreview, Verdict};

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
    sha: [u8; 32],
}

fn sha(content: &str) -> [u8; 32] {
    Sha256::digest(content.as_bytes()).into()
}

/// The backup's side of a comparison: its folders and items as compared, in the archive's
/// order, and the principals its permissions name.
#[derive(Debug)]
pub(super) struct BackupSide {
    schema_version: u32,
    folders: Vec<(String, FolderSig)>,
    items: Vec<(String, ItemSig)>,
    /// `(kind, name)` of every principal a folder's permissions name.
    principals: BTreeSet<(String, String)>,
}

/// The namespace's side: its generation (none when it does not exist) and its content.
struct TargetSide {
    generation: Option<String>,
    folders: HashMap<String, FolderSig>,
    items: HashMap<String, ItemSig>,
}

/// How far one running preview is: items read from the backup and from the namespace, of
/// how many there are.
#[derive(Debug, Default)]
struct Tracker {
    done: AtomicU64,
    total: AtomicU64,
}

impl Tracker {
    fn add_total(&self, n: u64) {
        self.total.fetch_add(n, Ordering::Relaxed);
    }
    fn add_done(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }
}

/// The backup sides kept for the next previews, and the previews running now, of one
/// server process.
#[derive(Debug, Default)]
pub struct Previews {
    kept: Mutex<VecDeque<(String, Arc<BackupSide>)>>,
    running: Mutex<HashMap<(String, String), Arc<Tracker>>>,
}

/// Removes a running preview's tracker when the preview ends, however it ends.
struct Running<'a> {
    previews: &'a Previews,
    key: (String, String),
    tracker: Arc<Tracker>,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        let mut running = self
            .previews
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if running
            .get(&self.key)
            .is_some_and(|tracker| Arc::ptr_eq(tracker, &self.tracker))
        {
            running.remove(&self.key);
        }
    }
}

impl Previews {
    /// How many backups' sides are kept: a side holds a few dozen bytes per item and name.
    const KEPT: usize = 2;

    fn kept(&self, backup: &str) -> Option<Arc<BackupSide>> {
        let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.iter()
            .find(|(id, _)| id == backup)
            .map(|(_, side)| Arc::clone(side))
    }

    fn keep(&self, backup: &str, side: Arc<BackupSide>) {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.retain(|(id, _)| id != backup);
        kept.push_front((backup.to_string(), side));
        kept.truncate(Self::KEPT);
    }

    fn track(&self, backup: &str, target: &str) -> Running<'_> {
        let key = (backup.to_string(), target.to_string());
        let tracker = Arc::new(Tracker::default());
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.clone(), Arc::clone(&tracker));
        Running {
            previews: self,
            key,
            tracker,
        }
    }

    /// How far the preview of restoring `backup` into `target` running in this process is;
    /// `None` when none runs here.
    pub fn progress(&self, backup: &str, target: &str) -> Option<PreviewProgress> {
        let running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        running
            .get(&(backup.to_string(), target.to_string()))
            .map(|tracker| PreviewProgress {
                done: tracker.done.load(Ordering::Relaxed),
                total: tracker.total.load(Ordering::Relaxed),
            })
    }
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
    if let Some(side) = engine.previews.kept(id) {
        let running = engine.previews.track(id, target);
        let content = target_content(engine, target, &running.tracker).await?;
        return finish(engine, &backup, target, &side, content).await;
    }
    let local = engine.store.local_file(id).await?;
    let (_, preview) = compare(engine, &backup, target, local.path()).await?;
    drop(local);
    Ok(preview)
}

/// The comparison of the backup's file at `path` (which it checks completely on the way, as
/// a restore's first pass does) with namespace `target`, both read at once: the archive's
/// manifest and namespace, and the preview. The backup's side is kept for its next preview.
///
/// # Errors
///
/// [`DomainError::Invalid`] for a file that is refused; a database error.
pub(super) async fn compare(
    engine: &Engine,
    backup: &BackupInfo,
    target: &str,
    path: &std::path::Path,
) -> Result<(archive::Checked, RestorePreview), DomainError> {
    let running = engine.previews.track(&backup.id, target);
    let reading = {
        let path = path.to_path_buf();
        let limits = engine.limits;
        let tracker = Arc::clone(&running.tracker);
        tokio::task::spawn_blocking(move || {
            let mut reader = SideReader {
                side: BackupSide {
                    schema_version: 0,
                    folders: Vec::new(),
                    items: Vec::new(),
                    principals: BTreeSet::new(),
                },
                tracker,
            };
            let checked = archive::read(&path, limits, &mut reader)?;
            reader.side.schema_version = checked.manifest.schema_version;
            Ok::<_, ArchiveError>((checked, reader.side))
        })
    };
    let (read, content) = tokio::join!(reading, target_content(engine, target, &running.tracker));
    let (checked, side) = read.map_err(DomainError::stopped("the restore preview"))??;
    let side = Arc::new(side);
    engine.previews.keep(&backup.id, Arc::clone(&side));
    let preview = finish(engine, backup, target, &side, content?).await?;
    Ok((checked, preview))
}

/// Collects the backup's side as the archive reader passes its records.
struct SideReader {
    side: BackupSide,
    tracker: Arc<Tracker>,
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

/// The preview from both sides: every record of the backup is matched with the target's
/// by id; what is left of the target's at the end is removed by the restore.
async fn finish(
    engine: &Engine,
    backup: &BackupInfo,
    target: &str,
    side: &BackupSide,
    content: TargetSide,
) -> Result<RestorePreview, DomainError> {
    let TargetSide {
        generation,
        folders,
        items,
    } = content;
    let known_users: BTreeSet<String> = users::list(&engine.db)
        .await?
        .into_iter()
        .map(|user| user.name)
        .collect();
    let unknown: Vec<String> = side
        .principals
        .iter()
        .filter(|(kind, name)| match kind.as_str() {
            "user" => !known_users.contains(name),
            "role" => !matches!(name.as_str(), "admin" | "modeler"),
            _ => false,
        })
        .map(|(kind, name)| format!("{kind} {name}"))
        .collect();
    // A backup of an older schema version has its permissions migrated first: they compare
    // as stored only for the current one.
    let current = side.schema_version == crate::types::SCHEMA_VERSION;
    let (folder_changes, item_changes) = match_sides(
        (folders, items),
        side.folders.iter().map(|(id, sig)| (id, sig)),
        side.items.iter().map(|(id, sig)| (id, sig)),
        |there, folder| {
            there.name == folder.name
                && there.parent == folder.parent
                && (!current || there.permissions == folder.permissions)
        },
    );
    let migrations = schema::generation_steps(side.schema_version)?
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
    Ok(RestorePreview {
        backup: backup.id.clone(),
        namespace: target.to_string(),
        target_exists: generation.is_some(),
        folders: folder_changes,
        items: item_changes,
        unknown_principals: unknown,
        migrations,
        changed_since_backup,
    })
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

/// The folders and items of namespace `target`'s active generation, as compared.
async fn target_content(
    engine: &Engine,
    target: &str,
    tracker: &Tracker,
) -> Result<TargetSide, DomainError> {
    let generation = match active_generation(&engine.db, target).await {
        Ok(generation) => generation,
        Err(DomainError::NotFound(_)) => {
            return Ok(TargetSide {
                generation: None,
                folders: HashMap::new(),
                items: HashMap::new(),
            });
        }
        Err(error) => return Err(error),
    };
    let (folders, items) = generation_content(engine, &generation, tracker).await?;
    pause_point("preview:read", target).await;
    Ok(TargetSide {
        generation: Some(generation),
        folders,
        items,
    })
}

/// What switching a namespace from generation `from` to generation `to` changes: folders
/// and items, as a restore's report counts them.
///
/// # Errors
///
/// A database error.
pub(super) async fn compare_generations(
    engine: &Engine,
    from: &str,
    to: &str,
) -> Result<(Changes, Changes), DomainError> {
    let tracker = Tracker::default();
    let (before, after) = tokio::try_join!(
        generation_content(engine, from, &tracker),
        generation_content(engine, to, &tracker)
    )?;
    let (folders_after, items_after) = &after;
    Ok(match_sides(
        before,
        folders_after,
        items_after,
        |there, folder| there == folder,
    ))
}

/// Matches the records a namespace will have (`folders`, `items`) with the `content` it
/// has, by id: added, changed (as `same_folder` and the items' signatures say) or as they
/// are; what is left of `content` is removed. The names are sorted.
fn match_sides<'a>(
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
async fn generation_content(
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
