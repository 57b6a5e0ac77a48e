//! Encrypted backups through the real server: `--backup-recipient` seals every new backup,
//! `--backup-identity` opens it; the download is an age file (`.zip.age`) that `nsbackup
//! verify` checks with the key and refuses without it; a bad key stops the start.

use std::path::Path;

use age::secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::support::{self, Server, text};

/// A new key pair: the recipient (`age1…`), and an identity file holding the secret key
/// written to `dir/identity.txt` (its path).
fn key_pair(dir: &Path) -> (String, std::path::PathBuf) {
    let identity = age::x25519::Identity::generate();
    let file = dir.join("identity.txt");
    let secret = identity.to_string().expose_secret().to_string();
    std::fs::write(&file, format!("# test key\n{secret}\n")).expect("identity file");
    (identity.to_public().to_string(), file)
}

#[test]
fn a_server_with_keys_encrypts_every_backup_and_its_download_is_verified_with_the_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let keys = tempfile::tempdir().expect("key dir");
    let (recipient, identity) = key_pair(keys.path());
    let identity_arg = identity.to_str().expect("a path");
    let server = Server::start(
        dir.path(),
        &[
            "--db",
            "mem://",
            "--demo",
            "--backup-recipient",
            &recipient,
            "--backup-identity",
            identity_arg,
        ],
    );
    let admin = server.admin();
    let id = admin.backup("demo", "Sealed");
    let (status, body) = admin.get(&format!("/api/v1/backups/{id}"));
    assert_eq!(status, 200, "{body}");
    let listed: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        listed["encryption"],
        json!({ "kind": "keys", "recipients": [recipient] })
    );
    assert_eq!(listed["restorable"], true, "{listed}");

    let (status, head, file) =
        admin.exchange("GET", &format!("/api/v1/backups/{id}/download"), &[], None);
    assert_eq!(status, 200, "{head}");
    assert!(head.contains(".zip.age\""), "{head}");
    assert!(file.starts_with(b"age-encryption.org/v1\n"));
    let saved = dir.path().join("download.zip.age");
    std::fs::write(&saved, &file).expect("saved");

    // Checked offline with the key; refused without it, saying what is missing.
    let checked = support::nsbackup()
        .args(["verify", "--backup-identity", identity_arg])
        .arg(&saved)
        .output()
        .expect("runs");
    assert!(checked.status.success(), "{}", text(&checked.stderr));
    assert!(
        text(&checked.stdout).contains("demo"),
        "{}",
        text(&checked.stdout)
    );
    let refused = support::nsbackup()
        .arg("verify")
        .arg(&saved)
        .output()
        .expect("runs");
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(
        text(&refused.stderr).contains("encrypted to a key this server does not hold"),
        "{}",
        text(&refused.stderr)
    );

    // Restored with the server's key.
    let job = admin.ok(
        "/api/restore_backup",
        json!({ "id": id, "namespace": "copy" }),
    );
    let job = admin.wait_for_job(job["id"].as_str().expect("job"));
    assert_eq!(job["status"], "succeeded", "{job}");
    drop(admin);
    server.stop();

    // A server that encrypts to the key but does not hold it lists the backup as one it
    // cannot restore, and says why.
    let server = Server::start(
        dir.path(),
        &["--db", "mem://", "--demo", "--backup-recipient", &recipient],
    );
    let admin = server.admin();
    let id = admin.backup("demo", "Offline key");
    let listed = admin.ok("/api/list_backups", json!({}));
    assert!(
        listed[0]["locked"]
            .as_str()
            .is_some_and(|why| why.contains("does not hold")),
        "{listed}"
    );
    let (_, body) = admin.get(&format!("/api/v1/backups/{id}"));
    let listed: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(listed["restorable"], false, "{listed}");
}

#[test]
fn a_key_that_is_not_one_stops_the_start_with_the_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let start = |args: &[&str]| {
        support::nsbackup()
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--db",
                "mem://",
                "--data-dir",
            ])
            .arg(dir.path())
            .args(args)
            .output()
            .expect("runs")
    };
    let last = support::refusal(&start(&["--backup-recipient", "ssh-ed25519 AAAA"]));
    assert!(last.contains("is not an age recipient"), "{last}");
    assert!(last.contains("--backup-recipient"), "{last}");
    let missing = dir.path().join("no-such-identity.txt");
    let last = support::refusal(&start(&[
        "--backup-identity",
        missing.to_str().expect("a path"),
    ]));
    assert!(last.contains("cannot be read"), "{last}");
}
