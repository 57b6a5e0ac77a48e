//! The real binary: it serves, answers its health check, keeps its data across a restart,
//! refuses a newer database, and ends bad configurations with one clear line.

mod support;

use app::domain::db::{self, DbOptions};
use app::domain::schema::{self, SCHEMA_VERSION};
use support::{Server, nsbackup};

fn json(body: &str) -> serde_json::Value {
    // Chunked bodies carry their length on the first line; the JSON is on the line after.
    let text = body
        .lines()
        .find(|line| line.starts_with('{'))
        .unwrap_or(body);
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[test]
fn health_reports_versions_and_a_working_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &["--db", "mem://"]);
    let (status, body) = server.get("/api/health");
    assert_eq!(status, 200, "{body}");
    let health = json(&body);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(health["schema_version"], SCHEMA_VERSION);
    assert_eq!(health["database_schema_version"], SCHEMA_VERSION);
    assert_eq!(health["database_ok"], true);
    let (status, _) = server.stop();
    assert!(
        status.success(),
        "a graceful stop exits with 0, got {status}"
    );
}

#[test]
fn pages_are_rendered_on_the_server_and_unknown_ones_are_404() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &["--db", "mem://"]);
    let admin = server.admin();
    let (status, body) = admin.get("/admin/backups");
    assert_eq!(status, 200);
    assert!(body.contains("Backup and Restore"), "{body}");
    let (status, body) = admin.get("/no/such/page");
    assert_eq!(status, 404);
    assert!(body.contains("Page not found"), "{body}");
}

#[test]
fn the_embedded_database_keeps_its_data_across_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &[]);
    assert_eq!(server.get("/api/health").0, 200);
    let (status, log) = server.stop();
    assert!(status.success(), "{status}: {log:?}");
    assert!(
        log.iter()
            .any(|l| l.contains("database schema brought up to date")),
        "{log:?}"
    );
    assert!(
        dir.path().join("db").exists(),
        "the database lives under the data directory"
    );

    let server = Server::start(dir.path(), &[]);
    let health = json(&server.get("/api/health").1);
    assert_eq!(health["database_schema_version"], SCHEMA_VERSION);
    let (status, log) = server.stop();
    assert!(status.success());
    // The engine closes its store itself when the last handle goes; its redundant second
    // attempt from a thread without a runtime is not a warning for the person reading.
    assert!(
        !log.iter().any(|l| l.contains("No runtime available")),
        "{log:?}"
    );
    assert!(
        log.last().is_some_and(|l| l.contains("nsbackup stopped")),
        "{log:?}"
    );
    assert!(
        log.iter()
            .any(|l| l.contains("database schema is up to date")),
        "{log:?}"
    );
}

#[test]
fn a_database_newer_than_the_binary_refuses_to_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let db = db::connect(&DbOptions::surrealkv(&dir.path().join("db")))
            .await
            .expect("opens");
        schema::migrate(&db).await.expect("migrates");
        db.query("UPDATE schema_version:current SET version = $v")
            .bind(("v", i64::from(SCHEMA_VERSION + 3)))
            .await
            .and_then(|r| r.check())
            .expect("bumps");
        assert!(
            db::close(db, &DbOptions::surrealkv(&dir.path().join("db"))).await,
            "closes"
        );
    });
    drop(runtime);

    let output = nsbackup()
        .arg("serve")
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("nsbackup: "), "{stderr}");
    assert!(
        last.contains(&format!("schema version {}", SCHEMA_VERSION + 3)),
        "{last}"
    );
    assert!(last.contains("Upgrade nsbackup"), "{last}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(output.stdout.is_empty(), "it never said it was listening");
}

/// Runs the binary with bad arguments and returns its exit code and standard error.
fn fails_with(args: &[&str]) -> (i32, String) {
    let output = nsbackup().args(args).output().expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!output.status.success(), "{args:?} must fail");
    (output.status.code().unwrap_or(-1), stderr)
}

#[test]
fn an_unparseable_listen_address_is_named() {
    let (code, stderr) = fails_with(&["serve", "--listen", "localhost-ish"]);
    assert_eq!(code, 2, "usage errors exit with 2");
    assert!(
        stderr.contains("invalid value 'localhost-ish' for '--listen <ADDR>'"),
        "{stderr}"
    );
}

