//! Checking and reading an archive that may be hostile, one step after the other:
//!
//! 1. the zip's structure ([`structure::open`]), before anything is unpacked;
//! 2. the manifest, and that it lists exactly the entries the archive holds;
//! 3. `namespace.json`;
//! 4. `folders.ndjson`: every record, unique ids and names, one tree, not too deep;
//! 5. `items.ndjson`: every record, its folder, its content (inline or its own entry);
//! 6. no content entry that belongs to no item.
//!
//! Every entry is unpacked within the caps and checked against its size and SHA-256 in the
//! manifest ([`guard`](super::guard)).

use std::collections::{HashMap, HashSet};
use std::io::BufReader;
use std::path::Path;

use zip::ZipArchive;

use super::guard::{IN_MEMORY_MAX, read_entry, read_lines, verify_entry};
use super::records::{
    check_folder, check_folder_tree, check_item, check_namespace, parse_manifest,
};
use super::sealed::{self, Keys};
use super::structure::{self, Archive};
use super::{
    ArchiveError, CONTENTS_DIR, EntryInfo, FOLDERS, FolderRecord, ITEMS, ItemRecord, Limits,
    MANIFEST, Manifest, NAMESPACE, NamespaceRecord, invalid,
};
use crate::validate;

/// What a checked archive holds, without its contents.
#[derive(Clone, Debug)]
pub struct Checked {
    pub manifest: Manifest,
    pub namespace: NamespaceRecord,
}

/// Receives the records of an archive in order, while it is read.
pub trait Visitor {
    /// One folder (all come before the first item).
    ///
    /// # Errors
    ///
    /// Whatever the visitor refuses the archive for.
    fn folder(&mut self, folder: FolderRecord) -> Result<(), ArchiveError>;
    /// One item with its content.
    ///
    /// # Errors
    ///
    /// Whatever the visitor refuses the archive for.
    fn item(&mut self, item: ItemRecord, content: String) -> Result<(), ArchiveError>;

    /// Whether item contents are parsed and checked (JSON, XML). Everything else (structure,
    /// caps, checksums, records, references) is always checked. A second pass over an
    /// archive whose first pass checked its contents, and whose SHA-256 sums hold again, may
    /// skip it.
    fn check_contents(&self) -> bool {
        true
    }

    /// The manifest, once it is read and checked (before any record).
    fn manifest(&mut self, _: &Manifest) {}
}

/// A visitor that only checks.
pub struct CheckOnly;

impl Visitor for CheckOnly {
    fn folder(&mut self, _: FolderRecord) -> Result<(), ArchiveError> {
        Ok(())
    }
    fn item(&mut self, _: ItemRecord, _: String) -> Result<(), ArchiveError> {
        Ok(())
    }
}

/// Checks an archive completely, passing its records to `visitor` as they are read: the
/// zip structure, every entry name, the caps, every CRC and SHA-256, the manifest and its
/// agreement with the entries, the versions, every record and content, and that every
/// reference holds. Returns the manifest and namespace record.
///
/// # Errors
///
/// [`ArchiveError::Invalid`] naming the first problem found, [`ArchiveError::TooNew`] for a
/// backup of a newer schema version (found before any record is read).
pub fn read(
    path: &Path,
    keys: &Keys,
    limits: Limits,
    visitor: &mut dyn Visitor,
) -> Result<Checked, ArchiveError> {
    let mut archive = structure::open(path, keys, limits)?;
    let manifest = read_manifest(&mut archive)?;
    visitor.manifest(&manifest);
    let listing = Listing::check(&manifest.entries, &archive.names)?;
    let namespace = read_namespace(&mut archive, &listing)?;
    let folders = read_folders(&mut archive, &listing, &manifest, visitor)?;
    let contents = read_items(&mut archive, &listing, &manifest, &folders, visitor)?;
    check_every_content_claimed(&archive.names, &contents)?;
    Ok(Checked {
        manifest,
        namespace,
    })
}

/// What can be told of a backup made by a newer nsbackup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Newer {
    pub schema_version: u32,
    pub namespace: String,
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The version of nsbackup that made it, when it names one nsbackup could write.
    pub app_version: Option<String>,
}

