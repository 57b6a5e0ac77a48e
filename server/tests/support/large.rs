//! A backup file of more than a gibibyte, written in the shape of a small one the server
//! made, and a request that streams a file to the server: what the memory tests send.

use std::io::{BufWriter, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Server, call, job_succeeds};

/// Writes a large backup to `path` in the shape of a small one that `server` makes of
/// namespace `demo` (with the administrator's `token`); its size and SHA-256.
pub fn large_backup_file(server: &Server, token: &str, path: &Path) -> (u64, String) {
    let script = server.anonymous();
    let (status, started) = call(
        &script,
        token,
        "POST",
        "/api/v1/backups",
        Some(&json!({ "namespace": "demo", "name": "Template" })),
    );
    assert_eq!(status, 202, "{started}");
    job_succeeds(&script, token, started["job"]["id"].as_str().expect("job"));
    let id = started["backup"]["id"].as_str().expect("id");
    let (status, _, template) = script.exchange(
        "GET",
        &format!("/api/v1/backups/{id}/download"),
        &[("Authorization", &format!("Bearer {token}"))],
        None,
    );
    assert_eq!(status, 200);
    let written = write_large_backup(&template, path);
    assert!(
        written.0 > 1 << 30,
        "a gibibyte at least: {} bytes",
        written.0
    );
    written
}

/// Items in the large backup, each with a content just under the 8 MiB an item may hold.
pub const ITEMS: usize = 128;
pub const CONTENT: usize = 8 * 1024 * 1024 - 64;
/// What one transfer may add to the server's peak memory: an eighth of the file.
pub const ALLOWED: u64 = 128 << 20;

pub fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The content of item `index`: JSON of [`CONTENT`] bytes. (The archive stores contents
/// as they are, so their bytes need not be random to make a large file.)
pub fn content(index: usize) -> Vec<u8> {
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
pub fn request(
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
