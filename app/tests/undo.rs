//! Restore points and undo: a restore can be taken back, exactly, and the undo in turn.

mod common;

use std::time::Duration;

use app::domain::backup::{self, Engine, jobs, undo};
use app::domain::content::item::{self, NewItem};
use app::domain::content::namespace;
use app::domain::generation::{self, State};
use app::domain::{Db, DomainError};
use app::types::{ItemKind, JobKind, JobStatus};
use common::backups::engine;

async fn add(db: &Db, name: &str) -> String {
    let new = NewItem {
        folder: None,
        kind: ItemKind::Service,
        name,
        content: "{}",
    };
    item::create(db, "ns", new, "ada").await.expect("item").id
}

/// What generation `id` is to its namespace.
async fn state(db: &Db, id: &str) -> Option<State> {
    generation::state(db, id).await.expect("a state")
}

/// The names of the top-level items of `ns`, sorted.
async fn names(db: &Db) -> Vec<String> {
    let mut names: Vec<String> = item::list(db, "ns", None)
        .await
        .expect("items")
        .into_iter()
        .map(|item| item.name)
        .collect();
    names.sort();
    names
}

/// Namespace `ns` with items A and B, backed up; then B removed and C added; then the
/// backup restored (A and B again). Returns the backup's id.
async fn restored(engine: &Engine) -> String {
    let db = &engine.db;
    namespace::create(db, "ns", "").await.expect("namespace");
    add(db, "A").await;
    let b = add(db, "B").await;
    let (made, job) = backup::create(engine, "ns", "Base", "admin")
        .await
        .expect("starts");
    assert_eq!(
        common::job_end(db, &job.id).await.status,
        JobStatus::Succeeded
    );
    item::delete(db, "ns", &b).await.expect("deleted");
    add(db, "C").await;
    assert_eq!(names(db).await, ["A", "C"]);
    let job = backup::restore(engine, &made.id, "ns", "admin")
        .await
        .expect("starts");
    assert_eq!(
        common::job_end(db, &job.id).await.status,
        JobStatus::Succeeded
    );
    assert_eq!(names(db).await, ["A", "B"]);
    made.id
}

#[tokio::test]
async fn a_restore_is_undone_exactly_and_the_undo_in_turn() {
    let engine = engine().await;
    let db = &engine.db;
    restored(&engine).await;

    let points = undo::restore_points(&engine, Some("ns"))
        .await
        .expect("points");
    assert_eq!(points.len(), 1, "{points:?}");
    let before = &points[0];
    assert_eq!(before.items, 2, "A and C");
    assert!(before.bytes > 0);
    assert!(
        before
            .replaced_by
            .contains("restore of backup \u{201c}Base\u{201d} by admin"),
        "{}",
        before.replaced_by
    );
    assert!(before.kept_until > before.replaced_at);
    assert_eq!(state(db, &before.generation).await, Some(State::Snapshot));

    // Nothing changed since the restore: the undo discards nothing.
    let check = undo::check(&engine, "ns", &before.generation)
        .await
        .expect("check");
    assert_eq!((check.changed_items, check.new_folders), (0, 0));
    undo::undo(&engine, "ns", &before.generation, "admin")
        .await
        .expect("undone");
    assert_eq!(
        names(db).await,
        ["A", "C"],
        "the item made after the backup is back, the one the backup added is gone"
    );
    assert_eq!(state(db, &before.generation).await, Some(State::Active));

    // The restored content is a restore point now: the undo can be undone.
    let points = undo::restore_points(&engine, Some("ns"))
        .await
        .expect("points");
    assert_eq!(
        points.len(),
        1,
        "the used point is the namespace's content again"
    );
    assert!(
        points[0].replaced_by.starts_with("undo by admin"),
        "{}",
        points[0].replaced_by
    );
    assert_eq!(
        state(db, &points[0].generation).await,
        Some(State::Snapshot)
    );
    undo::undo(&engine, "ns", &points[0].generation, "admin")
        .await
        .expect("redone");
    assert_eq!(names(db).await, ["A", "B"]);
    assert_eq!(state(db, &points[0].generation).await, Some(State::Active));
    assert_eq!(state(db, &before.generation).await, Some(State::Snapshot));

    // The history: the restore, then each undo with its report of what the switch did.
    let history = jobs::restores(db).await.expect("history");
    let kinds: Vec<JobKind> = history.iter().map(|job| job.kind).collect();
    assert_eq!(kinds, [JobKind::Undo, JobKind::Undo, JobKind::Restore]);
    assert_eq!(history[2].backup_name.as_deref(), Some("Base"));
    for undo in &history[..2] {
        assert_eq!(undo.status, JobStatus::Succeeded);
        let report = undo.report.as_ref().expect("an undo's report");
        assert_eq!(
            (
                report.items.added,
                report.items.removed,
                report.items.unchanged
            ),
            (1, 1, 1),
            "{report:?}"
        );
        assert_eq!(report.started_by, "admin");
        assert!(
            report.backup_name.starts_with("the content of "),
            "{}",
            report.backup_name
        );
    }
    let first_undo = history[1].report.as_ref().expect("report");
    assert_eq!(first_undo.items.added_names, ["C"], "C came back");
    assert_eq!(first_undo.items.removed_names, ["B"], "B went");

    // A point that was used is gone.
    let gone = undo::undo(&engine, "ns", &points[0].generation, "admin").await;
    assert!(matches!(gone, Err(DomainError::NotFound(_))), "{gone:?}");
}

