//! nsbackup against a real SurrealDB server (`--db ws://…`): its data lives in the server,
//! so another nsbackup started against the same database finds all of it.

mod support;

use serde_json::json;
use support::Server;
use support::surreal::Surreal;

#[test]
fn the_data_lives_in_the_surrealdb_server_and_another_nsbackup_finds_it_there() {
    let database = Surreal::start();
    let args = [&database.options()[..], &["--demo"]].concat();

    // The first nsbackup creates its namespace and database in the server, migrates them,
    // and backs up and restores there.
    let first_dir = tempfile::tempdir().expect("temp dir");
    let first = Server::start(first_dir.path(), &args);
    let admin = first.admin();
    let id = admin.backup("demo", "In the server");
    admin.restore(&id, "copy");
    let demo = admin.ok("/api/get_namespace_tree", json!({ "namespace": "demo" }));
    let copy = admin.ok("/api/get_namespace_tree", json!({ "namespace": "copy" }));
    assert_eq!(demo["folders"], copy["folders"]);
    drop(admin);
    let (status, _) = first.stop();
    assert!(status.success());
    assert!(
        !first_dir.path().join("db").exists(),
        "no embedded database was made"
    );

    // Another nsbackup, with nothing on its own disk, finds everything in the server.
    let second_dir = tempfile::tempdir().expect("temp dir");
    let second = Server::start(second_dir.path(), &args);
    let admin = second.admin();
    let names: Vec<String> = admin
        .ok("/api/list_namespaces", json!({}))
        .as_array()
        .expect("namespaces")
        .iter()
        .map(|ns| ns["name"].as_str().expect("name").to_string())
        .collect();
    assert_eq!(names, ["copy", "demo"]);
    let copy_again = admin.ok("/api/get_namespace_tree", json!({ "namespace": "copy" }));
    assert_eq!(copy_again["folders"], copy["folders"]);
    let backups = admin.ok("/api/list_backups", json!({}));
    assert_eq!(backups[0]["id"], id.as_str());
    assert_eq!(backups[0]["status"], "completed");
    let (_, log) = admin.post_json("/api/list_audit", r#"{"before": null, "limit": 50}"#);
    assert!(log.contains("backup restore"), "{log}");
}
