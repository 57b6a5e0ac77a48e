//! The backup archive: writing one, and checking and reading one that may be hostile.
//! The format is described in `docs/backup-format.md`.
//!
//! Everything here is synchronous I/O on files; callers run it on a blocking thread.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, Write};
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::domain::schema::SCHEMA_VERSION;
use crate::types::ItemKind;
use crate::validate;

/// The `format` of every backup's manifest.
pub const FORMAT: &str = "nsbackup-backup";
/// The archive format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// The manifest's entry name; it is the archive's first entry.
pub const MANIFEST: &str = "manifest.json";
/// The namespace's own record.
pub const NAMESPACE: &str = "namespace.json";
/// One folder per line.
pub const FOLDERS: &str = "folders.ndjson";
/// One item per line; contents above [`INLINE_MAX`] are entries of their own.
pub const ITEMS: &str = "items.ndjson";
/// Where large contents go: `contents/<item id>`.
pub const CONTENTS_DIR: &str = "contents/";
/// Contents up to this many bytes stay inside their line of [`ITEMS`].
pub const INLINE_MAX: usize = 64 * 1024;

/// What a hostile archive may not exceed. Checked while reading, never trusting what the
/// archive declares about itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Entries in the archive.
    pub max_entries: usize,
    /// Uncompressed bytes of one entry.
    pub max_entry_bytes: u64,
    /// Uncompressed bytes of all entries together.
    pub max_total_bytes: u64,
    /// Uncompressed bytes per compressed byte, for entries above a mebibyte.
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_entries: 200_000,
            max_entry_bytes: 4 << 30,
            max_total_bytes: 16 << 30,
            max_ratio: 250,
        }
    }
}

/// One entry as the manifest lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryInfo {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// How many records the archive holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    pub folders: u64,
    pub items: u64,
}

/// `manifest.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub schema_version: u32,
    pub app_version: String,
    pub namespace: String,
    pub created_at: DateTime<Utc>,
    pub counts: Counts,
    pub entries: Vec<EntryInfo>,
}

/// `namespace.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamespaceRecord {
    pub name: String,
    pub title: String,
}

/// One line of `folders.ndjson`. Permissions stay as they were stored at the backup's
/// schema version; restoring migrates them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FolderRecord {
    pub id: String,
    pub parent: Option<String>,
    pub name: String,
    pub permissions: Option<serde_json::Value>,
    pub created_at: Option<DateTime<Utc>>,
}

/// One line of `items.ndjson`: the content inline, or in entry `content_entry`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemRecord {
    pub id: String,
    pub folder: Option<String>,
    pub kind: ItemKind,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_entry: Option<String>,
    pub revision: u64,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: String,
}

/// Why an archive was refused: one sentence for the user, naming the problem.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ArchiveError {
    /// The file is not a backup of this product, or is damaged or hostile.
    #[error("{0}")]
    Invalid(String),
    /// A backup made by a newer nsbackup.
    #[error(
        "This backup was made with schema version {found}; this server supports up to {supported}. Upgrade the server to restore it."
    )]
    TooNew { found: u32, supported: u32 },
    /// Reading or writing a file failed.
    #[error("{0}")]
    Io(String),
}

fn invalid(message: impl Into<String>) -> ArchiveError {
    ArchiveError::Invalid(message.into())
}

fn io(error: impl std::fmt::Display) -> ArchiveError {
    ArchiveError::Io(error.to_string())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Fixed entry options: deflate at a fast level, a fixed timestamp (two backups of the same
/// data are the same bytes), plain file permissions.
fn entry_options() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(1))
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644)
        .large_file(true)
}

/// A zip being written with the size and SHA-256 of each entry.
struct HashingZip<W: Write + Seek> {
    zip: ZipWriter<W>,
    entries: Vec<EntryInfo>,
    current: Option<(String, Sha256, u64)>,
}

impl<W: Write + Seek> HashingZip<W> {
    fn new(inner: W) -> Self {
        Self {
            zip: ZipWriter::new(inner),
            entries: Vec::new(),
            current: None,
        }
    }

