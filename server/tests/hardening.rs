//! What an attacker, a careless script or a crafted file could do to the running server, each
//! tried from outside over HTTP against the real binary: deep folder chains, oversized and
//! malformed requests, races, hidden names, leftovers, headers.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::json;
use support::{ADMIN_PASSWORD, Server};

fn mem_server(dir: &tempfile::TempDir) -> Server {
    Server::start(dir.path(), &["--db", "mem://"])
}

#[test]
fn a_chain_of_folders_is_capped_at_its_depth_and_still_renders() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = mem_server(&dir);
    let admin = server.admin();
    admin.ok(
        "/api/create_namespace",
        json!({ "name": "deep", "title": "" }),
    );
    let mira = server.modeler("mira");
    let mut parent: Option<String> = None;
    for level in 1..=app::validate::FOLDER_DEPTH_MAX {
        let folder = mira.ok(
            "/api/create_folder",
            json!({ "namespace": "deep", "parent": parent, "name": format!("Level {level}") }),
        );
        parent = folder["id"].as_str().map(str::to_string);
    }
    let body = json!({ "namespace": "deep", "parent": parent, "name": "One too deep" });
    let (status, answer) = mira.post_json("/api/create_folder", &body.to_string());
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("at most 64 levels"), "{answer}");

    // The page of the namespace, rendered on the server, shows the deepest folder, and the
    // server is still there afterwards.
    let (status, page) = mira.get("/explorer/deep");
    assert_eq!(status, 200);
    assert!(
        page.contains("Level 64"),
        "the deepest folder is in the tree"
    );
    let (status, tree) = mira.post_json("/api/get_namespace_tree", r#"{"namespace":"deep"}"#);
    assert_eq!(status, 200, "{tree}");
    let (status, _) = server.get("/api/health");
    assert_eq!(status, 200);

    // Moving a branch of two folders below level 63 would make level 65.
    let top = admin.ok(
        "/api/create_folder",
        json!({ "namespace": "deep", "parent": null, "name": "Branch" }),
    );
    admin.ok(
        "/api/create_folder",
        json!({ "namespace": "deep", "parent": top["id"], "name": "Twig" }),
    );
    let tree: serde_json::Value = serde_json::from_str(&tree).expect("json");
    let level_63 = tree["folders"]
        .as_array()
        .expect("folders")
        .iter()
        .find(|f| f["name"] == "Level 63")
        .expect("level 63")["id"]
        .clone();
    let body = json!({ "namespace": "deep", "id": top["id"], "parent": level_63 });
    let (status, answer) = admin.post_json("/api/move_folder", &body.to_string());
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("at most 64 levels"), "{answer}");
}

