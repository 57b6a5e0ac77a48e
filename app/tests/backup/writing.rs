//! What a backup writes: a file without a job, its progress watched without a database, the
//! same entries for the same data, a snapshot that later edits do not change, a large
//! namespace whole and in key order.

use std::io::Read;

use app::domain::backup::archive::{self, Limits};
use app::domain::backup::progress::{Progress, Reported};
use app::domain::backup::{self, jobs};
use app::domain::content::item::NewItem;
use app::domain::content::{item, namespace};
use app::types::{ItemKind, JobStatus};

use crate::common;
use crate::common::backups::{backup_of, entries, restore_into, sample, setup, snapshot};

/// Progress as a test watches it: every report, in order, with no database.
#[derive(Default)]
struct Recorded(std::sync::Mutex<Vec<(&'static str, u64, u64)>>);

impl Progress for Recorded {
    fn report(&self, phase: &'static str, done: u64, total: u64) -> Reported<'_> {
        self.0.lock().expect("reports").push((phase, done, total));
        Box::pin(std::future::ready(Ok(())))
    }
}

#[tokio::test]
async fn a_backup_is_written_without_a_job_and_its_progress_is_watched_without_a_database() {
    let s = setup().await;
    sample(&s.engine.db, "plain").await;
    let progress = Recorded::default();
    let (size, sha) = backup::write_backup(&s.engine, "0190f00d", "plain", &progress)
        .await
        .expect("a backup written");
    let reports = progress.0.into_inner().expect("reports");
    assert_eq!(
        reports.first(),
        Some(&("writing items", 0, 4)),
        "{reports:?}"
    );
    assert!(reports.contains(&("writing items", 4, 4)), "{reports:?}");
    assert_eq!(reports.last(), Some(&("verifying", 4, 4)), "{reports:?}");
    // No job ran, and nothing was listed: the file is in the store, complete.
    assert!(jobs::recent(&s.engine.db).await.expect("jobs").is_empty());
    assert!(backup::list(&s.engine.db).await.expect("list").is_empty());
    let path = s.files.path("0190f00d");
    assert_eq!(archive::file_digest(&path).expect("digest"), (sha, size));
    let checked = archive::read(
        &path,
        &archive::Keys::default(),
        Limits::default(),
        &mut archive::CheckOnly,
    )
    .expect("a sound archive");
    assert_eq!(checked.manifest.counts.items, 4);
    assert_eq!(checked.manifest.namespace, "plain");
}

#[tokio::test]
async fn two_backups_of_the_same_data_differ_only_in_their_timestamp() {
    let setup = setup().await;
    let db = &setup.engine.db;
    sample(db, "ns").await;
    let first = backup_of(&setup, "ns", "one").await;
    let second = backup_of(&setup, "ns", "two").await;
    let a = entries(&setup.files.path(&first));
    let b = entries(&setup.files.path(&second));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    assert_eq!(a.keys().next().map(String::as_str), Some("manifest.json"));
    for (name, bytes) in &a {
        if name == "manifest.json" {
            let mut ma: serde_json::Value = serde_json::from_slice(bytes).expect("json");
            let mut mb: serde_json::Value = serde_json::from_slice(&b[name]).expect("json");
            ma["created_at"] = serde_json::Value::Null;
            mb["created_at"] = serde_json::Value::Null;
            assert_eq!(ma, mb);
        } else {
            assert_eq!(bytes, &b[name], "{name}");
        }
    }
    assert!(
        a.keys().any(|k| k.starts_with("contents/")),
        "large content has its own entry"
    );
}

/// The snapshot a backup reads: a read transaction does not see writes made after it began
/// (what makes edits during a backup "all out").
#[tokio::test]
async fn a_backup_reads_a_snapshot_that_later_edits_do_not_change() {
    let setup = setup().await;
    let db = &setup.engine.db;
    sample(db, "ns").await;
    let count = "RETURN count(SELECT * FROM item)";
    let tx = db.session().begin().await.expect("begin");
    let before: Option<i64> = tx.query(count).await.expect("q").take(0).expect("t");
    item::create(
        db,
        "ns",
        NewItem {
            folder: None,
            kind: ItemKind::Service,
            name: "Written meanwhile",
            content: "{}",
        },
        "bob",
    )
    .await
    .expect("a write while the transaction is open");
    let during: Option<i64> = tx.query(count).await.expect("q").take(0).expect("t");
    tx.cancel().await.expect("cancel");
    let after: Option<i64> = db.query(count).await.expect("q").take(0).expect("t");
    assert_eq!(before, during, "the open transaction keeps its snapshot");
    assert_eq!(after, before.map(|n| n + 1));
}

/// A namespace larger than one read of the backup (items are read in key ranges of about
/// 500), with a few ids that are not the usual random hex: every item is in the backup once,
/// in key order, and comes back.
#[tokio::test]
async fn a_large_namespace_is_backed_up_whole_in_key_order() {
    let setup = setup().await;
    let db = &setup.engine.db;
    let options = app::domain::seed::SeedOptions {
        namespace: "large".into(),
        title: "Large".into(),
        folders: 12,
        items: 1_700,
        avg_size: 64,
        seed: 3,
    };
    app::domain::seed::seed_namespace(db, &options, |_, _| {})
        .await
        .expect("seed");
    // Ids a restore may have brought in from elsewhere: below, between and above the hex
    // digits, and beyond ASCII.
    let odd = ["-first", "0g", "9~", "ZZ", "g", "zzz", "é"];
    for id in odd {
        db.query(
            "LET $gen = type::record('namespace', 'large').generation;
             CREATE type::record('item', [$gen, $id]) CONTENT {
                 gen: $gen, folder: NONE, kind: 'service', name: $id, content: '{}', size: 2,
                 revision: 1, created_at: time::now(), updated_at: time::now(), updated_by: 'test'
             };",
        )
        .bind(("id", id))
        .await
        .and_then(|r| r.check())
        .expect("odd item");
    }
    let id = backup_of(&setup, "large", "Large").await;
    let mut zip = zip::ZipArchive::new(std::fs::File::open(setup.files.path(&id)).expect("file"))
        .expect("zip");
    let mut lines = String::new();
    zip.by_name("items.ndjson")
        .expect("items")
        .read_to_string(&mut lines)
        .expect("read");
    let ids: Vec<String> = lines
        .lines()
        .map(|line| {
            let record: serde_json::Value = serde_json::from_str(line).expect("record");
            record["id"].as_str().expect("id").to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1_700 + odd.len(), "every item once");
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "in key order");
    for id in odd {
        assert!(
            ids.iter().any(|listed| listed == id),
            "{id} is in the backup"
        );
    }
    let job = restore_into(&setup, &id, "large-copy").await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    assert_eq!(
        snapshot(db, "large-copy").await,
        snapshot(db, "large").await
    );

    // Deleting the namespace removes its content range by range, odd ids included.
    let generation: Option<String> = db
        .query("RETURN namespace:large.generation")
        .await
        .expect("q")
        .take(0)
        .expect("generation");
    let generation = generation.expect("a generation");
    namespace::delete(db, "large").await.expect("deleted");
    // The content goes in the background.
    let left = common::count_eventually_zero(
        db,
        "RETURN count(SELECT * FROM item WHERE gen = $gen)
             + count(SELECT * FROM folder WHERE gen = $gen)
             + count(SELECT * FROM type::record('generation', $gen))",
        &generation,
    )
    .await;
    assert_eq!(left, Some(0), "nothing of the generation is left");
}