    fn start(&mut self, path: &str) -> Result<(), ArchiveError> {
        self.end_entry();
        self.zip.start_file(path, entry_options()).map_err(io)?;
        self.current = Some((path.to_string(), Sha256::new(), 0));
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), ArchiveError> {
        if let Some((_, hasher, size)) = &mut self.current {
            hasher.update(bytes);
            *size += bytes.len() as u64;
        }
        self.zip.write_all(bytes).map_err(io)
    }

    fn end_entry(&mut self) {
        if let Some((path, hasher, size)) = self.current.take() {
            self.entries.push(EntryInfo {
                path,
                size,
                sha256: hex(&hasher.finalize()),
            });
        }
    }

    fn finish(mut self) -> Result<(W, Vec<EntryInfo>), ArchiveError> {
        self.end_entry();
        let inner = self.zip.finish().map_err(io)?;
        Ok((inner, self.entries))
    }
}

/// Writes a backup archive from records that arrive in order: the namespace, every folder,
/// then every item (sorted by id for a deterministic archive).
///
/// Records and large contents are written into two scratch zips beside `target`; [`finish`]
/// writes the manifest first into `target` and copies their compressed entries after it.
///
/// [`finish`]: ArchiveWriter::finish
pub struct ArchiveWriter {
    records: HashingZip<File>,
    contents: HashingZip<File>,
    records_path: std::path::PathBuf,
    contents_path: std::path::PathBuf,
    state: WriterState,
    counts: Counts,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WriterState {
    Folders,
    Items,
}

impl ArchiveWriter {
    /// Starts an archive whose scratch files sit beside `target` (same directory, so the
    /// caller can clean up by prefix).
    ///
    /// # Errors
    ///
    /// [`ArchiveError::Io`] when the scratch files cannot be created.
    pub fn new(target: &Path, namespace: &NamespaceRecord) -> Result<Self, ArchiveError> {
        let records_path = target.with_extension("records.tmp");
        let contents_path = target.with_extension("contents.tmp");
        let mut records = HashingZip::new(File::create(&records_path).map_err(io)?);
        let contents = HashingZip::new(File::create(&contents_path).map_err(io)?);
        records.start(NAMESPACE)?;
        let json = serde_json::to_vec(namespace).map_err(io)?;
        records.write(&json)?;
        records.start(FOLDERS)?;
        Ok(Self {
            records,
            contents,
            records_path,
            contents_path,
            state: WriterState::Folders,
            counts: Counts::default(),
        })
    }

    /// Adds one folder; all folders come before the first item.
    ///
    /// # Errors
    ///
    /// [`ArchiveError::Io`] when writing fails.
    pub fn folder(&mut self, folder: &FolderRecord) -> Result<(), ArchiveError> {
        if self.state != WriterState::Folders {
            return Err(io("folders must be written before items"));
        }
        let mut line = serde_json::to_vec(folder).map_err(io)?;
        line.push(b'\n');
        self.counts.folders += 1;
        self.records.write(&line)
    }

    /// Adds one item with its content; large contents become their own entry.
    ///
    /// # Errors
    ///
    /// [`ArchiveError::Io`] when writing fails.
    pub fn item(&mut self, mut item: ItemRecord, content: &str) -> Result<(), ArchiveError> {
        if self.state == WriterState::Folders {
            self.records.start(ITEMS)?;
            self.state = WriterState::Items;
        }
        if content.len() > INLINE_MAX {
            let path = format!("{CONTENTS_DIR}{}", item.id);
            self.contents.start(&path)?;
            self.contents.write(content.as_bytes())?;
            item.content = None;
            item.content_entry = Some(path);
        } else {
            item.content = Some(content.to_string());
            item.content_entry = None;
        }
        let mut line = serde_json::to_vec(&item).map_err(io)?;
        line.push(b'\n');
        self.counts.items += 1;
        self.records.write(&line)
    }