/// A backup of a newer schema version than this server's, checked as far as can be without
/// understanding its records: the zip's structure, that its manifest lists exactly the
/// entries it holds, and every entry's size and SHA-256 (all within the caps). Such a
/// backup can be kept, downloaded and restored by a newer nsbackup — never restored here.
///
/// # Errors
///
/// [`ArchiveError::Invalid`] naming the first problem found, also for a backup that is not
/// newer than this server.
pub fn check_newer(path: &Path, keys: &Keys, limits: Limits) -> Result<Newer, ArchiveError> {
    let mut archive = structure::open(path, keys, limits)?;
    let bytes = manifest_bytes(&mut archive)?;
    let Err(ArchiveError::TooNew { found, .. }) = parse_manifest(&bytes) else {
        return Err(invalid(
            "This backup is not of a newer schema version than this server's.",
        ));
    };
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| invalid(format!("manifest.json is not JSON ({e}).")))?;
    let namespace = value
        .get("namespace")
        .and_then(|ns| ns.as_str())
        .filter(|ns| validate::namespace_name(ns).is_ok())
        .ok_or_else(|| invalid("manifest.json names no namespace nsbackup can have."))?
        .to_string();
    let created_at = value
        .get("created_at")
        .and_then(|at| serde_json::from_value(at.clone()).ok());
    let entries: Vec<EntryInfo> = value
        .get("entries")
        .cloned()
        .map(serde_json::from_value)
        .transpose()
        .map_err(|e| invalid(format!("manifest.json lists its entries wrongly ({e}).")))?
        .unwrap_or_default();
    let listing = Listing::check(&entries, &archive.names)?;
    for (path, expected) in &listing.0 {
        if *path == MANIFEST {
            continue;
        }
        let index = archive.names[*path];
        verify_entry(&mut archive.zip, index, expected, limits, &archive.total)?;
    }
    let app_version = value
        .get("app_version")
        .and_then(|version| version.as_str())
        .filter(|version| {
            !version.is_empty()
                && version.len() <= 64
                && !version
                    .chars()
                    .any(|c| c.is_control() || validate::is_invisible_format(c))
        })
        .map(str::to_string);
    Ok(Newer {
        schema_version: found,
        namespace,
        created_at,
        app_version,
    })
}

/// Step 2: the manifest, parsed and checked on its own (format, versions, namespace).
fn read_manifest(archive: &mut Archive) -> Result<Manifest, ArchiveError> {
    parse_manifest(&manifest_bytes(archive)?)
}

/// The manifest's bytes, read within the caps.
fn manifest_bytes(archive: &mut Archive) -> Result<Vec<u8>, ArchiveError> {
    let Some(&index) = archive.names.get(MANIFEST) else {
        return Err(invalid(
            "The archive has no manifest.json: it is not an nsbackup backup.",
        ));
    };
    let (bytes, _) = read_entry(
        &mut archive.zip,
        index,
        MANIFEST,
        IN_MEMORY_MAX,
        archive.limits,
        &archive.total,
    )?;
    Ok(bytes)
}

/// The manifest's list of entries by path, once it agrees with what the archive holds:
/// every entry read afterwards is checked against it.
struct Listing<'m>(HashMap<&'m str, &'m EntryInfo>);

impl<'m> Listing<'m> {
    /// Step 2, continued: the manifest lists each entry once, only entries the archive holds
    /// and the format uses, and every required one.
    fn check(
        entries: &'m [EntryInfo],
        names: &HashMap<String, usize>,
    ) -> Result<Self, ArchiveError> {
        let listed: HashMap<&str, &EntryInfo> = entries
            .iter()
            .map(|entry| (entry.path.as_str(), entry))
            .collect();
        if listed.len() != entries.len() {
            return Err(invalid("The manifest lists an entry twice."));
        }
        for name in names.keys() {
            if name != MANIFEST && !listed.contains_key(name.as_str()) {
                return Err(invalid(format!(
                    "The archive holds entry `{name}`, which its manifest does not list."
                )));
            }
        }
        for path in listed.keys() {
            if !names.contains_key(*path) {
                return Err(invalid(format!(
                    "The manifest lists `{path}`, which the archive does not hold."
                )));
            }
        }
        // Every listed entry is one the format uses (and so is read and verified in the
        // steps below); anything else would be stored unread.
        for path in listed.keys() {
            if ![MANIFEST, NAMESPACE, FOLDERS, ITEMS].contains(path)
                && !path.starts_with(CONTENTS_DIR)
            {
                return Err(invalid(format!(
                    "The archive holds entry `{path}`, which is not part of an nsbackup backup."
                )));
            }
        }
        for required in [NAMESPACE, FOLDERS, ITEMS] {
            if !listed.contains_key(required) {
                return Err(invalid(format!(
                    "The archive has no {required}: it is not a complete nsbackup backup."
                )));
            }
        }
        Ok(Self(listed))
    }

