//! Several nsbackup replicas on one SurrealDB server with one S3 bucket: what one does, the
//! others see and can continue, and a namespace's lock holds across them.

mod support;

use std::sync::Barrier;

use serde_json::json;
use support::Server;
use support::s3::{KEY, SECRET, Seaweed};
use support::surreal::Surreal;

#[test]
fn replicas_share_the_list_the_files_and_the_namespace_locks() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let s3 = runtime.block_on(Seaweed::start());
    let database = Surreal::start();
    let shared = [
        &database.options()[..],
        &[
            "--store",
            "s3://backups/replicas",
            "--s3-endpoint",
            s3.endpoint.as_str(),
        ],
    ]
    .concat();
    let env = [
        ("AWS_ACCESS_KEY_ID", KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET),
        // Backups of namespace `race` stay running for a minute: the lock is held meanwhile.
        ("NSBACKUP_TEST_PAUSE", "backup:writing@race"),
    ];
    let dirs: Vec<_> = (0..3)
        .map(|_| tempfile::tempdir().expect("temp dir"))
        .collect();
    let a = Server::start_with_env(dirs[0].path(), &[&shared[..], &["--demo"]].concat(), &env);
    let b = Server::start_with_env(dirs[1].path(), &shared, &env);
    let c = Server::start_with_env(dirs[2].path(), &shared, &env);
    let (on_a, on_b, on_c) = (a.admin(), b.admin(), c.admin());

    // Made on A: listed on B and C, the same bytes from B, restored from C, seen on A.
    let id = on_a.backup("demo", "Made on A");
    for other in [&on_b, &on_c] {
        let list = other.ok("/api/list_backups", json!({}));
        assert_eq!(list[0]["id"], id.as_str(), "{list}");
    }
    let download = format!("/api/backups/download?id={id}");
    let (status, _, from_a) = on_a.exchange("GET", &download, &[], None);
    let (status_b, _, from_b) = on_b.exchange("GET", &download, &[], None);
    assert_eq!((status, status_b), (200, 200));
    assert!(from_a == from_b, "the same bytes from either replica");
    on_c.restore(&id, "copy");
    let demo = on_a.ok("/api/get_namespace_tree", json!({ "namespace": "demo" }));
    let copy = on_a.ok("/api/get_namespace_tree", json!({ "namespace": "copy" }));
    assert_eq!(demo["folders"], copy["folders"]);

    // Two replicas asked at the same moment to back up one namespace: exactly one job.
    on_a.ok(
        "/api/create_namespace",
        json!({ "name": "race", "title": "" }),
    );
    let barrier = Barrier::new(2);
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let asks: Vec<_> = [&on_a, &on_b]
            .into_iter()
            .map(|replica| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    replica
                        .post_json(
                            "/api/create_backup",
                            r#"{"namespace": "race", "name": "At once"}"#,
                        )
                        .0
                })
            })
            .collect();
        asks.into_iter()
            .map(|ask| ask.join().expect("asked"))
            .collect()
    });
    let mut sorted = statuses.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [200, 409], "{statuses:?}");
    let list = on_c.ok("/api/list_backups", json!({}));
    let racing = list
        .as_array()
        .expect("a list")
        .iter()
        .filter(|backup| backup["namespace"] == "race")
        .count();
    assert_eq!(racing, 1, "{list}");
}