    /// Writes `manifest.json` and then every entry into `target`, finishes the zip, and
    /// syncs it to disk. Returns the manifest. The scratch files are removed.
    ///
    /// # Errors
    ///
    /// [`ArchiveError::Io`] when writing fails.
    pub fn finish(
        mut self,
        target: &Path,
        namespace: &str,
        created_at: DateTime<Utc>,
    ) -> Result<Manifest, ArchiveError> {
        if self.state == WriterState::Folders {
            self.records.start(ITEMS)?;
        }
        let (records_file, mut entries) = self.records.finish()?;
        let (contents_file, content_entries) = self.contents.finish()?;
        drop((records_file, contents_file));
        entries.extend(content_entries);
        let manifest = Manifest {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            schema_version: SCHEMA_VERSION,
            app_version: env!("CARGO_PKG_VERSION").into(),
            namespace: namespace.into(),
            created_at,
            counts: self.counts,
            entries,
        };
        let result = assemble(
            target,
            &manifest,
            &[&self.records_path, &self.contents_path],
        );
        let _ = std::fs::remove_file(&self.records_path);
        let _ = std::fs::remove_file(&self.contents_path);
        result.map(|()| manifest)
    }

    /// Removes the scratch files of an archive that will not be finished.
    pub fn abandon(self) {
        let (records, contents) = (self.records_path.clone(), self.contents_path.clone());
        drop(self);
        let _ = std::fs::remove_file(records);
        let _ = std::fs::remove_file(contents);
    }
}

fn assemble(target: &Path, manifest: &Manifest, parts: &[&Path]) -> Result<(), ArchiveError> {
    let file = File::create(target).map_err(io)?;
    let mut zip = ZipWriter::new(file);
    zip.start_file(MANIFEST, entry_options()).map_err(io)?;
    let json = serde_json::to_vec_pretty(manifest).map_err(io)?;
    zip.write_all(&json).map_err(io)?;
    for part in parts {
        let mut source = ZipArchive::new(File::open(part).map_err(io)?).map_err(io)?;
        for index in 0..source.len() {
            let entry = source.by_index_raw(index).map_err(io)?;
            zip.raw_copy_file(entry).map_err(io)?;
        }
    }
    // An unfinished zip has no central directory: finish explicitly, then make it durable.
    let file = zip.finish().map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(())
}

/// SHA-256 and size of a whole file.
///
/// # Errors
///
/// [`ArchiveError::Io`] when the file cannot be read.
pub fn file_digest(path: &Path) -> Result<(String, u64), ArchiveError> {
    let mut file = File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(io)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
    Ok((hex(&hasher.finalize()), size))
}

// ----------------------------------------------------------------------------------------
// Reading

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

/// Reads through an entry: counts bytes as they come (never trusting declared sizes), stops
/// at the caps, and hashes.
struct Guarded<'a, R: Read> {
    inner: R,
    hasher: Sha256,
    read: u64,
    cap: u64,
    total: &'a Cell<u64>,
    total_cap: u64,
    compressed: u64,
    max_ratio: u64,
    path: String,
}

