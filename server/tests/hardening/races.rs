//! Many requests at once, and a client that leaves mid-request: wrong passwords in parallel,
//! a burst of sign-ins, two backups at the same moment, a namespace held by a restore, an
//! upload left behind.

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::json;

use super::mem_server;
use crate::support::Server;

#[test]
fn many_parallel_wrong_passwords_are_checked_no_more_than_the_free_failures() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = mem_server(&dir);
    server.modeler("mia");
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let attempts: Vec<_> = (0..40)
            .map(|_| {
                scope.spawn(|| {
                    let body = json!({ "name": "mia", "password": "not-her-password" });
                    server.post_json("/api/sign_in", &body.to_string()).0
                })
            })
            .collect();
        attempts
            .into_iter()
            .map(|a| a.join().expect("attempt"))
            .collect()
    });
    let checked = statuses.iter().filter(|s| **s == 400).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        checked,
        app::domain::sessions::FREE_FAILURES as usize,
        "{statuses:?}"
    );
    assert_eq!(checked + refused, 40, "{statuses:?}");
}

#[test]
fn a_burst_of_sign_ins_leaves_the_server_responsive() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = mem_server(&dir);
    let slowest = std::thread::scope(|scope| {
        let burst: Vec<_> = (0..20)
            .map(|i| {
                let server = &server;
                scope.spawn(move || {
                    // Different names, so that every attempt is hashed; the longest password
                    // a password may be.
                    let body = json!({ "name": format!("user{i}"), "password": "p".repeat(1024) });
                    server.post_json("/api/sign_in", &body.to_string()).0
                })
            })
            .collect();
        let mut slowest = Duration::ZERO;
        for _ in 0..10 {
            let started = Instant::now();
            let (status, _) = server.get("/api/health");
            assert_eq!(status, 200);
            slowest = slowest.max(started.elapsed());
            std::thread::sleep(Duration::from_millis(50));
        }
        for attempt in burst {
            assert_eq!(attempt.join().expect("attempt"), 400);
        }
        slowest
    });
    // Generous: hashing runs beside the request threads, never on them.
    assert!(
        slowest < Duration::from_secs(2),
        "a health check took {slowest:?} during the burst"
    );
}

#[test]
fn two_backups_started_at_the_same_moment_get_one_job_and_one_clear_refusal() {
    const ROUNDS: usize = 8;
    let dir = tempfile::tempdir().expect("temp dir");
    // Every backup holds its namespace (it pauses), so the second call must be refused.
    let pauses: Vec<String> = (0..ROUNDS)
        .map(|round| format!("backup:writing@race{round}"))
        .collect();
    let server = Server::start_with_env(
        dir.path(),
        &["--db", "mem://"],
        &[("NSBACKUP_TEST_PAUSE", &pauses.join(","))],
    );
    let admin = server.admin();
    for round in 0..ROUNDS {
        let namespace = format!("race{round}");
        admin.ok(
            "/api/create_namespace",
            json!({ "name": namespace, "title": "" }),
        );
        let body = json!({ "namespace": namespace, "name": "Same moment" }).to_string();
        let answers: Vec<(u16, String)> = std::thread::scope(|scope| {
            let calls: Vec<_> = (0..2)
                .map(|_| scope.spawn(|| admin.post_json("/api/create_backup", &body)))
                .collect();
            calls.into_iter().map(|c| c.join().expect("call")).collect()
        });
        let mut statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "round {round}: {answers:?}");
        let (_, refusal) = answers.iter().find(|(s, _)| *s == 409).expect("refused");
        assert!(refusal.contains("running already"), "{refusal}");
    }
}

#[test]
fn a_namespace_is_not_deleted_created_or_retitled_while_a_restore_into_it_runs() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The restores stay running (they pause once the backup is checked).
    let server = Server::start_with_env(
        dir.path(),
        &["--db", "mem://"],
        &[(
            "NSBACKUP_TEST_PAUSE",
            "restore:checked@held,restore:checked@fresh",
        )],
    );
    let admin = server.admin();
    admin.ok(
        "/api/create_namespace",
        json!({ "name": "held", "title": "Before" }),
    );
    admin.ok(
        "/api/create_folder",
        json!({ "namespace": "held", "parent": null, "name": "Kept" }),
    );
    let backup = admin.backup("held", "Held");
    let before = admin.state("held");
    let refused = |path: &str, body: serde_json::Value, namespace: &str| {
        let (status, answer) = admin.post_json(path, &body.to_string());
        assert_eq!(status, 409, "{path}: {answer}");
        assert!(
            answer.contains(&format!(
                "A backup or restore of namespace `{namespace}` is running already. Wait until it has finished, then try again."
            )),
            "{path}: {answer}"
        );
    };

    admin.ok(
        "/api/restore_backup",
        json!({ "id": backup, "namespace": "held" }),
    );
    refused("/api/delete_namespace", json!({ "name": "held" }), "held");
    refused(
        "/api/set_namespace_title",
        json!({ "name": "held", "title": "After" }),
        "held",
    );
    // A restore into a namespace that does not exist yet holds its name as well.
    admin.ok(
        "/api/restore_backup",
        json!({ "id": backup, "namespace": "fresh" }),
    );
    refused(
        "/api/create_namespace",
        json!({ "name": "fresh", "title": "" }),
        "fresh",
    );

    let namespaces = admin.ok("/api/list_namespaces", json!({}));
    let listed: Vec<(&str, &str)> = namespaces
        .as_array()
        .expect("a list")
        .iter()
        .map(|ns| {
            (
                ns["name"].as_str().unwrap_or(""),
                ns["title"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(listed, [("held", "Before")]);
    assert_eq!(admin.state("held"), before);
}

#[test]
fn an_upload_whose_client_leaves_leaves_no_scratch_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The check of uploads into `left` waits, so that the client is surely gone during it.
    let server = Server::start_with_env(
        dir.path(),
        &["--db", "mem://"],
        &[("NSBACKUP_TEST_PAUSE", "upload:checking@left")],
    );
    let admin = server.admin();
    let cookie = admin.cookie.clone().expect("cookie");
    let body = vec![b'x'; 300 * 1024];
    let scratch = dir.path().join("backups").join(".scratch");
    for _ in 0..3 {
        let address = server.base_url.trim_start_matches("http://").to_string();
        let mut stream = TcpStream::connect(&address).expect("connects");
        let head = format!(
            "POST /api/v1/uploads?namespace=left&name=Left HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\nContent-Type: application/zip\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).expect("head");
        stream.write_all(&body).expect("body");
        // Gone before the answer, while the server checks the file.
        assert!(server.wait_for_log("pausing here for a test", Duration::from_secs(20)));
        drop(stream);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = std::fs::read_dir(&scratch).map_or(0, |entries| entries.count());
        if left == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{left} scratch files are still there"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (status, _) = server.get("/api/health");
    assert_eq!(status, 200);
}