#[test]
fn an_unwritable_data_directory_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").expect("write");
    let data_dir = file.join("data");
    let (code, stderr) = fails_with(&["serve", "--data-dir", data_dir.to_str().expect("utf-8")]);
    assert_eq!(code, 1);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("nsbackup: the data directory"), "{stderr}");
    assert!(last.contains("--data-dir"), "{last}");
}

#[test]
fn an_unreachable_remote_database_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Nothing listens on port 1.
    let (code, stderr) = fails_with(&[
        "serve",
        "--data-dir",
        dir.path().to_str().expect("utf-8"),
        "--db",
        "ws://127.0.0.1:1",
    ]);
    assert_eq!(code, 1);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("nsbackup: could not open the database at ws://127.0.0.1:1"),
        "{stderr}"
    );
}

#[test]
fn a_port_in_use_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let (code, stderr) = fails_with(&[
        "serve",
        "--data-dir",
        dir.path().to_str().expect("utf-8"),
        "--db",
        "mem://",
        "--listen",
        &addr,
    ]);
    assert_eq!(code, 1);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains(&format!("cannot listen on {addr}")),
        "{stderr}"
    );
}

#[test]
fn help_describes_every_option() {
    let output = nsbackup().arg("--help").output().expect("runs");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for option in [
        "--listen",
        "--data-dir",
        "--db",
        "--db-user",
        "--db-password",
        "--max-upload-size",
        "--log",
        "--site-root",
        "--session-lifetime",
        "--initial-admin-password",
        "--archive-max-entries",
        "--archive-max-entry-size",
        "--archive-max-total-size",
        "--archive-max-ratio",
        "--verify-interval",
    ] {
        assert!(help.contains(option), "{option} missing from --help");
    }
    assert!(
        help.contains("NSBACKUP_DB"),
        "environment variables are named"
    );
    assert!(help.contains("serve"), "the serve command is listed");
}

#[test]
fn an_empty_database_gets_a_demo_namespace_when_asked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &["--db", "mem://", "--demo"]);
    let (status, body) = server.admin().get("/explorer/demo");
    assert_eq!(status, 200);
    assert!(
        body.contains("Demo content"),
        "the demo namespace is listed: {body}"
    );
    let (status, _) = server.stop();
    assert!(status.success());

    let server = Server::start(dir.path(), &["--db", "mem://"]);
    let (_, body) = server.admin().get("/explorer/demo");
    assert!(
        body.contains("There is no namespace `demo`"),
        "without --demo nothing is created: {body}"
    );
}

#[test]
fn seed_creates_a_namespace_and_refuses_an_existing_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let seed = |name: &str| {
        nsbackup()
            .args([
                "seed",
                "--namespace",
                name,
                "--folders",
                "5",
                "--items",
                "40",
                "--avg-size",
                "800",
                "--data-dir",
            ])
            .arg(dir.path())
            .output()
            .expect("runs")
    };
    let output = seed("bench");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .contains("Created namespace bench with 5 folders and 40 items")
    );
    let output = seed("bench");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .lines()
            .last()
            .unwrap_or_default()
            .contains("`bench` exists already"),
        "{stderr}"
    );

    let server = Server::start(dir.path(), &[]);
    let (status, body) = server.admin().get("/explorer/bench");
    assert_eq!(status, 200);
    assert!(body.contains("Demo content"), "{body}");
}

#[test]
fn server_functions_accept_large_contents_and_imports() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &["--db", "mem://"]);
    let admin = server.admin();
    let (status, body) =
        admin.post_json("/api/create_namespace", r#"{"name": "big", "title": ""}"#);
    assert_eq!(status, 200, "{body}");

    // Six MiB of form content: beyond axum's default body limit of 2 MB, within the 8 MiB an
    // item may hold.
    let content = serde_json::json!({ "help": "x".repeat(6 * 1024 * 1024) }).to_string();
    let export = serde_json::json!({
        "format": "nsbackup-export", "format_version": 1, "schema_version": 2, "app_version": "0",
        "exported_at": "2026-11-27T10:00:00Z", "namespace": "elsewhere", "folders": [],
        "items": [{ "id": "i1", "folder": null, "kind": "form", "name": "Big form", "content": content }],
    })
    .to_string();
    let request = serde_json::json!({ "namespace": "big", "folder": null, "file": export, "policy": "Refuse" }).to_string();
    let (status, body) = admin.post_json("/api/import_entry", &request);
    assert_eq!(status, 200, "{}", &body[..body.len().min(500)]);
    assert!(body.contains("Big form"), "{body}");
}
