//! What a restore will do, before it runs: the backup's records compared with the target
//! namespace's content — folders and items matched by id, contents by SHA-256. The two sides
//! are read at once: the backup's from its archive as it streams (checked completely on the
//! way), the namespace's in key ranges. A backup never changes, so its side is kept for the
//! next previews of it ([`Previews`]); the namespace's side is read every time (an edit
//! changes it without changing the namespace's generation). While a preview runs, how far
//! it is can be asked for ([`Previews::progress`]).

mod sides;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::Engine;
use super::archive::{self, ArchiveError};
use super::catalog::get;
use super::faults::pause_point;
use crate::domain::content::active_generation;
use crate::domain::db::take_json;
use crate::domain::{DomainError, schema, users};
use crate::types::{
    BackupInfo, BackupStatus, Changes, Encryption, PreviewProgress, RestorePreview, Verdict,
};
use sides::{FolderSig, ItemSig, SideReader, generation_content, match_sides};

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
    preview_with_passphrase(engine, id, target, None).await
}

/// As [`preview`], with the passphrase of a backup encrypted with one. What such a backup
/// holds is never kept for the next preview: each one needs the passphrase.
///
/// # Errors
///
/// As [`preview`]; [`DomainError::Invalid`] for a passphrase missing or wrong.
pub async fn preview_with_passphrase(
    engine: &Engine,
    id: &str,
    target: &str,
    passphrase: Option<archive::Passphrase>,
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
    let keys = Arc::new(engine.keys.with_passphrase(passphrase));
    if let Some(side) = engine.previews.kept(id) {
        let running = engine.previews.track(id, target);
        let content = target_content(engine, target, &running.tracker).await?;
        return finish(engine, &backup, target, &side, content).await;
    }
    let local = engine
        .store
        .local_file(&super::stored_file(&backup))
        .await?;
    let (_, preview) = compare(engine, &keys, &backup, target, local.path()).await?;
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
    keys: &Arc<archive::Keys>,
    backup: &BackupInfo,
    target: &str,
    path: &std::path::Path,
) -> Result<(archive::Checked, RestorePreview), DomainError> {
    let running = engine.previews.track(&backup.id, target);
    let reading = {
        let path = path.to_path_buf();
        let limits = engine.limits;
        let keys = Arc::clone(keys);
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
            let checked = archive::read(&path, &keys, limits, &mut reader)?;
            reader.side.schema_version = checked.manifest.schema_version;
            Ok::<_, ArchiveError>((checked, reader.side))
        })
    };
    let (read, content) = tokio::join!(reading, target_content(engine, target, &running.tracker));
    let (checked, side) = read.map_err(DomainError::stopped("the restore preview"))??;
    let side = Arc::new(side);
    if backup.encryption != Some(Encryption::Passphrase) {
        engine.previews.keep(&backup.id, Arc::clone(&side));
    }
    let preview = finish(engine, backup, target, &side, content?).await?;
    Ok((checked, preview))
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
