//! Backups damaged on disk: found, refused, listed as damaged, also by the periodic check.

use std::time::{Duration, Instant};

use serde_json::json;

use super::raw_bytes;
use crate::support::{self, Server};

/// A completed backup of the demo namespace; returns its id and the path of its file.
fn demo_backup(
    server: &Server,
    dir: &tempfile::TempDir,
    name: &str,
) -> (String, std::path::PathBuf) {
    let admin = server.admin();
    let started = admin.ok(
        "/api/create_backup",
        json!({ "namespace": "demo", "name": name }),
    );
    let id = started[0]["id"].as_str().expect("id").to_string();
    let job = admin.wait_for_job(started[1]["id"].as_str().expect("job"));
    assert_eq!(job["status"], "succeeded", "{job}");
    let path = dir.path().join("backups").join(format!("{id}.zip"));
    assert!(path.is_file(), "{}", path.display());
    (id, path)
}

fn flip_a_byte(path: &std::path::Path) {
    let mut bytes = std::fs::read(path).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(path, bytes).expect("write");
}

fn status_of(admin: &support::Client<'_>, id: &str) -> serde_json::Value {
    admin
        .ok("/api/list_backups", json!({}))
        .as_array()
        .expect("list")
        .iter()
        .find(|b| b["id"] == id)
        .expect("listed")
        .clone()
}

#[test]
fn a_backup_damaged_on_disk_is_found_refused_and_listed_as_damaged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(
        dir.path(),
        &["--db", "mem://", "--demo", "--verify-interval", "off"],
    );
    let admin = server.admin();

    // One flipped byte: a restore compares the file with its SHA-256 first.
    let (flipped, path) = demo_backup(&server, &dir, "Flipped");
    flip_a_byte(&path);
    let started = admin.ok(
        "/api/restore_backup",
        json!({ "id": flipped, "namespace": "copy" }),
    );
    let job = admin.wait_for_job(started["id"].as_str().expect("job"));
    assert_eq!(job["status"], "failed", "{job}");
    assert!(
        job["error"].as_str().is_some_and(|e| e.contains("damaged")),
        "{job}"
    );
    let listed = status_of(&admin, &flipped);
    assert_eq!(listed["status"], "damaged", "{listed}");
    assert!(
        listed["error"]
            .as_str()
            .is_some_and(|e| e.contains("SHA-256"))
    );
    let namespaces = admin.ok("/api/list_namespaces", json!({}));
    assert!(
        !namespaces.to_string().contains("\"copy\""),
        "nothing was restored: {namespaces}"
    );

    // Cut off: the download refuses it before sending anything.
    let (cut, path) = demo_backup(&server, &dir, "Cut off");
    let bytes = std::fs::read(&path).expect("read");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("write");
    let response = admin.send("GET", &format!("/api/v1/backups/{cut}/download"), &[], None);
    assert_eq!(response.status, 409, "{}", response.body);
    assert!(response.body.contains("damaged"), "{}", response.body);
    assert_eq!(status_of(&admin, &cut)["status"], "damaged");

    // Same size, other bytes: the download ends with an error instead of a clean end, and
    // the backup is listed as damaged.
    let (quiet, path) = demo_backup(&server, &dir, "Quietly damaged");
    let size = std::fs::metadata(&path).expect("size").len() as usize;
    flip_a_byte(&path);
    // The connection ends short of the announced length: either after the head and part of
    // the file, or (a file of one chunk, held back whole) before even the head is out.
    let address = server.base_url.trim_start_matches("http://").to_string();
    let cookie = admin.cookie.clone().expect("cookie");
    let answer = raw_bytes(
        &server,
        format!(
            "GET /api/v1/backups/{quiet}/download HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    );
    let received = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(0, |head| answer.len() - head - 4);
    assert!(
        received < size,
        "the damaged download must not end cleanly ({received} of {size} bytes)"
    );
    assert_eq!(status_of(&admin, &quiet)["status"], "damaged");
    let response = admin.send(
        "GET",
        &format!("/api/v1/backups/{quiet}/download"),
        &[],
        None,
    );
    assert_eq!(response.status, 409, "{}", response.body);
    // What is left to do with a damaged backup: delete it.
    admin.ok("/api/delete_backup", json!({ "id": quiet }));
    let listed = admin.ok("/api/list_backups", json!({}));
    assert!(
        !listed
            .as_array()
            .expect("list")
            .iter()
            .any(|b| b["id"] == quiet),
        "{listed}"
    );

    // An intact backup still downloads whole.
    let (intact, path) = demo_backup(&server, &dir, "Intact");
    let (status, _, body) = admin.exchange(
        "GET",
        &format!("/api/v1/backups/{intact}/download"),
        &[],
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(body, std::fs::read(&path).expect("read"));
    assert_eq!(status_of(&admin, &intact)["status"], "completed");
}

#[test]
fn the_periodic_check_finds_a_damaged_backup_before_anyone_needs_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(
        dir.path(),
        &["--db", "mem://", "--demo", "--verify-interval", "1s"],
    );
    let admin = server.admin();
    let (damaged, path) = demo_backup(&server, &dir, "Will rot");
    let (intact, _) = demo_backup(&server, &dir, "Stays");
    flip_a_byte(&path);
    let deadline = Instant::now() + Duration::from_secs(30);
    while status_of(&admin, &damaged)["status"] != "damaged" {
        assert!(Instant::now() < deadline, "the damage was not found");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(status_of(&admin, &intact)["status"], "completed");
    let log = admin.ok("/api/list_audit", json!({ "before": null, "limit": 50 }));
    assert!(
        log["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .any(|e| e["action"] == "backup damaged"),
        "{log}"
    );
}
