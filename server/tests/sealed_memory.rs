//! A backup of more than a gibibyte encrypted to the server's key restores in no more memory
//! than the same backup unencrypted: age decrypts one 64 KiB chunk at a time, as the zip
//! reader asks for it, and nothing of the file is held whole. Each restore is measured on a
//! server started afresh (its peak resident memory, from `/proc`), on a database on disk.

mod support;

use std::io::{BufReader, BufWriter};
use std::path::Path;

use age::secrecy::ExposeSecret;
use serde_json::{Value, json};
use support::large::{large_backup_file, request};
use support::memory::Process;
use support::{Server, call};

/// What an encrypted restore may take beyond a plain one's: a tenth more, and 16 MiB (the
/// allocator's own variation from one process to the next).
fn allowed(plain: u64) -> u64 {
    plain + plain / 10 + (16 << 20)
}

/// Encrypts the file at `plain` to `recipient` into `sealed`, streaming.
fn seal(plain: &Path, sealed: &Path, recipient: &age::x25519::Recipient) {
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
            .expect("an encryptor");
    let out = std::fs::File::create(sealed).expect("a file");
    let mut writer = encryptor
        .wrap_output(BufWriter::new(out))
        .expect("the age header");
    let mut input = BufReader::new(std::fs::File::open(plain).expect("the zip"));
    std::io::copy(&mut input, &mut writer).expect("sealed");
    writer.finish().expect("finished");
}

#[test]
fn an_encrypted_gibibyte_restores_in_no_more_memory_than_the_same_backup_unencrypted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let identity = age::x25519::Identity::generate();
    let identity_file = dir.path().join("identity.txt");
    std::fs::write(
        &identity_file,
        format!("{}\n", identity.to_string().expose_secret()),
    )
    .expect("the identity file");
    let data = dir.path().join("data");
    let start = || {
        Server::start(
            &data,
            &[
                "--demo",
                "--backup-identity",
                identity_file.to_str().expect("a path"),
            ],
        )
    };
    let server = start();
    let token = server.admin_token("encrypted memory");

    // The large backup, stored plain and sealed.
    let plain = dir.path().join("large.zip");
    large_backup_file(&server, &token, &plain);
    let sealed = dir.path().join("large.zip.age");
    seal(&plain, &sealed, &identity.to_public());

    let mut uploaded = Vec::new();
    for (name, file) in [("Plain", &plain), ("Sealed", &sealed)] {
        let path = format!("/api/v1/uploads?namespace=demo&name={name}");
        let (status, head, mut answer) = request(&server, &token, "POST", &path, "", Some(file));
        let mut body = String::new();
        std::io::Read::read_to_string(&mut answer, &mut body).expect("the answer");
        assert_eq!(status, 201, "{head}{body}");
        let body: Value = serde_json::from_str(&body).expect("JSON");
        uploaded.push(body["backup"].clone());
    }
    assert_eq!(uploaded[0]["encryption"], Value::Null);
    assert_eq!(uploaded[1]["encryption"]["kind"], "keys", "{}", uploaded[1]);
    std::fs::remove_file(&plain).expect("removed");
    std::fs::remove_file(&sealed).expect("removed");
    server.stop();

    let restore = |backup: &Value, namespace: &str| {
        let server = start();
        let script = server.anonymous();
        let pid = server.pid();
        let before = Process::Pid(pid).reset_peak();
        let id = backup["id"].as_str().expect("id");
        let (status, job) = call(
            &script,
            &token,
            "POST",
            &format!("/api/v1/backups/{id}/restore"),
            Some(&json!({ "namespace": namespace })),
        );
        assert_eq!(status, 202, "{job}");
        let job = job["id"].as_str().expect("job").to_string();
        let ended = loop {
            let (_, now) = call(&script, &token, "GET", &format!("/api/v1/jobs/{job}"), None);
            if now["status"] == "succeeded" || now["status"] == "failed" {
                break now;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        };
        let rise = Process::Pid(pid).peak().saturating_sub(before);
        drop(script);
        let (_, log) = server.stop();
        assert_eq!(ended["status"], "succeeded", "{ended}\n{}", log.join("\n"));
        rise
    };
    let plain_rise = restore(&uploaded[0], "plain-copy");
    let sealed_rise = restore(&uploaded[1], "sealed-copy");
    eprintln!(
        "server peak memory rise of a restore: plain {} MiB, encrypted {} MiB",
        plain_rise >> 20,
        sealed_rise >> 20
    );
    assert!(
        sealed_rise <= allowed(plain_rise),
        "the encrypted restore raised the server's peak by {} MiB, the plain one by {} MiB",
        sealed_rise >> 20,
        plain_rise >> 20
    );
}
