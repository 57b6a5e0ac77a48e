//! The list and the store stay in step: a backup deleted while the store refuses to delete
//! its file leaves the list at once and its file goes at a later attempt; a file that no
//! backup names is left alone for a grace period, then listed again when it is a sound
//! backup (nothing is lost) or removed when it is not; a damaged backup whose file comes
//! back intact is listed as completed again.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use app::domain::backup::store::LocalStore;
use app::domain::backup::verify::{Unnamed, settle_unnamed};
use app::domain::backup::{self, Engine, jobs};
use app::domain::content::{folder, namespace};
use app::domain::{Db, DomainError, audit};
use app::types::{AuditFilter, BackupOrigin, BackupStatus, JobStatus};
use common::fresh_db;
use common::store::TestStore;

struct Setup {
    engine: Engine,
    files: LocalStore,
    refuse: Arc<AtomicBool>,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let db = fresh_db().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let files = LocalStore::open(&dir.path().join("backups")).expect("store");
    let store = TestStore::new(&files, &files);
    let refuse = Arc::clone(&store.refuse_deletes);
    namespace::create(&db, "ns", "").await.expect("namespace");
    folder::create(&db, "ns", None, "Orders")
        .await
        .expect("folder");
    Setup {
        engine: Engine::new(db, Arc::new(store)),
        files,
        refuse,
        _dir: dir,
    }
}

async fn backup_of(engine: &Engine, ns: &str) -> String {
    let (backup, job) = backup::create(engine, ns, "Base", "admin")
        .await
        .expect("starts");
    let job = common::job_end(&engine.db, &job.id).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    backup.id
}

async fn audit_details(db: &Db, action: &str) -> Vec<String> {
    let filter = AuditFilter {
        action: Some(action.to_string()),
        ..AuditFilter::default()
    };
    audit::page(db, &filter, None, 100)
        .await
        .expect("audit")
        .entries
        .into_iter()
        .map(|entry| format!("{} {}", entry.outcome.as_str(), entry.detail))
        .collect()
}

#[tokio::test]
async fn a_backup_deleted_while_the_store_refuses_leaves_the_list_and_its_file_goes_later() {
    let setup = setup().await;
    let db = &setup.engine.db;
    let id = backup_of(&setup.engine, "ns").await;

    setup.refuse.store(true, Ordering::SeqCst);
    backup::delete(&setup.engine, &id, "admin")
        .await
        .expect("deleted from the list");
    assert!(backup::list(db).await.expect("list").is_empty());
    assert!(matches!(
        backup::get(db, &id).await,
        Err(DomainError::NotFound(_))
    ));
    assert!(setup.files.path(&id).exists(), "the store kept the file");
    let pending = backup::pending_deletions(db).await.expect("pending");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].attempts, 1);
    assert!(
        pending[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("not answering")),
        "{pending:?}"
    );
    let logged = audit_details(db, "backup delete").await;
    assert!(
        logged[0].contains("could not be removed from the store yet"),
        "{logged:?}"
    );

    // Still refused: counted again, still pending.
    assert_eq!(
        backup::retry_deletions(&setup.engine)
            .await
            .expect("retries"),
        1
    );
    assert_eq!(
        backup::pending_deletions(db).await.expect("pending")[0].attempts,
        2
    );
    // The store is back: the file goes, and so does the entry.
    setup.refuse.store(false, Ordering::SeqCst);
    assert_eq!(
        backup::retry_deletions(&setup.engine)
            .await
            .expect("retries"),
        0
    );
    assert!(!setup.files.path(&id).exists(), "the file is gone");
    assert!(
        backup::pending_deletions(db)
            .await
            .expect("pending")
            .is_empty()
    );
    // Its file is not mistaken for one that no backup names meanwhile.
    assert!(
        settle_unnamed(&setup.engine, Duration::ZERO)
            .await
            .expect("settles")
            .is_empty()
    );
}