#[test]
fn request_bodies_of_small_endpoints_are_capped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = mem_server(&dir);
    // A sign-in with a name of a mebibyte: refused before it is read, and nothing is kept.
    let huge = json!({ "name": "n".repeat(1 << 20), "password": "whatever-password" });
    let (status, answer) = server.post_json("/api/sign_in", &huge.to_string());
    assert_eq!(status, 413, "{answer}");
    assert!(
        answer.contains("larger than the server accepts"),
        "{answer}"
    );
    // Under the cap, a name no account can have is simply wrong, and the audit log keeps it
    // short.
    let long = json!({ "name": "<b>".repeat(10_000), "password": "whatever-password" });
    let (status, answer) = server.post_json("/api/sign_in", &long.to_string());
    assert_eq!(status, 400, "{answer}");
    let admin = server.admin();
    let log = admin.ok("/api/list_audit", json!({ "before": null, "limit": 50 }));
    let entry = log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["action"] == "sign-in" && e["outcome"] == "failed")
        .expect("the failed sign-in is recorded")
        .clone();
    assert!(
        entry["target"].as_str().expect("target").chars().count() <= 201,
        "the recorded name is cut short"
    );
    // Any other small endpoint, also without a declared length.
    let (status, answer) = admin.post_json(
        "/api/create_namespace",
        &json!({ "name": "x", "title": "t".repeat(100_000) }).to_string(),
    );
    assert_eq!(status, 413, "{answer}");
}

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
fn a_request_refused_before_its_body_is_read_ends_its_connection_and_says_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = mem_server(&dir);
    let address = server.base_url.trim_start_matches("http://").to_string();
    // Not signed in (401), larger than the endpoint takes (413), not a zip (415), a method
    // the endpoint does not take (405): each answered before the body is read.
    let small = "x".repeat(2_000);
    let large = "x".repeat(100_000);
    let token = server.admin_token("raw requests");
    let upload = format!(
        "POST /api/v1/uploads?namespace=x HTTP/1.1\r\nAuthorization: Bearer {token}\r\nContent-Type: text/plain"
    );
    for (head, body, status) in [
        (
            "POST /api/list_backups HTTP/1.1\r\nContent-Type: application/json",
            &small,
            401,
        ),
        (
            "POST /api/list_backups HTTP/1.1\r\nContent-Type: application/json",
            &large,
            413,
        ),
        (upload.as_str(), &small, 415),
        (
            "PUT /api/health HTTP/1.1\r\nContent-Type: application/json",
            &small,
            405,
        ),
    ] {
        let mut stream = TcpStream::connect(&address).expect("connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        write!(
            stream,
            "{head}\r\nHost: {address}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .expect("head");
        // The server may answer, and close, before all of it is sent.
        let _ = stream.write_all(body.as_bytes());
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let answer = String::from_utf8_lossy(&answer).to_ascii_lowercase();
        let status_line = answer.lines().next().unwrap_or_default().to_string();
        assert!(
            status_line.contains(&status.to_string()),
            "{head}: {status_line}"
        );
        assert!(
            answer.contains("\r\nconnection: close\r\n"),
            "{head}: {answer}"
        );
    }
    // Signed in, the same request is answered as usual.
    let (status, _) = server.admin().post_json("/api/list_backups", "{}");
    assert_eq!(status, 200);
}

#[test]
fn a_hidden_folder_s_name_is_not_revealed_by_a_clash() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = mem_server(&dir);
    let admin = server.admin();
    admin.ok(
        "/api/create_namespace",
        json!({ "name": "shared", "title": "" }),
    );
    let secret = admin.ok(
        "/api/create_folder",
        json!({ "namespace": "shared", "parent": null, "name": "secret" }),
    );
    admin.ok(
        "/api/set_folder_permissions",
        json!({ "namespace": "shared", "id": secret["id"], "permissions": [
            { "principal": { "kind": "user", "name": "admin" }, "access": "manage" }
        ] }),
    );
    let mira = server.modeler("mira");
    mira.ok(
        "/api/create_folder",
        json!({ "namespace": "shared", "parent": null, "name": "visible" }),
    );
    let create = |name: &str| {
        let body = json!({ "namespace": "shared", "parent": null, "name": name });
        mira.post_json("/api/create_folder", &body.to_string())
    };
    let (hidden_status, hidden) = create("secret");
    let (seen_status, seen) = create("visible");
    assert_eq!((hidden_status, seen_status), (409, 409));
    assert_eq!(
        hidden.replace("secret", "NAME"),
        seen.replace("visible", "NAME"),
        "a clash with a hidden folder reads exactly like one with a visible folder"
    );
    assert!(!hidden.contains("exists"), "{hidden}");
}

#[test]
fn an_import_cannot_grant_what_the_importer_may_not_manage() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = mem_server(&dir);
    let admin = server.admin();
    admin.ok(
        "/api/create_namespace",
        json!({ "name": "team", "title": "" }),
    );
    let mira = server.modeler("mira");
    let work = mira.ok(
        "/api/create_folder",
        json!({ "namespace": "team", "parent": null, "name": "Work" }),
    );
    // An export file whose folder grants its importer manage.
    let file = json!({
        "format": "nsbackup-export", "format_version": 1, "schema_version": app::domain::schema::SCHEMA_VERSION,
        "app_version": "1", "exported_at": "2026-01-01T00:00:00Z", "namespace": "elsewhere",
        "folders": [{ "id": "f1", "parent": null, "name": "Mine now", "permissions": [
            { "principal": { "kind": "user", "name": "mira" }, "access": "manage" }
        ] }],
        "items": []
    });
    let report = mira.ok(
        "/api/import_entry",
        json!({ "namespace": "team", "folder": work["id"], "file": file.to_string(), "policy": "Refuse" }),
    );
    assert_eq!(report["permissions_dropped"], 1, "{report}");
    let tree = mira.ok("/api/get_namespace_tree", json!({ "namespace": "team" }));
    let imported = tree["folders"]
        .as_array()
        .expect("folders")
        .iter()
        .find(|f| f["name"] == "Mine now")
        .expect("imported")
        .clone();
    assert_eq!(imported["permissions"], serde_json::Value::Null);
    assert_eq!(imported["access"], "write", "{imported}");
    let body = json!({ "namespace": "team", "id": imported["id"], "permissions": [] });
    let (status, answer) = mira.post_json("/api/set_folder_permissions", &body.to_string());
    assert_eq!(status, 403, "{answer}");

    // An administrator (who manages everything) imports the permissions as they are.
    let report = admin.ok(
        "/api/import_entry",
        json!({ "namespace": "team", "folder": null, "file": file.to_string(), "policy": "Refuse" }),
    );
    assert_eq!(report["permissions_dropped"], 0, "{report}");
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

