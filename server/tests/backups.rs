//! Backups through the real server: create, download, upload, restore, delete, and the
//! upload size limit.

mod support;

use std::io::Read;
use std::time::Duration;

use app::domain::backup::store::{BackupStore, S3Store};
use serde_json::{Value, json};
use support::Server;
use support::free_port;
use support::s3::{KEY, SECRET, Seaweed};

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

#[test]
fn with_the_files_in_s3_every_operation_works_and_no_file_stays_on_the_local_disk() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let s3 = runtime.block_on(Seaweed::start());
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start_with_env(
        dir.path(),
        &[
            "--db",
            "mem://",
            "--demo",
            "--store",
            "s3://backups/nsbackup",
            "--s3-endpoint",
            &s3.endpoint,
        ],
        &[
            ("AWS_ACCESS_KEY_ID", KEY),
            ("AWS_SECRET_ACCESS_KEY", SECRET),
        ],
    );
    lifecycle(&server);

    // The bucket holds exactly the listed backups' files; the data directory holds none.
    let admin = server.admin();
    let mut ids: Vec<String> = admin
        .ok("/api/list_backups", json!({}))
        .as_array()
        .expect("a list")
        .iter()
        .map(|backup| backup["id"].as_str().expect("id").to_string())
        .collect();
    ids.sort();
    assert_eq!(ids.len(), 2);
    let scratch = tempfile::tempdir().expect("temp dir");
    let bucket = runtime
        .block_on(S3Store::open(
            &s3.options("s3://backups/nsbackup"),
            scratch.path(),
        ))
        .expect("the bucket");
    assert_eq!(runtime.block_on(bucket.list()).expect("objects"), ids);
    let zips: Vec<_> = walk(dir.path())
        .into_iter()
        .filter(|path| path.extension().is_some_and(|ext| ext == "zip"))
        .collect();
    assert!(zips.is_empty(), "{zips:?}");
}

#[test]
fn a_bucket_that_cannot_be_reached_stops_the_start_with_one_line_that_says_what_to_check() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = support::nsbackup()
        .env("AWS_ACCESS_KEY_ID", KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--db",
            "mem://",
            "--data-dir",
        ])
        .arg(dir.path())
        .args(["--store", "s3://backups", "--s3-endpoint"])
        .arg(format!("http://127.0.0.1:{}", free_port()))
        .output()
        .expect("runs");
    let last = support::refusal(&output);
    assert!(last.contains("cannot be reached or listed"), "{last}");
    assert!(last.contains("endpoint"), "{last}");
    assert!(
        String::from_utf8_lossy(&output.stdout).is_empty(),
        "it never listened"
    );
}

/// Every file below `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("a directory").flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
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

#[test]
fn uploads_over_the_limit_or_not_zips_are_refused_and_leave_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &["--db", "mem://", "--max-upload-size", "1KB"]);
    let admin = server.admin();
    let big = vec![b'x'; 4000];
    let (status, _, body) = admin.exchange(
        "POST",
        "/api/v1/uploads?name=Big&namespace=demo",
        &[],
        Some(("application/zip", &big)),
    );
    assert_eq!(status, 413, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("larger than"));
    let (status, _, body) = admin.exchange(
        "POST",
        "/api/v1/uploads?name=Text&namespace=demo",
        &[],
        Some(("application/zip", b"just text")),
    );
    assert_eq!(status, 422);
    assert!(
        String::from_utf8_lossy(&body).contains("not a zip file"),
        "{}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(listed(&admin), 0);
    let scratch = std::fs::read_dir(dir.path().join("backups/.scratch"))
        .expect("scratch dir")
        .count();
    assert_eq!(scratch, 0, "no scratch file is left");
}

#[test]
fn an_upload_that_is_not_a_file_or_has_no_usable_name_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &["--db", "mem://"]);
    let admin = server.admin();
    let bearer = format!("Bearer {}", server.admin_token("uploads"));
    let script = server.anonymous();
    let zip_start = b"PK\x03\x04";
    for content_type in [
        "text/plain",
        "application/json",
        "image/png",
        "multipart/form-data; boundary=x",
    ] {
        // The page sends with its session, a script with its token: the same refusal.
        for (who, authorization) in [
            (&admin, vec![]),
            (&script, vec![("Authorization", bearer.as_str())]),
        ] {
            let (status, head, body) = who.exchange(
                "POST",
                "/api/v1/uploads?name=Typed&namespace=demo",
                &authorization,
                Some((content_type, zip_start)),
            );
            let body = String::from_utf8_lossy(&body);
            assert_eq!(status, 415, "{content_type}: {body}");
            assert!(head.contains("application/problem+json"), "{head}");
            assert!(body.contains("`Content-Type: application/zip`"), "{body}");
        }
    }
    // A name taken from the file's name follows the rules of a typed one.
    let (status, _, body) = admin.exchange(
        "POST",
        "/api/v1/uploads?file_name=...zip&namespace=demo",
        &[],
        Some(("application/zip", zip_start)),
    );
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("gives no usable backup name"), "{body}");
    assert_eq!(listed(&admin), 0);
}

