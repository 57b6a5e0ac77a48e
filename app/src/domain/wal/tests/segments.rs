//! Whole log directories: which segments are checked or mended, damage before the end
//! (copied aside, cut only when asked), the lock, missing and empty files.

use super::*;

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