#[test]
fn query_strings_that_lack_or_mistype_a_parameter_are_answered_in_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = mem_server(&dir);
    let admin = server.admin();
    for path in [
        "/api/export?namespace=demo",
        "/api/export",
        "/api/audit.csv?from=yesterday",
        "/api/v1/backups?limit=many",
        "/api/v1/backups/..%2F..%2Fetc%2Fpasswd/download",
        "/api/backups/download",
    ] {
        let response = admin.send("GET", path, &[], None);
        assert!(
            (400..500).contains(&response.status),
            "{path}: {}",
            response.status
        );
        assert_eq!(
            response.header("content-type"),
            Some("application/problem+json"),
            "{path}"
        );
        let answer: serde_json::Value = serde_json::from_str(&response.body)
            .unwrap_or_else(|_| panic!("{path}: not JSON: {}", response.body));
        assert!(answer["message"].is_string(), "{path}: {answer}");
        assert_eq!(answer["status"], response.status, "{path}: {answer}");
    }
    let response = admin.send(
        "POST",
        "/api/v1/uploads?name=x",
        &[],
        Some(("application/zip", "PK")),
    );
    assert_eq!(response.status, 400, "{}", response.body);
    let answer: serde_json::Value = serde_json::from_str(&response.body).expect("json");
    assert!(
        answer["message"]
            .as_str()
            .is_some_and(|e| e.contains("namespace")),
        "{answer}"
    );
}

#[test]
fn every_answer_carries_the_security_headers_and_the_cookie_follows_the_proxy() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = mem_server(&dir);
    for path in ["/signin", "/api/health", "/api/list_namespaces"] {
        let response = server.anonymous().send("GET", path, &[], None);
        assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
        assert!(
            response
                .header("content-security-policy")
                .is_some_and(|csp| csp.contains("frame-ancestors 'none'")),
            "{path}: {}",
            response.head
        );
        assert!(response.header("referrer-policy").is_some(), "{path}");
    }
    // A page allows only its own scripts: those from nsbackup, and inline ones with the
    // nonce of this very answer.
    let page = server.anonymous().send("GET", "/signin", &[], None);
    let policy = page.header("content-security-policy").expect("a policy");
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the policy");
    assert!(policy.contains("script-src 'self' 'nonce-"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    let scripts = page.body.matches("<script").count();
    assert!(scripts >= 2, "{}", page.body);
    assert_eq!(
        page.body.matches(&format!("nonce=\"{nonce}\"")).count(),
        scripts,
        "every inline script carries the nonce: {}",
        page.body
    );
    let again = server.anonymous().send("GET", "/signin", &[], None);
    assert_ne!(
        again.header("content-security-policy"),
        Some(policy),
        "a new nonce for every answer"
    );

    let body = json!({ "name": "admin", "password": ADMIN_PASSWORD }).to_string();
    let sign_in = |proto: &str| {
        server
            .anonymous()
            .send(
                "POST",
                "/api/sign_in",
                &[("X-Forwarded-Proto", proto)],
                Some(("application/json", &body)),
            )
            .header("set-cookie")
            .unwrap_or_default()
            .to_string()
    };
    assert!(sign_in("https, http").contains("Secure"));
    assert!(!sign_in("http, https").contains("Secure"));
}

#[test]
fn names_that_spoof_what_administrators_read_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = mem_server(&dir);
    let admin = server.admin();
    admin.ok(
        "/api/create_namespace",
        json!({ "name": "names", "title": "" }),
    );
    for name in ["invoice\u{202e}fdp.exe", "Orders\u{200b}"] {
        let body = json!({ "namespace": "names", "parent": null, "name": name });
        let (status, answer) = admin.post_json("/api/create_folder", &body.to_string());
        assert_eq!(status, 400, "{answer}");
        assert!(answer.contains("invisible"), "{answer}");
    }
    let body = json!({ "name": "names", "title": "Sales\u{2066}" });
    let (status, answer) = admin.post_json("/api/set_namespace_title", &body.to_string());
    assert_eq!(status, 400, "{answer}");
    let body = json!({ "name": "ev\u{200d}e", "role": "modeler", "password": "long-enough-pw" });
    let (status, answer) = admin.post_json("/api/create_user", &body.to_string());
    assert_eq!(status, 400, "{answer}");
}