    fn entry(&self, path: &str) -> &'m EntryInfo {
        self.0[path]
    }

    /// That entry `path` was read with the size and SHA-256 the manifest lists.
    fn verify(&self, path: &str, sha: &str, size: u64) -> Result<(), ArchiveError> {
        let expected = self.entry(path);
        if expected.size != size || expected.sha256 != sha {
            return Err(invalid(format!(
                "Entry `{path}` does not match its checksum in the manifest: the file is damaged or was changed."
            )));
        }
        Ok(())
    }
}

/// Step 3: `namespace.json`.
fn read_namespace(
    archive: &mut Archive,
    listing: &Listing,
) -> Result<NamespaceRecord, ArchiveError> {
    let index = archive.names[NAMESPACE];
    let (bytes, sha) = read_entry(
        &mut archive.zip,
        index,
        NAMESPACE,
        IN_MEMORY_MAX,
        archive.limits,
        &archive.total,
    )?;
    listing.verify(NAMESPACE, &sha, bytes.len() as u64)?;
    let namespace: NamespaceRecord = serde_json::from_slice(&bytes)
        .map_err(|e| invalid(format!("namespace.json is not a namespace record: {e}.")))?;
    check_namespace(&namespace).map_err(|e| invalid(format!("namespace.json: {e}")))?;
    Ok(namespace)
}

/// Step 4: `folders.ndjson`, kept in memory (folders are few) to check the tree and the
/// items' references; passed to `visitor` once all of them hold. Returns the folder ids.
fn read_folders(
    archive: &mut Archive,
    listing: &Listing,
    manifest: &Manifest,
    visitor: &mut dyn Visitor,
) -> Result<HashSet<String>, ArchiveError> {
    let mut folders: HashMap<String, (Option<String>, String)> = HashMap::new();
    let mut in_order: Vec<FolderRecord> = Vec::new();
    let index = archive.names[FOLDERS];
    let (sha, size) = read_lines(
        &mut archive.zip,
        index,
        listing.entry(FOLDERS),
        archive.limits,
        &archive.total,
        |line, number| {
            let folder: FolderRecord = serde_json::from_str(line).map_err(|e| {
                invalid(format!(
                    "folders.ndjson, line {number}: not a folder record ({e})."
                ))
            })?;
            check_folder(&folder, manifest.schema_version)
                .map_err(|e| invalid(format!("folders.ndjson, line {number}: {e}")))?;
            if folders
                .insert(
                    folder.id.clone(),
                    (folder.parent.clone(), folder.name.clone()),
                )
                .is_some()
            {
                return Err(invalid(format!(
                    "folders.ndjson, line {number}: folder id `{}` appears twice.",
                    folder.id
                )));
            }
            in_order.push(folder);
            Ok(())
        },
    )?;
    listing.verify(FOLDERS, &sha, size)?;
    check_folder_tree(&folders)?;
    let mut folder_names = HashSet::with_capacity(folders.len());
    for (parent, name) in folders.values() {
        if !folder_names.insert((parent, name)) {
            return Err(invalid(format!(
                "Two folders in the same place are both named `{name}`: the backup is inconsistent."
            )));
        }
    }
    if folders.len() as u64 != manifest.counts.folders {
        return Err(invalid(format!(
            "The manifest counts {} folders, but folders.ndjson holds {}.",
            manifest.counts.folders,
            folders.len()
        )));
    }
    for folder in in_order {
        visitor.folder(folder)?;
    }
    Ok(folders.into_keys().collect())
}

