//! The backup engine on a real database and real files: create, list, delete, restore, and
//! every kind of hostile archive refused with a reason and without a trace.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use app::domain::backup::archive::{self, Limits};
use app::domain::backup::progress::{Progress, Reported};
use app::domain::backup::store::LocalStore;
use app::domain::backup::{self, Engine, jobs};
use app::domain::content::item::NewItem;
use app::domain::content::{folder, item, namespace};
use app::domain::{Db, DomainError, schema};
use app::types::{Access, BackupStatus, ItemKind, JobInfo, JobStatus};
use common::{Rng, fresh_db, role, user};

struct Setup {
    engine: Engine,
    /// The engine's store, where tests reach its files as a disk would.
    files: LocalStore,
    dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let db = fresh_db().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let store = LocalStore::open(&dir.path().join("backups")).expect("store");
    Setup {
        files: store.clone(),
        engine: Engine::new(db, Arc::new(store)),
        dir,
    }
}

/// A namespace with nested folders, permissions of both kinds, every item kind, unicode
/// names, an empty folder and a content large enough to be an entry of its own.
async fn sample(db: &Db, ns: &str) {
    namespace::create(db, ns, "Sample — Beispiel")
        .await
        .expect("namespace");
    let top = folder::create(db, ns, None, "Prozesse 日本")
        .await
        .expect("folder");
    let inner = folder::create(db, ns, Some(&top.id), "Orders")
        .await
        .expect("folder");
    folder::create(db, ns, None, "Empty").await.expect("folder");
    folder::set_permissions(
        db,
        ns,
        &inner.id,
        Some(vec![
            role("sales", Access::Write),
            user("ada", Access::Manage),
        ]),
    )
    .await
    .expect("permissions");
    let large = format!(
        "{{\"fields\": [{}]}}",
        (0..4000)
            .map(|i| format!("{{\"name\": \"field {i}\", \"label\": \"Feld {i} ✓\"}}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    assert!(large.len() > archive::INLINE_MAX);
    let items = [
        (
            None,
            ItemKind::Service,
            "Top service",
            "{\"url\": \"https://x\"}".to_string(),
        ),
        (
            Some(top.id.as_str()),
            ItemKind::Model,
            "Ablauf",
            "<definitions><process id=\"p\"/></definitions>".to_string(),
        ),
        (Some(inner.id.as_str()), ItemKind::Form, "Große Form", large),
        (
            Some(inner.id.as_str()),
            ItemKind::Service,
            "Empty service",
            String::new(),
        ),
    ];
    for (folder, kind, name, content) in items {
        item::create(
            db,
            ns,
            NewItem {
                folder,
                kind,
                name,
                content: &content,
            },
            "ada",
        )
        .await
        .expect("item");
    }
}

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
    assert_eq!(reports.last(), Some(&("verifying", 0, 0)), "{reports:?}");
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

/// Everything a namespace holds, keyed by path, comparable across namespaces.
async fn snapshot(db: &Db, ns: &str) -> BTreeMap<String, String> {
    let tree = folder::tree(db, ns).await.expect("tree");
    let mut out = BTreeMap::new();
    let path_of = |id: Option<&str>| -> String {
        let mut parts = Vec::new();
        let mut current = id.map(str::to_string);
        while let Some(id) = current {
            let f = tree.folders.iter().find(|f| f.id == id).expect("parent");
            parts.push(f.name.clone());
            current = f.parent.clone();
        }
        parts.reverse();
        parts.join("/")
    };
    for f in &tree.folders {
        out.insert(
            format!("folder {}", path_of(Some(&f.id))),
            format!("{:?}", f.permissions),
        );
    }
    let mut containers: Vec<Option<String>> = vec![None];
    containers.extend(tree.folders.iter().map(|f| Some(f.id.clone())));
    for container in containers {
        for info in item::list(db, ns, container.as_deref())
            .await
            .expect("items")
        {
            let doc = item::get(db, ns, &info.id).await.expect("item");
            out.insert(
                format!("item {}/{}", path_of(container.as_deref()), info.name),
                format!(
                    "{:?} {} r{} {}",
                    info.kind, doc.content, info.revision, info.updated_by
                ),
            );
        }
    }
    out
}

async fn wait(db: &Db, id: &str) -> JobInfo {
    for _ in 0..600 {
        let job = jobs::get(db, id).await.expect("job");
        if job.status.is_final() {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("job {id} did not finish");
}

async fn backup_of(setup: &Setup, ns: &str, name: &str) -> String {
    let (backup, job) = backup::create(&setup.engine, ns, name, "admin")
        .await
        .expect("starts");
    assert_eq!(backup.status, BackupStatus::InProgress);
    assert_eq!(
        job.status,
        JobStatus::Queued,
        "a job is queued until its task runs"
    );
    let job = wait(&setup.engine.db, &job.id).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    let listed = backup::get(&setup.engine.db, &backup.id)
        .await
        .expect("listed");
    assert_eq!(listed.status, BackupStatus::Completed);
    assert_eq!(listed.name, name.trim());
    backup.id
}

async fn restore_into(setup: &Setup, id: &str, target: &str) -> JobInfo {
    let job = backup::restore(&setup.engine, id, target, "admin")
        .await
        .expect("starts");
    wait(&setup.engine.db, &job.id).await
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

/// The entries of a zip in archive order (the map keeps insertion order by index prefix).
fn entries(path: &Path) -> indexmap_like::Ordered {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).expect("open")).expect("zip");
    let mut out = indexmap_like::Ordered::default();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).expect("entry");
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).expect("read");
        out.push(entry.name().expect("name").to_string(), bytes);
    }
    out
}

mod indexmap_like {
    /// Entries in archive order.
    #[derive(Default)]
    pub struct Ordered(Vec<(String, Vec<u8>)>);

    impl Ordered {
        pub fn push(&mut self, name: String, bytes: Vec<u8>) {
            self.0.push((name, bytes));
        }
        pub fn keys(&self) -> impl Iterator<Item = &String> {
            self.0.iter().map(|(k, _)| k)
        }
        pub fn iter(&self) -> impl Iterator<Item = (&String, &Vec<u8>)> {
            self.0.iter().map(|(k, v)| (k, v))
        }
    }

    impl std::ops::Index<&String> for Ordered {
        type Output = Vec<u8>;
        fn index(&self, name: &String) -> &Vec<u8> {
            &self.0.iter().find(|(k, _)| k == name).expect("entry").1
        }
    }

    impl<'a> IntoIterator for &'a Ordered {
        type Item = (&'a String, &'a Vec<u8>);
        type IntoIter = Box<dyn Iterator<Item = (&'a String, &'a Vec<u8>)> + 'a>;
        fn into_iter(self) -> Self::IntoIter {
            Box::new(self.iter())
        }
    }
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
        let ended = wait(db, &job).await;
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

// ---------------------------------------------------------------------------------------
// Hostile archives: each is a fixture made from a valid backup, and each must be refused
// naming its problem, with nothing listed and nothing written.

/// A valid backup file of the sample namespace, and its entries.
async fn valid_backup(setup: &Setup) -> (PathBuf, Vec<(String, Vec<u8>)>) {
    sample(&setup.engine.db, "ns").await;
    let id = backup_of(setup, "ns", "valid").await;
    let path = setup.files.path(&id);
    let list = entries(&path)
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (path, list)
}

/// Writes `entries` as a zip; with `fix_manifest`, the manifest's list is recomputed so that
/// only the intended problem remains.
fn write_zip(path: &Path, entries: &[(String, Vec<u8>)], fix_manifest: bool) {
    use sha2::Digest;
    let mut entries = entries.to_vec();
    if fix_manifest {
        let listed: Vec<serde_json::Value> = entries
            .iter()
            .filter(|(name, _)| name != "manifest.json")
            .map(|(name, bytes)| {
                let sha: String = sha2::Sha256::digest(bytes)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                serde_json::json!({"path": name, "size": bytes.len(), "sha256": sha})
            })
            .collect();
        if let Some((_, manifest)) = entries.iter_mut().find(|(name, _)| name == "manifest.json")
            && let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(manifest)
        {
            value["entries"] = serde_json::Value::Array(listed);
            *manifest = serde_json::to_vec(&value).expect("json");
        }
    }
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).expect("create"));
    for (name, bytes) in &entries {
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .expect("start");
        zip.write_all(bytes).expect("write");
    }
    zip.finish().expect("finish");
}