/// Reads the whole answer of a raw request (for requests the helpers cannot make).
fn raw(server: &Server, request: &[u8]) -> String {
    String::from_utf8_lossy(&raw_bytes(server, request)).to_string()
}

/// As [`raw`], the answer's bytes as they came, however the connection ended.
fn raw_bytes(server: &Server, request: &[u8]) -> Vec<u8> {
    let address = server.base_url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    stream.write_all(request).expect("sends");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    answer
}

#[test]
fn a_chunked_body_over_the_cap_is_cut_off_with_413() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = mem_server(&dir);
    let address = server.base_url.trim_start_matches("http://").to_string();
    let chunk = "a".repeat(32 * 1024);
    let mut request = format!(
        "POST /api/sign_in HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    for _ in 0..4 {
        request.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
    }
    request.push_str("0\r\n\r\n");
    let answer = raw(&server, request.as_bytes());
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

/// A completed backup of the demo namespace; returns its id and the path of its file.
fn demo_backup(
    server: &Server,
    dir: &tempfile::TempDir,
    name: &str,
) -> (String, std::path::PathBuf) {
    let admin = server.admin();
    let started = admin.ok(
        "/api/create_backup",
        json!({ "namespace": "demo", "name": name }),
    );
    let id = started[0]["id"].as_str().expect("id").to_string();
    let job = admin.wait_for_job(started[1]["id"].as_str().expect("job"));
    assert_eq!(job["status"], "succeeded", "{job}");
    let path = dir.path().join("backups").join(format!("{id}.zip"));
    assert!(path.is_file(), "{}", path.display());
    (id, path)
}

fn flip_a_byte(path: &std::path::Path) {
    let mut bytes = std::fs::read(path).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(path, bytes).expect("write");
}

fn status_of(admin: &support::Client<'_>, id: &str) -> serde_json::Value {
    admin
        .ok("/api/list_backups", json!({}))
        .as_array()
        .expect("list")
        .iter()
        .find(|b| b["id"] == id)
        .expect("listed")
        .clone()
}

