//! Crash safety, with the real process killed (SIGKILL) at chosen points of a restore and of
//! a backup: afterwards the namespace is exactly as it was or exactly the backup, never a
//! mix, and no half-written backup is ever listed as completed.

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use support::{Client, Server};

/// Everything a namespace holds, by path, without ids: comparable across namespaces.
fn state(client: &Client<'_>, ns: &str) -> Value {
    client.state(ns)
}

fn create(client: &Client<'_>, path: &str, body: Value) -> String {
    client.ok(path, body)["id"]
        .as_str()
        .expect("id")
        .to_string()
}

/// A namespace `ns` with content, a backup of it, then a change after the backup. Returns
/// the backup's id (for `migrating`, the uploaded version-1 golden backup's).
fn prepare(server: &Server, older: bool) -> String {
    let admin = server.admin();
    admin.ok(
        "/api/create_namespace",
        json!({ "name": "ns", "title": "Crash test" }),
    );
    let top = create(
        &admin,
        "/api/create_folder",
        json!({ "namespace": "ns", "parent": null, "name": "Top" }),
    );
    for (folder, name) in [(Value::Null, "Root service"), (json!(top), "Inner service")] {
        create(
            &admin,
            "/api/create_item",
            json!({ "namespace": "ns", "folder": folder, "kind": "service", "name": name }),
        );
    }
    let id = if older {
        let golden =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../app/tests/fixtures/backup-v1.zip");
        let bytes = std::fs::read(golden).expect("golden backup");
        let (status, _, body) = admin.exchange(
            "POST",
            "/api/v1/uploads?name=Old&namespace=legacy",
            &[],
            Some(("application/zip", &bytes)),
        );
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        let body: Value = serde_json::from_slice(&body).expect("json");
        body["backup"]["id"].as_str().expect("id").to_string()
    } else {
        let started = admin.ok(
            "/api/create_backup",
            json!({ "namespace": "ns", "name": "Before" }),
        );
        let job = admin.wait_for_job(started[1]["id"].as_str().expect("job"));
        assert_eq!(job["status"], "succeeded");
        started[0]["id"].as_str().expect("id").to_string()
    };
    create(
        &admin,
        "/api/create_folder",
        json!({ "namespace": "ns", "parent": null, "name": "Added after the backup" }),
    );
    id
}

fn killed_restore_leaves_old_or_new(point: &str, expect_new: bool) {
    let dir = tempfile::tempdir().expect("temp dir");
    let older = point.starts_with("restore:migrat");
    let server = Server::start(dir.path(), &[]);
    let backup = prepare(&server, older);
    let before = state(&server.admin(), "ns");
    let (status, _) = server.stop();
    assert!(status.success());

    let server = Server::start_with_env(dir.path(), &[], &[("NSBACKUP_TEST_PAUSE", point)]);
    let admin = server.admin();
    let job = admin.ok(
        "/api/restore_backup",
        json!({ "id": backup, "namespace": "ns" }),
    );
    assert!(
        server.wait_for_log("pausing here for a test", Duration::from_secs(60)),
        "the restore reached {point}"
    );
    server.kill();

    let server = Server::start(dir.path(), &[]);
    let admin = server.admin();
    let job = admin.ok("/api/get_job", json!({ "id": job["id"] }));
    if expect_new {
        // The switch ends the job in the same transaction: it says what happened.
        assert_eq!(job["status"], "succeeded", "{point}: {job}");
    } else {
        assert_eq!(job["status"], "failed", "{point}: {job}");
        assert_eq!(job["error"], "interrupted by a restart", "{point}");
    }
    let after = state(&admin, "ns");
    // What the backup holds, restored cleanly into another namespace.
    let clean = admin.ok(
        "/api/restore_backup",
        json!({ "id": backup, "namespace": "expected" }),
    );
    assert_eq!(
        admin.wait_for_job(clean["id"].as_str().expect("job"))["status"],
        "succeeded"
    );
    let restored = state(&admin, "expected");
    assert_ne!(before, restored, "the test can tell old from new");
    if expect_new {
        assert_eq!(after, restored, "killed at {point}: the backup, whole");
    } else {
        assert_eq!(after, before, "killed at {point}: the old content, whole");
    }
    // The namespace is free for the next job.
    let again = admin.ok(
        "/api/restore_backup",
        json!({ "id": backup, "namespace": "ns" }),
    );
    assert_eq!(
        admin.wait_for_job(again["id"].as_str().expect("job"))["status"],
        "succeeded"
    );
    assert_eq!(state(&admin, "ns"), restored);
}