#[tokio::test]
async fn files_no_backup_names_are_listed_again_when_sound_and_removed_when_not() {
    let setup = setup().await;
    let db = &setup.engine.db;
    let id = backup_of(&setup.engine, "ns").await;
    // A copy of a sound backup under a name the list does not know (its entry was lost),
    // and a file that is no backup at all.
    let found = "0123456789abcdef0123456789abcdef";
    let junk = "fedcba9876543210fedcba9876543210";
    std::fs::copy(setup.files.path(&id), setup.files.path(found)).expect("copy");
    std::fs::write(setup.files.path(junk), b"not a backup").expect("junk");

    // Within the grace period: reported, left alone.
    let waiting = settle_unnamed(&setup.engine, Duration::from_secs(3600))
        .await
        .expect("settles");
    assert_eq!(waiting.len(), 2, "{waiting:?}");
    assert!(
        waiting
            .iter()
            .all(|unnamed| matches!(unnamed, Unnamed::Waiting { .. }))
    );
    assert_eq!(backup::list(db).await.expect("list").len(), 1);
    assert!(setup.files.path(junk).exists());

    // After it: the sound one is listed, the other removed; both in the audit log.
    let settled = settle_unnamed(&setup.engine, Duration::ZERO)
        .await
        .expect("settles");
    assert!(
        settled.contains(&Unnamed::Listed {
            id: found.to_string(),
            namespace: "ns".to_string()
        }),
        "{settled:?}"
    );
    assert!(
        settled
            .iter()
            .any(|unnamed| matches!(unnamed, Unnamed::Removed { id, .. } if id == junk)),
        "{settled:?}"
    );
    assert!(!setup.files.path(junk).exists(), "the junk is removed");
    let listed = backup::get(db, found).await.expect("listed");
    assert_eq!(listed.status, BackupStatus::Completed);
    assert_eq!(listed.origin, BackupOrigin::Found);
    assert_eq!(listed.namespace, "ns");
    let original = backup::get(db, &id).await.expect("the original");
    assert_eq!(listed.sha256, original.sha256);
    // Dated when its content was taken (the archive says when), not when it was found.
    let apart = (listed.created_at - original.created_at)
        .num_seconds()
        .abs();
    assert!(apart < 5, "made when the original was: {apart} s apart");
    let logged = audit_details(db, "backup found").await;
    assert_eq!(logged.len(), 2, "{logged:?}");
    assert!(
        logged.iter().any(|entry| entry.contains("listed again")),
        "{logged:?}"
    );
    assert!(
        logged.iter().any(|entry| entry.contains("removed")),
        "{logged:?}"
    );
    // It restores like any other backup.
    let job = backup::restore(&setup.engine, found, "copy", "admin")
        .await
        .expect("starts");
    for _ in 0..600 {
        if jobs::get(db, &job.id).await.expect("job").status.is_final() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        jobs::get(db, &job.id).await.expect("job").status,
        JobStatus::Succeeded
    );
    let names = |tree: app::types::NamespaceTree| -> Vec<String> {
        tree.folders.into_iter().map(|f| f.name).collect()
    };
    assert_eq!(
        names(folder::tree(db, "copy").await.expect("tree")),
        ["Orders"]
    );
    // Nothing is left to settle.
    assert!(
        settle_unnamed(&setup.engine, Duration::ZERO)
            .await
            .expect("settles")
            .is_empty()
    );
}

#[tokio::test]
async fn deleting_a_backup_that_does_not_exist_is_refused_and_audited() {
    let setup = setup().await;
    let db = &setup.engine.db;
    for id in ["0123456789abcdef0123456789abcdef", "not an id"] {
        let refused = backup::delete(&setup.engine, id, "admin").await;
        assert!(
            matches!(refused, Err(DomainError::NotFound(_))),
            "{refused:?}"
        );
    }
    let filter = AuditFilter {
        action: Some("backup delete".to_string()),
        ..AuditFilter::default()
    };
    let entries = audit::page(db, &filter, None, 100)
        .await
        .expect("audit")
        .entries;
    let mut logged: Vec<(String, String, String)> = entries
        .into_iter()
        .map(|entry| {
            (
                entry.actor,
                entry.target,
                entry.outcome.as_str().to_string(),
            )
        })
        .collect();
    logged.sort();
    assert_eq!(
        logged,
        [
            (
                "admin".into(),
                "backup 0123456789abcdef0123456789abcdef".into(),
                "refused".into()
            ),
            ("admin".into(), "backup not an id".into(), "refused".into()),
        ]
    );
}

#[tokio::test]
async fn a_damaged_backup_whose_file_comes_back_intact_is_listed_as_completed_again() {
    let setup = setup().await;
    let db = &setup.engine.db;
    let id = backup_of(&setup.engine, "ns").await;
    let file = setup.files.path(&id);
    let away = file.with_extension("away");
    let status = || async { backup::get(db, &id).await.expect("listed").status };

    // The file is out of the store's reach for a while (a misconfigured mount, say).
    std::fs::rename(&file, &away).expect("move away");
    assert_eq!(
        backup::verify::check_all(&setup.engine)
            .await
            .expect("check"),
        (1, 1)
    );
    assert_eq!(status().await, BackupStatus::Damaged);
    // Still away: still damaged, and counted.
    assert_eq!(
        backup::verify::check_all(&setup.engine)
            .await
            .expect("check"),
        (1, 1)
    );

    // Back, as it was written: listed as completed again, and the log says so.
    std::fs::rename(&away, &file).expect("move back");
    assert_eq!(
        backup::verify::check_all(&setup.engine)
            .await
            .expect("check"),
        (1, 0)
    );
    assert_eq!(status().await, BackupStatus::Completed);
    assert!(backup::get(db, &id).await.expect("listed").error.is_none());
    assert_eq!(
        audit_details(db, "backup intact").await,
        ["succeeded its file matches what was written again: listed as completed"]
    );

    // A file that comes back changed stays damaged.
    std::fs::rename(&file, &away).expect("move away");
    backup::verify::check_all(&setup.engine)
        .await
        .expect("check");
    let mut bytes = std::fs::read(&away).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&file, bytes).expect("write changed");
    assert_eq!(
        backup::verify::check_all(&setup.engine)
            .await
            .expect("check"),
        (1, 1)
    );
    assert_eq!(status().await, BackupStatus::Damaged);
}