/// Step 5: `items.ndjson`, each item passed to `visitor` as it is read, with large contents
/// read from their own entries as they come (through a second reader of the same file).
/// Returns the content entries the items claimed.
fn read_items(
    archive: &mut Archive,
    listing: &Listing,
    manifest: &Manifest,
    folders: &HashSet<String>,
    visitor: &mut dyn Visitor,
) -> Result<HashSet<String>, ArchiveError> {
    let (contents_file, _) = sealed::open(&archive.path, &archive.keys)?;
    let mut contents_zip = ZipArchive::new(BufReader::new(contents_file))
        .map_err(|e| invalid(format!("The file is damaged ({e}).")))?;
    let check_contents = visitor.check_contents();
    let mut item_ids: HashSet<String> = HashSet::new();
    let mut item_names: HashSet<(Option<String>, String)> = HashSet::new();
    let mut content_entries: HashSet<String> = HashSet::new();
    let index = archive.names[ITEMS];
    let (names, limits, total) = (&archive.names, archive.limits, &archive.total);
    let (sha, size) = read_lines(
        &mut archive.zip,
        index,
        listing.entry(ITEMS),
        limits,
        total,
        |line, number| {
            let item: ItemRecord = serde_json::from_str(line).map_err(|e| {
                invalid(format!(
                    "items.ndjson, line {number}: not an item record ({e})."
                ))
            })?;
            check_item(&item).map_err(|e| invalid(format!("items.ndjson, line {number}: {e}")))?;
            if !item_ids.insert(item.id.clone()) {
                return Err(invalid(format!(
                    "items.ndjson, line {number}: item id `{}` appears twice.",
                    item.id
                )));
            }
            if let Some(folder) = &item.folder
                && !folders.contains(folder)
            {
                return Err(invalid(format!(
                    "items.ndjson, line {number}: item `{}` is in folder `{folder}`, which the backup does not hold.",
                    item.name
                )));
            }
            if !item_names.insert((item.folder.clone(), item.name.clone())) {
                return Err(invalid(format!(
                    "items.ndjson, line {number}: two items in the same folder are both named `{}`.",
                    item.name
                )));
            }
            let content = match (&item.content, &item.content_entry) {
                (Some(content), None) => content.clone(),
                (None, Some(entry)) => {
                    let Some(&index) = names
                        .get(entry.as_str())
                        .filter(|_| entry.starts_with(CONTENTS_DIR))
                    else {
                        return Err(invalid(format!(
                            "items.ndjson, line {number}: item `{}` points at content `{entry}`, which the archive does not hold.",
                            item.name
                        )));
                    };
                    if !content_entries.insert(entry.clone()) {
                        return Err(invalid(format!(
                            "items.ndjson, line {number}: content `{entry}` belongs to two items."
                        )));
                    }
                    // No content is larger than an item may hold: one that is, is refused
                    // at that size, never read whole.
                    let most = validate::CONTENT_MAX as u64;
                    let (bytes, sha) =
                        read_entry(&mut contents_zip, index, entry, most, limits, total)?;
                    listing.verify(entry, &sha, bytes.len() as u64)?;
                    String::from_utf8(bytes)
                        .map_err(|_| invalid(format!("Content `{entry}` is not UTF-8 text.")))?
                }
                _ => {
                    return Err(invalid(format!(
                        "items.ndjson, line {number}: item `{}` must have either its content or a content entry.",
                        item.name
                    )));
                }
            };
            if check_contents {
                validate::content(item.kind, &content).map_err(|e| {
                    invalid(format!(
                        "items.ndjson, line {number}, item `{}`: {e}",
                        item.name
                    ))
                })?;
            }
            visitor.item(item, content)
        },
    )?;
    listing.verify(ITEMS, &sha, size)?;
    if item_ids.len() as u64 != manifest.counts.items {
        return Err(invalid(format!(
            "The manifest counts {} items, but items.ndjson holds {}.",
            manifest.counts.items,
            item_ids.len()
        )));
    }
    Ok(content_entries)
}

/// Step 6: every content entry belongs to an item (otherwise it would be stored unread).
fn check_every_content_claimed(
    names: &HashMap<String, usize>,
    claimed: &HashSet<String>,
) -> Result<(), ArchiveError> {
    for name in names.keys() {
        if name.starts_with(CONTENTS_DIR) && !claimed.contains(name) {
            return Err(invalid(format!(
                "Content entry `{name}` belongs to no item."
            )));
        }
    }
    Ok(())
}
