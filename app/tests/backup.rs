//! The backup engine on a real database and real files: create, list, delete, restore, and
//! every kind of hostile archive refused with a reason and without a trace.

mod common;

use std::io::Read;
use std::path::Path;

use app::domain::backup::archive::{self, Limits};
use app::domain::backup::progress::{Progress, Reported};
use app::domain::backup::{self, jobs};
use app::domain::content::item::NewItem;
use app::domain::content::{folder, item, namespace};
use app::domain::{Db, DomainError, schema};
use app::types::{Access, BackupStatus, ItemKind, JobStatus};
use common::backups::{backup_of, entries, restore_into, sample, setup, snapshot};
use common::{Rng, fresh_db, role, user};

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
    let checked =
        archive::read(&path, Limits::default(), &mut archive::CheckOnly).expect("a sound archive");
    assert_eq!(checked.manifest.counts.items, 4);
    assert_eq!(checked.manifest.namespace, "plain");
}

#[tokio::test]
async fn a_backup_restores_into_another_namespace_exactly() {
    let setup = setup().await;
    let db = &setup.engine.db;
    sample(db, "source").await;
    let id = backup_of(&setup, "source", "  Nightly — 夜間  ").await;
    let listed = backup::list(db).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "Nightly — 夜間", "trimmed");
    let (sha, size) = archive::file_digest(&setup.files.path(&id)).expect("file");
    assert_eq!(listed[0].sha256.as_deref(), Some(sha.as_str()));
    assert_eq!(listed[0].size, Some(size));

    let job = restore_into(&setup, &id, "copy").await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    assert_eq!(snapshot(db, "copy").await, snapshot(db, "source").await);
    let info = namespace::get(db, "copy").await.expect("created");
    assert_eq!(info.title, "Sample — Beispiel");
}

