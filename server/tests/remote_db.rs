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

#[test]
fn replicas_started_together_on_a_new_database_migrate_it_once_and_all_serve() {
    let database = Surreal::start();
    let dirs: Vec<_> = (0..3)
        .map(|_| tempfile::tempdir().expect("temp dir"))
        .collect();
    let barrier = std::sync::Barrier::new(dirs.len());
    let servers: Vec<Server> = std::thread::scope(|scope| {
        let starting: Vec<_> = dirs
            .iter()
            .map(|dir| {
                let barrier = &barrier;
                let options = [&database.options()[..], &["--demo"]].concat();
                scope.spawn(move || {
                    barrier.wait();
                    Server::start(dir.path(), &options)
                })
            })
            .collect();
        starting
            .into_iter()
            .map(|server| server.join().expect("started"))
            .collect()
    });
    // Every step ran on exactly one of them; the others found it done.
    let logs: Vec<String> = servers.iter().flat_map(Server::log).collect();
    let migrated = logs
        .iter()
        .filter(|line| line.contains("schema migrated"))
        .count();
    assert_eq!(migrated, app::domain::schema::MIGRATIONS.len(), "{logs:#?}");
    // All serve the same data: one demo namespace, one first administrator.
    let made = servers[0].admin().ok(
        "/api/create_namespace",
        json!({ "name": "shared", "title": "" }),
    );
    assert_eq!(made["name"], "shared");
    for server in &servers {
        let admin = server.admin();
        let names = admin.ok("/api/list_namespaces", json!({}));
        let names: Vec<&str> = names
            .as_array()
            .expect("namespaces")
            .iter()
            .filter_map(|ns| ns["name"].as_str())
            .collect();
        assert_eq!(names, ["demo", "shared"], "one demo namespace, seen by all");
        let users = admin.ok("/api/list_users", json!({}));
        assert_eq!(users.as_array().map(Vec::len), Some(1), "{users}");
    }
}
