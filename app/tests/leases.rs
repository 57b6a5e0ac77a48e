//! Jobs belong to the replica that runs them for as long as its lease lasts: another
//! replica leaves a live job alone, ends one whose lease expired, and the replica that was
//! presumed dead cannot complete a job that was ended meanwhile.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use app::domain::Db;
use app::domain::backup::store::{BackupStore, LocalStore};
use app::domain::backup::{self, Engine, Replica, jobs};
use app::domain::content::{folder, namespace};
use app::types::{BackupInfo, BackupStatus, JobInfo, JobKind, JobStatus};
use common::fresh_db;
use common::store::TestStore;
use tokio::sync::{Notify, Semaphore};

/// Two replicas, `a` and `b`, on one database and one shared store, each with a scratch
/// area of its own; `a`'s store has a gate (closed) and `a`'s leases last `lease`.
struct Pair {
    a: Engine,
    b: Engine,
    files: LocalStore,
    gate: Arc<Semaphore>,
    reached: Arc<Notify>,
    /// While set, `a`'s deletions fail (its store does not answer).
    a_refuses_deletes: Arc<AtomicBool>,
    _dir: tempfile::TempDir,
}

impl Pair {
    /// Starts a backup of `ns` on `a`, and waits until it is held at the gate (its file
    /// written, about to be stored).
    async fn held_backup(&self, name: &str) -> (BackupInfo, JobInfo) {
        let started = backup::create(&self.a, "ns", name, "admin")
            .await
            .expect("starts");
        self.reached.notified().await;
        started
    }

    /// A backup held on `a` until its lease expired, then ended by `b` (listed as failed).
    async fn orphaned_backup(&self) -> (BackupInfo, JobInfo) {
        let (backup, job) = self.held_backup("Orphaned").await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        let ended = jobs::take_over(&self.b, false).await.expect("takes over");
        assert_eq!(ended.len(), 1, "{ended:?}");
        (backup, job)
    }

