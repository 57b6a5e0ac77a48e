//! The reader against a line-by-line mirror of the engine's writer: every prefix of a
//! stream, torn tails, records of every kind; whole directories in `segments`.

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

/// Where damaged segments are copied aside, beside the database directory.
fn damaged_dir(db: &TempDb) -> PathBuf {
    let mut dir = db.0.as_os_str().to_owned();
    dir.push(".damaged");
    PathBuf::from(dir)
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

/// Whole log directories: which segments are checked, damage before the end, the lock.
mod segments;
