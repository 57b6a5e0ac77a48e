//! A backup file of a gibibyte goes through the server's own HTTP paths — uploaded with
//! `POST /api/v1/uploads`, checked and stored in an S3 bucket, downloaded again with
//! `GET /api/v1/backups/{id}/download` — while the server's memory stays nearly flat: the
//! file streams through, never held whole. The server's peak resident memory is read from
//! `/proc` around each transfer (the download's on a server started afresh).

mod support;

use std::io::Read;

use serde_json::Value;
use sha2::{Digest, Sha256};
use support::Server;
use support::large::{ALLOWED, hex, large_backup_file, request};
use support::memory::Process;
use support::s3::{KEY, SECRET, Seaweed};

#[test]
fn a_gibibyte_goes_up_through_http_into_s3_and_comes_back_in_bounded_server_memory() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let s3 = runtime.block_on(Seaweed::start());
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    // The database on disk: the download is measured on a server started afresh, so that
    // what the upload left in its allocator does not hide what the download takes.
    let start = || {
        Server::start_with_env(
            &data,
            &[
                "--demo",
                "--store",
                "s3://backups/large",
                "--s3-endpoint",
                &s3.endpoint,
            ],
            &[
                ("AWS_ACCESS_KEY_ID", KEY),
                ("AWS_SECRET_ACCESS_KEY", SECRET),
            ],
        )
    };
    let server = start();
    let token = server.admin_token("large files");

    let file = dir.path().join("large.zip");
    let (size, sha) = large_backup_file(&server, &token, &file);

    let pid = server.pid();
    let before = Process::Pid(pid).reset_peak();
    let (status, head, mut answer) = request(
        &server,
        &token,
        "POST",
        "/api/v1/uploads?namespace=demo&name=Large",
        "",
        Some(&file),
    );
    let mut body = String::new();
    answer.read_to_string(&mut body).expect("the answer");
    assert_eq!(status, 201, "{head}{body}");
    let uploaded: Value = serde_json::from_str(&body).expect("JSON");
    let upload_rise = Process::Pid(pid).peak().saturating_sub(before);
    let id = uploaded["backup"]["id"].as_str().expect("id").to_string();
    assert_eq!(uploaded["backup"]["size"], size, "{uploaded}");
    assert_eq!(uploaded["backup"]["sha256"], sha.as_str(), "{uploaded}");

    server.stop();
    let server = start();
    let pid = server.pid();
    let before = Process::Pid(pid).reset_peak();
    let (status, head, mut download) = request(
        &server,
        &token,
        "GET",
        &format!("/api/v1/backups/{id}/download"),
        "",
        None,
    );
    assert_eq!(status, 200, "{head}");
    let mut hasher = Sha256::new();
    let received = std::io::copy(&mut download, &mut hasher).expect("the file");
    let download_rise = Process::Pid(pid).peak().saturating_sub(before);
    assert_eq!(received, size, "{head}");
    assert_eq!(hex(&hasher.finalize()), sha, "the same bytes came back");

    eprintln!(
        "server peak memory rise: upload {} MiB, download {} MiB",
        upload_rise >> 20,
        download_rise >> 20
    );
    assert!(
        upload_rise < ALLOWED,
        "the upload raised the server's peak by {} MiB",
        upload_rise >> 20
    );
    assert!(
        download_rise < ALLOWED,
        "the download raised the server's peak by {} MiB",
        download_rise >> 20
    );
}