fn with_entry(
    entries: &[(String, Vec<u8>)],
    name: &str,
    change: impl Fn(&[u8]) -> Vec<u8>,
) -> Vec<(String, Vec<u8>)> {
    entries
        .iter()
        .map(|(n, b)| {
            if n == name {
                (n.clone(), change(b))
            } else {
                (n.clone(), b.clone())
            }
        })
        .collect()
}

fn manifest_edit(
    entries: &[(String, Vec<u8>)],
    edit: impl Fn(&mut serde_json::Value),
) -> Vec<(String, Vec<u8>)> {
    with_entry(entries, "manifest.json", |bytes| {
        let mut value: serde_json::Value = serde_json::from_slice(bytes).expect("json");
        edit(&mut value);
        serde_json::to_vec(&value).expect("json")
    })
}

fn replace_text(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    String::from_utf8_lossy(bytes)
        .replacen(from, to, 1)
        .into_bytes()
}

/// Uploads `file` and expects a refusal whose message contains `expected`, with nothing
/// listed and no file left behind.
async fn refused(setup: &Setup, file: &Path, expected: &str) {
    let before = backup::list(&setup.engine.db).await.expect("list").len();
    let scratch = setup.engine.store.scratch_path("upload");
    std::fs::copy(file, &scratch).expect("copy");
    let result = backup::upload(&setup.engine, scratch.clone(), "Upload", "ns", "admin").await;
    match result {
        Err(DomainError::Invalid(message)) => assert!(
            message.contains(expected),
            "expected {expected:?} in {message:?}"
        ),
        other => panic!("expected a refusal naming {expected:?}, got {other:?}"),
    }
    assert_eq!(
        backup::list(&setup.engine.db).await.expect("list").len(),
        before
    );
    assert!(!scratch.exists(), "the upload is removed");
    let stored = std::fs::read_dir(setup.dir.path().join("backups"))
        .expect("dir")
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().is_file()))
        .count();
    assert_eq!(stored, before, "no file stored for a refused upload");
}

