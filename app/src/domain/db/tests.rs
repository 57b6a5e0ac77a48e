use super::*;

#[tokio::test]
async fn closing_waits_while_the_engine_holds_its_files_then_gives_up_after_fifty_seconds() {
    let dir = tempfile::tempdir().expect("a directory");
    let options = DbOptions::surrealkv(dir.path());
    // The lock an engine at work holds on its files.
    let held = std::fs::File::create(dir.path().join("LOCK")).expect("a lock file");
    held.lock().expect("locked");
    let (first, second) = (memory().await, memory().await);
    tokio::time::pause();

    let started = tokio::time::Instant::now();
    assert!(!close(first, &options).await, "still held: not closed");
    assert!(
        started.elapsed() >= CLOSE_TIMEOUT,
        "{:?}",
        started.elapsed()
    );

    // The engine lets go after twenty seconds: closed then, not before.
    let releasing = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(20)).await;
        held.unlock().expect("unlocked");
    });
    let started = tokio::time::Instant::now();
    assert!(close(second, &options).await, "closed once released");
    let waited = started.elapsed();
    assert!(
        (Duration::from_secs(20)..CLOSE_TIMEOUT).contains(&waited),
        "{waited:?}"
    );
    releasing.await.expect("released");
}

async fn memory() -> Db {
    let db = connect(&DbOptions::memory())
        .await
        .expect("an in-memory database");
    db.query("DEFINE TABLE t SCHEMALESS; DEFINE INDEX unique_v ON t FIELDS v UNIQUE;")
        .await
        .and_then(IndexedResults::check)
        .expect("a table with a unique index");
    db
}

#[tokio::test]
async fn an_existing_record_and_a_unique_index_are_duplicates_and_nothing_else_is() {
    let db = memory().await;
    db.query("CREATE t:1 SET v = 1")
        .await
        .and_then(IndexedResults::check)
        .expect("the first record");
    let refuse = async |query: &str| {
        db.query(query)
            .await
            .and_then(check_transaction)
            .expect_err("a refused write")
    };
    assert!(is_duplicate(&refuse("CREATE t:1 SET v = 2").await));
    assert!(is_duplicate(&refuse("CREATE t:2 SET v = 1").await));
    // The cause of a failed transaction, not a statement cancelled with it.
    let cause = refuse("BEGIN; CREATE t:3 SET v = 3; CREATE t:4 SET v = 1; COMMIT;").await;
    assert!(is_duplicate(&cause), "{cause}");
    // Words alone do not make a duplicate.
    let thrown = refuse("THROW 'the record already exists; index `x` already contains 1'").await;
    assert!(!is_duplicate(&thrown));
    assert!(!is_conflict(&thrown));
    // A rule the query enforces is told by its kind and reason.
    let rule = refuse("BEGIN; CREATE t:5 SET v = 5; THROW 'last administrator'; COMMIT;").await;
    assert!(is_thrown(&rule, "last administrator"), "{rule}");
    assert!(!is_thrown(&rule, "administrator elsewhere"));
    assert!(!is_thrown(&cause, "1, with record `t:1`"));
}

#[tokio::test]
async fn conflicting_writes_are_recognised_by_their_kind_and_retried_until_all_apply() {
    let db = memory().await;
    db.query("CREATE counter:1 SET n = 0")
        .await
        .and_then(IndexedResults::check)
        .expect("a counter");
    let (writers, increments) = (8, 10);
    let mut tasks = Vec::new();
    for _ in 0..writers {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..increments {
                retry_conflicts(|| async {
                    db.query("BEGIN; UPDATE counter:1 SET n += 1; COMMIT;")
                        .await
                        .and_then(check_transaction)
                })
                .await
                .expect("an increment, retried past conflicts");
            }
        }));
    }
    for task in tasks {
        task.await.expect("a writer");
    }
    let n: Option<i64> = db
        .query("SELECT VALUE n FROM ONLY counter:1")
        .await
        .and_then(|mut r| r.take(0))
        .expect("the counter");
    assert_eq!(n, Some(writers * increments));
    let conflict = surrealdb::Error::query(
        "Transaction conflict: this transaction can be retried".into(),
        QueryError::TransactionConflict,
    );
    assert!(is_conflict(&conflict));
    assert!(!is_conflict(&surrealdb::Error::internal(
        "this transaction can be retried".into()
    )));
}

#[tokio::test]
async fn an_embedded_database_that_opens_slowly_is_waited_for() {
    // Longer than the limit for a remote server: a log being replayed is not a failure.
    let slow = async {
        tokio::time::sleep(CONNECT_TIMEOUT + Duration::from_secs(1)).await;
        "opened"
    };
    assert_eq!(opening_patiently(slow, "surrealkv://test").await, "opened");
}