#[test]
fn a_restore_killed_after_validation_changes_nothing() {
    killed_restore_leaves_old_or_new("restore:checked", false);
}

#[test]
fn a_restore_killed_while_writing_changes_nothing() {
    killed_restore_leaves_old_or_new("restore:writing", false);
}

#[test]
fn a_restore_killed_while_migrating_changes_nothing() {
    killed_restore_leaves_old_or_new("restore:migrating", false);
}

/// Killed when the first data migration of the new generation has committed and before
/// the rest (and the switch): a half-migrated generation is never seen.
#[test]
fn a_restore_killed_between_migration_steps_changes_nothing() {
    killed_restore_leaves_old_or_new("restore:migrated-step", false);
}

#[test]
fn a_restore_killed_just_before_the_switch_changes_nothing() {
    killed_restore_leaves_old_or_new("restore:switching", false);
}

#[test]
fn a_restore_killed_just_after_the_switch_is_complete() {
    killed_restore_leaves_old_or_new("restore:switched", true);
}

/// Prepares namespace `ns` on `dir`, then starts a backup of it named `name` that is held
/// at `point`, and kills the server there. Returns what `create_backup` answered.
fn backup_killed_at(dir: &Path, point: &str, name: &str) -> Value {
    let server = Server::start(dir, &[]);
    prepare(&server, false);
    let (status, _) = server.stop();
    assert!(status.success());

    let server = Server::start_with_env(dir, &[], &[("NSBACKUP_TEST_PAUSE", point)]);
    let admin = server.admin();
    let started = admin.ok(
        "/api/create_backup",
        json!({ "namespace": "ns", "name": name }),
    );
    assert!(server.wait_for_log("pausing here for a test", Duration::from_secs(60)));
    server.kill();
    started
}

#[test]
fn a_backup_killed_while_writing_is_never_listed_as_completed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let started = backup_killed_at(dir.path(), "backup:writing", "Killed");

    let server = Server::start(dir.path(), &[]);
    let admin = server.admin();
    let list = admin.ok("/api/list_backups", json!({}));
    let killed = list
        .as_array()
        .expect("list")
        .iter()
        .find(|b| b["id"] == started[0]["id"])
        .cloned()
        .expect("listed");
    assert_eq!(killed["status"], "failed", "{killed}");
    assert_eq!(killed["error"], "interrupted by a restart");
    let id = killed["id"].as_str().expect("id");
    assert!(!dir.path().join(format!("backups/{id}.zip")).exists());
    let scratch = std::fs::read_dir(dir.path().join("backups/.scratch"))
        .expect("scratch")
        .count();
    assert_eq!(scratch, 0, "scratch files are removed at start-up");
    let (status, _, _) =
        admin.exchange("GET", &format!("/api/v1/backups/{id}/download"), &[], None);
    assert_eq!(status, 409, "a failed backup cannot be downloaded");
}

#[test]
fn a_backup_killed_after_its_file_was_complete_is_listed_and_its_job_agrees() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Killed when the file is in place but not yet listed as completed.
    let started = backup_killed_at(dir.path(), "backup:committed", "Complete");

    let server = Server::start(dir.path(), &[]);
    let admin = server.admin();
    let id = started[0]["id"].as_str().expect("id");
    let list = admin.ok("/api/list_backups", json!({}));
    let recovered = list
        .as_array()
        .expect("list")
        .iter()
        .find(|b| b["id"] == id)
        .cloned()
        .expect("listed");
    assert_eq!(recovered["status"], "completed", "{recovered}");
    let job = admin.ok("/api/get_job", json!({ "id": started[1]["id"] }));
    assert_eq!(job["status"], "succeeded", "{job}");
    let (status, _, zip) =
        admin.exchange("GET", &format!("/api/v1/backups/{id}/download"), &[], None);
    assert_eq!(status, 200);
    assert_eq!(Some(zip.len() as u64), recovered["size"].as_u64());
    // It restores like any other.
    let restore = admin.ok(
        "/api/restore_backup",
        json!({ "id": id, "namespace": "copy" }),
    );
    let job = admin.wait_for_job(restore["id"].as_str().expect("job"));
    assert_eq!(job["status"], "succeeded", "{job}");
}

