//! The embedded storage engine's write-ahead log, made whole before the engine opens it.
//!
//! SurrealKV (0.21) writes its log as `<db>/wal/<id:020>.wal`, in 32 KiB blocks; a record
//! larger than the room left in a block is split into `First`/`Middle`/`Last` fragments. A
//! process killed half-way through such an append leaves the segment ending inside the
//! record. At the next start the engine:
//!
//! * takes a segment that ends inside a fragmented record, or inside a header, for a clean
//!   end ("reached end of file") and truncates nothing;
//! * reopens that segment for appending and works out its place in the block from the file's
//!   size, so the commits it acknowledges next land *after* the orphaned fragments;
//! * at the start after that, meets a `Full` or `First` record where the orphan's `Last`
//!   should be, calls it corruption, and keeps only what came before ("Stopped repair at
//!   corruption"): every commit since the first restart is lost.
//!
//! [`mend_log`] runs on the database directory before the engine opens it. It walks each
//! segment block by block as the engine's reader does (checksums, fragment order, padding)
//! and, when a file ends in a torn tail, truncates it to the end of the last complete record
//! and syncs the file and its directory. The engine then appends exactly where the torn
//! append began, as if it had never started. (The torn record was never acknowledged: a
//! commit is acknowledged only once its record is written and synced.)
//!
//! It never silently removes a record the engine's reader would return. Damage followed by
//! more data (which a kill alone cannot leave) is reported as [`WalCorruption`], with an
//! untouched copy of the segment kept beside the database, and cut back only when asked to.
//! The database's `LOCK` is held while it works: a database in use is refused
//! (`WouldBlock`). After a clean stop it changes nothing, so it runs before every opening.
//!
//! The format (surrealkv 0.21.4, `src/wal/mod.rs`, `src/wal/writer.rs`):
//!
//! ```text
//! block  = 32768 bytes; records never cross a block boundary
//! header = crc32 (4, big-endian) | length (2, big-endian) | type (1)
//! crc32  = CRC-32/ISO-HDLC (crc32fast) over [type] ++ payload
//! type   = 0 Empty (zero padding) | 1 Full | 2 First | 3 Middle | 4 Last
//!          | 9 SetCompressionType (not checksummed by the reader)
//! tail of a block shorter than 7 bytes = zero padding, skipped by the reader
//! ```

use std::error::Error as StdError;
use std::fmt;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

mod reader;

#[cfg(test)]
use reader::crc_of;
use reader::scan;

/// WAL block size used by SurrealKV (`wal::BLOCK_SIZE`).
pub const BLOCK_SIZE: usize = 32 * 1024;

/// WAL physical record header size (`wal::HEADER_SIZE`): crc(4) + len(2) + type(1).
pub const HEADER_SIZE: usize = 7;

/// Name of SurrealKV's lock file inside the database directory.
pub const LOCK_FILE_NAME: &str = "LOCK";

/// Name of SurrealKV's WAL sub-directory inside the database directory.
pub const WAL_DIR_NAME: &str = "wal";

const TYPE_EMPTY: u8 = 0;
const TYPE_FULL: u8 = 1;
const TYPE_FIRST: u8 = 2;
const TYPE_MIDDLE: u8 = 3;
const TYPE_LAST: u8 = 4;
const TYPE_SET_COMPRESSION: u8 = 9;

/// Why a segment tail was trimmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrimReason {
    /// The file ends after one or more `First`/`Middle` fragments with no `Last`
    /// (for example exactly on a block boundary after a `First`).
    IncompleteFragmentedRecord,
    /// The file ends with 1–6 non-zero bytes of a record header.
    TornHeader,
    /// A complete header is present but its payload runs past end of file.
    TornPayload,
    /// After the last complete record there is only padding or zero-filled
    /// (`Empty`-type) space, typically the zero-extended tail left by a power
    /// loss.
    ZeroFilledTail,
    /// The last record is malformed (bad checksum, invalid type or length) and
    /// only zero bytes follow it. This cannot come from a SIGKILL alone; it
    /// points to power loss or media damage. SurrealKV's own repair would drop
    /// the same bytes.
    CorruptFinalRecord,
}

impl fmt::Display for TrimReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            TrimReason::IncompleteFragmentedRecord => "incomplete fragmented record at end of file",
            TrimReason::TornHeader => "torn record header at end of file",
            TrimReason::TornPayload => "torn record payload at end of file",
            TrimReason::ZeroFilledTail => "zero-filled tail after last record",
            TrimReason::CorruptFinalRecord => "corrupt final record followed only by zeros",
        };
        f.write_str(s)
    }
}

/// What [`trim_torn_tail`] and [`mend_log`] did to one segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trimmed {
    /// The segment file that was truncated.
    pub file: PathBuf,
    /// File length before truncation.
    pub old_len: u64,
    /// File length after truncation (end of the last complete record).
    pub new_len: u64,
    /// Why the tail was considered torn.
    pub reason: TrimReason,
}