    /// Waits until `a` has recorded in the audit log that another server ended its backup.
    async fn a_concluded(&self) -> bool {
        for _ in 0..300 {
            let mut response = self
                .a
                .db
                .query("RETURN count(SELECT * FROM audit WHERE action = 'backup create' AND outcome = 'failed' AND string::contains(detail, 'another server ended it'))")
                .await
                .expect("audit");
            let count: Option<i64> = response.take(0).expect("count");
            if count == Some(1) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }
}

async fn pair(lease: Duration) -> Pair {
    let db = fresh_db().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let files = LocalStore::open(&dir.path().join("backups")).expect("store");
    let gate = Arc::new(Semaphore::new(0));
    let reached = Arc::new(Notify::new());
    let own = |name: &str| LocalStore::open(&dir.path().join(name)).expect("scratch");
    let on_a = TestStore::new(&files, &own("a")).gated(&gate, &reached);
    let a_refuses_deletes = Arc::clone(&on_a.refuse_deletes);
    let on_b = TestStore::new(&files, &own("b"));
    let a = Engine {
        replica: Replica::new("replica-a", lease),
        ..Engine::new(db.clone(), Arc::new(on_a))
    };
    let b = Engine {
        replica: Replica::new("replica-b", Duration::from_secs(30)),
        ..Engine::new(db, Arc::new(on_b))
    };
    namespace::create(&a.db, "ns", "").await.expect("namespace");
    folder::create(&a.db, "ns", None, "Before")
        .await
        .expect("folder");
    Pair {
        a,
        b,
        files,
        gate,
        reached,
        a_refuses_deletes,
        _dir: dir,
    }
}

async fn folder_names(db: &Db, ns: &str) -> Vec<String> {
    let tree = folder::tree(db, ns).await.expect("tree");
    let mut names: Vec<String> = tree.folders.into_iter().map(|f| f.name).collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_starting_replica_leaves_the_live_jobs_of_others_alone() {
    let pair = pair(Duration::from_secs(30)).await;
    let (backup, job) = pair.held_backup("Running on A").await;

    // B starts up (and looks for expired jobs) while A's job runs with a live lease.
    backup::recover(&pair.b).await.expect("recovers");
    let running = jobs::get(&pair.b.db, &job.id).await.expect("job");
    assert_eq!(running.status, JobStatus::Running, "{running:?}");
    let refused = backup::create(&pair.b, "ns", "Second", "admin").await;
    assert!(refused.is_err(), "the namespace is still held: {refused:?}");

    pair.gate.add_permits(1);
    let ended = common::job_end(&pair.a.db, &job.id).await;
    assert_eq!(ended.status, JobStatus::Succeeded, "{ended:?}");
    let listed = backup::get(&pair.a.db, &backup.id).await.expect("listed");
    assert_eq!(listed.status, BackupStatus::Completed);
}

#[tokio::test]
async fn a_backup_whose_lease_expired_is_ended_by_another_replica_and_never_listed() {
    let pair = pair(Duration::from_millis(300)).await;
    // A has written the file and is about to store it; then it stops renewing its lease.
    let (backup, job) = pair.orphaned_backup().await;
    let failed = jobs::get(&pair.b.db, &job.id).await.expect("job");
    assert_eq!(failed.status, JobStatus::Failed);
    let reason = failed.error.clone().unwrap_or_default();
    assert!(
        reason.contains("the server running it (replica-a) stopped"),
        "{reason}"
    );
    // Ended once: a second look finds nothing more to end.
    assert!(
        jobs::take_over(&pair.b, false)
            .await
            .expect("looks again")
            .is_empty()
    );
    // The lock went with the job: B may back the namespace up.
    let (_, second) = backup::create(&pair.b, "ns", "On B", "admin")
        .await
        .expect("the namespace is free");
    assert_eq!(
        common::job_end(&pair.b.db, &second.id).await.status,
        JobStatus::Succeeded
    );
    backup::recover(&pair.b).await.expect("settles");
    assert_eq!(
        backup::get(&pair.b.db, &backup.id)
            .await
            .expect("listed")
            .status,
        BackupStatus::Failed
    );

    // A wakes up and stores its file: its job stays failed, and the file goes again. (A
    // records in the audit log how its backup ended, after it has cleaned up.)
    pair.gate.add_permits(1);
    assert!(
        pair.a_concluded().await,
        "A recorded that its backup was ended by another server"
    );
    let listed = backup::get(&pair.a.db, &backup.id).await.expect("listed");
    assert_eq!(
        listed.status,
        BackupStatus::Failed,
        "never listed as completed"
    );
    assert_eq!(
        pair.files
            .size(&backup::stored_file(&backup))
            .await
            .expect("size"),
        None,
        "no file of the ended backup is left in the store"
    );
    let job = jobs::get(&pair.a.db, &job.id).await.expect("job");
    assert_eq!(job.status, JobStatus::Failed, "{job:?}");
    assert_eq!(job.error, failed.error, "the reason stays the first one");
}

#[tokio::test]
async fn a_restore_whose_lease_expired_changes_nothing_even_when_its_replica_wakes_up() {
    let pair = pair(Duration::from_millis(300)).await;
    // A backup to restore, made by B (whose store has no gate).
    let (backup, made) = backup::create(&pair.b, "ns", "Base", "admin")
        .await
        .expect("starts");
    assert_eq!(
        common::job_end(&pair.b.db, &made.id).await.status,
        JobStatus::Succeeded
    );
    folder::create(&pair.a.db, "ns", None, "After")
        .await
        .expect("folder");
    let before = folder_names(&pair.a.db, "ns").await;

    let job = backup::restore(&pair.a, &backup.id, "ns", "admin")
        .await
        .expect("starts");
    pair.reached.notified().await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let ended = jobs::take_over(&pair.b, false).await.expect("takes over");
    assert_eq!(ended.len(), 1, "{ended:?}");

    // A goes on: it writes the new content, but may not switch the namespace to it.
    pair.gate.add_permits(1);
    let job = common::job_end(&pair.a.db, &job.id).await;
    assert_eq!(job.status, JobStatus::Failed, "{job:?}");
    assert!(
        job.error
            .as_deref()
            .is_some_and(|e| e.contains("the server running it (replica-a) stopped")),
        "{job:?}"
    );
    // Give A's task time to try its switch (it fails at the fence).
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        folder_names(&pair.a.db, "ns").await,
        before,
        "the namespace is exactly as it was"
    );
    // Nothing of A's restore is left in the database once the sweep has run.
    backup::recover(&pair.b).await.expect("settles");
    let left = common::count_eventually_zero(
        &pair.b.db,
        "RETURN count(SELECT * FROM generation WHERE state = 'restoring' AND origin = $gen)",
        &backup.id,
    )
    .await;
    assert_eq!(left, Some(0));
}

#[tokio::test]
async fn a_replica_that_restarts_fails_its_own_jobs_at_once() {
    let pair = pair(Duration::from_secs(30)).await;
    let (_, job) = pair.held_backup("Before the restart").await;
    // A restarts under the same name: its lease has not expired, but it runs nothing now.
    let restarted = Engine {
        replica: Replica::new("replica-a", Duration::from_secs(30)),
        ..pair.b.clone()
    };
    backup::recover(&restarted).await.expect("recovers");
    let job = jobs::get(&pair.a.db, &job.id).await.expect("job");
    assert_eq!(job.status, JobStatus::Failed);
    assert_eq!(job.error.as_deref(), Some(jobs::INTERRUPTED));
}

#[tokio::test]
async fn leases_are_renewed_while_the_replica_lives() {
    let pair = pair(Duration::from_millis(600)).await;
    let keeper = backup::keep_leases(pair.a.clone());
    let (_, job) = pair.held_backup("Long").await;
    // Several leases long, B looks for expired jobs; A's is renewed all the while.
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            jobs::take_over(&pair.b, false)
                .await
                .expect("looks")
                .is_empty(),
            "a live job is never taken over"
        );
    }
    // A dies (its renewals stop): within about a lease, B ends the job.
    keeper.abort();
    let _ = keeper.await;
    let mut ended = Vec::new();
    for _ in 0..100 {
        ended = jobs::take_over(&pair.b, false).await.expect("looks");
        if !ended.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(ended.len(), 1, "the job of a dead replica is ended");
    assert_eq!(ended[0].id, job.id);
    assert_eq!(ended[0].kind, JobKind::Backup);
    pair.gate.add_permits(1);
}

