//! Backups through the real server: create, download, upload, restore, delete, and the
//! upload size limit.

#[path = "../support/mod.rs"]
mod support;

mod encrypted;
mod passphrase;
mod store;
mod uploads;

use std::io::Read;

use serde_json::{Value, json};
use support::Server;

/// How many backups the list holds.
fn listed(admin: &support::Client<'_>) -> usize {
    admin
        .ok("/api/list_backups", json!({}))
        .as_array()
        .map_or(0, Vec::len)
}

#[test]
fn a_backup_is_downloaded_uploaded_again_and_restored_elsewhere() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &["--db", "mem://", "--demo"]);
    lifecycle(&server);
}

/// Create, download, upload twice, restore into a new namespace, delete: everything a backup
/// goes through, each step audited.
fn lifecycle(server: &Server) {
    let admin = server.admin();
    let started = admin.ok(
        "/api/create_backup",
        json!({ "namespace": "demo", "name": "Nightly/März" }),
    );
    let id = started[0]["id"].as_str().expect("id").to_string();
    assert_eq!(started[0]["status"], "in_progress");
    let job = admin.wait_for_job(started[1]["id"].as_str().expect("job"));
    assert_eq!(job["status"], "succeeded", "{job}");
    let list = admin.ok("/api/list_backups", json!({}));
    assert_eq!(list[0]["status"], "completed");

    let (status, head, zip) =
        admin.exchange("GET", &format!("/api/v1/backups/{id}/download"), &[], None);
    assert_eq!(status, 200, "{head}");
    let created = list[0]["created_at"].as_str().expect("created_at");
    let stamp = format!(
        "{}_{}-{}-{}",
        &created[..10],
        &created[11..13],
        &created[14..16],
        &created[17..19]
    );
    assert!(
        head.contains(&format!("filename=\"Nightly_M_rz_{stamp}.zip\"")),
        "{head}"
    );
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.clone())).expect("a zip");
    let mut manifest = String::new();
    archive
        .by_name("manifest.json")
        .expect("manifest")
        .read_to_string(&mut manifest)
        .expect("read");
    let manifest: Value = serde_json::from_str(&manifest).expect("json");
    assert_eq!(manifest["namespace"], "demo");

    // A download cut off resumes where it stopped: one range, answered with that part.
    assert!(
        head.to_lowercase().contains("accept-ranges: bytes"),
        "{head}"
    );
    let length = zip.len();
    let download = format!("/api/v1/backups/{id}/download");
    let (status, head, rest) = admin.exchange("GET", &download, &[("Range", "bytes=100-")], None);
    assert_eq!(status, 206, "{head}");
    assert_eq!(rest, zip[100..]);
    assert!(
        head.to_lowercase()
            .contains(&format!("content-range: bytes 100-{}/{length}", length - 1)),
        "{head}"
    );
    let (status, _, first) = admin.exchange("GET", &download, &[("Range", "bytes=0-99")], None);
    assert_eq!((status, first.as_slice()), (206, &zip[..100]));
    let past_the_end = format!("bytes={length}-");
    let (status, head, _) = admin.exchange("GET", &download, &[("Range", &past_the_end)], None);
    assert_eq!(status, 416, "{head}");
    assert!(
        head.to_lowercase()
            .contains(&format!("content-range: bytes */{length}")),
        "{head}"
    );

    // The addresses the download, the report and the upload had before `/api/v1` lead there
    // (bookmarks, older audit entries' links and scripts keep working).
    for (method, before, now) in [
        (
            "GET",
            format!("/api/backups/download?id={id}"),
            format!("/api/v1/backups/{id}/download"),
        ),
        (
            "GET",
            "/api/jobs/report?id=j1".to_string(),
            "/api/v1/jobs/j1/report".to_string(),
        ),
        (
            "POST",
            "/api/backups/upload?namespace=demo&name=A".to_string(),
            "/api/v1/uploads?namespace=demo&name=A".to_string(),
        ),
    ] {
        let (status, head, _) = admin.exchange(method, &before, &[], None);
        assert_eq!(status, 308, "{before}: {head}");
        assert!(
            head.to_lowercase()
                .contains(&format!("location: {}", now.to_lowercase())),
            "{before}: {head}"
        );
    }

    // Upload the same file twice: two entries, the second named as a duplicate. Without a
    // name, the file's name (without .zip) is the backup's.
    let uploads = [
        ("name=Again&file_name=x.zip", "Again"),
        ("file_name=Nightly%20copy.zip", "Nightly copy"),
    ];
    for (round, (query, listed)) in uploads.into_iter().enumerate() {
        let (status, _, body) = admin.exchange(
            "POST",
            &format!("/api/v1/uploads?namespace=demo&{query}"),
            &[],
            Some(("application/zip", &zip)),
        );
        let body: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["backup"]["origin"], "uploaded");
        assert_eq!(body["backup"]["name"], listed);
        assert!(
            body["note"]
                .as_str()
                .is_some_and(|note| note.contains("identical")),
            "round {round}: {body}"
        );
    }
    assert_eq!(listed(&admin), 3);

    // Restore into a namespace that does not exist yet.
    let job = admin.ok(
        "/api/restore_backup",
        json!({ "id": id, "namespace": "copy" }),
    );
    let job = admin.wait_for_job(job["id"].as_str().expect("job"));
    assert_eq!(job["status"], "succeeded", "{job}");
    // Its report downloads as a file named after the namespace and the time it finished.
    let report = format!(
        "/api/v1/jobs/{}/report",
        job["id"].as_str().expect("job id")
    );
    let (status, head, body) = admin.exchange("GET", &report, &[], None);
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("filename=\"restore-report_copy_"), "{head}");
    let body: Value = serde_json::from_slice(&body).expect("a JSON report");
    assert_eq!(body["namespace"], "copy", "{body}");
    let original = admin.ok("/api/get_namespace_tree", json!({ "namespace": "demo" }));
    let copy = admin.ok("/api/get_namespace_tree", json!({ "namespace": "copy" }));
    assert_eq!(original["folders"], copy["folders"]);

    let deleted = admin.ok("/api/delete_backup", json!({ "id": id }));
    assert_eq!(deleted["id"], id);
    let (status, _, _) =
        admin.exchange("GET", &format!("/api/v1/backups/{id}/download"), &[], None);
    assert_eq!(status, 404);

    let (_, log) = admin.post_json("/api/list_audit", r#"{"before": null, "limit": 50}"#);
    for action in [
        "backup create",
        "backup download",
        "backup upload",
        "backup restore",
        "backup delete",
    ] {
        assert!(log.contains(action), "{action} is audited: {log}");
    }
    assert!(
        log.contains(&report),
        "the restore's entry names its report: {log}"
    );
}
