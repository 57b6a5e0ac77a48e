//! Uploads refused: over the size limit, not a zip, not sent as a file or without a usable
//! name, cut off by the client, over the archive caps.

use std::time::Duration;

use super::listed;
use crate::support::Server;

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