impl<R: Read> Read for Guarded<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        self.total.set(self.total.get() + n as u64);
        let refuse = |message: String| std::io::Error::other(message);
        if self.read > self.cap {
            return Err(refuse(format!(
                "Entry `{}` unpacks to more than {} bytes, the most one entry may hold.",
                self.path, self.cap
            )));
        }
        if self.total.get() > self.total_cap {
            return Err(refuse(format!(
                "The archive unpacks to more than {} bytes, the most a backup may hold.",
                self.total_cap
            )));
        }
        if self.read > 1 << 20 && self.read > self.compressed.max(1) * self.max_ratio {
            return Err(refuse(format!(
                "Entry `{}` unpacks to far more than it takes packed (a \"zip bomb\").",
                self.path
            )));
        }
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// The raw names of every record of the central directory, read from the end-of-central-
/// directory record (zip64 too).
fn central_directory_names(path: &Path) -> Result<Vec<Vec<u8>>, ArchiveError> {
    let damaged = || {
        invalid(
            "The file is not a zip file, or it is damaged or incomplete (its central directory cannot be read).",
        )
    };
    let bytes_at = |file: &mut File, offset: u64, length: usize| -> Result<Vec<u8>, ArchiveError> {
        use std::io::SeekFrom;
        let mut buffer = vec![0u8; length];
        file.seek(SeekFrom::Start(offset)).map_err(io)?;
        file.read_exact(&mut buffer).map_err(|_| damaged())?;
        Ok(buffer)
    };
    let u16_at = |b: &[u8], i: usize| u64::from(u16::from_le_bytes([b[i], b[i + 1]]));
    let u32_at =
        |b: &[u8], i: usize| u64::from(u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]));
    let u64_at = |b: &[u8], i: usize| {
        let mut word = [0u8; 8];
        word.copy_from_slice(&b[i..i + 8]);
        u64::from_le_bytes(word)
    };
    let mut file = File::open(path).map_err(io)?;
    let length = file.metadata().map_err(io)?.len();
    let tail_length = length.min(65_557);
    let tail = bytes_at(&mut file, length - tail_length, tail_length as usize)?;
    let eocd = tail
        .windows(4)
        .rposition(|w| w == b"PK\x05\x06")
        .filter(|&at| at + 22 <= tail.len())
        .ok_or_else(damaged)?;
    let mut count = u16_at(&tail, eocd + 10);
    let mut size = u32_at(&tail, eocd + 12);
    let mut offset = u32_at(&tail, eocd + 16);
    if count == 0xFFFF || size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
        // The zip64 locator sits just before the end record and points at the zip64 end record.
        let locator = eocd.checked_sub(20).ok_or_else(damaged)?;
        if &tail[locator..locator + 4] != b"PK\x06\x07" {
            return Err(damaged());
        }
        let record = bytes_at(&mut file, u64_at(&tail, locator + 8), 56)?;
        if &record[..4] != b"PK\x06\x06" {
            return Err(damaged());
        }
        count = u64_at(&record, 32);
        size = u64_at(&record, 40);
        offset = u64_at(&record, 48);
    }
    if offset.saturating_add(size) > length || size > 1 << 30 {
        return Err(damaged());
    }
    let directory = bytes_at(&mut file, offset, size as usize)?;
    let mut names = Vec::new();
    let mut at = 0usize;
    while at + 46 <= directory.len() && &directory[at..at + 4] == b"PK\x01\x02" {
        let name_length = u16_at(&directory, at + 28) as usize;
        let extra_length = u16_at(&directory, at + 30) as usize;
        let comment_length = u16_at(&directory, at + 32) as usize;
        let end = at + 46 + name_length;
        if end > directory.len() {
            return Err(damaged());
        }
        names.push(directory[at + 46..end].to_vec());
        at = end + extra_length + comment_length;
    }
    if names.len() as u64 != count {
        return Err(damaged());
    }
    Ok(names)
}