#[test]
fn an_upload_cut_off_by_the_client_leaves_nothing_behind() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &["--db", "mem://"]);
    let admin = server.admin();
    let address = server.base_url.trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(&address).expect("connects");
    let cookie = admin.cookie.clone().expect("signed in");
    write!(
        stream,
        "POST /api/v1/uploads?name=Cut&namespace=demo HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\nContent-Type: application/zip\r\nContent-Length: 1000000\r\n\r\n"
    )
    .expect("head");
    stream.write_all(&[b'P'; 50_000]).expect("part of the body");
    drop(stream);
    // The server notices the missing rest and removes what it had received.
    let scratch = dir.path().join("backups/.scratch");
    let mut left = usize::MAX;
    for _ in 0..100 {
        left = std::fs::read_dir(&scratch).expect("scratch").count();
        if left == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(left, 0, "no partial upload is left");
    assert_eq!(listed(&admin), 0);
}

#[test]
fn the_archive_caps_are_settings() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(
        dir.path(),
        &["--db", "mem://", "--archive-max-entries", "3"],
    );
    let admin = server.admin();
    let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../app/tests/fixtures/backup-v1.zip");
    let bytes = std::fs::read(golden).expect("golden backup");
    let (status, _, body) = admin.exchange(
        "POST",
        "/api/v1/uploads?name=Capped&namespace=demo",
        &[],
        Some(("application/zip", &bytes)),
    );
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("at most 3"), "{body}");
}

#[test]
fn an_installation_moves_its_backups_into_s3_and_starts_with_s3_only_once_none_is_left_behind() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let s3 = runtime.block_on(Seaweed::start());
    let dir = tempfile::tempdir().expect("temp dir");

    // A backup made while the files were kept on the local disk.
    let server = Server::start(dir.path(), &["--demo"]);
    let admin = server.admin();
    let id = admin.backup("demo", "Before S3");
    let download = format!("/api/v1/backups/{id}/download");
    let (status, _, original) = admin.exchange("GET", &download, &[], None);
    assert_eq!(status, 200);
    drop(admin);
    server.stop();

    let s3_args = [
        "--store",
        "s3://backups/moved",
        "--s3-endpoint",
        s3.endpoint.as_str(),
    ];
    let credentials = [
        ("AWS_ACCESS_KEY_ID", KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET),
    ];
    let run = |args: &[&str]| {
        support::nsbackup()
            .envs(credentials)
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .args(s3_args)
            .output()
            .expect("runs")
    };

    // Starting with S3 while the file is still on the disk would lose sight of it: refused.
    let last = support::refusal(&run(&["serve", "--listen", "127.0.0.1:0"]));
    assert!(last.contains("1 backup file(s)"), "{last}");
    assert!(last.contains("nsbackup store migrate"), "{last}");

    // Moved, then nothing left to move.
    let moved = run(&["store", "migrate"]);
    assert!(
        moved.status.success(),
        "{}",
        String::from_utf8_lossy(&moved.stderr)
    );
    let said = String::from_utf8_lossy(&moved.stdout);
    assert!(said.contains("Moved 1 backup file(s)"), "{said}");
    let again = run(&["store", "migrate"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("Moved 0 backup file(s)"));

    // Served from the bucket: the same bytes, and it restores.
    let server = Server::start_with_env(dir.path(), &s3_args, &credentials);
    let admin = server.admin();
    let (status, _, from_s3) = admin.exchange("GET", &download, &[], None);
    assert_eq!(status, 200);
    assert!(from_s3 == original, "the same bytes");
    admin.restore(&id, "restored");
}

#[test]
fn the_store_check_lists_damaged_backups_as_such_and_names_files_that_no_backup_names() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &["--demo"]);
    let admin = server.admin();
    let ids = [
        admin.backup("demo", "Good"),
        admin.backup("demo", "Will rot"),
    ];
    drop(admin);
    server.stop();

    // A flipped byte (the size stays), and a file that no backup names.
    let backups = dir.path().join("backups");
    let rotten = backups.join(format!("{}.zip", ids[1]));
    let mut bytes = std::fs::read(&rotten).expect("the file");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&rotten, bytes).expect("damaged");
    std::fs::write(backups.join("0123456789abcdef.zip"), b"not listed").expect("a stray file");

    let output = support::nsbackup()
        .args(["store", "check", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("runs");
    let last = support::refusal(&output);
    assert!(last.contains("found problems"), "{last}");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        report.contains("Checked 2 backup file(s): 1 damaged"),
        "{report}"
    );
    assert!(
        report.contains("1 file(s) in the store that no backup names"),
        "{report}"
    );
    assert!(report.contains("0123456789abcdef.zip"), "{report}");
    assert!(
        backups.join("0123456789abcdef.zip").exists(),
        "reported, never removed"
    );

    let server = Server::start(dir.path(), &[]);
    let list = server.admin().ok("/api/list_backups", json!({}));
    let status_of = |id: &str| {
        list.as_array()
            .expect("a list")
            .iter()
            .find(|backup| backup["id"] == id)
            .map(|backup| backup["status"].clone())
    };
    assert_eq!(status_of(&ids[0]), Some(json!("completed")));
    assert_eq!(status_of(&ids[1]), Some(json!("damaged")));
}
