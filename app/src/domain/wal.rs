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
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

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

/// How the block walk ended.
enum Stop {
    /// Reached end of file without a reader error.
    Eof {
        /// A First/Middle chain was open at EOF.
        in_fragment: bool,
        /// The final partial block ended with 1–6 bytes, some of them non-zero.
        trailing_nonzero: bool,
    },
    /// A header in the final partial block announces a payload past EOF.
    TornPayload,
    /// The reader would reject the record at `offset`.
    Bad {
        offset: u64,
        /// Where the malformed record's bytes end, as far as can be told.
        /// Everything from here to EOF must be zero for the damage to count as
        /// a tail.
        resume_at: u64,
        /// The rejected record is itself a valid, complete physical record
        /// (for example a `Full` right after an orphaned `First`). Then data
        /// definitely follows the damage and the file must not be trimmed.
        valid_record_follows: bool,
        reason: &'static str,
    },
}

fn crc_of(record_type: u8, data: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&[record_type]);
    h.update(data);
    h.finalize()
}

/// Reads up to `buf.len()` bytes, stopping early only at EOF.
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// True if every byte from `from` to EOF is zero.
fn zero_from<R: Read + Seek>(r: &mut R, from: u64) -> io::Result<bool> {
    r.seek(SeekFrom::Start(from))?;
    let mut buf = vec![0u8; BLOCK_SIZE];
    loop {
        let n = read_full(r, &mut buf)?;
        if n == 0 {
            return Ok(true);
        }
        if buf[..n].iter().any(|&b| b != 0) {
            return Ok(false);
        }
    }
}

/// Walks the segment the way `surrealkv::wal::reader::Reader::next` does.
fn walk<R: Read>(r: &mut R) -> io::Result<(u64, u64, Stop)> {
    let mut buf = vec![0u8; BLOCK_SIZE];
    let mut block_start: u64 = 0;
    let mut frag: usize = 0;
    let mut records: u64 = 0;
    let mut last_end: u64 = 0;

    loop {
        let n = read_full(r, &mut buf)?;
        if n == 0 {
            let stop = Stop::Eof {
                in_fragment: frag > 0,
                trailing_nonzero: false,
            };
            return Ok((records, last_end, stop));
        }
        let blk = &buf[..n];
        let partial = n < BLOCK_SIZE;
        let mut pos = 0usize;

        loop {
            if n - pos < HEADER_SIZE {
                if partial {
                    let trailing_nonzero = blk[pos..].iter().any(|&b| b != 0);
                    let stop = Stop::Eof {
                        in_fragment: frag > 0,
                        trailing_nonzero,
                    };
                    return Ok((records, last_end, stop));
                }
                break; // block-tail padding, skipped by the reader
            }
            let at = block_start + pos as u64;
            let crc = u32::from_be_bytes([blk[pos], blk[pos + 1], blk[pos + 2], blk[pos + 3]]);
            let len = u16::from_be_bytes([blk[pos + 4], blk[pos + 5]]) as usize;
            let ty = blk[pos + 6];
            let body = pos + HEADER_SIZE;
            let avail = n - body;
            let fits_in_file_block = len <= avail;
            let bad = |reason: &'static str, valid_record_follows: bool| Stop::Bad {
                offset: at,
                resume_at: if fits_in_file_block {
                    block_start + (body + len) as u64
                } else {
                    block_start + body as u64
                },
                valid_record_follows,
                reason,
            };
            // A header in the last (partial) block whose payload would still
            // fit in a full block: the file simply stops inside it.
            let torn_here = partial && !fits_in_file_block && body + len <= BLOCK_SIZE;
            // A record that runs past the file's end: torn there, or malformed.
            let past_end = |reason: &'static str| {
                if torn_here {
                    Stop::TornPayload
                } else {
                    bad(reason, false)
                }
            };

            match ty {
                TYPE_EMPTY => {
                    if blk[body..].iter().any(|&b| b != 0) {
                        return Ok((
                            records,
                            last_end,
                            bad("non-zero byte in padding area", false),
                        ));
                    }
                    pos = n; // reader discards the rest of the block
                }
                TYPE_SET_COMPRESSION => {
                    if !fits_in_file_block {
                        return Ok((
                            records,
                            last_end,
                            past_end("truncated compression type record"),
                        ));
                    }
                    if len > 0 && blk[body] > 1 {
                        return Ok((records, last_end, bad("invalid compression type", false)));
                    }
                    pos = body + len;
                    if frag == 0 {
                        last_end = block_start + pos as u64;
                    }
                }
                TYPE_FULL | TYPE_FIRST | TYPE_MIDDLE | TYPE_LAST => {
                    let seq_err = match ty {
                        TYPE_FULL if frag != 0 => {
                            Some("unexpected full record: first record expected")
                        }
                        TYPE_FIRST if frag != 0 => {
                            Some("unexpected first record: no previous records expected")
                        }
                        TYPE_MIDDLE if frag == 0 => {
                            Some("unexpected middle record: missing previous records")
                        }
                        TYPE_LAST if frag == 0 => {
                            Some("unexpected last record: missing previous records")
                        }
                        _ => None,
                    };
                    if let Some(reason) = seq_err {
                        let valid = fits_in_file_block && crc_of(ty, &blk[body..body + len]) == crc;
                        return Ok((records, last_end, bad(reason, valid)));
                    }
                    if !fits_in_file_block {
                        return Ok((
                            records,
                            last_end,
                            past_end("bad record length - exceeds block boundary"),
                        ));
                    }
                    if crc_of(ty, &blk[body..body + len]) != crc {
                        return Ok((records, last_end, bad("checksum mismatch", false)));
                    }
                    pos = body + len;
                    if ty == TYPE_FULL || ty == TYPE_LAST {
                        frag = 0;
                        records += 1;
                        last_end = block_start + pos as u64;
                    } else {
                        frag += 1;
                    }
                }
                _ => return Ok((records, last_end, bad("invalid record type", false))),
            }
        }
        block_start += n as u64;
    }
}

