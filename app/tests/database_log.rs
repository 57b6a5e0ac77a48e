//! The embedded database's log after a crash in the middle of a large write, followed by
//! more acknowledged writes and a second crash: every acknowledged write must be there.
//!
//! Each case runs its crashes in child processes (this test binary run again, ending with
//! `abort()`), as a kill would: nothing is flushed or closed on the way out. Between the
//! first crash and the next start the log is cut as a kill during the large write leaves it
//! (see `app::domain::wal`): (A) on a block boundary inside the large record, (B) 100 bytes
//! before its end.
//!
//! The storage engine alone (SurrealKV, the version in `Cargo.lock`) loses every write
//! acknowledged after the first restart in both cases; the tests that say so confirm the
//! analysis in `docs/architecture.md` and fail once the engine is fixed. Through
//! `domain::db::connect`, which mends the log before the engine opens it, nothing is lost.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use app::domain::db::{self, DbOptions};
use app::domain::wal::{self, BLOCK_SIZE};
use surrealkv::{Durability, TreeBuilder};

/// Set in a child process: the step to run, then abort.
const STEP: &str = "NSBACKUP_LOG_TEST_STEP";
/// Set in a child process: the database directory.
const DIR: &str = "NSBACKUP_LOG_TEST_DIR";

/// The keys written before the first crash, and those acknowledged between the crashes.
const BEFORE: std::ops::Range<u32> = 0..10;
const BETWEEN: std::ops::Range<u32> = 10..100;
/// Begins the large value, so that its record can be found in the log.
const MARKER: &[u8] = b"large-record-marker";

/// How the log is cut after the first crash.
#[derive(Clone, Copy)]
enum Cut {
    /// (A) On a block boundary inside the large record: the file ends after a complete
    /// fragment of it, which the engine takes for a clean end.
    BlockBoundary,
    /// (B) 100 bytes before the end: the engine's repair runs at the next start.
    Tail,
}

/// About 1.9 MB that does not compress, beginning with [`MARKER`].
fn large_value() -> Vec<u8> {
    let mut value = MARKER.to_vec();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    while value.len() < 1_900_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        value.extend_from_slice(format!("{x:016x}").as_bytes());
    }
    value
}

fn key(n: u32) -> String {
    format!("k{n:02}")
}

