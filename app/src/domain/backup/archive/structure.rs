//! The zip's own structure, checked before any entry is unpacked: entry names, duplicates
//! (from the central directory as written), links, encryption, nested archives, entries that
//! reach past the end or overlap.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::io::{BufReader, Seek};
use std::path::{Path, PathBuf};

use zip::ZipArchive;

use super::sealed::{self, Keys, ReadSeek};
use super::{ArchiveError, Limits, invalid};

/// An archive whose structure holds, being read: the zip, each entry's index by name, the
/// caps, and the bytes unpacked so far (against [`Limits::max_total_bytes`]).
pub(super) struct Archive {
    pub path: PathBuf,
    pub keys: Keys,
    pub zip: ZipArchive<BufReader<Box<dyn ReadSeek>>>,
    pub names: HashMap<String, usize>,
    pub limits: Limits,
    pub total: Cell<u64>,
}

/// Opens the zip at `path` (or inside it, when it is sealed: with `keys`) and checks its
/// structure; nothing is unpacked yet.
pub(super) fn open(path: &Path, keys: &Keys, limits: Limits) -> Result<Archive, ArchiveError> {
    let (mut file, length) = sealed::open(path, keys)?;
    if length == 0 {
        return Err(invalid(
            "The file is empty: not a zip file. Choose a backup file (.zip) made by nsbackup.",
        ));
    }
    // The central directory as written, not as the zip reader keeps it (which folds entries
    // of the same name into one).
    let raw_names = central_directory_names(&mut file, length)?;
    file.rewind().map_err(ArchiveError::from)?;
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
    Ok(Archive {
        path: path.to_path_buf(),
        keys: keys.clone(),
        zip,
        names,
        limits,
        total: Cell::new(0),
    })
}

/// The raw names of every record of the central directory of the zip `file` (`length`
/// bytes), read from the end-of-central-directory record (zip64 too).
fn central_directory_names(
    file: &mut dyn ReadSeek,
    length: u64,
) -> Result<Vec<Vec<u8>>, ArchiveError> {
    let damaged = || {
        invalid(
            "The file is not a zip file, or it is damaged or incomplete (its central directory cannot be read).",
        )
    };
    let bytes_at =
        |file: &mut dyn ReadSeek, offset: u64, length: usize| -> Result<Vec<u8>, ArchiveError> {
            use std::io::SeekFrom;
            let mut buffer = vec![0u8; length];
            file.seek(SeekFrom::Start(offset))
                .map_err(ArchiveError::from)?;
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
    let tail_length = length.min(65_557);
    let tail = bytes_at(file, length - tail_length, tail_length as usize)?;
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
        let record = bytes_at(file, u64_at(&tail, locator + 8), 56)?;
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
    let directory = bytes_at(file, offset, size as usize)?;
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
