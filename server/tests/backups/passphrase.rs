//! Backups encrypted with a passphrase through the real server and the command line: made
//! with `--passphrase`, downloaded as an age file, checked offline with it, uploaded and
//! previewed with the `Backup-Passphrase` header, restored with it; refused without it, with
//! the reason; the passphrase never in the log.

use serde_json::Value;

use crate::support::{self, Server, text};

/// With a space and letters beyond ASCII: the header carries it percent-encoded.
const SECRET: &str = "grüne Wiese am Morgen";

#[test]
fn a_passphrase_backup_goes_through_the_command_line_the_api_and_verify() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &["--db", "mem://", "--demo"]);
    let token = server.admin_token("passphrase test");
    let cli = |args: &[&str], passphrase: Option<&str>| {
        let mut command = support::nsbackup();
        command
            .args(args)
            .args(["--server", &server.base_url])
            .env("NSBACKUP_TOKEN", &token);
        if let Some(passphrase) = passphrase {
            command.env("NSBACKUP_PASSPHRASE", passphrase);
        }
        command.output().expect("runs")
    };

    let short = cli(
        &["backup", "create", "demo", "Secret", "--passphrase"],
        Some("too short"),
    );
    assert_eq!(short.status.code(), Some(2), "{}", text(&short.stderr));
    assert!(
        text(&short.stderr).contains("at least 10 characters"),
        "{}",
        text(&short.stderr)
    );
    let made = cli(
        &[
            "backup",
            "create",
            "demo",
            "Secret",
            "--passphrase",
            "--json",
        ],
        Some(SECRET),
    );
    assert!(made.status.success(), "{}", text(&made.stderr));
    let made: Value = serde_json::from_slice(&made.stdout).expect("json");
    let id = made["backup"].as_str().expect("an id").to_string();

    let admin = server.admin();
    let (status, body) = admin.get(&format!("/api/v1/backups/{id}"));
    assert_eq!(status, 200, "{body}");
    let listed: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(listed["encryption"]["kind"], "passphrase", "{listed}");
    assert_eq!(listed["restorable"], true, "{listed}");

    let (status, head, file) =
        admin.exchange("GET", &format!("/api/v1/backups/{id}/download"), &[], None);
    assert_eq!(status, 200, "{head}");
    assert!(head.contains(".zip.age\""), "{head}");
    assert!(file.starts_with(app::types::PASSPHRASE_FILE_START.as_bytes()));
    let saved = dir.path().join("download.zip.age");
    std::fs::write(&saved, &file).expect("saved");

    // Checked offline with the passphrase; refused without it.
    let verify = |passphrase: Option<&str>| {
        let mut command = support::nsbackup();
        command.arg("verify");
        if let Some(passphrase) = passphrase {
            command
                .arg("--passphrase")
                .env("NSBACKUP_PASSPHRASE", passphrase);
        }
        command.arg(&saved).output().expect("runs")
    };
    let checked = verify(Some(SECRET));
    assert!(checked.status.success(), "{}", text(&checked.stderr));
    // One line of standard input, as a script pipes it.
    let mut piped = support::nsbackup()
        .args(["verify", "--passphrase"])
        .arg(&saved)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    {
        use std::io::Write;
        let mut stdin = piped.stdin.take().expect("stdin");
        writeln!(stdin, "{SECRET}").expect("written");
    }
    let piped = piped.wait_with_output().expect("ends");
    assert!(piped.status.success(), "{}", text(&piped.stderr));
    let refused = verify(None);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(text(&refused.stderr).contains("enter its passphrase"));
    let refused = verify(Some("a wrong passphrase"));
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(text(&refused.stderr).contains("does not open this backup"));

    // Uploaded: refused without the header (nothing listed), listed with it.
    let encoded = app::text::percent_encode(SECRET, b"");
    let upload = |headers: &[(&str, &str)]| {
        let (status, _, body) = admin.exchange(
            "POST",
            "/api/v1/uploads?namespace=demo&name=Uploaded",
            headers,
            Some(("application/zip", &file)),
        );
        (
            status,
            serde_json::from_slice::<Value>(&body).expect("json"),
        )
    };
    let (status, body) = upload(&[]);
    assert_eq!(status, 422, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("enter its passphrase"))
    );
    let (status, body) = upload(&[("Backup-Passphrase", "%zz")]);
    assert_eq!(status, 400, "{body}");
    let (status, body) = upload(&[("Backup-Passphrase", &encoded)]);
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["backup"]["encryption"]["kind"], "passphrase");

    // The preview asks for it each time.
    let preview = format!("/api/v1/backups/{id}/preview?namespace=demo");
    let (status, _, body) = admin.exchange("GET", &preview, &[], None);
    assert_eq!(status, 422, "{}", String::from_utf8_lossy(&body));
    let (status, _, body) =
        admin.exchange("GET", &preview, &[("Backup-Passphrase", &encoded)], None);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));

    // Restored from the command line, with it.
    let refused = cli(&["backup", "restore", &id, "--namespace", "copy"], None);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(text(&refused.stderr).contains("enter its passphrase"));
    let restored = cli(
        &[
            "backup",
            "restore",
            &id,
            "--namespace",
            "copy",
            "--passphrase",
        ],
        Some(SECRET),
    );
    assert!(restored.status.success(), "{}", text(&restored.stderr));
    assert!(text(&restored.stdout).contains("Restored into copy"));
    drop(admin);

    let (_, log) = server.stop();
    let log = log.join("\n");
    assert!(!log.contains(SECRET) && !log.contains(&encoded), "{log}");
}