#[tokio::test]
async fn a_restore_replaces_everything_and_keeps_the_old_content_as_a_snapshot() {
    let setup = setup().await;
    let db = &setup.engine.db;
    sample(db, "ns").await;
    let before = snapshot(db, "ns").await;
    let id = backup_of(&setup, "ns", "before").await;
    // Change things after the backup.
    folder::create(db, "ns", None, "Added later")
        .await
        .expect("folder");
    let top = item::list(db, "ns", None).await.expect("items");
    item::delete(db, "ns", &top[0].id).await.expect("delete");
    assert_ne!(snapshot(db, "ns").await, before);

    let job = restore_into(&setup, &id, "ns").await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    assert_eq!(snapshot(db, "ns").await, before);
    let snapshots: Option<i64> = db
        .query("RETURN count(SELECT * FROM generation WHERE state = 'snapshot')")
        .await
        .expect("q")
        .take(0)
        .expect("t");
    assert_eq!(snapshots, Some(1), "the replaced content is kept");
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

#[tokio::test]
async fn a_job_holds_its_namespace_and_a_backup_in_use_cannot_be_deleted() {
    let setup = setup().await;
    let db = &setup.engine.db;
    sample(db, "ns").await;
    let id = backup_of(&setup, "ns", "base").await;
    // A job on the namespace (as a running one holds it).
    jobs::start(
        &setup.engine,
        "held",
        app::types::JobKind::Restore,
        "ns",
        &id,
        "admin",
    )
    .await
    .expect("lock");
    let refused = backup::create(&setup.engine, "ns", "second", "admin").await;
    assert!(
        matches!(refused, Err(DomainError::Conflict(_))),
        "{refused:?}"
    );
    let refused = backup::delete(&setup.engine, &id, "admin").await;
    assert!(
        matches!(&refused, Err(DomainError::Conflict(m)) if m.contains("right now")),
        "{refused:?}"
    );
    jobs::finish(&setup.engine, "held", None)
        .await
        .expect("finish");
    backup::delete(&setup.engine, &id, "admin")
        .await
        .expect("deleted");
    assert!(backup::list(db).await.expect("list").is_empty());
    assert!(!setup.files.path(&id).exists(), "the file is gone");
}

#[tokio::test]
async fn jobs_on_different_namespaces_run_side_by_side() {
    let setup = setup().await;
    let db = &setup.engine.db;
    sample(db, "one").await;
    sample(db, "two").await;
    let base = backup_of(&setup, "one", "base").await;
    // The namespace "one" is held by a job; the others are free.
    jobs::start(
        &setup.engine,
        "held",
        app::types::JobKind::Restore,
        "one",
        &base,
        "admin",
    )
    .await
    .expect("lock");
    let (_, backing_up) = backup::create(&setup.engine, "two", "of two", "admin")
        .await
        .expect("a backup of another namespace starts");
    let restoring = backup::restore(&setup.engine, &base, "three", "admin")
        .await
        .expect("a restore into a third namespace starts");
    for job in [backing_up.id, restoring.id] {
        let ended = common::job_end(db, &job).await;
        assert_eq!(ended.status, JobStatus::Succeeded, "{ended:?}");
    }
    assert_eq!(snapshot(db, "three").await, snapshot(db, "one").await);
    jobs::finish(&setup.engine, "held", None)
        .await
        .expect("finish");
}

#[tokio::test]
async fn names_are_checked() {
    for bad in ["", "   ", &"x".repeat(101), "two\nlines"] {
        assert!(backup::check_name(bad).is_err(), "{bad:?}");
    }
    assert_eq!(
        backup::check_name(&"ü".repeat(100))
            .expect("ok")
            .chars()
            .count(),
        100
    );
    // An upload without a name takes the file's.
    let cases = [
        (Some("Chosen"), Some("file.zip"), "Chosen"),
        (
            Some("  "),
            Some("Nightly 2026-11-27.ZIP"),
            "Nightly 2026-11-27",
        ),
        (None, Some("C:\\Users\\ada\\sales.zip"), "sales"),
        (None, Some("archive.tar"), "archive.tar"),
    ];
    for (name, file_name, expected) in cases {
        assert_eq!(
            backup::upload_name(name, file_name).expect("a name"),
            expected,
            "{name:?} {file_name:?}"
        );
    }
    // A name taken from the file follows the rules of a typed one, and says where it came from.
    let refused =
        |name: Option<&str>, file_name: Option<&str>| match backup::upload_name(name, file_name) {
            Err(DomainError::Invalid(message)) => message,
            other => panic!("{name:?} {file_name:?}: {other:?}"),
        };
    assert_eq!(refused(None, None), "Give the backup a name.");
    assert_eq!(refused(Some(" "), Some(" ")), "Give the backup a name.");
    assert_eq!(
        refused(Some(".."), None),
        "A backup name cannot be only dots."
    );
    assert_eq!(
        refused(None, Some("...zip")),
        "The file name \u{201c}...zip\u{201d} gives no usable backup name. A backup name cannot be only dots. Type a name for the backup."
    );
    assert_eq!(refused(None, Some(".zip")), "Give the backup a name.");
    let long = format!("{}.zip", "n".repeat(200));
    assert!(refused(None, Some(&long)).contains("at most 100 characters"));
    assert!(refused(None, Some(&long)).contains(&format!("\u{201c}{}…\u{201d}", "n".repeat(120))));
}

#[tokio::test]
async fn an_interrupted_job_is_failed_at_start_up_and_leaves_nothing_behind() {
    let setup = setup().await;
    let db = &setup.engine.db;
    sample(db, "ns").await;
    jobs::start(
        &setup.engine,
        "crashed",
        app::types::JobKind::Backup,
        "ns",
        "crashed",
        "admin",
    )
    .await
    .expect("job");
    db.query("CREATE backup:crashed CONTENT { name: 'n', namespace: 'ns', created_at: time::now(), status: 'in_progress', origin: 'created', created_by: 'admin' };
              CREATE generation:halfway CONTENT { namespace: NONE, state: 'restoring', created_at: time::now() };
              CREATE folder:['halfway', 'f1'] CONTENT { gen: 'halfway', parent: NONE, name: 'x' };")
        .await
        .expect("q")
        .check()
        .expect("ok");
    let scratch = setup.engine.store.scratch_path("crashed");
    std::fs::write(&scratch, b"partial").expect("scratch");

    backup::recover(&setup.engine).await.expect("recovers");
    let job = jobs::get(db, "crashed").await.expect("job");
    assert_eq!(job.status, JobStatus::Failed);
    assert_eq!(job.error.as_deref(), Some(jobs::INTERRUPTED));
    let listed = backup::get(db, "crashed").await.expect("listed");
    assert_eq!(listed.status, BackupStatus::Failed);
    assert!(!scratch.exists());
    // The half-written generation goes in the background.
    let left = common::count_eventually_zero(
        db,
        "RETURN count(SELECT * FROM folder WHERE gen = $gen)",
        "halfway",
    )
    .await;
    assert_eq!(left, Some(0));
    // The namespace is free again.
    backup_of(&setup, "ns", "after").await;
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

/// The frozen backups of every schema version (never edited; a new one is added when the
/// schema moves): each restores, and older ones are migrated.
#[tokio::test]
async fn golden_backups_of_every_schema_version_restore_and_migrate() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for version in 1..=schema::SCHEMA_VERSION {
        let setup = setup().await;
        let db = &setup.engine.db;
        let golden = fixtures.join(format!("backup-v{version}.zip"));
        assert!(
            golden.exists(),
            "a golden backup for schema version {version}"
        );
        let scratch = setup.engine.store.scratch_path("golden");
        std::fs::copy(&golden, &scratch).expect("copy");
        let (listed, _) = backup::upload(&setup.engine, scratch, "Golden", "legacy", "admin")
            .await
            .unwrap_or_else(|e| panic!("v{version} is accepted: {e}"));
        assert_eq!(listed.schema_version, Some(version), "recorded at upload");
        let job = restore_into(&setup, &listed.id, "legacy").await;
        assert_eq!(job.status, JobStatus::Succeeded, "v{version}: {job:?}");
        let tree = folder::tree(db, "legacy").await.expect("tree");
        let (contracts, _) = common::assert_legacy_folders_migrated(&tree);
        assert_eq!(tree.namespace.title, "Legacy processes");
        let items = item::list(db, "legacy", Some(&contracts.id))
            .await
            .expect("items");
        assert_eq!(items[0].name, "Approval");
        assert_eq!(items[0].revision, 4);
        assert_eq!(items[0].updated_by, "ada");
        if version >= 2 {
            let top = item::list(db, "legacy", None).await.expect("items");
            let large = item::get(db, "legacy", &top[0].id).await.expect("large");
            assert!(large.content.len() > archive::INLINE_MAX, "v{version}");
        }
    }
}

/// A random namespace: a folder tree up to four levels deep (some folders empty, some with
/// permissions of their own), items of every kind with names in several scripts, contents
/// from empty to well above the inline limit.
async fn random_namespace(db: &Db, ns: &str, rng: &mut Rng) {
    const WORDS: &[&str] = &[
        "Order",
        "Bestellung",
        "注文",
        "Заказ",
        "طلب",
        "Ωμέγα",
        "🚀 Launch",
        "a",
        "Zeta",
    ];
    namespace::create(db, ns, "").await.expect("namespace");
    let mut folders: Vec<Option<String>> = vec![None];
    let mut depth = std::collections::HashMap::new();
    for n in 0..rng.below(12) + 1 {
        let parent = rng.pick(&folders).clone();
        let level = parent.as_ref().map_or(0, |p| depth[p]) + 1;
        if level > 4 {
            continue;
        }
        let name = format!("{} {n}", rng.pick(WORDS));
        let created = folder::create(db, ns, parent.as_deref(), &name)
            .await
            .expect("folder");
        if rng.below(3) == 0 {
            let principals = [
                role("sales", Access::Read),
                role("modeler", Access::Write),
                user("ada", Access::Manage),
            ];
            let count = rng.below(4) as usize;
            let list = principals[..count].to_vec();
            folder::set_permissions(db, ns, &created.id, Some(list))
                .await
                .expect("permissions");
        }
        depth.insert(created.id.clone(), level);
        folders.push(Some(created.id));
    }
    const AUTHORS: [&str; 3] = ["ada", "bob", "ümit"];
    for n in 0..rng.below(25) {
        let container = rng.pick(&folders).clone();
        let kind = *rng.pick(&ItemKind::ALL);
        let size = match rng.below(5) {
            0 => 0,
            1 => archive::INLINE_MAX + rng.below(100_000) as usize,
            _ => rng.below(3000) as usize,
        };
        let content = match kind {
            _ if size == 0 => String::new(),
            ItemKind::Model => format!(
                "<definitions><documentation>{}</documentation></definitions>",
                "ü".repeat(size / 2)
            ),
            _ => serde_json::json!({ "text": "ß".repeat(size / 2), "n": n }).to_string(),
        };
        let name = format!("{} {n}", rng.pick(WORDS));
        item::create(
            db,
            ns,
            NewItem {
                folder: container.as_deref(),
                kind,
                name: &name,
                content: &content,
            },
            AUTHORS[rng.below(3) as usize],
        )
        .await
        .expect("item");
    }
}

#[tokio::test]
async fn random_namespaces_survive_a_backup_and_restore_unchanged() {
    let setup = setup().await;
    let db = &setup.engine.db;
    for seed in 1..=12u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let source = format!("source-{seed}");
        random_namespace(db, &source, &mut rng).await;
        let id = backup_of(&setup, &source, &format!("Seed {seed}")).await;
        let target = format!("target-{seed}");
        let job = restore_into(&setup, &id, &target).await;
        assert_eq!(job.status, JobStatus::Succeeded, "seed {seed}: {job:?}");
        assert_eq!(
            snapshot(db, &target).await,
            snapshot(db, &source).await,
            "seed {seed}"
        );
    }
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

#[tokio::test]
async fn the_list_is_searched_by_name_and_namespace_and_read_a_page_at_a_time() {
    let setup = setup().await;
    let db = &setup.engine.db;
    namespace::create(db, "alpha", "").await.expect("namespace");
    namespace::create(db, "beta-team", "")
        .await
        .expect("namespace");
    let mut made = Vec::new();
    for (ns, name) in [
        ("alpha", "Nightly 1"),
        ("beta-team", "Before Release 42"),
        ("alpha", "Nightly 2"),
        ("beta-team", "after release"),
        ("alpha", "Nightly 3"),
    ] {
        made.push(backup_of(&setup, ns, name).await);
    }
    let page = |search: &str, offset: usize, limit: usize| backup::ListQuery {
        search: search.to_string(),
        offset,
        limit,
    };
    let names = |listed: &app::types::BackupListPage| {
        listed
            .items
            .iter()
            .map(|b| b.name.clone())
            .collect::<Vec<_>>()
    };

    let all = backup::list_page(db, &page("", 0, 100)).await.expect("all");
    assert_eq!(all.total, 5);
    let newest_first: Vec<String> = made.iter().rev().cloned().collect();
    assert_eq!(
        all.items.iter().map(|b| b.id.clone()).collect::<Vec<_>>(),
        newest_first,
        "newest first"
    );

    let by_namespace = backup::list_page(db, &page("  ALPHA ", 0, 100))
        .await
        .expect("by namespace");
    assert_eq!(by_namespace.total, 3, "any case, trimmed");
    assert_eq!(
        names(&by_namespace),
        ["Nightly 3", "Nightly 2", "Nightly 1"]
    );
    let by_name = backup::list_page(db, &page("release", 0, 100))
        .await
        .expect("by name");
    assert_eq!(names(&by_name), ["after release", "Before Release 42"]);
    let team = backup::list_page(db, &page("team", 0, 100))
        .await
        .expect("by part of a namespace");
    assert_eq!(team.total, 2);

    let second = backup::list_page(db, &page("", 2, 2))
        .await
        .expect("page 2");
    assert_eq!((second.offset, second.total), (2, 5));
    assert_eq!(names(&second), ["Nightly 2", "Before Release 42"]);
    let past_the_end = backup::list_page(db, &page("", 10, 2))
        .await
        .expect("past the end");
    assert!(past_the_end.items.is_empty());
    assert_eq!(past_the_end.total, 5, "the count still says how many match");
    let none = backup::list_page(db, &page("nothing like it", 0, 100))
        .await
        .expect("no match");
    assert_eq!((none.items.len(), none.total), (0, 0));

    // A backup whose file is being removed has left the list: neither listed nor counted,
    // with a search or without one.
    db.query("UPDATE type::record('backup', $id) SET status = 'deleting'")
        .bind(("id", made[0].clone()))
        .await
        .expect("mark deleting");
    let all = backup::list_page(db, &page("", 0, 100)).await.expect("all");
    assert_eq!((all.items.len(), all.total), (4, 4));
    let nightly = backup::list_page(db, &page("nightly", 0, 100))
        .await
        .expect("nightly");
    assert_eq!((nightly.items.len(), nightly.total), (2, 2));

    let too_long = backup::list_page(db, &page(&"x".repeat(101), 0, 100)).await;
    assert!(
        matches!(&too_long, Err(DomainError::Invalid(message)) if message.contains("100 characters")),
        "{too_long:?}"
    );
}

#[tokio::test]
async fn jobs_that_ended_long_ago_are_removed_but_not_the_restore_history() {
    let db = fresh_db().await;
    let now = chrono::Utc::now();
    let days_ago = |days: i64| (now - chrono::Duration::days(days)).to_rfc3339();
    // (id, kind, created, finished): running, ended lately, ended long ago.
    let jobs = [
        ("running", "backup", days_ago(90), None),
        ("recent", "backup", days_ago(2), Some(days_ago(2))),
        ("old-backup", "backup", days_ago(60), Some(days_ago(60))),
        ("old-restore", "restore", days_ago(60), Some(days_ago(60))),
    ];
    for (id, kind, created, finished) in &jobs {
        db.query(
            "CREATE type::record('job', $id) CONTENT {
                 kind: $kind, namespace: 'ns', backup: 'b', status: IF $finished = NONE { 'running' } ELSE { 'succeeded' },
                 phase: '', done: 0, total: 0, error: NONE, started_by: 'admin',
                 created_at: <datetime>$created,
                 finished_at: IF $finished = NONE { NONE } ELSE { <datetime>$finished }
             }",
        )
        .bind(("id", id.to_string()))
        .bind(("kind", kind.to_string()))
        .bind(("created", created.clone()))
        .bind(("finished", finished.clone()))
        .await
        .expect("a job")
        .check()
        .expect("created");
    }
    assert_eq!(jobs::prune(&db, now).await.expect("pruned"), 1);
    let left = |id: &'static str| {
        let db = db.clone();
        async move { jobs::get(&db, id).await.is_ok() }
    };
    assert!(
        !left("old-backup").await,
        "a backup job of two months ago goes"
    );
    assert!(left("recent").await && left("running").await);
    assert!(
        left("old-restore").await,
        "the restore history still shows it"
    );
    // Once the history holds newer restores, the old one goes too.
    for i in 0..jobs::RESTORE_HISTORY {
        db.query(
            "CREATE type::record('job', $id) CONTENT {
                 kind: 'restore', namespace: 'ns', backup: 'b', status: 'succeeded', phase: '',
                 done: 0, total: 0, error: NONE, started_by: 'admin', created_at: time::now(),
                 finished_at: time::now()
             }",
        )
        .bind(("id", format!("new-{i}")))
        .await
        .expect("a job")
        .check()
        .expect("created");
    }
    assert_eq!(jobs::prune(&db, now).await.expect("pruned"), 1);
    assert!(!left("old-restore").await);
}