/// The error payload returned (inside `io::ErrorKind::InvalidData`) when a
/// segment is damaged somewhere other than its tail. In that case nothing is
/// modified.
///
/// Get it back with
/// `err.get_ref().and_then(|e| e.downcast_ref::<WalCorruption>())`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalCorruption {
    /// The damaged segment.
    pub file: PathBuf,
    /// Byte offset of the first record the SurrealKV reader would reject.
    pub offset: u64,
    /// End offset of the last complete record before `offset`. SurrealKV's
    /// `repair_corrupted_wal_segment` would keep exactly `[0, last_complete_end)`.
    pub last_complete_end: u64,
    /// Current file length.
    pub file_len: u64,
    /// What the reader would complain about.
    pub reason: &'static str,
}

impl fmt::Display for WalCorruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "WAL segment {} is corrupt at offset {} ({}); {} bytes of data follow; \
             surrealkv repair would keep only the first {} bytes",
            self.file.display(),
            self.offset,
            self.reason,
            self.file_len.saturating_sub(self.offset),
            self.last_complete_end
        )
    }
}

impl StdError for WalCorruption {}

/// The state of one segment as seen by [`scan_segment`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SegmentState {
    /// The file ends exactly after a complete record (or is empty).
    Clean,
    /// The file has a torn tail; truncating to `new_len` removes only bytes
    /// that are not part of any complete record.
    TornTail {
        /// Length to truncate to.
        new_len: u64,
        /// Classification of the tail.
        reason: TrimReason,
    },
    /// A malformed record at `offset` is followed by more data. Left alone.
    MidFileCorruption {
        /// Offset of the first rejected record.
        offset: u64,
        /// Reader complaint.
        reason: &'static str,
    },
}

/// Result of scanning one WAL segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentScan {
    /// File length in bytes.
    pub len: u64,
    /// Number of complete logical records (Full, or First..Last) found before
    /// the scan stopped.
    pub records: u64,
    /// End offset of the last complete record (or metadata record).
    pub last_complete_end: u64,
    /// Overall classification.
    pub state: SegmentState,
}

/// Trims a torn tail from the **newest** WAL segment of the SurrealKV database
/// at `db_dir`. That is the segment SurrealKV reopens for appending.
///
/// Returns `Ok(None)` if there is no WAL directory, no segment, or the newest
/// segment ends cleanly. Returns `Ok(Some(_))` after truncating and fsyncing.
///
/// # Errors
///
/// * `WouldBlock` if another process (or another handle in this process) holds
///   the database `LOCK`.
/// * `InvalidData` wrapping [`WalCorruption`] if the segment is damaged
///   somewhere other than its tail; the file is not modified.
/// * Any other I/O error from reading, truncating or syncing.
pub fn trim_torn_tail(db_dir: &Path) -> io::Result<Option<Trimmed>> {
    let wal_dir = db_dir.join(WAL_DIR_NAME);
    if !wal_dir.is_dir() {
        return Ok(None);
    }
    let _lock = DbLock::acquire(db_dir)?;
    let segments = list_segments(&wal_dir)?;
    match segments.last() {
        Some((_, path)) => trim_segment(path),
        None => Ok(None),
    }
}

/// What [`mend_log`] found and did.
#[derive(Debug, Default)]
pub struct LogReport {
    /// Torn tails removed (bytes of a write that was never acknowledged).
    pub trimmed: Vec<Trimmed>,
    /// Damage before a segment's end, each with where the untouched copy of its segment was
    /// kept.
    pub damaged: Vec<(WalCorruption, PathBuf)>,
    /// Whether the damaged segments were cut back to their last record before the damage.
    pub damage_cut: bool,
}

/// Makes the log of the SurrealKV database at `db_dir` safe to open, under the database's
/// `LOCK`:
///
/// * a torn tail of any segment is removed (what a kill during an append leaves);
/// * a segment damaged before its end is copied, untouched, to `<db_dir>.damaged/`; and
///   only when `cut_damage` is set is it cut back to its last complete record before the
///   damage — the very bytes the engine's own repair would keep, without the engine's
///   repair path (whose log writer goes on appending to the replaced, unlinked file).
///
/// # Errors
///
/// `WouldBlock` while another process holds the database; I/O errors of reading, copying,
/// truncating or syncing.
pub fn mend_log(db_dir: &Path, cut_damage: bool) -> io::Result<LogReport> {
    let wal_dir = db_dir.join(WAL_DIR_NAME);
    let mut report = LogReport::default();
    if !wal_dir.is_dir() {
        return Ok(report);
    }
    let _lock = DbLock::acquire(db_dir)?;
    for (_, path) in list_segments(&wal_dir)? {
        let scan = scan_segment(&path)?;
        match scan.state {
            SegmentState::Clean => {}
            SegmentState::TornTail { .. } => {
                report.trimmed.extend(trim_segment(&path)?);
            }
            SegmentState::MidFileCorruption { offset, reason } => {
                let copy = keep_copy(db_dir, &path)?;
                if cut_damage {
                    cut(&path, scan.last_complete_end)?;
                }
                let damage = WalCorruption {
                    file: path.clone(),
                    offset,
                    last_complete_end: scan.last_complete_end,
                    file_len: scan.len,
                    reason,
                };
                report.damaged.push((damage, copy));
            }
        }
    }
    report.damage_cut = cut_damage && !report.damaged.is_empty();
    Ok(report)
}