/// Runs `step` of `test` in a child process, which must end by aborting (a crash).
fn crash_in_child(test: &str, step: &str, dir: &Path) {
    let output = Command::new(std::env::current_exe().expect("the test binary"))
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(STEP, step)
        .env(DIR, dir)
        .output()
        .expect("child process");
    assert_eq!(
        output.status.signal(),
        Some(6),
        "step {step} of {test} did not end in its crash: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// In a child process: runs the step it was started for and aborts. Returns in the parent.
fn run_step_if_child(step: impl FnOnce(&str, &Path)) {
    if let (Ok(name), Ok(dir)) = (std::env::var(STEP), std::env::var(DIR)) {
        step(&name, Path::new(&dir));
        std::process::abort();
    }
}

/// The newest segment of the log of the database at `dir`.
fn newest_segment(dir: &Path) -> PathBuf {
    let segments = wal::list_segments(&dir.join(wal::WAL_DIR_NAME)).expect("the log");
    segments.last().expect("a log segment").1.clone()
}

/// Cuts the newest segment as a kill in the middle of the large write would have left it.
fn cut_log(dir: &Path, cut: Cut) {
    let segment = newest_segment(dir);
    let bytes = std::fs::read(&segment).expect("log segment");
    let at = bytes
        .windows(MARKER.len())
        .position(|w| w == MARKER)
        .expect("the large record is in the newest log segment");
    let len = match cut {
        Cut::BlockBoundary => (at / BLOCK_SIZE + 3) * BLOCK_SIZE,
        Cut::Tail => bytes.len() - 100,
    };
    assert!(
        at < len && len < bytes.len(),
        "the cut falls inside the record"
    );
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&segment)
        .expect("log segment");
    file.set_len(len as u64).expect("cut the log");
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

// ---- The storage engine alone ----

fn engine_step(step: &str, dir: &Path) {
    runtime().block_on(async {
        let tree = TreeBuilder::new()
            .with_path(dir.to_path_buf())
            .build()
            .expect("open the engine");
        let put = |keys: std::ops::Range<u32>, value: Vec<u8>| {
            let tree = &tree;
            async move {
                for n in keys {
                    let mut tx = tree.begin().expect("transaction");
                    tx.set_durability(Durability::Immediate);
                    tx.set(key(n).as_bytes(), &value).expect("set");
                    tx.commit().await.expect("commit");
                }
            }
        };
        match step {
            "before" => {
                put(BEFORE, b"small".to_vec()).await;
                let mut tx = tree.begin().expect("transaction");
                tx.set_durability(Durability::Immediate);
                tx.set(b"large", large_value()).expect("set");
                tx.commit().await.expect("commit");
            }
            "between" => {
                put(BETWEEN, b"acknowledged".to_vec()).await;
                let tx = tree.begin().expect("transaction");
                for n in BETWEEN {
                    assert!(tx.get(key(n).as_bytes()).expect("get").is_some());
                }
            }
            other => panic!("no step {other}"),
        }
    });
}

/// The keys of `keys` that the engine holds, opened afresh (and closed cleanly).
fn engine_keys(dir: &Path, keys: std::ops::Range<u32>) -> usize {
    runtime().block_on(async {
        let tree = TreeBuilder::new()
            .with_path(dir.to_path_buf())
            .build()
            .expect("open the engine");
        let tx = tree.begin().expect("transaction");
        let found = keys
            .filter(|n| tx.get(key(*n).as_bytes()).expect("get").is_some())
            .count();
        drop(tx);
        tree.close().await.expect("close");
        found
    })
}

/// Crash during the large write, cut, start (mending the log first or not), acknowledge
/// [`BETWEEN`], crash again; how many of [`BETWEEN`] a new start finds.
fn engine_case(test: &str, cut: Cut, mend: bool) -> usize {
    let dir = tempfile::tempdir().expect("temp dir");
    crash_in_child(test, "before", dir.path());
    cut_log(dir.path(), cut);
    if mend {
        let report = wal::mend_log(dir.path(), false).expect("mend the log");
        assert_eq!(report.trimmed.len(), 1, "the torn record is removed");
        assert!(report.damaged.is_empty());
    }
    crash_in_child(test, "between", dir.path());
    if mend {
        wal::mend_log(dir.path(), false).expect("mend the log");
    } else {
        // Where the engine alone put the acknowledged writes tells which defect loses them.
        let log = std::fs::read(newest_segment(dir.path())).expect("segment");
        let in_log = log.windows(12).any(|w| w == b"acknowledged");
        match cut {
            Cut::BlockBoundary => assert!(in_log, "appended behind the torn record"),
            Cut::Tail => assert!(!in_log, "written to the replaced, unlinked segment"),
        }
    }
    assert_eq!(engine_keys(dir.path(), BEFORE), BEFORE.len());
    engine_keys(dir.path(), BETWEEN)
}

#[test]
fn the_engine_alone_loses_the_writes_after_a_record_cut_on_a_block_boundary() {
    run_step_if_child(engine_step);
    let test = "the_engine_alone_loses_the_writes_after_a_record_cut_on_a_block_boundary";
    assert_eq!(
        engine_case(test, Cut::BlockBoundary, false),
        0,
        "the engine kept the writes acknowledged after a torn record: it may be fixed, and \
         domain::wal no longer needed"
    );
}

#[test]
fn the_engine_alone_loses_the_writes_after_a_repaired_tail() {
    run_step_if_child(engine_step);
    let test = "the_engine_alone_loses_the_writes_after_a_repaired_tail";
    assert_eq!(
        engine_case(test, Cut::Tail, false),
        0,
        "the engine kept the writes acknowledged after its repair: it may be fixed, and \
         domain::wal no longer needed"
    );
}

#[test]
fn a_mended_log_keeps_the_writes_after_a_record_cut_on_a_block_boundary() {
    run_step_if_child(engine_step);
    let test = "a_mended_log_keeps_the_writes_after_a_record_cut_on_a_block_boundary";
    assert_eq!(engine_case(test, Cut::BlockBoundary, true), BETWEEN.len());
}

#[test]
fn a_mended_log_keeps_the_writes_after_a_cut_tail() {
    run_step_if_child(engine_step);
    let test = "a_mended_log_keeps_the_writes_after_a_cut_tail";
    assert_eq!(engine_case(test, Cut::Tail, true), BETWEEN.len());
}

// ---- nsbackup's embedded database ----

fn database_step(step: &str, dir: &Path) {
    runtime().block_on(async {
        let db = db::connect(&DbOptions::surrealkv(dir))
            .await
            .expect("open the database");
        let put = |keys: std::ops::Range<u32>, value: String| {
            let db = db.clone();
            async move {
                for n in keys {
                    db.query("CREATE type::record('marker', $key) SET value = $value")
                        .bind(("key", key(n)))
                        .bind(("value", value.clone()))
                        .await
                        .and_then(|response| response.check())
                        .expect("acknowledged");
                }
            }
        };
        match step {
            "before" => {
                put(BEFORE, "small".into()).await;
                let large = String::from_utf8(large_value()).expect("text");
                put(100..101, large).await;
            }
            "between" => put(BETWEEN, "acknowledged".into()).await,
            other => panic!("no step {other}"),
        }
    });
}

/// How many of `keys` the database holds, opened afresh through `connect`.
fn database_keys(dir: &Path, keys: std::ops::Range<u32>) -> usize {
    runtime().block_on(async {
        let options = DbOptions::surrealkv(dir);
        let db = db::connect(&options).await.expect("open the database");
        let mut found = 0;
        for n in keys {
            let mut response = db
                .query("SELECT VALUE value FROM type::record('marker', $key)")
                .bind(("key", key(n)))
                .await
                .expect("query");
            let values: Vec<String> = db::take_json(&mut response, 0).expect("values");
            found += values.len();
        }
        db::close(db, &options).await;
        found
    })
}

fn database_case(test: &str, cut: Cut) {
    let dir = tempfile::tempdir().expect("temp dir");
    crash_in_child(test, "before", dir.path());
    cut_log(dir.path(), cut);
    crash_in_child(test, "between", dir.path());
    assert_eq!(database_keys(dir.path(), BEFORE), BEFORE.len());
    assert_eq!(
        database_keys(dir.path(), BETWEEN),
        BETWEEN.len(),
        "every write acknowledged between the crashes is kept"
    );
}

#[test]
fn the_database_keeps_the_writes_after_a_record_cut_on_a_block_boundary() {
    run_step_if_child(database_step);
    database_case(
        "the_database_keeps_the_writes_after_a_record_cut_on_a_block_boundary",
        Cut::BlockBoundary,
    );
}

#[test]
fn the_database_keeps_the_writes_after_a_cut_tail() {
    run_step_if_child(database_step);
    database_case("the_database_keeps_the_writes_after_a_cut_tail", Cut::Tail);
}

/// A log damaged before its end (here: a torn record with complete records after it, as
/// the engine alone leaves it when it appends after a torn record) is refused with a
/// message that says what to do, and opened with `repair_log`, which keeps what comes
/// before the damage.
#[test]
fn a_log_damaged_before_its_end_is_refused_unless_repair_is_asked_for() {
    run_step_if_child(database_step);
    let test = "a_log_damaged_before_its_end_is_refused_unless_repair_is_asked_for";
    let dir = tempfile::tempdir().expect("temp dir");
    crash_in_child(test, "before", dir.path());
    cut_log(dir.path(), Cut::BlockBoundary);
    // Complete records after the torn one: the segment's first block again.
    let segment = newest_segment(dir.path());
    let mut damaged = std::fs::read(&segment).expect("segment");
    damaged.extend_from_within(..BLOCK_SIZE);
    std::fs::write(&segment, &damaged).expect("segment");

    let error = runtime()
        .block_on(db::connect(&DbOptions::surrealkv(dir.path())))
        .expect_err("a damaged log is refused");
    let message = error.to_string();
    assert!(
        message.contains("--repair-database-log") && message.contains("bytes of writes"),
        "{message}"
    );
    assert_eq!(
        std::fs::read(&segment).expect("segment"),
        damaged,
        "the refused log is untouched"
    );
    let copies = format!("{}.damaged", dir.path().display());
    let copies: Vec<_> = std::fs::read_dir(&copies)
        .expect("the copies of damaged segments")
        .filter_map(Result::ok)
        .collect();
    assert_eq!(copies.len(), 1);
    assert_eq!(std::fs::read(copies[0].path()).expect("copy"), damaged);

    let options = DbOptions {
        repair_log: true,
        ..DbOptions::surrealkv(dir.path())
    };
    runtime().block_on(async {
        let db = db::connect(&options).await.expect("opened with repair");
        db::close(db, &options).await;
    });
    assert_eq!(database_keys(dir.path(), BEFORE), BEFORE.len());
    let _ = std::fs::remove_dir_all(format!("{}.damaged", dir.path().display()));
}
