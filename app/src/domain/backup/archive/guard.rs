//! Reading an entry within the caps: bytes are counted as they come (never trusting the
//! sizes the archive declares), reading stops at the per-entry and total caps and at a
//! suspicious compression ratio, and everything read is hashed.

use std::cell::Cell;
use std::io::{BufRead, BufReader, Read, Seek};

use sha2::{Digest, Sha256};
use zip::ZipArchive;

use super::{ArchiveError, EntryInfo, Limits, hex, invalid};

/// Why the guard stopped reading an entry: a cap, not damage. It travels inside the
/// `io::Error` that [`Read`] must return and is taken out again by [`damaged`] — never
/// recognised by its text.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Refused(String);

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
        let refuse = |message: String| std::io::Error::other(Refused(message));
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

/// Entry `index` (named `path`), opened behind the guard with a cap of `cap` bytes.
fn guarded_entry<'a, 'z, R: Read + Seek>(
    zip: &'z mut ZipArchive<R>,
    index: usize,
    path: &str,
    cap: u64,
    limits: Limits,
    total: &'a Cell<u64>,
) -> Result<Guarded<'a, zip::read::ZipFile<'z, R>>, ArchiveError> {
    let entry = zip.by_index(index).map_err(|error| {
        invalid(format!(
            "Entry `{path}` cannot be read ({error}): the file is damaged."
        ))
    })?;
    Ok(Guarded {
        compressed: entry.compressed_size(),
        inner: entry,
        hasher: Sha256::new(),
        read: 0,
        cap,
        total,
        total_cap: limits.max_total_bytes,
        max_ratio: limits.max_ratio,
        path: path.to_string(),
    })
}

/// What a failed read of entry `path` means: a cap reached (the guard's own refusal), or
/// damaged data (anything the zip reader or the decompressor reports).
fn damaged(path: &str, error: &std::io::Error) -> ArchiveError {
    match error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<Refused>())
    {
        Some(Refused(message)) => invalid(message.clone()),
        None => invalid(format!(
            "Entry `{path}` is damaged ({error}): its data does not match its checksum or ends early."
        )),
    }
}

/// The most of one entry that is ever held in memory whole (the manifest, the namespace).
pub(super) const IN_MEMORY_MAX: u64 = 64 << 20;

/// A whole entry in memory (for small ones: the manifest, the namespace, an item's content)
/// with its SHA-256, read no further than `most` bytes (nor the per-entry cap): what is
/// refused beyond it is never held.
pub(super) fn read_entry<R: Read + Seek>(
    zip: &mut ZipArchive<R>,
    index: usize,
    path: &str,
    most: u64,
    limits: Limits,
    total: &Cell<u64>,
) -> Result<(Vec<u8>, String), ArchiveError> {
    let cap = limits.max_entry_bytes.min(most);
    let mut guarded = guarded_entry(zip, index, path, cap, limits, total)?;
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
pub(super) fn read_lines<R: Read + Seek>(
    zip: &mut ZipArchive<R>,
    index: usize,
    expected: &EntryInfo,
    limits: Limits,
    total: &Cell<u64>,
    mut each: impl FnMut(&str, u64) -> Result<(), ArchiveError>,
) -> Result<(String, u64), ArchiveError> {
    const LINE_MAX: u64 = 16 << 20;
    let path = expected.path.as_str();
    let guarded = guarded_entry(zip, index, path, limits.max_entry_bytes, limits, total)?;
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

/// Reads entry `index` through to its end within the caps, without keeping it, and checks
/// it against its size and SHA-256 in the manifest (`expected`).
pub(super) fn verify_entry<R: Read + Seek>(
    zip: &mut ZipArchive<R>,
    index: usize,
    expected: &EntryInfo,
    limits: Limits,
    total: &Cell<u64>,
) -> Result<(), ArchiveError> {
    let path = expected.path.as_str();
    let mut guarded = guarded_entry(zip, index, path, limits.max_entry_bytes, limits, total)?;
    std::io::copy(&mut guarded, &mut std::io::sink()).map_err(|e| damaged(path, &e))?;
    if guarded.read != expected.size || hex(&guarded.hasher.finalize()) != expected.sha256 {
        return Err(invalid(format!(
            "Entry `{path}` does not match its checksum in the manifest: the file is damaged or was changed."
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    /// A zip of one entry `name` holding `bytes`, stored as they are or deflated.
    fn zip_of(name: &str, bytes: &[u8], deflated: bool) -> ZipArchive<Cursor<Vec<u8>>> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let method = if deflated {
            zip::CompressionMethod::Deflated
        } else {
            zip::CompressionMethod::Stored
        };
        let options = zip::write::SimpleFileOptions::default().compression_method(method);
        writer.start_file(name, options).expect("an entry");
        writer.write_all(bytes).expect("written");
        let file = writer.finish().expect("finished");
        ZipArchive::new(file).expect("a zip")
    }

    fn refusal(result: Result<(Vec<u8>, String), ArchiveError>) -> String {
        match result {
            Err(ArchiveError::Invalid(message)) => message,
            other => panic!("not refused: {:?}", other.map(|(bytes, _)| bytes.len())),
        }
    }

    #[test]
    fn a_cap_is_refused_as_itself_and_damage_as_damage() {
        let limits = Limits {
            max_entry_bytes: 1_000,
            ..Limits::default()
        };
        // Over the cap: the guard's own words, exactly (not wrapped as damage).
        let mut zip = zip_of("big.json", &[b'x'; 5_000], false);
        let message = refusal(read_entry(
            &mut zip,
            0,
            "big.json",
            IN_MEMORY_MAX,
            limits,
            &Cell::new(0),
        ));
        assert_eq!(
            message,
            "Entry `big.json` unpacks to more than 1000 bytes, the most one entry may hold."
        );
        let limits = Limits {
            max_total_bytes: 1_000,
            ..Limits::default()
        };
        let mut zip = zip_of("big.json", &[b'x'; 5_000], true);
        let message = refusal(read_entry(
            &mut zip,
            0,
            "big.json",
            IN_MEMORY_MAX,
            limits,
            &Cell::new(0),
        ));
        assert_eq!(
            message,
            "The archive unpacks to more than 1000 bytes, the most a backup may hold."
        );

        // Damaged bytes (a stored entry with one byte changed fails its CRC): damage.
        let zip = zip_of("small.json", b"{\"a\": 1}", false);
        let mut file = zip.into_inner().into_inner();
        let at = file
            .windows(8)
            .position(|w| w == b"{\"a\": 1}")
            .expect("the entry's bytes");
        file[at + 6] = b'2';
        let mut zip = ZipArchive::new(Cursor::new(file)).expect("still a zip");
        let message = refusal(read_entry(
            &mut zip,
            0,
            "small.json",
            IN_MEMORY_MAX,
            Limits::default(),
            &Cell::new(0),
        ));
        assert!(
            message.starts_with("Entry `small.json` is damaged"),
            "{message}"
        );
    }
}