/// Scans any seekable byte source holding one WAL segment.
fn scan<R: Read + Seek>(r: &mut R) -> io::Result<SegmentScan> {
    let len = r.seek(SeekFrom::End(0))?;
    r.seek(SeekFrom::Start(0))?;
    let (records, last_complete_end, stop) = walk(r)?;
    let state = match stop {
        Stop::Eof {
            in_fragment,
            trailing_nonzero,
        } => {
            if len == last_complete_end {
                SegmentState::Clean
            } else {
                let reason = if trailing_nonzero {
                    TrimReason::TornHeader
                } else if in_fragment {
                    TrimReason::IncompleteFragmentedRecord
                } else {
                    TrimReason::ZeroFilledTail
                };
                SegmentState::TornTail {
                    new_len: last_complete_end,
                    reason,
                }
            }
        }
        Stop::TornPayload => SegmentState::TornTail {
            new_len: last_complete_end,
            reason: TrimReason::TornPayload,
        },
        Stop::Bad {
            offset,
            resume_at,
            valid_record_follows,
            reason,
        } => {
            if !valid_record_follows && zero_from(r, resume_at)? {
                SegmentState::TornTail {
                    new_len: last_complete_end,
                    reason: TrimReason::CorruptFinalRecord,
                }
            } else {
                SegmentState::MidFileCorruption { offset, reason }
            }
        }
    };
    Ok(SegmentScan {
        len,
        records,
        last_complete_end,
        state,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};

    // ---------- test encoder: a line-by-line mirror of surrealkv 0.21.4 src/wal/writer.rs ----------

    struct Enc {
        out: Vec<u8>,
        block_offset: usize,
        /// End offset (in `out`) of each complete logical record.
        record_ends: Vec<u64>,
        /// (type, start, end) of every physical fragment.
        frags: Vec<(u8, u64, u64)>,
        base: u64,
    }

    impl Enc {
        fn new() -> Self {
            Self::resume_at(0)
        }
        /// Mirrors `Wal::create_writer` on an existing file: block_offset = size % BLOCK_SIZE.
        fn resume_at(existing_len: u64) -> Self {
            Enc {
                out: Vec::new(),
                block_offset: (existing_len as usize) % BLOCK_SIZE,
                record_ends: Vec::new(),
                frags: Vec::new(),
                base: existing_len,
            }
        }
        fn pos(&self) -> u64 {
            self.base + self.out.len() as u64
        }
        fn maybe_switch_to_new_block(&mut self) {
            let leftover = BLOCK_SIZE - self.block_offset;
            if leftover < HEADER_SIZE {
                self.out.extend(std::iter::repeat_n(0u8, leftover));
                self.block_offset = 0;
            }
        }
        fn emit(&mut self, ty: u8, data: &[u8]) {
            assert!(data.len() <= 0xffff);
            assert!(self.block_offset + HEADER_SIZE + data.len() <= BLOCK_SIZE);
            let start = self.pos();
            self.out.extend_from_slice(&crc_of(ty, data).to_be_bytes());
            self.out
                .extend_from_slice(&(data.len() as u16).to_be_bytes());
            self.out.push(ty);
            self.out.extend_from_slice(data);
            self.block_offset += HEADER_SIZE + data.len();
            self.frags.push((ty, start, self.pos()));
        }
        fn add(&mut self, slice: &[u8]) {
            let mut ptr = slice;
            let mut begin = true;
            while begin || !ptr.is_empty() {
                self.maybe_switch_to_new_block();
                let avail = BLOCK_SIZE - self.block_offset - HEADER_SIZE;
                let n = ptr.len().min(avail);
                let is_end = n == ptr.len();
                let ty = match (begin, is_end) {
                    (true, true) => TYPE_FULL,
                    (true, false) => TYPE_FIRST,
                    (false, true) => TYPE_LAST,
                    (false, false) => TYPE_MIDDLE,
                };
                self.emit(ty, &ptr[..n]);
                ptr = &ptr[n..];
                begin = false;
            }
            self.record_ends.push(self.pos());
        }
        fn add_compression_type_record(&mut self, c: u8) {
            assert_eq!(self.block_offset, 0);
            self.emit(TYPE_SET_COMPRESSION, &[c]);
        }
    }

    /// A record of 100 bytes, then one of `second` bytes; with where the first ends.
    fn two_records(second: usize) -> (Enc, u64) {
        let mut e = Enc::new();
        e.add(&payload(0, 100));
        let keep = e.pos();
        e.add(&payload(1, second));
        (e, keep)
    }

    fn payload(seed: usize, len: usize) -> Vec<u8> {
        (0..len)
            .map(|j| ((seed * 31 + j * 7 + 1) % 251) as u8 | 1)
            .collect()
    }

    // ---------- temp dirs (std only) ----------

    static COUNTER: AtomicUsize = AtomicUsize::new(0);

    struct TempDb(PathBuf);
    impl TempDb {
        fn new() -> Self {
            let p = std::env::temp_dir().join(format!(
                "wal_tail_test_{}_{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::SeqCst)
            ));
            let _ = fs::remove_dir_all(&p);
            fs::create_dir_all(p.join(WAL_DIR_NAME)).unwrap();
            TempDb(p)
        }
        fn seg(&self, id: u64) -> PathBuf {
            self.0.join(WAL_DIR_NAME).join(format!("{id:020}.wal"))
        }
        fn write_seg(&self, id: u64, bytes: &[u8]) -> PathBuf {
            let p = self.seg(id);
            fs::write(&p, bytes).unwrap();
            p
        }
    }
    impl Drop for TempDb {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// A stream covering: small records, padding (leftover 1..6), an exact block fit,
    /// multi-block records and a zero-length First at exactly 7 bytes leftover.
    fn mixed_stream() -> Enc {
        let mut e = Enc::new();
        e.add(&payload(0, 10));
        e.add(&payload(1, 100));
        e.add(&payload(2, 40_000)); // First + Last
        e.add(&payload(3, 5));
        // leave exactly 3 bytes in the block -> 3 bytes of padding before next record
        let left = BLOCK_SIZE - e.block_offset;
        e.add(&payload(4, left - HEADER_SIZE - 3));
        e.add(&payload(5, 50));
        // exact fit from a fresh block
        let left = BLOCK_SIZE - e.block_offset;
        e.add(&payload(6, left - HEADER_SIZE));
        e.add(&payload(7, 70_000)); // First + Middle + Last
        // leave exactly 7 bytes -> zero-length First fragment
        let left = BLOCK_SIZE - e.block_offset;
        e.add(&payload(8, left - HEADER_SIZE - HEADER_SIZE));
        e.add(&payload(9, 1_000));
        e.add(&payload(10, 3));
        e
    }

    #[test]
    fn crc_is_crc32_iso_hdlc() {
        assert_eq!(crc32fast::hash(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn clean_file_untouched() {
        let db = TempDb::new();
        let e = mixed_stream();
        assert!(
            e.frags.iter().any(|f| f.0 == TYPE_FIRST && f.1 + 7 == f.2),
            "zero-length First covered"
        );
        db.write_seg(1, &payload(99, 10)); // older segment, irrelevant
        let p = db.write_seg(2, &e.out);
        assert_eq!(trim_torn_tail(&db.0).unwrap(), None);
        assert_eq!(fs::read(&p).unwrap(), e.out);
        let s = scan_segment(&p).unwrap();
        assert_eq!(s.state, SegmentState::Clean);
        assert_eq!(s.records, e.record_ends.len() as u64);
        let report = mend_log(&db.0, false).unwrap();
        assert_eq!(report.damaged.len(), 1, "segment 1 holds raw garbage");
        assert_eq!(report.damaged[0].0.file, db.seg(1));
        assert_eq!(
            fs::read(&p).unwrap(),
            e.out,
            "the clean segment is untouched"
        );
        let _ = fs::remove_dir_all(damaged_dir(&db));
    }

    #[test]
    fn first_fragment_on_block_boundary_is_trimmed() {
        let db = TempDb::new();
        let mut e = Enc::new();
        e.add(&payload(0, 200));
        e.add(&payload(1, 300));
        let keep = e.pos();
        e.add(&payload(2, 3 * BLOCK_SIZE)); // First, Middle, Middle, Last
        let first = e.frags.iter().find(|f| f.0 == TYPE_FIRST).unwrap().2;
        assert_eq!(first % BLOCK_SIZE as u64, 0);
        let p = db.write_seg(0, &e.out[..first as usize]);
        let t = trim_torn_tail(&db.0).unwrap().unwrap();
        assert_eq!(
            t,
            Trimmed {
                file: p.clone(),
                old_len: first,
                new_len: keep,
                reason: TrimReason::IncompleteFragmentedRecord
            }
        );
        assert_eq!(fs::read(&p).unwrap(), e.out[..keep as usize]);
        // Also after First + Middle, again on a block boundary.
        let middle = e.frags.iter().find(|f| f.0 == TYPE_MIDDLE).unwrap().2;
        fs::write(&p, &e.out[..middle as usize]).unwrap();
        let t = trim_torn_tail(&db.0).unwrap().unwrap();
        assert_eq!(
            (t.new_len, t.reason),
            (keep, TrimReason::IncompleteFragmentedRecord)
        );
    }

    #[test]
    fn torn_header_is_trimmed() {
        let db = TempDb::new();
        let (e, keep) = two_records(100);
        let p = db.write_seg(0, &e.out[..keep as usize + 3]);
        let t = trim_torn_tail(&db.0).unwrap().unwrap();
        assert_eq!(
            (t.old_len, t.new_len, t.reason),
            (keep + 3, keep, TrimReason::TornHeader)
        );
        assert_eq!(fs::metadata(&p).unwrap().len(), keep);
    }

    #[test]
    fn torn_payload_is_trimmed() {
        let db = TempDb::new();
        let (e, keep) = two_records(5_000);
        let cut = keep as usize + HEADER_SIZE + 4_096;
        db.write_seg(0, &e.out[..cut]);
        let t = trim_torn_tail(&db.0).unwrap().unwrap();
        assert_eq!((t.new_len, t.reason), (keep, TrimReason::TornPayload));
    }

    #[test]
    fn zero_padding_at_end_is_trimmed() {
        for zeros in [1usize, 6, 7, 1_000, 40_000] {
            let db = TempDb::new();
            let mut e = Enc::new();
            e.add(&payload(0, 100));
            e.add(&payload(1, 33_000));
            let keep = e.pos();
            let mut bytes = e.out.clone();
            bytes.extend(std::iter::repeat_n(0u8, zeros));
            db.write_seg(0, &bytes);
            let t = trim_torn_tail(&db.0).unwrap().unwrap();
            assert_eq!(
                (t.new_len, t.reason),
                (keep, TrimReason::ZeroFilledTail),
                "zeros={zeros}"
            );
        }
    }

    #[test]
    fn full_record_followed_by_torn_first() {
        let db = TempDb::new();
        let mut e = Enc::new();
        e.add(&payload(0, 1_000));
        let keep = e.pos();
        e.add(&payload(1, 100_000));
        let first = *e.frags.iter().find(|f| f.0 == TYPE_FIRST).unwrap();
        // (a) inside the First's payload
        let p = db.write_seg(0, &e.out[..(first.1 as usize + HEADER_SIZE + 10_000)]);
        let t = trim_torn_tail(&db.0).unwrap().unwrap();
        assert_eq!((t.new_len, t.reason), (keep, TrimReason::TornPayload));
        // (b) complete First, then a torn Middle header
        fs::write(&p, &e.out[..first.2 as usize + 4]).unwrap();
        let t = trim_torn_tail(&db.0).unwrap().unwrap();
        assert_eq!((t.new_len, t.reason), (keep, TrimReason::TornHeader));
        // (c) complete First, then a torn Middle payload
        fs::write(&p, &e.out[..first.2 as usize + HEADER_SIZE + 100]).unwrap();
        let t = trim_torn_tail(&db.0).unwrap().unwrap();
        assert_eq!((t.new_len, t.reason), (keep, TrimReason::TornPayload));
    }

    /// Answers design question B: after trimming, SurrealKV's writer resumes at
    /// `len % BLOCK_SIZE` and writes exactly the bytes an uncrashed process would have.
    #[test]
    fn append_after_trim_matches_uncrashed_stream() {
        let full = mixed_stream();
        let later: Vec<Vec<u8>> = vec![
            payload(50, 20),
            payload(51, 50_000),
            payload(52, 32_000),
            payload(53, 1),
        ];
        let mut cuts: Vec<u64> = full
            .frags
            .iter()
            .flat_map(|f| [f.1 + 3, f.1 + 9, f.2, f.2 - 1])
            .collect();
        cuts.extend((1..full.out.len() as u64).step_by(4_099));
        for cut in cuts {
            let db = TempDb::new();
            let p = db.write_seg(0, &full.out[..cut as usize]);
            trim_torn_tail(&db.0).unwrap();
            let trimmed = fs::read(&p).unwrap();
            let survivors = full.record_ends.iter().filter(|&&end| end <= cut).count();
            // Reference: a process that wrote only the surviving records, then `later`.
            let mut reference = Enc::new();
            for i in 0..survivors {
                let (seed, len) = mixed_record_spec(i);
                reference.add(&payload(seed, len));
            }
            assert_eq!(trimmed, reference.out, "cut={cut}");
            // Resume as surrealkv's create_writer does and append.
            let mut resumed = Enc::resume_at(trimmed.len() as u64);
            for r in &later {
                resumed.add(r);
                reference.add(r);
            }
            let mut combined = trimmed.clone();
            combined.extend_from_slice(&resumed.out);
            assert_eq!(combined, reference.out, "cut={cut}");
            let s = scan(&mut Cursor::new(combined)).unwrap();
            assert_eq!(s.state, SegmentState::Clean);
            assert_eq!(s.records as usize, survivors + later.len());
        }
    }

    /// (seed, len) of the i-th record of `mixed_stream()`, recovered by re-running it.
    fn mixed_record_spec(i: usize) -> (usize, usize) {
        let e = mixed_stream();
        let start = if i == 0 { 0 } else { e.record_ends[i - 1] };
        let end = e.record_ends[i];
        let len: usize = e
            .frags
            .iter()
            .filter(|f| f.1 >= start && f.2 <= end)
            .map(|f| (f.2 - f.1) as usize - HEADER_SIZE)
            .sum();
        (i, len)
    }

    #[test]
    fn every_prefix_is_clean_or_torn_tail_and_keeps_all_complete_records() {
        let e = mixed_stream();
        let mut cuts: Vec<u64> = (0..=e.out.len() as u64).step_by(61).collect();
        for f in &e.frags {
            for d in 0..=8u64 {
                cuts.push(f.1.saturating_add(d));
                cuts.push(f.2.saturating_sub(d));
            }
        }
        for b in (0..=e.out.len() as u64).step_by(BLOCK_SIZE) {
            for d in 0..=8u64 {
                cuts.push(b.saturating_sub(d));
                cuts.push(b + d);
            }
        }
        for cut in cuts.into_iter().filter(|&c| c <= e.out.len() as u64) {
            let s = scan(&mut Cursor::new(e.out[..cut as usize].to_vec())).unwrap();
            let expect = e
                .record_ends
                .iter()
                .copied()
                .filter(|&x| x <= cut)
                .max()
                .unwrap_or(0);
            assert_eq!(s.last_complete_end, expect, "cut={cut}");
            match s.state {
                SegmentState::Clean => assert_eq!(cut, expect, "cut={cut}"),
                SegmentState::TornTail { new_len, .. } => {
                    assert_eq!(new_len, expect, "cut={cut}");
                    assert!(cut > expect);
                }
                SegmentState::MidFileCorruption { .. } => panic!("prefix misclassified, cut={cut}"),
            }
        }
    }

    /// The state left by an unsanitised restart (orphan First, then new commits)
    /// must be reported, never trimmed, even when just one new record follows.
    #[test]
    fn orphan_followed_by_new_records_is_reported_not_trimmed() {
        for new_records in [1usize, 5] {
            let db = TempDb::new();
            let mut s1 = Enc::new();
            s1.add(&payload(0, 500));
            let keep = s1.pos();
            s1.add(&payload(1, 3 * BLOCK_SIZE));
            let first_end = s1.frags.iter().find(|f| f.0 == TYPE_FIRST).unwrap().2;
            let mut bytes = s1.out[..first_end as usize].to_vec();
            let mut s2 = Enc::resume_at(first_end);
            for i in 0..new_records {
                s2.add(&payload(10 + i, 300));
            }
            bytes.extend_from_slice(&s2.out);
            let p = db.write_seg(7, &bytes);
            let err = trim_torn_tail(&db.0).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
            let c = err
                .get_ref()
                .and_then(|e| e.downcast_ref::<WalCorruption>())
                .unwrap();
            assert_eq!((c.offset, c.last_complete_end), (first_end, keep));
            assert_eq!(fs::read(&p).unwrap(), bytes, "file must be untouched");
        }
    }

    #[test]
    fn zero_run_then_appended_records_is_reported() {
        // Power loss zero-extended the file mid-block, then a restart appended.
        let db = TempDb::new();
        let mut e = Enc::new();
        e.add(&payload(0, 100));
        let mut bytes = e.out.clone();
        bytes.extend(std::iter::repeat_n(0u8, 500));
        let mut s2 = Enc::resume_at(bytes.len() as u64);
        s2.add(&payload(1, 100));
        bytes.extend_from_slice(&s2.out);
        db.write_seg(0, &bytes);
        let err = trim_torn_tail(&db.0).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn corrupt_final_record_followed_by_zeros_is_trimmed() {
        let db = TempDb::new();
        let (e, keep) = two_records(100);
        let mut bytes = e.out.clone();
        let last = bytes.len() - 10;
        bytes[last] ^= 0xFF;
        bytes.extend(std::iter::repeat_n(0u8, 4_000));
        db.write_seg(0, &bytes);
        let t = trim_torn_tail(&db.0).unwrap().unwrap();
        assert_eq!(
            (t.new_len, t.reason),
            (keep, TrimReason::CorruptFinalRecord)
        );
        // Same damage but a valid record after it: refused.
        let mut bytes = e.out.clone();
        bytes[last] ^= 0xFF;
        let mut s2 = Enc::resume_at(bytes.len() as u64);
        s2.add(&payload(2, 100));
        bytes.extend_from_slice(&s2.out);
        db.write_seg(0, &bytes);
        assert_eq!(
            trim_torn_tail(&db.0).unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
    }

    #[test]
    fn compression_type_record_is_respected() {
        let db = TempDb::new();
        let mut e = Enc::new();
        e.add_compression_type_record(1);
        e.add(&payload(0, 100));
        let keep = e.pos();
        e.add(&payload(1, 40_000));
        let p = db.write_seg(0, &e.out);
        assert_eq!(trim_torn_tail(&db.0).unwrap(), None);
        fs::write(&p, &e.out[..keep as usize + 20]).unwrap();
        let t = trim_torn_tail(&db.0).unwrap().unwrap();
        assert_eq!(t.new_len, keep);
        // Only the compression record survives a tear of the first data record.
        let mut e = Enc::new();
        e.add_compression_type_record(1);
        let keep = e.pos();
        e.add(&payload(0, 100));
        fs::write(&p, &e.out[..keep as usize + 50]).unwrap();
        assert_eq!(trim_torn_tail(&db.0).unwrap().unwrap().new_len, keep);
    }

    fn damaged_dir(db: &TempDb) -> PathBuf {
        let mut dir = db.0.as_os_str().to_owned();
        dir.push(".damaged");
        PathBuf::from(dir)
    }

    #[test]
    fn only_newest_segment_by_default_every_one_when_mending() {
        let db = TempDb::new();
        let (e, keep) = two_records(100);
        let torn = &e.out[..keep as usize + 50];
        let old = db.write_seg(3, torn);
        let new = db.write_seg(4, torn);
        fs::write(
            db.0.join(WAL_DIR_NAME)
                .join("00000000000000000004.wal.repair"),
            b"x",
        )
        .unwrap();
        fs::create_dir_all(db.0.join(WAL_DIR_NAME).join("repair_temp")).unwrap();
        let t = trim_torn_tail(&db.0).unwrap().unwrap();
        assert_eq!(t.file, new);
        assert_eq!(fs::metadata(&old).unwrap().len(), torn.len() as u64);
        let report = mend_log(&db.0, false).unwrap();
        assert_eq!(report.trimmed.len(), 1);
        assert_eq!(report.trimmed[0].file, old);
        assert!(report.damaged.is_empty());
        assert_eq!(fs::metadata(&old).unwrap().len(), keep);
    }

    #[test]
    fn damage_before_the_end_is_copied_and_left_alone_unless_cut() {
        let db = TempDb::new();
        let (mut e, keep) = two_records(100);
        e.add(&payload(2, 100));
        let mut bad = e.out.clone();
        bad[keep as usize + 10] ^= 1; // the second record is damaged, a valid one follows
        let segment = db.write_seg(2, &bad);

        let report = mend_log(&db.0, false).unwrap();
        assert!(!report.damage_cut);
        let (damage, copy) = &report.damaged[0];
        assert_eq!((damage.offset, damage.last_complete_end), (keep, keep));
        assert_eq!(fs::read(&segment).unwrap(), bad, "the segment is untouched");
        assert_eq!(
            fs::read(copy).unwrap(),
            bad,
            "the copy is the damaged segment"
        );
        assert!(copy.starts_with(damaged_dir(&db)));

        let report = mend_log(&db.0, true).unwrap();
        assert!(report.damage_cut);
        assert_eq!(fs::read(&segment).unwrap(), &bad[..keep as usize]);
        assert_eq!(scan_segment(&segment).unwrap().state, SegmentState::Clean);
        let _ = fs::remove_dir_all(damaged_dir(&db));
    }

    #[test]
    fn refuses_while_lock_is_held() {
        let db = TempDb::new();
        db.write_seg(0, &[1, 2, 3]);
        let holder = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(db.0.join(LOCK_FILE_NAME))
            .unwrap();
        holder.try_lock().unwrap();
        assert_eq!(
            trim_torn_tail(&db.0).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        holder.unlock().unwrap();
        assert!(trim_torn_tail(&db.0).unwrap().is_some());
    }

    #[test]
    fn missing_wal_dir_and_empty_files_are_fine() {
        let db = TempDb::new();
        fs::remove_dir_all(db.0.join(WAL_DIR_NAME)).unwrap();
        assert_eq!(trim_torn_tail(&db.0).unwrap(), None);
        assert!(
            !db.0.join(LOCK_FILE_NAME).exists(),
            "no LOCK created when there is nothing to do"
        );
        fs::create_dir_all(db.0.join(WAL_DIR_NAME)).unwrap();
        assert_eq!(trim_torn_tail(&db.0).unwrap(), None);
        let p = db.write_seg(0, &[]);
        assert_eq!(trim_torn_tail(&db.0).unwrap(), None);
        // Torn very first record -> truncated to 0 bytes; the file is kept, not deleted
        // (surrealkv's manifest/log_number check expects the segment to exist).
        let mut f = File::create(&p).unwrap();
        f.write_all(&[0xAB; 5]).unwrap();
        drop(f);
        let t = trim_torn_tail(&db.0).unwrap().unwrap();
        assert_eq!((t.new_len, t.reason), (0, TrimReason::TornHeader));
        assert!(p.exists());
    }
}