/// The crash harness: round after round the real process is started on the same data,
/// checked, written to and killed — in even rounds while a restore writes, in odd rounds
/// right after the writes (so the previous round's recovery is itself followed by a kill).
/// Every write the server acknowledged before a kill must be there after it, in every round.
#[test]
fn every_acknowledged_write_survives_kills_in_a_row() {
    const ROUNDS: usize = 12;
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &[]);
    let backup = prepare(&server, false);
    server.admin().ok(
        "/api/create_namespace",
        json!({ "name": "acked", "title": "" }),
    );
    let (status, _) = server.stop();
    assert!(status.success());

    let mut folders: Vec<String> = Vec::new();
    let mut jobs: Vec<String> = Vec::new();
    for round in 0..=ROUNDS {
        let server = Server::start_with_env(
            dir.path(),
            &[],
            &[("NSBACKUP_TEST_PAUSE", "restore:writing@target")],
        );
        let admin = server.admin();
        let tree = admin.ok("/api/get_namespace_tree", json!({ "namespace": "acked" }));
        let names: Vec<&str> = tree["folders"]
            .as_array()
            .expect("folders")
            .iter()
            .filter_map(|f| f["name"].as_str())
            .collect();
        for name in &folders {
            assert!(
                names.contains(&name.as_str()),
                "round {round}: the acknowledged folder `{name}` is lost"
            );
        }
        for job in &jobs {
            let found = admin.ok("/api/get_job", json!({ "id": job }));
            assert_eq!(found["status"], "failed", "round {round}: {found}");
            assert_eq!(found["error"], "interrupted by a restart", "round {round}");
        }
        if round == ROUNDS {
            break;
        }
        for write in 0..5 {
            let name = format!("round {round} write {write}");
            admin.ok(
                "/api/create_folder",
                json!({ "namespace": "acked", "parent": null, "name": name }),
            );
            folders.push(name);
        }
        if round % 2 == 0 {
            let job = admin.ok(
                "/api/restore_backup",
                json!({ "id": backup, "namespace": "target" }),
            );
            jobs.push(job["id"].as_str().expect("job").to_string());
            assert!(
                server.wait_for_log("pausing here for a test", Duration::from_secs(60)),
                "round {round}: the restore reached its pause"
            );
        }
        server.kill();
    }
}

/// An undo killed before or after its switch leaves the namespace exactly as it was or
/// exactly switched back, and a restore point for whichever content it does not have.
fn killed_undo_leaves_one_or_the_other(point: &str, expect_undone: bool) {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &[]);
    let backup = prepare(&server, false);
    let admin = server.admin();
    let before_restore = state(&admin, "ns");
    admin.restore(&backup, "ns");
    let restored = state(&admin, "ns");
    assert_ne!(before_restore, restored, "the test can tell the two apart");
    drop(admin);
    let (status, _) = server.stop();
    assert!(status.success());

    let server = Server::start_with_env(dir.path(), &[], &[("NSBACKUP_TEST_PAUSE", point)]);
    let admin = server.admin();
    let points = admin.ok("/api/list_restore_points", json!({}));
    let generation = points[0]["generation"]
        .as_str()
        .expect("a restore point")
        .to_string();
    let _call = admin.send_and_leave(
        "/api/undo_restore",
        &json!({ "namespace": "ns", "generation": generation }),
    );
    assert!(
        server.wait_for_log("pausing here for a test", Duration::from_secs(60)),
        "the undo reached {point}"
    );
    drop(admin);
    server.kill();

    let server = Server::start(dir.path(), &[]);
    let admin = server.admin();
    let after = state(&admin, "ns");
    let points = admin.ok("/api/list_restore_points", json!({}));
    assert_eq!(points.as_array().map(Vec::len), Some(1), "{points}");
    if expect_undone {
        assert_eq!(
            after, before_restore,
            "killed at {point}: switched back, whole"
        );
        assert!(
            points[0]["replaced_by"]
                .as_str()
                .is_some_and(|by| by.starts_with("undo by"))
        );
    } else {
        assert_eq!(after, restored, "killed at {point}: as it was, whole");
        assert_eq!(points[0]["generation"], generation.as_str());
    }
    // Whichever it is, the other is one undo away.
    let other = points[0]["generation"]
        .as_str()
        .expect("a point")
        .to_string();
    admin.ok(
        "/api/undo_restore",
        json!({ "namespace": "ns", "generation": other }),
    );
    let expected = if expect_undone {
        &restored
    } else {
        &before_restore
    };
    assert_eq!(&state(&admin, "ns"), expected);
}

#[test]
fn an_undo_killed_before_its_switch_changes_nothing() {
    killed_undo_leaves_one_or_the_other("undo:switching", false);
}

#[test]
fn an_undo_killed_after_its_switch_is_complete() {
    killed_undo_leaves_one_or_the_other("undo:switched", true);
}
