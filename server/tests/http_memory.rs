//! A backup file of a gibibyte goes through the server's own HTTP paths — uploaded with
//! `POST /api/v1/uploads`, checked and stored in an S3 bucket, downloaded again with
//! `GET /api/v1/backups/{id}/download` — while the server's memory stays nearly flat: the
//! file streams through, never held whole. The server's peak resident memory is read from
//! `/proc` around each transfer (the download's on a server started afresh).

mod support;

use std::io::{BufWriter, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::memory::Process;
use support::s3::{KEY, SECRET, Seaweed};
use support::{Server, call, job_succeeds};

/// Items in the large backup, each with a content just under the 8 MiB an item may hold.
const ITEMS: usize = 128;
const CONTENT: usize = 8 * 1024 * 1024 - 64;
/// What one transfer may add to the server's peak memory: an eighth of the file.
const ALLOWED: u64 = 128 << 20;

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The content of item `index`: JSON of [`CONTENT`] bytes. (The archive stores contents
/// as they are, so their bytes need not be random to make a large file.)
fn content(index: usize) -> Vec<u8> {
    let mut text = format!("{{\"item\":{index},\"blob\":\"").into_bytes();
    text.resize(CONTENT - 2, b'x');
    text.extend_from_slice(b"\"}");
    text
}

/// Writes a sound backup of [`ITEMS`] large items to `path`, in the shape of `template`
/// (a backup this server made): its namespace, its manifest, its item records.
fn write_large_backup(template: &[u8], path: &Path) -> (u64, String) {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(template)).expect("a zip");
    let mut read = |name: &str| {
        let mut bytes = Vec::new();
        zip.by_name(name)
            .expect(name)
            .read_to_end(&mut bytes)
            .expect("read");
        bytes
    };
    let mut manifest: Value = serde_json::from_slice(&read("manifest.json")).expect("manifest");
    let namespace = read("namespace.json");
    let items = read("items.ndjson");
    let first = items.split(|b| *b == b'\n').next().expect("an item");
    let record: Value = serde_json::from_slice(first).expect("an item record");

    let mut lines = Vec::new();
    let mut contents = Vec::new();
    for index in 0..ITEMS {
        let id = format!("large{index:04}");
        let mut item = record.clone();
        let fields = item.as_object_mut().expect("an object");
        fields.remove("content");
        fields.insert("id".into(), json!(id));
        fields.insert("folder".into(), Value::Null);
        fields.insert("kind".into(), json!("service"));
        fields.insert("name".into(), json!(format!("Large {index}")));
        fields.insert("content_entry".into(), json!(format!("contents/{id}")));
        lines.extend_from_slice(item.to_string().as_bytes());
        lines.push(b'\n');
        contents.push(format!("contents/{id}"));
    }
    let records = [
        ("namespace.json".to_string(), namespace),
        ("folders.ndjson".to_string(), Vec::new()),
        ("items.ndjson".to_string(), lines),
    ];
    let mut listed: Vec<Value> = records
        .iter()
        .map(|(name, bytes)| {
            json!({"path": name, "size": bytes.len(), "sha256": hex(&Sha256::digest(bytes))})
        })
        .collect();
    for (index, name) in contents.iter().enumerate() {
        let bytes = content(index);
        listed.push(
            json!({"path": name, "size": bytes.len(), "sha256": hex(&Sha256::digest(&bytes))}),
        );
    }
    manifest["entries"] = Value::Array(listed);
    manifest["counts"] = json!({"folders": 0, "items": ITEMS});

    let file = std::fs::File::create(path).expect("a file");
    let mut writer = zip::ZipWriter::new(BufWriter::new(file));
    let deflated = zip::write::SimpleFileOptions::default();
    let stored = deflated.compression_method(zip::CompressionMethod::Stored);
    writer.start_file("manifest.json", deflated).expect("entry");
    writer
        .write_all(manifest.to_string().as_bytes())
        .expect("written");
    for (name, bytes) in &records {
        writer.start_file(name, deflated).expect("entry");
        writer.write_all(bytes).expect("written");
    }
    for (index, name) in contents.iter().enumerate() {
        writer.start_file(name, stored).expect("entry");
        writer.write_all(&content(index)).expect("written");
    }
    writer.finish().expect("finished").flush().expect("flushed");

    let mut hasher = Sha256::new();
    let mut file = std::fs::File::open(path).expect("the file");
    let size = std::io::copy(&mut file, &mut hasher).expect("read");
    (size, hex(&hasher.finalize()))
}

/// Sends `method path` with the token and the head lines `extra`, then `body` (streamed);
/// returns the connection with the answer's head read: its status, head and the rest.
fn request(
    server: &Server,
    token: &str,
    method: &str,
    path: &str,
    extra: &str,
    body: Option<&Path>,
) -> (u16, String, std::io::BufReader<TcpStream>) {
    let address = server.base_url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(600)))
        .expect("timeout");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n{extra}"
    );
    if let Some(file) = body {
        let size = std::fs::metadata(file).expect("the file").len();
        head.push_str(&format!(
            "Content-Type: application/zip\r\nContent-Length: {size}\r\n"
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("sends");
    if let Some(file) = body {
        let mut file = std::fs::File::open(file).expect("the file");
        std::io::copy(&mut file, &mut stream).expect("sends the file");
    }
    let mut reader = std::io::BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut reader, &mut line).expect("a head");
        if line == "\r\n" || line.is_empty() {
            break;
        }
        head.push_str(&line);
    }
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    (status, head, reader)
}

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
    let script = server.anonymous();

    // A small backup made here is the template of the large one.
    let (status, started) = call(
        &script,
        &token,
        "POST",
        "/api/v1/backups",
        Some(&json!({ "namespace": "demo", "name": "Template" })),
    );
    assert_eq!(status, 202, "{started}");
    job_succeeds(&script, &token, started["job"]["id"].as_str().expect("job"));
    let id = started["backup"]["id"].as_str().expect("id");
    let (status, _, template) = script.exchange(
        "GET",
        &format!("/api/v1/backups/{id}/download"),
        &[("Authorization", &format!("Bearer {token}"))],
        None,
    );
    assert_eq!(status, 200);
    let file = dir.path().join("large.zip");
    let (size, sha) = write_large_backup(&template, &file);
    assert!(size > 1 << 30, "a gibibyte at least: {size} bytes");

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