/// Copies a segment to `<db_dir>.damaged/<name>.<seconds since 1970>` (the engine refuses a
/// log directory that holds files of other names) and syncs the copy.
fn keep_copy(db_dir: &Path, segment: &Path) -> io::Result<PathBuf> {
    let mut target = db_dir.as_os_str().to_owned();
    target.push(".damaged");
    let target = PathBuf::from(target);
    fs::create_dir_all(&target)?;
    let name = segment
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "segment".into());
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let copy = target.join(format!("{name}.{stamp}"));
    fs::copy(segment, &copy)?;
    File::open(&copy)?.sync_all()?;
    fsync_dir(&target)?;
    Ok(copy)
}

/// Truncates a segment to `len` bytes and makes that durable.
fn cut(path: &Path, len: u64) -> io::Result<()> {
    let file = OpenOptions::new().write(true).open(path)?;
    file.set_len(len)?;
    file.sync_all()?;
    drop(file);
    match path.parent() {
        Some(dir) => fsync_dir(dir),
        None => Ok(()),
    }
}

/// Lists the WAL segments in `wal_dir` as `(id, path)`, sorted by id.
///
/// SurrealKV's rule is followed: a regular file whose name up to the first
/// `.` parses as `u64` and whose extension is exactly `wal`. SurrealKV writes
/// the id as 20 zero-padded digits. Other entries are skipped (SurrealKV
/// itself fails to open if a regular file with a non-numeric stem is present).
///
/// # Errors
///
/// Returns directory read errors.
pub fn list_segments(wal_dir: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(wal_dir)? {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            continue;
        }
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some((stem, ext)) = name.split_once('.') else {
            continue;
        };
        if ext != "wal" || stem.is_empty() || !stem.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Ok(id) = stem.parse::<u64>() {
            out.push((id, entry.path()));
        }
    }
    out.sort_by_key(|(id, _)| *id);
    Ok(out)
}

/// Scans one segment file without modifying it.
///
/// # Errors
///
/// Returns I/O errors from opening or reading the file.
pub fn scan_segment(path: &Path) -> io::Result<SegmentScan> {
    let mut f = File::open(path)?;
    scan(&mut f)
}

/// Scans one segment and, if it has a torn tail, truncates it and fsyncs the
/// file and its parent directory. The caller must make sure the database is
/// not open (see [`trim_torn_tail`], which takes the `LOCK`).
///
/// # Errors
///
/// `InvalidData` wrapping [`WalCorruption`] for mid-file corruption (file
/// untouched), or I/O errors.
pub fn trim_segment(path: &Path) -> io::Result<Option<Trimmed>> {
    let mut f = File::open(path)?;
    let scan = scan(&mut f)?;
    match scan.state {
        SegmentState::Clean => Ok(None),
        SegmentState::MidFileCorruption { offset, reason } => {
            Err(corruption_error(path, offset, &scan, reason))
        }
        SegmentState::TornTail { new_len, reason } => {
            drop(f);
            cut(path, new_len)?;
            Ok(Some(Trimmed {
                file: path.to_path_buf(),
                old_len: scan.len,
                new_len,
                reason,
            }))
        }
    }
}

fn corruption_error(
    path: &Path,
    offset: u64,
    scan: &SegmentScan,
    reason: &'static str,
) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        WalCorruption {
            file: path.to_path_buf(),
            offset,
            last_complete_end: scan.last_complete_end,
            file_len: scan.len,
            reason,
        },
    )
}

/// Exclusive advisory lock on `<db>/LOCK`, released on drop.
struct DbLock {
    _file: File,
}

impl DbLock {
    fn acquire(db_dir: &Path) -> io::Result<Self> {
        // Like SurrealKV: create if missing. Unlike SurrealKV: do not truncate
        // (the PID written by the last owner is kept for diagnostics).
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(db_dir.join(LOCK_FILE_NAME))?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(TryLockError::WouldBlock) => Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                format!("database at {} is in use (LOCK is held)", db_dir.display()),
            )),
            Err(TryLockError::Error(e)) => Err(e),
        }
    }
}

fn fsync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(not(windows))]
    {
        File::open(dir)?.sync_all()?;
    }
    #[cfg(windows)]
    {
        let _ = dir;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