fn check_entry_name(name: &[u8]) -> Result<&str, ArchiveError> {
    let text = std::str::from_utf8(name).map_err(|_| {
        invalid("An entry name is not valid UTF-8: this is not an nsbackup backup.")
    })?;
    let problem = if text.contains('\0') {
        Some("contains a NUL character")
    } else if text.contains('\\') {
        Some("contains a backslash")
    } else if text.starts_with('/') {
        Some("is an absolute path")
    } else if text.len() >= 2 && text.as_bytes()[1] == b':' {
        Some("starts with a drive letter")
    } else if text.split('/').any(|part| part == ".." || part == ".") {
        Some("contains `..` or `.`")
    } else if text.is_empty() || text.ends_with('/') {
        Some("is a directory")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(invalid(format!(
            "The archive is refused: entry name `{}` {problem}.",
            text.escape_default()
        ))),
        None => Ok(text),
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
    limits: Limits,
    visitor: &mut dyn Visitor,
) -> Result<Checked, ArchiveError> {
    let file = File::open(path).map_err(io)?;
    let length = file.metadata().map_err(io)?.len();
    if length == 0 {
        return Err(invalid(
            "The file is empty: not a zip file. Choose a backup file (.zip) made by nsbackup.",
        ));
    }
    let mut zip = ZipArchive::new(BufReader::new(file)).map_err(|error| {
        invalid(format!(
            "The file is not a zip file, or it is damaged or incomplete ({error}). Choose a backup file (.zip) made by nsbackup."
        ))
    })?;
    if zip.len() > limits.max_entries {
        return Err(invalid(format!(
            "The archive has {} entries; a backup may have at most {}.",
            zip.len(),
            limits.max_entries
        )));
    }

    // The central directory as written, not as the zip reader keeps it (which folds entries
    // of the same name into one).
    let raw_names = central_directory_names(path)?;
    if raw_names.len() != zip.len() {
        let mut seen = HashSet::new();
        let twice = raw_names
            .iter()
            .find(|name| !seen.insert(*name))
            .map(|name| String::from_utf8_lossy(name).to_string())
            .unwrap_or_default();
        return Err(invalid(format!(
            "The archive is refused: entry `{twice}` appears twice."
        )));
    }

    // The structure, from the central directory and the local headers.
    let mut names: HashMap<String, usize> = HashMap::with_capacity(zip.len());
    let mut spans: Vec<(u64, u64, String)> = Vec::with_capacity(zip.len());
    for index in 0..zip.len() {
        let entry = zip.by_index_raw(index).map_err(|error| {
            invalid(format!(
                "The archive is damaged: entry {index} cannot be read ({error})."
            ))
        })?;
        let name = check_entry_name(entry.name_raw())?.to_string();
        if entry.is_symlink() {
            return Err(invalid(format!(
                "The archive is refused: entry `{name}` is a symbolic link."
            )));
        }
        if entry.encrypted() {
            return Err(invalid(format!(
                "The archive is refused: entry `{name}` is encrypted. nsbackup backups never are."
            )));
        }
        let lower = name.to_ascii_lowercase();
        if [".zip", ".jar", ".gz", ".7z", ".rar", ".tar"]
            .iter()
            .any(|ext| lower.ends_with(ext))
        {
            return Err(invalid(format!(
                "The archive is refused: entry `{name}` is an archive inside the archive."
            )));
        }
        let start = entry.header_start();
        let data_start = entry.data_start().unwrap_or(start);
        let end = data_start.saturating_add(entry.compressed_size());
        if end > length {
            return Err(invalid(format!(
                "The archive is damaged or truncated: entry `{name}` reaches past the end of the file."
            )));
        }
        spans.push((start, end, name.clone()));
        if names.insert(name.clone(), index).is_some() {
            return Err(invalid(format!(
                "The archive is refused: entry `{name}` appears twice."
            )));
        }
    }
    spans.sort();
    for pair in spans.windows(2) {
        if pair[1].0 < pair[0].1 {
            return Err(invalid(format!(
                "The archive is refused: entries `{}` and `{}` overlap (a \"zip bomb\").",
                pair[0].2, pair[1].2
            )));
        }
    }

    // The manifest.
    let Some(&manifest_index) = names.get(MANIFEST) else {
        return Err(invalid(
            "The archive has no manifest.json: it is not an nsbackup backup.",
        ));
    };
    let total = Cell::new(0u64);
    let manifest_bytes = read_entry(&mut zip, manifest_index, MANIFEST, limits, &total)?.0;
    let manifest = parse_manifest(&manifest_bytes)?;
    let listed: HashMap<&str, &EntryInfo> = manifest
        .entries
        .iter()
        .map(|entry| (entry.path.as_str(), entry))
        .collect();
    if listed.len() != manifest.entries.len() {
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
    // Every listed entry is one the format uses (and so is read and verified below); anything
    // else would be stored unread.
    for path in listed.keys() {
        if ![MANIFEST, NAMESPACE, FOLDERS, ITEMS].contains(path) && !path.starts_with(CONTENTS_DIR)
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

    let verify = |path: &str, sha: &str, size: u64| -> Result<(), ArchiveError> {
        let expected = listed[path];
        if expected.size != size || expected.sha256 != sha {
            return Err(invalid(format!(
                "Entry `{path}` does not match its checksum in the manifest: the file is damaged or was changed."
            )));
        }
        Ok(())
    };

    // namespace.json
    let index = names[NAMESPACE];
    let (bytes, sha) = read_entry(&mut zip, index, NAMESPACE, limits, &total)?;
    verify(NAMESPACE, &sha, bytes.len() as u64)?;
    let namespace: NamespaceRecord = serde_json::from_slice(&bytes)
        .map_err(|e| invalid(format!("namespace.json is not a namespace record: {e}.")))?;
    check_namespace(&namespace).map_err(|e| invalid(format!("namespace.json: {e}")))?;

    // folders.ndjson: kept in memory (folders are few) to check references.
    let mut folders: HashMap<String, (Option<String>, String)> = HashMap::new();
    let mut folder_order: Vec<FolderRecord> = Vec::new();
    let index = names[FOLDERS];
    let (sha, size) = read_lines(
        &mut zip,
        index,
        listed[FOLDERS],
        limits,
        &total,
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
            folder_order.push(folder);
            Ok(())
        },
    )?;
    verify(FOLDERS, &sha, size)?;
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
    for folder in folder_order {
        visitor.folder(folder)?;
    }

    // items.ndjson, with large contents read from their entries as they come (through a
    // second reader of the same file).
    let mut contents_zip = ZipArchive::new(BufReader::new(File::open(path).map_err(io)?))
        .map_err(|e| invalid(format!("The file is damaged ({e}).")))?;
    let check_contents = visitor.check_contents();
    let mut item_ids: HashSet<String> = HashSet::new();
    let mut item_names: HashSet<(Option<String>, String)> = HashSet::new();
    let mut content_entries: HashSet<String> = HashSet::new();
    let index = names[ITEMS];
    let (sha, size) = read_lines(
        &mut zip,
        index,
        listed[ITEMS],
        limits,
        &total,
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
                && !folders.contains_key(folder)
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
                    let (bytes, sha) = read_entry(&mut contents_zip, index, entry, limits, &total)?;
                    verify(entry, &sha, bytes.len() as u64)?;
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
    verify(ITEMS, &sha, size)?;
    if item_ids.len() as u64 != manifest.counts.items {
        return Err(invalid(format!(
            "The manifest counts {} items, but items.ndjson holds {}.",
            manifest.counts.items,
            item_ids.len()
        )));
    }
    for name in names.keys() {
        if name.starts_with(CONTENTS_DIR) && !content_entries.contains(name) {
            return Err(invalid(format!(
                "Content entry `{name}` belongs to no item."
            )));
        }
    }
    Ok(Checked {
        manifest,
        namespace,
    })
}

fn check_folder_tree(
    folders: &HashMap<String, (Option<String>, String)>,
) -> Result<(), ArchiveError> {
    let name_of = |id: &str| {
        folders
            .get(id)
            .map_or_else(|| id.to_string(), |(_, name)| name.clone())
    };
    let parents = folders
        .iter()
        .map(|(id, (parent, _))| (id.as_str(), parent.as_deref()))
        .collect();
    match validate::folder_depths(&parents, 0) {
        Ok(_) => Ok(()),
        Err(validate::TreeProblem::MissingParent { id, parent }) => Err(invalid(format!(
            "Folder `{}` is in folder `{parent}`, which the backup does not hold.",
            name_of(&id)
        ))),
        Err(validate::TreeProblem::Cycle { id }) => Err(invalid(format!(
            "Folder `{}` is inside itself: the backup is inconsistent.",
            name_of(&id)
        ))),
        Err(validate::TreeProblem::TooDeep { id, .. }) => Err(invalid(format!(
            "Folder `{}` lies more than {} folders deep; nsbackup keeps folders at most {} levels deep.",
            name_of(&id),
            validate::FOLDER_DEPTH_MAX,
            validate::FOLDER_DEPTH_MAX
        ))),
    }
}

/// A name as the API would store it: valid, and already trimmed.
fn check_name(name: &str) -> Result<(), String> {
    let trimmed = validate::entry_name(name)?;
    if trimmed != name {
        return Err(format!(
            "name `{}` has spaces at its start or end, which nsbackup never stores.",
            name.escape_debug()
        ));
    }
    Ok(())
}

/// The namespace record by the rules of the API.
fn check_namespace(namespace: &NamespaceRecord) -> Result<(), String> {
    validate::namespace_name(&namespace.name)?;
    if validate::title(&namespace.title)? != namespace.title {
        return Err(
            "the title has spaces at its start or end, which nsbackup never stores.".into(),
        );
    }
    Ok(())
}

/// One folder record by the rules of the API: ids, name and permissions as stored at the
/// backup's `schema_version` (version 1: `KIND:NAME:ACCESS` strings; later: entries).
fn check_folder(folder: &FolderRecord, schema_version: u32) -> Result<(), String> {
    validate::record_id(&folder.id).map_err(|e| format!("the folder's {e}."))?;
    if let Some(parent) = &folder.parent {
        validate::record_id(parent).map_err(|e| format!("the folder's parent: {e}."))?;
    }
    check_name(&folder.name)?;
    let Some(permissions) = folder.permissions.as_ref().filter(|p| !p.is_null()) else {
        return Ok(());
    };
    let bad = |detail: String| {
        format!(
            "folder `{}` has permissions nsbackup cannot read: {detail}",
            folder.name
        )
    };
    let list = permissions
        .as_array()
        .ok_or_else(|| bad("they are not a list.".into()))?;
    if list.len() > validate::PERMISSIONS_MAX {
        return Err(bad(format!(
            "{} entries, at most {} are allowed.",
            list.len(),
            validate::PERMISSIONS_MAX
        )));
    }
    for entry in list {
        let permission = if schema_version < 2 {
            entry
                .as_str()
                .and_then(validate::permission_v1)
                .ok_or_else(|| {
                    bad(format!(
                        "`{entry}` is not `user:NAME:ACCESS` or `role:NAME:ACCESS` with read, write or manage."
                    ))
                })?
        } else {
            serde_json::from_value::<crate::types::Permission>(entry.clone()).map_err(|e| {
                bad(format!(
                    "`{entry}` is not an entry with a user or a role and read, write or manage ({e})."
                ))
            })?
        };
        validate::principal_name(&permission.principal.name).map_err(bad)?;
    }
    Ok(())
}

/// One item record by the rules of the API (its content is checked with the content).
fn check_item(item: &ItemRecord) -> Result<(), String> {
    validate::record_id(&item.id).map_err(|e| format!("the item's {e}."))?;
    if let Some(folder) = &item.folder {
        validate::record_id(folder).map_err(|e| format!("the item's folder: {e}."))?;
    }
    check_name(&item.name)?;
    validate::author(&item.updated_by).map_err(|e| {
        format!(
            "item `{}` was last changed by someone nsbackup cannot name: {e}.",
            item.name
        )
    })?;
    if i64::try_from(item.revision).is_err() {
        return Err(format!(
            "item `{}` has revision {}, more than nsbackup counts.",
            item.name, item.revision
        ));
    }
    Ok(())
}

fn parse_manifest(bytes: &[u8]) -> Result<Manifest, ArchiveError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        invalid(format!(
            "manifest.json is not JSON ({e}): the file is not an nsbackup backup."
        ))
    })?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(invalid(
            "manifest.json does not describe an nsbackup backup (its `format` is not nsbackup-backup).",
        ));
    }
    let version = value
        .get("format_version")
        .and_then(serde_json::Value::as_u64);
    if version != Some(u64::from(FORMAT_VERSION)) {
        return Err(invalid(format!(
            "This backup has archive format version {}; this server reads version {FORMAT_VERSION}. Upgrade the server to restore it.",
            version.map_or_else(|| "?".to_string(), |v| v.to_string())
        )));
    }
    if let Some(found) = value
        .get("schema_version")
        .and_then(serde_json::Value::as_u64)
        && found > u64::from(SCHEMA_VERSION)
    {
        return Err(ArchiveError::TooNew {
            found: u32::try_from(found).unwrap_or(u32::MAX),
            supported: SCHEMA_VERSION,
        });
    }
    let manifest: Manifest = serde_json::from_value(value)
        .map_err(|e| invalid(format!("manifest.json has a wrong field ({e}).")))?;
    validate::namespace_name(&manifest.namespace).map_err(|e| {
        invalid(format!(
            "manifest.json names a namespace nsbackup cannot have: {e}"
        ))
    })?;
    if manifest.schema_version == 0 {
        return Err(invalid(
            "manifest.json has schema version 0, which never existed.",
        ));
    }
    let version = &manifest.app_version;
    if version.is_empty()
        || version.len() > 64
        || version
            .chars()
            .any(|c| c.is_control() || validate::is_invisible_format(c))
    {
        return Err(invalid(
            "manifest.json has an application version nsbackup never writes.",
        ));
    }
    Ok(manifest)
}

