//! Writing a backup archive: records in order, large contents as entries of their own, the
//! manifest first, and the same bytes for the same data.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::Path;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use super::{
    ArchiveError, CONTENTS_DIR, Counts, EntryInfo, FOLDERS, FORMAT, FORMAT_VERSION, FolderRecord,
    INLINE_MAX, ITEMS, ItemRecord, MANIFEST, Manifest, NAMESPACE, NamespaceRecord, hex,
};
use crate::domain::schema::SCHEMA_VERSION;

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
        self.zip
            .start_file(path, entry_options())
            .map_err(ArchiveError::io)?;
        self.current = Some((path.to_string(), Sha256::new(), 0));
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), ArchiveError> {
        if let Some((_, hasher, size)) = &mut self.current {
            hasher.update(bytes);
            *size += bytes.len() as u64;
        }
        self.zip.write_all(bytes).map_err(ArchiveError::io)
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
        let inner = self.zip.finish().map_err(ArchiveError::io)?;
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
        let mut records = HashingZip::new(File::create(&records_path).map_err(ArchiveError::io)?);
        let contents = HashingZip::new(File::create(&contents_path).map_err(ArchiveError::io)?);
        records.start(NAMESPACE)?;
        let json = serde_json::to_vec(namespace).map_err(ArchiveError::io)?;
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
            return Err(ArchiveError::io("folders must be written before items"));
        }
        let mut line = serde_json::to_vec(folder).map_err(ArchiveError::io)?;
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
        let mut line = serde_json::to_vec(&item).map_err(ArchiveError::io)?;
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
    let file = File::create(target).map_err(ArchiveError::io)?;
    let mut zip = ZipWriter::new(file);
    zip.start_file(MANIFEST, entry_options())
        .map_err(ArchiveError::io)?;
    let json = serde_json::to_vec_pretty(manifest).map_err(ArchiveError::io)?;
    zip.write_all(&json).map_err(ArchiveError::io)?;
    for part in parts {
        let mut source = ZipArchive::new(File::open(part).map_err(ArchiveError::io)?)
            .map_err(ArchiveError::io)?;
        for index in 0..source.len() {
            let entry = source.by_index_raw(index).map_err(ArchiveError::io)?;
            zip.raw_copy_file(entry).map_err(ArchiveError::io)?;
        }
    }
    // An unfinished zip has no central directory: finish explicitly, then make it durable.
    let file = zip.finish().map_err(ArchiveError::io)?;
    file.sync_all().map_err(ArchiveError::io)?;
    Ok(())
}

/// SHA-256 and size of a whole file.
///
/// # Errors
///
/// [`ArchiveError::Io`] when the file cannot be read.
pub fn file_digest(path: &Path) -> Result<(String, u64), ArchiveError> {
    let mut file = File::open(path).map_err(ArchiveError::io)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(ArchiveError::io)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
    Ok((hex(&hasher.finalize()), size))
}