#[test]
fn a_backup_damaged_on_disk_is_found_refused_and_listed_as_damaged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(
        dir.path(),
        &["--db", "mem://", "--demo", "--verify-interval", "off"],
    );
    let admin = server.admin();

    // One flipped byte: a restore compares the file with its SHA-256 first.
    let (flipped, path) = demo_backup(&server, &dir, "Flipped");
    flip_a_byte(&path);
    let started = admin.ok(
        "/api/restore_backup",
        json!({ "id": flipped, "namespace": "copy" }),
    );
    let job = admin.wait_for_job(started["id"].as_str().expect("job"));
    assert_eq!(job["status"], "failed", "{job}");
    assert!(
        job["error"].as_str().is_some_and(|e| e.contains("damaged")),
        "{job}"
    );
    let listed = status_of(&admin, &flipped);
    assert_eq!(listed["status"], "damaged", "{listed}");
    assert!(
        listed["error"]
            .as_str()
            .is_some_and(|e| e.contains("SHA-256"))
    );
    let namespaces = admin.ok("/api/list_namespaces", json!({}));
    assert!(
        !namespaces.to_string().contains("\"copy\""),
        "nothing was restored: {namespaces}"
    );

    // Cut off: the download refuses it before sending anything.
    let (cut, path) = demo_backup(&server, &dir, "Cut off");
    let bytes = std::fs::read(&path).expect("read");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("write");
    let response = admin.send("GET", &format!("/api/v1/backups/{cut}/download"), &[], None);
    assert_eq!(response.status, 409, "{}", response.body);
    assert!(response.body.contains("damaged"), "{}", response.body);
    assert_eq!(status_of(&admin, &cut)["status"], "damaged");

    // Same size, other bytes: the download ends with an error instead of a clean end, and
    // the backup is listed as damaged.
    let (quiet, path) = demo_backup(&server, &dir, "Quietly damaged");
    let size = std::fs::metadata(&path).expect("size").len() as usize;
    flip_a_byte(&path);
    // The connection ends short of the announced length: either after the head and part of
    // the file, or (a file of one chunk, held back whole) before even the head is out.
    let address = server.base_url.trim_start_matches("http://").to_string();
    let cookie = admin.cookie.clone().expect("cookie");
    let answer = raw_bytes(
        &server,
        format!(
            "GET /api/v1/backups/{quiet}/download HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    );
    let received = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(0, |head| answer.len() - head - 4);
    assert!(
        received < size,
        "the damaged download must not end cleanly ({received} of {size} bytes)"
    );
    assert_eq!(status_of(&admin, &quiet)["status"], "damaged");
    let response = admin.send(
        "GET",
        &format!("/api/v1/backups/{quiet}/download"),
        &[],
        None,
    );
    assert_eq!(response.status, 409, "{}", response.body);
    // What is left to do with a damaged backup: delete it.
    admin.ok("/api/delete_backup", json!({ "id": quiet }));
    let listed = admin.ok("/api/list_backups", json!({}));
    assert!(
        !listed
            .as_array()
            .expect("list")
            .iter()
            .any(|b| b["id"] == quiet),
        "{listed}"
    );

    // An intact backup still downloads whole.
    let (intact, path) = demo_backup(&server, &dir, "Intact");
    let (status, _, body) = admin.exchange(
        "GET",
        &format!("/api/v1/backups/{intact}/download"),
        &[],
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(body, std::fs::read(&path).expect("read"));
    assert_eq!(status_of(&admin, &intact)["status"], "completed");
}

#[test]
fn the_periodic_check_finds_a_damaged_backup_before_anyone_needs_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(
        dir.path(),
        &["--db", "mem://", "--demo", "--verify-interval", "1s"],
    );
    let admin = server.admin();
    let (damaged, path) = demo_backup(&server, &dir, "Will rot");
    let (intact, _) = demo_backup(&server, &dir, "Stays");
    flip_a_byte(&path);
    let deadline = Instant::now() + Duration::from_secs(30);
    while status_of(&admin, &damaged)["status"] != "damaged" {
        assert!(Instant::now() < deadline, "the damage was not found");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(status_of(&admin, &intact)["status"], "completed");
    let log = admin.ok("/api/list_audit", json!({ "before": null, "limit": 50 }));
    assert!(
        log["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .any(|e| e["action"] == "backup damaged"),
        "{log}"
    );
}

/// The audit entries that match `filter` (as the page sends it).
fn audit_entries(admin: &support::Client<'_>, filter: serde_json::Value) -> Vec<serde_json::Value> {
    admin.ok(
        "/api/list_audit",
        json!({ "before": null, "limit": 200, "filter": filter }),
    )["entries"]
        .as_array()
        .expect("entries")
        .clone()
}

#[test]
fn every_change_is_audited_and_the_log_is_filtered_and_exported() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = mem_server(&dir);
    let admin = server.admin();
    admin.ok(
        "/api/create_namespace",
        json!({ "name": "audited", "title": "" }),
    );
    admin.ok(
        "/api/set_namespace_title",
        json!({ "name": "audited", "title": "Audited" }),
    );
    let mira = server.modeler("mira");
    let folder = mira.ok(
        "/api/create_folder",
        json!({ "namespace": "audited", "parent": null, "name": "Plans" }),
    );
    mira.ok(
        "/api/rename_folder",
        json!({ "namespace": "audited", "id": folder["id"], "name": "Plans 2027" }),
    );
    let item = mira.ok(
        "/api/create_item",
        json!({ "namespace": "audited", "folder": folder["id"], "kind": "service", "name": "Billing" }),
    );
    mira.ok(
        "/api/save_item_content",
        json!({ "namespace": "audited", "id": item["id"], "content": "{}", "base_revision": 1 }),
    );
    // Refused: a modeler may not change the top level's permissions here.
    let body = json!({ "namespace": "audited", "id": folder["id"], "permissions": [] });
    assert_eq!(
        mira.post_json("/api/set_folder_permissions", &body.to_string())
            .0,
        403
    );
    let (status, _) = mira.get(&format!(
        "/api/export?namespace=audited&folder={}",
        folder["id"].as_str().expect("id")
    ));
    assert_eq!(status, 200);
    admin.ok(
        "/api/move_item",
        json!({ "namespace": "audited", "id": item["id"], "folder": null }),
    );
    admin.ok(
        "/api/delete_item",
        json!({ "namespace": "audited", "id": item["id"] }),
    );

    let by_mira = audit_entries(&admin, json!({ "actor": "MIRA" }));
    let actions: Vec<&str> = by_mira
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for expected in [
        "folder create",
        "folder rename",
        "item create",
        "item save",
        "folder permissions",
        "export",
    ] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
    assert!(by_mira.iter().all(|e| e["actor"] == "mira"));
    let refused = by_mira
        .iter()
        .find(|e| e["action"] == "folder permissions")
        .expect("refused change");
    assert_eq!(refused["outcome"], "refused");
    let renamed = by_mira
        .iter()
        .find(|e| e["action"] == "folder rename")
        .expect("rename");
    assert_eq!(renamed["target"], "audited");
    assert!(
        renamed["detail"]
            .as_str()
            .is_some_and(|d| d.contains("Plans 2027")),
        "{renamed}"
    );

    let deletes = audit_entries(&admin, json!({ "action": "item delete" }));
    assert_eq!(deletes.len(), 1, "{deletes:?}");
    assert_eq!(deletes[0]["actor"], "admin");
    let namespaces = audit_entries(&admin, json!({ "target": "AUDIT" }));
    assert!(
        namespaces
            .iter()
            .any(|e| e["action"] == "namespace retitle")
    );
    assert!(
        namespaces
            .iter()
            .all(|e| e["target"].as_str().is_some_and(|t| t.contains("audit")))
    );
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1))
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc();
    let old = audit_entries(&admin, json!({ "until": yesterday }));
    assert!(old.is_empty(), "{old:?}");

    // The CSV export takes the same filter; a name typed at sign-in cannot become a formula.
    let (status, _) = server.post_json(
        "/api/sign_in",
        &json!({ "name": "=HYPERLINK(1)", "password": "whatever-password" }).to_string(),
    );
    assert_eq!(status, 400);
    let (status, head, csv) = admin.exchange("GET", "/api/audit.csv?actor=mira", &[], None);
    assert_eq!(status, 200, "{head}");
    assert!(head.to_ascii_lowercase().contains("text/csv"), "{head}");
    let csv = String::from_utf8(csv).expect("utf-8");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("at,actor,action,target,outcome,detail"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), by_mira.len(), "{csv}");
    assert!(
        rows.iter().all(|row| row.split(',').nth(1) == Some("mira")),
        "{csv}"
    );
    let (_, _, all) = admin.exchange("GET", "/api/audit.csv", &[], None);
    let all = String::from_utf8(all).expect("utf-8");
    assert!(all.contains("'=HYPERLINK(1)"), "{all}");
    let (status, _, _) = admin.exchange("GET", "/api/audit.csv?from=yesterday", &[], None);
    assert_eq!(status, 400);
}

#[test]
fn refused_requests_are_audited_without_flooding_the_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = mem_server(&dir);
    let mira = server.modeler("mira");
    for _ in 0..20 {
        assert_eq!(server.post_json("/api/list_namespaces", "{}").0, 401);
        assert_eq!(mira.post_json("/api/list_users", "{}").0, 403);
    }
    let admin = server.admin();
    let refused = audit_entries(&admin, json!({ "action": "request refused" }));
    let anonymous = refused
        .iter()
        .filter(|e| e["actor"] == "(anonymous)" && e["target"] == "/api/list_namespaces")
        .count();
    let modeler = refused
        .iter()
        .filter(|e| e["actor"] == "mira" && e["target"] == "/api/list_users")
        .count();
    assert_eq!((anonymous, modeler), (1, 1), "{refused:?}");
}