fn entry_reader<'a, R: Read + Seek>(
    zip: &'a mut ZipArchive<R>,
    index: usize,
    path: &str,
) -> Result<(zip::read::ZipFile<'a, R>, u64), ArchiveError> {
    let entry = zip.by_index(index).map_err(|error| {
        invalid(format!(
            "Entry `{path}` cannot be read ({error}): the file is damaged."
        ))
    })?;
    let compressed = entry.compressed_size();
    Ok((entry, compressed))
}

fn damaged(path: &str, error: &std::io::Error) -> ArchiveError {
    let text = error.to_string();
    if text.contains("bytes") || text.contains("zip bomb") {
        invalid(text)
    } else {
        invalid(format!(
            "Entry `{path}` is damaged ({text}): its data does not match its checksum or ends early."
        ))
    }
}

/// A whole entry in memory (for small ones: the manifest, the namespace, large contents up
/// to the per-entry cap) with its SHA-256.
fn read_entry<R: Read + Seek>(
    zip: &mut ZipArchive<R>,
    index: usize,
    path: &str,
    limits: Limits,
    total: &Cell<u64>,
) -> Result<(Vec<u8>, String), ArchiveError> {
    let (entry, compressed) = entry_reader(zip, index, path)?;
    let cap = limits.max_entry_bytes.min(64 << 20);
    let mut guarded = Guarded {
        inner: entry,
        hasher: Sha256::new(),
        read: 0,
        cap,
        total,
        total_cap: limits.max_total_bytes,
        compressed,
        max_ratio: limits.max_ratio,
        path: path.to_string(),
    };
    let mut bytes = Vec::new();
    guarded
        .read_to_end(&mut bytes)
        .map_err(|e| damaged(path, &e))?;
    if bytes.starts_with(b"PK\x03\x04") {
        return Err(invalid(format!(
            "The archive is refused: entry `{path}` is an archive inside the archive."
        )));
    }
    let sha = hex(&guarded.hasher.finalize());
    Ok((bytes, sha))
}

