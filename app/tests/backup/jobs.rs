//! Jobs: one holds its namespace, jobs on different namespaces run side by side, an
//! interrupted one is failed at start-up, ended ones are removed in time.

use app::domain::DomainError;
use app::domain::backup::{self, jobs};
use app::types::{BackupStatus, JobStatus};

use crate::common;
use crate::common::backups::{backup_of, sample, setup, snapshot};
use crate::common::fresh_db;

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