#[tokio::test]
async fn jobs_succeed_while_their_leases_are_renewed_all_the_time() {
    // Renewals every tenth of a second write to the same job records as the jobs' own
    // progress and ends: those writes are retried past the conflicts, never failed by them.
    let engine = Engine {
        replica: Replica::new("busy", Duration::from_millis(300)),
        ..Engine::new(
            common::fresh_db().await,
            Arc::new(
                LocalStore::open(&tempfile::tempdir().expect("dir").keep().join("b"))
                    .expect("store"),
            ),
        )
    };
    namespace::create(&engine.db, "ns", "")
        .await
        .expect("namespace");
    for n in 0..40 {
        folder::create(&engine.db, "ns", None, &format!("Folder {n}"))
            .await
            .expect("folder");
    }
    let renewing = backup::keep_leases(engine.clone());
    for round in 0..8 {
        let (made, job) = backup::create(&engine, "ns", &format!("Round {round}"), "admin")
            .await
            .expect("starts");
        let ended = common::job_end(&engine.db, &job.id).await;
        assert_eq!(
            ended.status,
            JobStatus::Succeeded,
            "round {round}: {ended:?}"
        );
        let job = backup::restore(&engine, &made.id, "copy", "admin")
            .await
            .expect("starts");
        let ended = common::job_end(&engine.db, &job.id).await;
        assert_eq!(
            ended.status,
            JobStatus::Succeeded,
            "round {round}: {ended:?}"
        );
    }
    renewing.abort();
}

#[tokio::test]
async fn the_file_of_an_ended_backup_that_the_store_would_not_remove_goes_at_a_later_attempt() {
    let pair = pair(Duration::from_millis(300)).await;
    let (backup, _) = pair.orphaned_backup().await;

    // A wakes up and stores its file while its store refuses deletions: the file stays,
    // and is counted among the deletions that are tried again.
    pair.a_refuses_deletes.store(true, Ordering::SeqCst);
    pair.gate.add_permits(1);
    assert!(pair.a_concluded().await, "A recorded how its backup ended");
    assert!(
        pair.files
            .size(&backup::stored_file(&backup))
            .await
            .expect("size")
            .is_some(),
        "the store kept the file"
    );
    let pending = backup::pending_deletions(&pair.a.db)
        .await
        .expect("pending");
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].id, backup.id);
    assert!(
        pending[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("not answering")),
        "{pending:?}"
    );
    assert_eq!(
        backup::retry_deletions(&pair.a).await.expect("retries"),
        1,
        "still refused"
    );

    // The store answers again: the next attempt removes the file; the backup stays listed
    // as failed, with the reason it failed.
    pair.a_refuses_deletes.store(false, Ordering::SeqCst);
    assert_eq!(backup::retry_deletions(&pair.a).await.expect("retries"), 0);
    assert_eq!(
        pair.files
            .size(&backup::stored_file(&backup))
            .await
            .expect("size"),
        None
    );
    assert!(
        backup::pending_deletions(&pair.a.db)
            .await
            .expect("pending")
            .is_empty()
    );
    backup::recover(&pair.b).await.expect("settles");
    let listed = backup::get(&pair.a.db, &backup.id).await.expect("listed");
    assert_eq!(listed.status, BackupStatus::Failed);
}