/// An NDJSON entry line by line (each at most 16 MiB); returns its SHA-256 and size. When a
/// line is refused, the rest of the entry is still read: if its checksum does not hold, the
/// entry is reported as damaged (the cause), not the line (the symptom).
fn read_lines<R: Read + Seek>(
    zip: &mut ZipArchive<R>,
    index: usize,
    expected: &EntryInfo,
    limits: Limits,
    total: &Cell<u64>,
    mut each: impl FnMut(&str, u64) -> Result<(), ArchiveError>,
) -> Result<(String, u64), ArchiveError> {
    const LINE_MAX: u64 = 16 << 20;
    let path = expected.path.as_str();
    let (entry, compressed) = entry_reader(zip, index, path)?;
    let guarded = Guarded {
        inner: entry,
        hasher: Sha256::new(),
        read: 0,
        cap: limits.max_entry_bytes,
        total,
        total_cap: limits.max_total_bytes,
        compressed,
        max_ratio: limits.max_ratio,
        path: path.to_string(),
    };
    let mut reader = BufReader::with_capacity(256 * 1024, guarded);
    let mut line = Vec::new();
    let mut number = 0u64;
    let lines: Result<(), ArchiveError> = loop {
        line.clear();
        let n = (&mut reader)
            .take(LINE_MAX + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| damaged(path, &e))?;
        if n == 0 {
            break Ok(());
        }
        number += 1;
        if n as u64 > LINE_MAX {
            break Err(invalid(format!(
                "{path}, line {number}: the line is too long."
            )));
        }
        let Ok(text) = std::str::from_utf8(&line) else {
            break Err(invalid(format!("{path}, line {number}: not UTF-8 text.")));
        };
        let text = text.trim_end_matches(['\n', '\r']);
        if text.is_empty() {
            continue;
        }
        if let Err(error) = each(text, number) {
            break Err(error);
        }
    };
    if lines.is_err() {
        std::io::copy(&mut reader, &mut std::io::sink()).map_err(|e| damaged(path, &e))?;
    }
    let guarded = reader.into_inner();
    let (sha, size) = (hex(&guarded.hasher.finalize()), guarded.read);
    if lines.is_err() && (sha != expected.sha256 || size != expected.size) {
        return Err(invalid(format!(
            "Entry `{path}` does not match its checksum in the manifest: the file is damaged or was changed."
        )));
    }
    lines.map(|()| (sha, size))
}