#[tokio::test]
async fn a_valid_upload_is_listed_twice_without_overwriting_and_the_duplicate_is_named() {
    let setup = setup().await;
    let (path, _) = valid_backup(&setup).await;
    for round in 0..2 {
        let scratch = setup.engine.store.scratch_path(&format!("up{round}"));
        std::fs::copy(&path, &scratch).expect("copy");
        let (listed, duplicate) =
            backup::upload(&setup.engine, scratch, "Mine", "elsewhere", "admin")
                .await
                .expect("accepted");
        assert_eq!(listed.origin, app::types::BackupOrigin::Uploaded);
        assert_eq!(listed.namespace, "elsewhere");
        assert!(duplicate.is_some_and(|d| d.contains("identical")));
    }
    assert_eq!(backup::list(&setup.engine.db).await.expect("list").len(), 3);
    // An uploaded backup is not restored by uploading it.
    assert!(namespace::get(&setup.engine.db, "elsewhere").await.is_err());
}

#[tokio::test]
async fn the_duplicate_hint_names_the_newest_identical_backup() {
    let setup = setup().await;
    let (path, _) = valid_backup(&setup).await;
    let mut hints = Vec::new();
    for name in ["First copy", "Second copy", "Third copy"] {
        let scratch = setup.engine.store.scratch_path(name);
        std::fs::copy(&path, &scratch).expect("copy");
        let (_, duplicate) = backup::upload(&setup.engine, scratch, name, "ns", "admin")
            .await
            .expect("accepted");
        hints.push(duplicate.expect("a duplicate"));
        // Listed times differ.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(hints[0].contains("\u{201c}valid\u{201d}"), "{}", hints[0]);
    assert!(hints[1].contains("First copy"), "{}", hints[1]);
    assert!(hints[2].contains("Second copy"), "{}", hints[2]);
}

/// One hostile archive, one test: `$build` makes the fixture `$file` (from `$path`, a valid
/// backup file, and `$entries`, its entries), and uploading it must be refused with a message
/// containing `$expected`, with nothing listed and nothing stored. `limits` makes the caps
/// small for the case.
macro_rules! hostile {
    ($name:ident, $expected:expr, |$path:ident, $entries:ident, $file:ident| $build:block) => {
        hostile!($name, $expected, limits = Limits::default(), |$path, $entries, $file| $build);
    };
    ($name:ident, $expected:expr, limits = $limits:expr, |$path:ident, $entries:ident, $file:ident| $build:block) => {
        #[tokio::test]
        async fn $name() {
            let setup = setup().await;
            let ($path, $entries) = valid_backup(&setup).await;
            let _ = (&$path, &$entries);
            let $file = setup.dir.path().join(concat!(stringify!($name), ".zip"));
            $build
            let setup = Setup {
                engine: Engine {
                    limits: $limits,
                    ..setup.engine.clone()
                },
                files: setup.files,
                dir: setup.dir,
            };
            refused(&setup, &$file, $expected).await;
        }
    };
}

/// A fixture with entry `name` (holding `{}`) added to the valid entries.
fn with_extra_entry(file: &Path, entries: &[(String, Vec<u8>)], name: &str) {
    let mut list = entries.to_vec();
    list.push((name.to_string(), b"{}".to_vec()));
    write_zip(file, &list, true);
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

// Not a zip, or a damaged one.

hostile!(
    a_text_file_renamed_to_zip,
    "not a zip file",
    |path, entries, file| {
        std::fs::write(&file, "just some text, renamed").expect("write");
    }
);

hostile!(
    a_png_renamed_to_zip,
    "not a zip file",
    |path, entries, file| {
        std::fs::write(&file, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").expect("write");
    }
);

hostile!(an_empty_file, "empty", |path, entries, file| {
    std::fs::write(&file, b"").expect("write");
});

hostile!(
    a_truncated_zip,
    "not a zip file, or it is damaged",
    |path, entries, file| {
        let bytes = std::fs::read(&path).expect("read");
        std::fs::write(&file, &bytes[..bytes.len() * 2 / 3]).expect("write");
    }
);

hostile!(an_entry_with_a_bad_crc, "damaged", |path, entries, file| {
    // One byte of compressed data inside items.ndjson flipped: the CRC no longer matches.
    let mut bytes = std::fs::read(&path).expect("read");
    let at = find(&bytes, b"items.ndjson").expect("local header") + 200;
    bytes[at] ^= 0x55;
    std::fs::write(&file, bytes).expect("write");
});

// Entry names, links, encryption, duplicates, nesting.

hostile!(an_entry_name_with_dot_dot, "`..`", |path, entries, file| {
    with_extra_entry(&file, &entries, "../evil.json");
});

hostile!(
    an_absolute_entry_name,
    "absolute path",
    |path, entries, file| {
        with_extra_entry(&file, &entries, "/etc/passwd");
    }
);

hostile!(
    an_entry_name_with_a_drive_letter,
    "drive letter",
    |path, entries, file| {
        with_extra_entry(&file, &entries, "C:/windows/evil.json");
    }
);

hostile!(
    an_entry_name_with_a_backslash,
    "backslash",
    |path, entries, file| {
        with_extra_entry(&file, &entries, "contents\\evil.json");
    }
);

hostile!(an_entry_name_with_nul, "NUL", |path, entries, file| {
    with_extra_entry(&file, &entries, "evil\0.json");
});

hostile!(
    a_symbolic_link_entry,
    "symbolic link",
    |path, entries, file| {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&file).expect("create"));
        for (name, bytes) in &entries {
            zip.start_file(name, zip::write::SimpleFileOptions::default())
                .expect("start");
            zip.write_all(bytes).expect("write");
        }
        zip.add_symlink(
            "link",
            "/etc/passwd",
            zip::write::SimpleFileOptions::default(),
        )
        .expect("symlink");
        zip.finish().expect("finish");
    }
);

hostile!(an_encrypted_entry, "encrypted", |path, entries, file| {
    // The encryption flag set in the local and central headers.
    write_zip(&file, &entries, true);
    let mut raw = std::fs::read(&file).expect("read");
    let local = find(&raw, b"PK\x03\x04").expect("local header");
    raw[local + 6] |= 1;
    let central = find(&raw, b"PK\x01\x02").expect("central record");
    raw[central + 8] |= 1;
    std::fs::write(&file, raw).expect("write");
});

hostile!(
    two_entries_with_the_same_name,
    "appears twice",
    |path, entries, file| {
        // A zip writer refuses duplicates, so the second name is patched afterwards (same
        // length) in the local and central headers.
        with_extra_entry(&file, &entries, "namespace.jsoX");
        let mut raw = std::fs::read(&file).expect("read");
        let mut start = 0;
        while let Some(at) = find(&raw[start..], b"namespace.jsoX") {
            raw[start + at + 13] = b'n';
            start += at + 14;
        }
        std::fs::write(&file, raw).expect("write");
    }
);

hostile!(
    a_zip_inside_the_zip_by_name,
    "archive inside the archive",
    |path, entries, file| {
        with_extra_entry(&file, &entries, "inner.zip");
    }
);

hostile!(
    a_zip_inside_the_zip_by_content,
    "archive inside the archive",
    |path, entries, file| {
        let mut nested = Vec::new();
        {
            let mut inner = zip::ZipWriter::new(std::io::Cursor::new(&mut nested));
            inner
                .start_file("x", zip::write::SimpleFileOptions::default())
                .expect("start");
            inner.write_all(b"x").expect("write");
            inner.finish().expect("finish");
        }
        let list = with_entry(&entries, "namespace.json", |_| nested.clone());
        write_zip(&file, &list, true);
    }
);

// Sizes and bombs, counted while reading.

hostile!(
    more_entries_than_the_cap,
    "at most 3",
    limits = Limits {
        max_entries: 3,
        ..Limits::default()
    },
    |path, entries, file| {
        std::fs::copy(&path, &file).expect("copy");
    }
);

hostile!(
    an_entry_beyond_the_size_cap,
    "the most one entry may hold",
    limits = Limits {
        max_entry_bytes: 1000,
        ..Limits::default()
    },
    |path, entries, file| {
        std::fs::copy(&path, &file).expect("copy");
    }
);

hostile!(
    a_total_beyond_the_size_cap,
    "the most a backup may hold",
    limits = Limits {
        max_total_bytes: 5000,
        ..Limits::default()
    },
    |path, entries, file| {
        std::fs::copy(&path, &file).expect("copy");
    }
);

hostile!(
    a_high_ratio_deflate_bomb,
    "zip bomb",
    |path, entries, file| {
        // 50 MiB of spaces compress to about 50 KiB.
        let large = entries
            .iter()
            .find(|(name, _)| name.starts_with("contents/"))
            .map(|(name, _)| name.clone())
            .expect("a content entry");
        let list = with_entry(&entries, &large, |_| vec![b' '; 50 << 20]);
        write_zip(&file, &list, true);
    }
);

hostile!(overlapping_entries, "overlap", |path, entries, file| {
    // Two central directory records point at the same data: the last entry's local header
    // offset is made the first entry's.
    with_extra_entry(&file, &entries, "contents/aaaa");
    let mut raw = std::fs::read(&file).expect("read");
    let central = rfind(&raw, b"PK\x01\x02").expect("central record");
    let first_offset = raw[find(&raw, b"PK\x01\x02").expect("first") + 42..][..4].to_vec();
    raw[central + 42..central + 46].copy_from_slice(&first_offset);
    std::fs::write(&file, raw).expect("write");
});

// Manifests that are missing or lie.

hostile!(no_manifest, "no manifest.json", |path, entries, file| {
    let without: Vec<_> = entries
        .iter()
        .filter(|(k, _)| k != "manifest.json")
        .cloned()
        .collect();
    write_zip(&file, &without, false);
});

hostile!(
    a_manifest_that_is_not_json,
    "manifest.json is not JSON",
    |path, entries, file| {
        write_zip(
            &file,
            &with_entry(&entries, "manifest.json", |_| b"not json".to_vec()),
            false,
        );
    }
);

hostile!(
    a_manifest_with_a_wrong_type,
    "wrong field",
    |path, entries, file| {
        write_zip(
            &file,
            &manifest_edit(&entries, |m| m["counts"]["items"] = "many".into()),
            false,
        );
    }
);

hostile!(
    manifest_counts_that_disagree,
    "counts 99 items",
    |path, entries, file| {
        write_zip(
            &file,
            &manifest_edit(&entries, |m| m["counts"]["items"] = 99.into()),
            false,
        );
    }
);

hostile!(
    a_checksum_that_disagrees,
    "does not match its checksum",
    |path, entries, file| {
        // Content changed after the manifest was written.
        let list = with_entry(&entries, "namespace.json", |b| {
            replace_text(b, "Sample", "Tampered")
        });
        write_zip(&file, &list, false);
    }
);

hostile!(
    an_entry_the_manifest_does_not_list,
    "which its manifest does not list",
    |path, entries, file| {
        let mut extra = entries.clone();
        extra.push(("contents/unlisted".into(), b"{}".to_vec()));
        write_zip(&file, &extra, false);
    }
);

hostile!(
    an_unknown_format_version,
    "archive format version 2",
    |path, entries, file| {
        write_zip(
            &file,
            &manifest_edit(&entries, |m| m["format_version"] = 2.into()),
            false,
        );
    }
);

// A backup of a newer schema version is kept (see below), but only when every entry is
// still the one its manifest lists.
hostile!(
    a_newer_backup_with_a_changed_entry,
    "Entry `namespace.json` does not match its checksum in the manifest",
    |path, entries, file| {
        let newer = schema::SCHEMA_VERSION + 1;
        let list = manifest_edit(&entries, |m| m["schema_version"] = newer.into());
        let list = with_entry(&list, "namespace.json", |bytes| {
            replace_text(bytes, "Sample", "Simple")
        });
        write_zip(&file, &list, false);
    }
);

// Records: broken JSON or XML, hostile XML, missing parents.

hostile!(
    a_record_that_is_broken_json,
    "not an item record",
    |path, entries, file| {
        let list = with_entry(&entries, "items.ndjson", |b| {
            let mut b = b.to_vec();
            b.extend_from_slice(b"{\"id\": broken\n");
            b
        });
        write_zip(&file, &list, true);
    }
);

hostile!(
    a_model_that_is_not_well_formed_xml,
    "well-formed",
    |path, entries, file| {
        let list = with_entry(&entries, "items.ndjson", |b| {
            replace_text(
                b,
                "<definitions><process id=\\\"p\\\"/></definitions>",
                "<definitions><process>",
            )
        });
        write_zip(&file, &list, true);
    }
);

hostile!(
    a_model_with_a_doctype_and_an_external_entity,
    "document type",
    |path, entries, file| {
        let list = with_entry(&entries, "items.ndjson", |b| {
            replace_text(
                b,
                "<definitions>",
                "<!DOCTYPE d [<!ENTITY x SYSTEM \\\"file:///etc/passwd\\\">]><definitions>",
            )
        });
        write_zip(&file, &list, true);
    }
);

hostile!(
    a_service_that_is_not_json,
    "not valid JSON",
    |path, entries, file| {
        let list = with_entry(&entries, "items.ndjson", |b| {
            replace_text(b, "{\\\"url\\\"", "{url")
        });
        write_zip(&file, &list, true);
    }
);

hostile!(
    an_item_in_a_folder_the_backup_does_not_hold,
    "which the backup does not hold",
    |path, entries, file| {
        // The folder's line removed and the manifest's count made to agree.
        let without_orders = with_entry(&entries, "folders.ndjson", |b| {
            String::from_utf8_lossy(b)
                .lines()
                .filter(|line| !line.contains("\"Orders\""))
                .map(|line| format!("{line}\n"))
                .collect::<String>()
                .into_bytes()
        });
        let list = manifest_edit(&without_orders, |m| {
            let folders = m["counts"]["folders"].as_u64().unwrap_or(0);
            m["counts"]["folders"] = (folders - 1).into();
        });
        write_zip(&file, &list, true);
    }
);

hostile!(
    a_folder_in_a_folder_the_backup_does_not_hold,
    "which the backup does not hold",
    |path, entries, file| {
        let list = with_entry(&entries, "folders.ndjson", |b| {
            String::from_utf8_lossy(b)
                .lines()
                .map(|line| {
                    let mut record: serde_json::Value = serde_json::from_str(line).expect("folder");
                    if record["name"] == "Orders" {
                        record["parent"] = "gone".into();
                    }
                    format!("{record}\n")
                })
                .collect::<String>()
                .into_bytes()
        });
        write_zip(&file, &list, true);
    }
);

// Records that pass as JSON but break the rules the API keeps: each would have been
// restored and then broken the namespace (or every later backup of it).

/// `entries` with `edit` applied to every record of the NDJSON entry `name`.
fn edit_records(
    entries: &[(String, Vec<u8>)],
    name: &str,
    edit: impl Fn(&mut serde_json::Value),
) -> Vec<(String, Vec<u8>)> {
    with_entry(entries, name, |bytes| {
        String::from_utf8_lossy(bytes)
            .lines()
            .map(|line| {
                let mut record: serde_json::Value = serde_json::from_str(line).expect("record");
                edit(&mut record);
                format!("{record}\n")
            })
            .collect::<String>()
            .into_bytes()
    })
}

/// `entries` with the permissions of folder `Orders` replaced by `permissions`.
fn orders_permissions(
    entries: &[(String, Vec<u8>)],
    permissions: serde_json::Value,
) -> Vec<(String, Vec<u8>)> {
    edit_records(entries, "folders.ndjson", |record| {
        if record["name"] == "Orders" {
            record["permissions"] = permissions.clone();
        }
    })
}

hostile!(
    a_permission_with_an_access_level_that_does_not_exist,
    "permissions nsbackup cannot read",
    |path, entries, file| {
        let permissions = serde_json::json!([
            {"principal": {"kind": "role", "name": "sales"}, "access": "god"}
        ]);
        write_zip(&file, &orders_permissions(&entries, permissions), true);
    }
);

hostile!(
    a_permission_for_a_kind_of_principal_that_does_not_exist,
    "permissions nsbackup cannot read",
    |path, entries, file| {
        let permissions = serde_json::json!([
            {"principal": {"kind": "group", "name": "sales"}, "access": "read"}
        ]);
        write_zip(&file, &orders_permissions(&entries, permissions), true);
    }
);

hostile!(
    permissions_that_are_a_string,
    "not a list",
    |path, entries, file| {
        let permissions = serde_json::json!("role:sales:superuser");
        write_zip(&file, &orders_permissions(&entries, permissions), true);
    }
);

hostile!(
    permissions_that_are_objects_of_another_shape,
    "permissions nsbackup cannot read",
    |path, entries, file| {
        let permissions = serde_json::json!([{"role": "sales", "level": 9}]);
        write_zip(&file, &orders_permissions(&entries, permissions), true);
    }
);

hostile!(
    version_1_permission_strings_with_unknown_parts,
    "is not `user:NAME:ACCESS`",
    |path, entries, file| {
        let permissions = serde_json::json!(["role:sales:superuser"]);
        let list = orders_permissions(&entries, permissions);
        let list = manifest_edit(&list, |m| m["schema_version"] = 1.into());
        write_zip(&file, &list, true);
    }
);

hostile!(
    a_principal_name_of_300_characters_with_markup,
    "at most 64 characters",
    |path, entries, file| {
        let name = "<img src=x onerror=alert(1)>".repeat(11);
        let permissions = serde_json::json!([
            {"principal": {"kind": "user", "name": name}, "access": "read"}
        ]);
        write_zip(&file, &orders_permissions(&entries, permissions), true);
    }
);

hostile!(
    an_item_id_that_is_a_path,
    "is not an id",
    |path, entries, file| {
        let list = edit_records(&entries, "items.ndjson", |record| {
            if record["name"] == "Top service" {
                record["id"] = "../../evil".into();
            }
        });
        write_zip(&file, &list, true);
    }
);

hostile!(
    a_folder_id_that_is_a_path,
    "is not an id",
    |path, entries, file| {
        let list = edit_records(&entries, "folders.ndjson", |record| {
            if record["name"] == "Empty" {
                record["id"] = "a/b".into();
            }
        });
        write_zip(&file, &list, true);
    }
);

hostile!(
    twin_items_that_differ_only_by_a_trailing_space,
    "spaces at its start or end",
    |path, entries, file| {
        let list = with_entry(&entries, "items.ndjson", |bytes| {
            let text = String::from_utf8_lossy(bytes).to_string();
            let twin = text
                .lines()
                .find(|line| line.contains("\"Top service\""))
                .expect("the top service")
                .replacen("\"Top service\"", "\"Top service \"", 1);
            let mut twin: serde_json::Value = serde_json::from_str(&twin).expect("record");
            twin["id"] = "0123456789abcdef".into();
            format!("{text}{twin}\n").into_bytes()
        });
        let list = manifest_edit(&list, |m| {
            let items = m["counts"]["items"].as_u64().unwrap_or(0);
            m["counts"]["items"] = (items + 1).into();
        });
        write_zip(&file, &list, true);
    }
);

hostile!(
    a_namespace_title_of_10000_characters_with_control_characters,
    "title",
    |path, entries, file| {
        let list = with_entry(&entries, "namespace.json", |bytes| {
            let mut record: serde_json::Value = serde_json::from_slice(bytes).expect("json");
            record["title"] = format!("{}\u{7}\u{1b}[31m", "T".repeat(10_000)).into();
            serde_json::to_vec(&record).expect("json")
        });
        write_zip(&file, &list, true);
    }
);

hostile!(
    an_author_name_of_300_characters_with_control_characters,
    "cannot name",
    |path, entries, file| {
        let list = edit_records(&entries, "items.ndjson", |record| {
            record["updated_by"] = format!("{}\u{1b}[2J", "<b>".repeat(100)).into();
        });
        write_zip(&file, &list, true);
    }
);

hostile!(
    a_manifest_naming_a_namespace_that_cannot_exist,
    "namespace nsbackup cannot have",
    |path, entries, file| {
        let list = manifest_edit(&entries, |m| m["namespace"] = "../Other".into());
        write_zip(&file, &list, true);
    }
);

hostile!(
    a_listed_entry_that_no_record_uses,
    "not part of an nsbackup backup",
    |path, entries, file| {
        // Listed with its right checksum, so only its being there is wrong.
        with_extra_entry(&file, &entries, "payload.bin");
    }
);

hostile!(
    a_chain_of_ten_thousand_folders,
    "levels deep",
    |path, entries, file| {
        let chain: String = (0..10_000)
            .map(|i| {
                let parent = (i > 0).then(|| format!("c{:015}", i - 1));
                let record = serde_json::json!({
                    "id": format!("c{i:015}"), "parent": parent, "name": format!("Level {i}"),
                    "permissions": null, "created_at": "2026-01-01T00:00:00Z"
                });
                format!("{record}\n")
            })
            .collect();
        let items = edit_records(&entries, "items.ndjson", |record| {
            record["folder"] = serde_json::Value::Null;
        });
        let list = with_entry(&items, "folders.ndjson", |_| chain.clone().into_bytes());
        let list = manifest_edit(&list, |m| m["counts"]["folders"] = 10_000.into());
        write_zip(&file, &list, true);
    }
);

#[tokio::test]
async fn a_backup_of_a_newer_schema_version_is_kept_listed_as_such_and_never_restored() {
    let setup = setup().await;
    let (_, entries) = valid_backup(&setup).await;
    let newer = schema::SCHEMA_VERSION + 1;
    let file = setup.dir.path().join("newer.zip");
    write_zip(
        &file,
        &manifest_edit(&entries, |m| m["schema_version"] = newer.into()),
        false,
    );
    let scratch = setup.engine.store.scratch_path("newer");
    std::fs::copy(&file, &scratch).expect("copy");
    let (listed, note) = backup::upload(&setup.engine, scratch, "From the future", "ns", "admin")
        .await
        .expect("kept");
    assert!(
        note.is_some_and(|note| note.contains("made by a newer nsbackup")),
        "the upload says what it is"
    );
    assert_eq!(listed.schema_version, Some(newer));
    assert_eq!(
        listed.verdict(),
        Some(app::types::Verdict::Newer { found: newer })
    );
    assert!(
        listed
            .verdict()
            .is_some_and(|v| v.words().contains("cannot be restored")),
    );
    // It downloads as it was uploaded.
    assert_eq!(
        std::fs::read(setup.files.path(&listed.id)).expect("stored"),
        std::fs::read(&file).expect("sent")
    );
    // A restore is refused at once: no job, nothing touched.
    let before = snapshot(&setup.engine.db, "ns").await;
    let refused = backup::restore(&setup.engine, &listed.id, "ns", "admin").await;
    assert!(
        matches!(&refused, Err(DomainError::Invalid(m)) if m.contains("Upgrade the server")),
        "{refused:?}"
    );
    assert_eq!(snapshot(&setup.engine.db, "ns").await, before);
    assert!(
        jobs::recent(&setup.engine.db)
            .await
            .expect("jobs")
            .iter()
            .all(|j| j.kind != app::types::JobKind::Restore)
    );
    // Backups made here are of the current version; an older upload says it is migrated.
    let made = backup::list(&setup.engine.db).await.expect("list");
    let own = made.iter().find(|b| b.name == "valid").expect("made here");
    assert_eq!(own.verdict(), Some(app::types::Verdict::Current));
    assert_eq!(
        app::types::Verdict::Older { from: 1 }.words(),
        format!(
            "older version: migrated on restore (schema 1 \u{2192} {})",
            schema::SCHEMA_VERSION
        )
    );
}

#[tokio::test]
async fn a_newer_backup_is_refused_before_anything_is_touched() {
    let setup = setup().await;
    let (path, entries) = valid_backup(&setup).await;
    let before = snapshot(&setup.engine.db, "ns").await;
    // Make a stored backup newer, as if written by a future server.
    let newer = schema::SCHEMA_VERSION + 1;
    let list = manifest_edit(&entries, |m| m["schema_version"] = newer.into());
    write_zip(&path, &list, false);
    // Listed with the new file's size and SHA-256, as that server would have listed it (a
    // file that differs from its listing is refused as damaged before this is read).
    let (sha, size) = archive::file_digest(&path).expect("digest");
    let backups = backup::list(&setup.engine.db).await.expect("list");
    setup
        .engine
        .db
        .query("UPDATE type::record('backup', $id) SET sha256 = $sha, size = $size")
        .bind(("id", backups[0].id.clone()))
        .bind(("sha", sha))
        .bind(("size", i64::try_from(size).expect("size")))
        .await
        .expect("listed anew");
    let job = restore_into(&setup, &backups[0].id, "ns").await;
    assert_eq!(job.status, JobStatus::Failed);
    assert!(
        job.error
            .as_deref()
            .is_some_and(|e| e.contains(&format!("schema version {newer}"))),
        "{job:?}"
    );
    assert_eq!(snapshot(&setup.engine.db, "ns").await, before);
    let generations: Option<i64> = setup
        .engine
        .db
        .query("RETURN count(SELECT * FROM generation)")
        .await
        .expect("q")
        .take(0)
        .expect("t");
    assert_eq!(generations, Some(1), "no generation was written");
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