#[tokio::test]
async fn an_undo_says_what_it_discards_and_waits_for_running_jobs() {
    let engine = engine().await;
    let db = &engine.db;
    let backup_id = restored(&engine).await;
    // Edited after the restore: one new item, one saved again.
    add(db, "D").await;
    let a = item::list(db, "ns", None).await.expect("items")[0].clone();
    item::save_content(db, "ns", &a.id, "{\"v\": 2}", a.revision, "ada")
        .await
        .expect("saved");
    let point = undo::restore_points(&engine, Some("ns"))
        .await
        .expect("points")[0]
        .clone();
    let check = undo::check(&engine, "ns", &point.generation)
        .await
        .expect("check");
    assert_eq!(check.changed_items, 2);

    // While a job holds the namespace, the undo is refused and nothing changes.
    jobs::start(
        &engine,
        "holding",
        app::types::JobKind::Restore,
        "ns",
        &backup_id,
        "admin",
    )
    .await
    .expect("held");
    let refused = undo::undo(&engine, "ns", &point.generation, "admin").await;
    assert!(
        matches!(refused, Err(DomainError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(names(db).await, ["A", "B", "D"]);
    jobs::finish(&engine, "holding", None)
        .await
        .expect("finished");
    undo::undo(&engine, "ns", &point.generation, "admin")
        .await
        .expect("undone");
    assert_eq!(names(db).await, ["A", "C"]);
    // The audit log says what the undo discarded.
    let filter = app::types::AuditFilter {
        action: Some("restore undo".into()),
        ..app::types::AuditFilter::default()
    };
    let logged = app::domain::audit::page(db, &filter, None, 10)
        .await
        .expect("audit");
    let details: Vec<String> = logged.entries.into_iter().map(|e| e.detail).collect();
    assert!(
        details
            .iter()
            .any(|d| d.contains("2 item(s) created or changed")),
        "{details:?}"
    );
}

#[tokio::test]
async fn restore_points_expire_after_the_retention() {
    let engine = Engine {
        snapshot_retention: Duration::from_secs(1),
        ..engine().await
    };
    restored(&engine).await;
    assert_eq!(undo::retire_expired(&engine).await.expect("retired"), 0);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let expired = undo::restore_points(&engine, None).await.expect("points");
    assert_eq!(undo::retire_expired(&engine).await.expect("retired"), 1);
    assert!(
        matches!(
            state(&engine.db, &expired[0].generation).await,
            Some(State::Retired) | None
        ),
        "retired, or removed already"
    );
    assert!(
        undo::restore_points(&engine, None)
            .await
            .expect("points")
            .is_empty()
    );
}
