//! Where the files are kept: every operation with them in S3, a bucket that cannot be
//! reached, moving local files into S3, and the store check.

use app::domain::backup::store::{BackupStore, S3Store};
use serde_json::json;

use super::lifecycle;
use crate::support::s3::{KEY, SECRET, Seaweed};
use crate::support::{self, Server, free_port};

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
    let files: Vec<String> = ids.iter().map(|id| format!("{id}.zip")).collect();
    assert_eq!(runtime.block_on(bucket.list()).expect("objects"), files);
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
