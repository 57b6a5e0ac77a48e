//! The schema-version machinery on real databases: a fresh one, an older one, a newer one,
//! a failing step, and data that survives closing and reopening an embedded database.

use app::domain::db::{self, DbOptions};
use app::domain::schema::{self, MIGRATIONS, Migration, SCHEMA_VERSION};
use app::domain::{Db, DomainError};

async fn fresh_db() -> Db {
    db::connect(&DbOptions::memory())
        .await
        .expect("in-memory database opens")
}

async fn set_version(db: &Db, version: u32) {
    db.query("UPSERT schema_version:current CONTENT { version: $v, description: 'set by a test', migrated_at: time::now() }")
        .bind(("v", i64::from(version)))
        .await
        .and_then(|r| r.check())
        .expect("version set");
}

/// A made-up version 2 that really changes data: it splits `name` into first and last.
const SPLIT_NAMES: Migration = Migration {
    version: 2,
    description: "split person names",
    schema: "",
    data:
        "UPDATE person SET first = string::split(name, ' ')[0], last = string::split(name, ' ')[1];
                 UPDATE person UNSET name;",
};

/// A made-up version 2 whose second statement fails after its first one changed data.
const BROKEN: Migration = Migration {
    version: 2,
    description: "a step that fails halfway",
    schema: "",
    data: "UPDATE person SET touched = true;
                 THROW 'this step fails on purpose';",
};

#[tokio::test]
async fn a_fresh_database_is_brought_to_the_current_version() {
    let db = fresh_db().await;
    assert_eq!(schema::current_version(&db).await.expect("answers"), 0);
    let report = schema::migrate(&db).await.expect("migrates");
    assert_eq!((report.from, report.to), (0, SCHEMA_VERSION));
    assert!(report.migrated());
    assert_eq!(
        schema::current_version(&db).await.expect("answers"),
        SCHEMA_VERSION
    );
}

#[tokio::test]
async fn migrating_an_up_to_date_database_changes_nothing() {
    let db = fresh_db().await;
    schema::migrate(&db).await.expect("first run");
    let report = schema::migrate(&db).await.expect("second run");
    assert_eq!((report.from, report.to), (SCHEMA_VERSION, SCHEMA_VERSION));
    assert!(!report.migrated());
}

#[tokio::test]
async fn an_older_database_runs_the_pending_steps_in_order_and_its_data_changes() {
    let db = fresh_db().await;
    let v1 = &MIGRATIONS[..1];
    schema::run_migrations(&db, v1).await.expect("to v1");
    db.query("CREATE person:ada SET name = 'Ada Lovelace'")
        .await
        .and_then(|r| r.check())
        .expect("insert");

    let report = schema::run_migrations(&db, &[MIGRATIONS[0], SPLIT_NAMES])
        .await
        .expect("to v2");
    assert_eq!((report.from, report.to), (1, 2));
    let first: Option<String> = db
        .query("RETURN person:ada.first")
        .await
        .expect("q")
        .take(0)
        .expect("take");
    let last: Option<String> = db
        .query("RETURN person:ada.last")
        .await
        .expect("q")
        .take(0)
        .expect("take");
    let name: Option<String> = db
        .query("RETURN person:ada.name")
        .await
        .expect("q")
        .take(0)
        .expect("take");
    assert_eq!(first.as_deref(), Some("Ada"));
    assert_eq!(last.as_deref(), Some("Lovelace"));
    assert_eq!(name, None);
    assert_eq!(schema::current_version(&db).await.expect("answers"), 2);
}

#[tokio::test]
async fn a_newer_database_is_refused_and_left_untouched() {
    let db = fresh_db().await;
    schema::migrate(&db).await.expect("migrates");
    set_version(&db, SCHEMA_VERSION + 1).await;

    let error = schema::migrate(&db).await.expect_err("must refuse");
    assert!(
        matches!(error, DomainError::SchemaTooNew { found, supported } if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains(&format!("schema version {}", SCHEMA_VERSION + 1)),
        "{message}"
    );
    assert!(message.contains("Upgrade nsbackup"), "{message}");
    assert_eq!(
        schema::current_version(&db).await.expect("answers"),
        SCHEMA_VERSION + 1
    );
}

#[tokio::test]
async fn a_failing_step_is_rolled_back_whole_and_the_version_stays() {
    let db = fresh_db().await;
    schema::run_migrations(&db, &MIGRATIONS[..1])
        .await
        .expect("to v1");
    db.query("CREATE person:ada SET name = 'Ada Lovelace'")
        .await
        .and_then(|r| r.check())
        .expect("insert");

    let error = schema::run_migrations(&db, &[MIGRATIONS[0], BROKEN])
        .await
        .expect_err("must fail");
    assert!(
        matches!(error, DomainError::MigrationFailed { version: 2, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("fails on purpose"), "{error}");
    assert_eq!(schema::current_version(&db).await.expect("answers"), 1);
    let touched: Option<bool> = db
        .query("RETURN person:ada.touched")
        .await
        .expect("q")
        .take(0)
        .expect("take");
    assert_eq!(
        touched, None,
        "the first statement of the failed step must not stay"
    );
}

#[tokio::test]
async fn data_written_to_the_embedded_database_survives_a_reopen() {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = DbOptions::surrealkv(&dir.path().join("db"));
    {
        let db = db::connect(&options).await.expect("opens");
        schema::migrate(&db).await.expect("migrates");
        db.query("CREATE note:one SET text = 'still here'")
            .await
            .and_then(|r| r.check())
            .expect("insert");
        assert!(
            db::close(db, &options).await,
            "the engine releases its files"
        );
    }
    let db = db::connect(&options).await.expect("reopens");
    let report = schema::migrate(&db).await.expect("migrates");
    assert!(
        !report.migrated(),
        "a reopened database keeps its schema version"
    );
    let text: Option<String> = db
        .query("RETURN note:one.text")
        .await
        .expect("q")
        .take(0)
        .expect("take");
    assert_eq!(text.as_deref(), Some("still here"));
}
