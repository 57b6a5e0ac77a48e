//! The versioned API on the real binary: a script with a token lists, makes, follows and
//! deletes backups; every refusal is a problem object with a stable code; the OpenAPI
//! document describes every operation the server answers.

mod support;

use serde_json::{Value, json};
use support::{Server, call, command_in, job_succeeds, text};

fn assert_problem(answer: &(u16, Value), status: u16, code: &str) {
    let (got, body) = answer;
    assert_eq!(*got, status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(
        body["next"].as_str().is_some_and(|n| !n.is_empty()),
        "{body}"
    );
}

#[test]
fn a_script_lists_makes_follows_and_deletes_backups_and_is_told_what_went_wrong() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &["--demo"]);
    let token = server.admin_token("api test");
    let script = server.anonymous();

    // Nothing yet; then a backup, followed through its job to the end.
    let (status, page) = call(
        &script,
        &token,
        "GET",
        "/api/v1/backups?namespace=demo",
        None,
    );
    assert_eq!(status, 200, "{page}");
    assert_eq!(page, json!({ "items": [], "total": 0 }));
    let (status, started) = call(
        &script,
        &token,
        "POST",
        "/api/v1/backups",
        Some(&json!({ "namespace": "demo", "name": "From the API" })),
    );
    assert_eq!(status, 202, "{started}");
    let id = started["backup"]["id"].as_str().expect("an id").to_string();
    let job = started["job"]["id"].as_str().expect("a job").to_string();
    job_succeeds(&script, &token, &job);
    let (status, backup) = call(
        &script,
        &token,
        "GET",
        &format!("/api/v1/backups/{id}"),
        None,
    );
    assert_eq!(status, 200, "{backup}");
    assert_eq!(backup["status"], "completed");
    assert_eq!(backup["restorable"], true);
    assert_eq!(backup["namespace"], "demo");
    // Paging.
    call(
        &script,
        &token,
        "POST",
        "/api/v1/backups",
        Some(&json!({ "namespace": "demo", "name": "Second" })),
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (_, first) = call(&script, &token, "GET", "/api/v1/backups?limit=1", None);
    assert_eq!(first["total"], 2, "{first}");
    assert_eq!(first["items"].as_array().map(Vec::len), Some(1));
    let (_, other) = call(
        &script,
        &token,
        "GET",
        "/api/v1/backups?namespace=elsewhere",
        None,
    );
    assert_eq!(other["total"], 0, "{other}");

    // Refusals, each with its code, message and next step.
    assert_problem(
        &call(&script, "nsb_nobody", "GET", "/api/v1/backups", None),
        401,
        "unauthorized",
    );
    let anonymous = script.send("GET", "/api/v1/backups", &[], None);
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
    assert_problem(
        &call(&script, &token, "GET", "/api/v1/backups/nosuch", None),
        404,
        "not_found",
    );
    assert_problem(
        &call(&script, &token, "GET", "/api/v1/nothing-here", None),
        404,
        "not_found",
    );
    assert_problem(
        &call(&script, &token, "GET", "/api/v1/backups?limit=0", None),
        400,
        "bad_request",
    );
    assert_problem(
        &call(&script, &token, "GET", "/api/v1/backups?limit=many", None),
        400,
        "bad_request",
    );
    assert_problem(
        &call(
            &script,
            &token,
            "POST",
            "/api/v1/backups",
            Some(&json!({ "namespace": "demo" })),
        ),
        400,
        "bad_request",
    );
    assert_problem(
        &call(
            &script,
            &token,
            "POST",
            "/api/v1/backups",
            Some(&json!({ "namespace": "demo", "name": "" })),
        ),
        422,
        "invalid",
    );
    assert_problem(
        &call(
            &script,
            &token,
            "POST",
            "/api/v1/backups",
            Some(&json!({ "namespace": "nosuch", "name": "x" })),
        ),
        404,
        "not_found",
    );
    let (status, _) = call(
        &script,
        &token,
        "DELETE",
        &format!("/api/v1/backups/{id}"),
        None,
    );
    assert_eq!(status, 204);
    assert_problem(
        &call(
            &script,
            &token,
            "GET",
            &format!("/api/v1/backups/{id}"),
            None,
        ),
        404,
        "not_found",
    );
    server.stop();
}

/// Waits for job `id` to succeed.
#[test]
fn a_script_downloads_uploads_previews_restores_and_undoes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &["--demo"]);
    let token = server.admin_token("restore test");
    let script = server.anonymous();
    let bearer = format!("Bearer {token}");
    let (_, started) = call(
        &script,
        &token,
        "POST",
        "/api/v1/backups",
        Some(&json!({ "namespace": "demo", "name": "Base" })),
    );
    let id = started["backup"]["id"].as_str().expect("an id").to_string();
    job_succeeds(
        &script,
        &token,
        started["job"]["id"].as_str().expect("a job"),
    );

    // Downloaded, then uploaded again under another namespace.
    let (status, head, zip) = script.exchange(
        "GET",
        &format!("/api/v1/backups/{id}/download"),
        &[("Authorization", &bearer)],
        None,
    );
    assert_eq!(status, 200, "{head}");
    assert!(zip.starts_with(b"PK"), "a zip");
    let (status, part_head, part) = script.exchange(
        "GET",
        &format!("/api/v1/backups/{id}/download"),
        &[("Authorization", &bearer), ("Range", "bytes=10-")],
        None,
    );
    assert_eq!(status, 206, "{part_head}");
    assert_eq!(part, zip[10..]);

    // The file's ETag is its SHA-256; a client holding it is told so (304), a part is sent
    // only against that validator (another one gets the whole file), a range that is not
    // one is refused.
    let header_of = |head: &str, name: &str| -> Option<String> {
        head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_string())
        })
    };
    let (_, listed) = call(
        &script,
        &token,
        "GET",
        &format!("/api/v1/backups/{id}"),
        None,
    );
    let sha = listed["sha256"]
        .as_str()
        .expect("a completed backup's checksum");
    let etag = format!("\"{sha}\"");
    assert_eq!(header_of(&head, "etag"), Some(etag.clone()), "{head}");
    assert_eq!(
        header_of(&part_head, "etag"),
        Some(etag.clone()),
        "{part_head}"
    );
    assert!(
        header_of(&head, "last-modified").is_some_and(|d| d.ends_with(" GMT")),
        "{head}"
    );
    let download = |headers: &[(&str, &str)]| {
        let mut all = vec![("Authorization", bearer.as_str())];
        all.extend_from_slice(headers);
        script.exchange("GET", &format!("/api/v1/backups/{id}/download"), &all, None)
    };
    let (status, head, body) = download(&[("If-None-Match", &etag)]);
    assert_eq!((status, body.len()), (304, 0), "{head}");
    let (status, head, body) = download(&[("If-None-Match", "\"another\"")]);
    assert_eq!((status, body.len()), (200, zip.len()), "{head}");
    let (status, head, body) = download(&[("Range", "bytes=10-"), ("If-Range", &etag)]);
    assert_eq!((status, body.as_slice()), (206, &zip[10..]), "{head}");
    for other in ["\"another\"", "Mon, 30 Nov 2026 10:00:00 GMT", "W/\"x\""] {
        let (status, head, body) = download(&[("Range", "bytes=10-"), ("If-Range", other)]);
        assert_eq!(status, 200, "If-Range {other}: {head}");
        assert_eq!(body, zip, "If-Range {other}: the whole file");
    }
    for malformed in ["bytes=+1-2", "bytes=9-0", "bytes=a-"] {
        let (status, _, body) = download(&[("Range", malformed)]);
        let refused: Value = serde_json::from_slice(&body).expect("JSON");
        assert_problem(&(status, refused.clone()), 400, "bad_request");
        assert!(
            refused["message"]
                .as_str()
                .is_some_and(|m| m.contains("is not a range of bytes")),
            "{refused}"
        );
    }
    let (status, head, body) = script.exchange(
        "GET",
        &format!("/api/v1/backups/{id}/download"),
        &[
            ("Authorization", &bearer),
            ("Range", &format!("bytes={}-", zip.len() + 5)),
        ],
        None,
    );
    let past: Value = serde_json::from_slice(&body).expect("JSON");
    assert_problem(&(status, past), 416, "range_not_satisfiable");
    assert!(
        head.to_ascii_lowercase()
            .contains(&format!("content-range: bytes */{}", zip.len())),
        "{head}"
    );
    let (status, _, body) = script.exchange(
        "POST",
        "/api/v1/uploads?namespace=copy&file_name=base_2026-11-30_10-00-00.zip",
        &[("Authorization", &bearer)],
        Some(("application/zip", &zip)),
    );
    let uploaded: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(status, 201, "{uploaded}");
    assert_eq!(
        uploaded["backup"]["name"], "base",
        "named from the file, without the timestamp"
    );
    assert!(
        uploaded["note"]
            .as_str()
            .is_some_and(|n| n.contains("identical")),
        "{uploaded}"
    );
    let copy = uploaded["backup"]["id"]
        .as_str()
        .expect("an id")
        .to_string();
    // A file that is no backup is refused (422), and nothing is listed.
    let (status, _, body) = script.exchange(
        "POST",
        "/api/v1/uploads?namespace=copy&name=junk",
        &[("Authorization", &bearer)],
        Some(("application/zip", b"not a zip")),
    );
    let refused: Value = serde_json::from_slice(&body).expect("JSON");
    assert_problem(&(status, refused), 422, "invalid");

    // Previewed into a namespace that does not exist: everything is added.
    let (status, preview) = call(
        &script,
        &token,
        "GET",
        &format!("/api/v1/backups/{copy}/preview?namespace=copy"),
        None,
    );
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["target_exists"], false, "{preview}");
    let items = preview["items"]["added"].as_u64().expect("a count");
    assert!(items > 0, "{preview}");
    assert_problem(
        &call(
            &script,
            &token,
            "GET",
            &format!("/api/v1/backups/{copy}/preview"),
            None,
        ),
        400,
        "bad_request",
    );

    // Restored twice; the report says what the first did; the second is undone.
    for round in 0..2 {
        let (status, job) = call(
            &script,
            &token,
            "POST",
            &format!("/api/v1/backups/{copy}/restore"),
            Some(&json!({ "namespace": "copy" })),
        );
        assert_eq!(status, 202, "{job}");
        let job = job["id"].as_str().expect("a job").to_string();
        job_succeeds(&script, &token, &job);
        let (status, report) = call(
            &script,
            &token,
            "GET",
            &format!("/api/v1/jobs/{job}/report"),
            None,
        );
        assert_eq!(status, 200, "{report}");
        let expected = if round == 0 { items } else { 0 };
        assert_eq!(
            report["items"]["added"], expected,
            "round {round}: {report}"
        );
    }
    let (_, jobs) = call(&script, &token, "GET", "/api/v1/jobs?namespace=copy", None);
    assert_eq!(jobs.as_array().map(Vec::len), Some(2), "{jobs}");
    let (status, points) = call(
        &script,
        &token,
        "GET",
        "/api/v1/namespaces/copy/restore-points",
        None,
    );
    assert_eq!(status, 200, "{points}");
    let generation = points[0]["generation"]
        .as_str()
        .expect("a point")
        .to_string();
    let (status, undone) = call(
        &script,
        &token,
        "POST",
        "/api/v1/namespaces/copy/undo",
        Some(&json!({ "generation": generation })),
    );
    assert_eq!(status, 200, "{undone}");
    assert_problem(
        &call(
            &script,
            &token,
            "POST",
            "/api/v1/namespaces/copy/undo",
            Some(&json!({ "generation": generation })),
        ),
        404,
        "not_found",
    );
    // A restore into a namespace whose name cannot be is refused before anything runs.
    assert_problem(
        &call(
            &script,
            &token,
            "POST",
            &format!("/api/v1/backups/{copy}/restore"),
            Some(&json!({ "namespace": "Not A Name" })),
        ),
        422,
        "invalid",
    );
    server.stop();
}

#[test]
fn the_openapi_document_describes_every_operation_the_server_answers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &[]);
    // Public: a script can read it before it has a token.
    let (status, body) = server.get("/api/v1/openapi.json");
    assert_eq!(status, 200, "{body}");
    let document: Value = serde_json::from_str(&body).expect("JSON");
    assert!(
        document["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{document}"
    );
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let documented: Vec<(String, String)> = document["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("a path item")
                .keys()
                .map(|method| (method.to_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    // Every operation says that it refuses a caller without a working token and one who is
    // no administrator, as problem objects.
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            for status in ["401", "403"] {
                let problem =
                    &operation["responses"][status]["content"]["application/problem+json"];
                assert_eq!(
                    problem["schema"]["$ref"], "#/components/schemas/Problem",
                    "{method} {path}: {status}"
                );
            }
        }
    }
    assert!(document["components"]["schemas"]["Problem"].is_object());
    // Every operation a script is told about (and no other) is there.
    let mut expected = vec![
        ("GET", "/api/v1/backups"),
        ("POST", "/api/v1/backups"),
        ("GET", "/api/v1/backups/{id}"),
        ("DELETE", "/api/v1/backups/{id}"),
        ("GET", "/api/v1/backups/{id}/download"),
        ("GET", "/api/v1/backups/{id}/preview"),
        ("POST", "/api/v1/backups/{id}/restore"),
        ("POST", "/api/v1/uploads"),
        ("GET", "/api/v1/jobs"),
        ("GET", "/api/v1/jobs/{id}"),
        ("GET", "/api/v1/jobs/{id}/report"),
        ("GET", "/api/v1/jobs/{id}/events"),
        ("GET", "/api/v1/jobs/events"),
        ("GET", "/api/v1/schedules"),
        ("PUT", "/api/v1/schedules/{namespace}"),
        ("DELETE", "/api/v1/schedules/{namespace}"),
        ("POST", "/api/v1/schedules/{namespace}/pause"),
        ("POST", "/api/v1/schedules/{namespace}/resume"),
        ("POST", "/api/v1/schedule-previews"),
        ("GET", "/api/v1/namespaces/{namespace}/restore-points"),
        ("POST", "/api/v1/namespaces/{namespace}/undo"),
    ];
    expected.sort();
    let mut found: Vec<(&str, &str)> = documented
        .iter()
        .map(|(m, p)| (m.as_str(), p.as_str()))
        .collect();
    found.sort();
    assert_eq!(found, expected);
    // And every documented operation is answered by the server (not the catch-all 404).
    let anonymous = server.anonymous();
    for (method, path) in &documented {
        let concrete = path.replace("{id}", "x").replace("{namespace}", "x");
        let response = anonymous.send(method, &concrete, &[], None);
        assert_eq!(
            response.status, 401,
            "{method} {concrete}: {}",
            response.body
        );
    }
    server.stop();
}

#[test]
fn an_expired_token_a_busy_namespace_and_an_upload_over_the_limit_are_refused_as_problems() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The first start makes the administrator; then a token that works for one second.
    Server::start(dir.path(), &["--demo"]).stop();
    let made = command_in(dir.path(), "token", &["create", "brief", "--expires", "1s"]);
    assert!(made.status.success(), "{}", text(&made.stderr));
    let expired = text(&made.stdout).trim().to_string();
    // Backups of `demo` wait while they write: the namespace stays busy.
    let server = Server::start_with_env(
        dir.path(),
        &["--max-upload-size", "4096"],
        &[("NSBACKUP_TEST_PAUSE", "backup:writing@demo")],
    );
    let token = server.admin_token("limits");
    let script = server.anonymous();

    std::thread::sleep(std::time::Duration::from_millis(1_100));
    let refused = call(&script, &expired, "GET", "/api/v1/backups", None);
    assert_problem(&refused, 401, "unauthorized");
    assert!(
        refused.1["message"]
            .as_str()
            .is_some_and(|m| m.contains("expired on")),
        "{}",
        refused.1
    );

    let (status, started) = call(
        &script,
        &token,
        "POST",
        "/api/v1/backups",
        Some(&json!({ "namespace": "demo", "name": "Held" })),
    );
    assert_eq!(status, 202, "{started}");
    let busy = call(
        &script,
        &token,
        "POST",
        "/api/v1/backups",
        Some(&json!({ "namespace": "demo", "name": "Second" })),
    );
    assert_problem(&busy, 409, "conflict");

    let bearer = format!("Bearer {token}");
    let zip = vec![b'P'; 10_000];
    let (status, _, body) = script.exchange(
        "POST",
        "/api/v1/uploads?namespace=copy&name=Too%20large",
        &[("Authorization", &bearer)],
        Some(("application/zip", &zip)),
    );
    let too_large: Value = serde_json::from_slice(&body).expect("a problem object");
    assert_problem(&(status, too_large.clone()), 413, "too_large");
    assert!(
        too_large["message"]
            .as_str()
            .is_some_and(|m| m.contains("4.0 KiB")),
        "the limit is named: {too_large}"
    );
    let (_, listed) = call(&script, &token, "GET", "/api/v1/backups", None);
    assert_eq!(listed["total"], 1, "only the held backup: {listed}");
    server.stop();
}

/// The `data:` of every `event: job` in a server-sent event stream, as JSON.
#[test]
fn every_operation_refuses_anonymous_callers_a_modeler_s_token_and_a_revoked_one_by_their_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &["--db", "mem://"]);
    let admin = server.admin();
    // A token made by an administrator who is a modeler now: it acts as a modeler.
    admin.ok(
        "/api/create_user",
        json!({ "name": "ops", "role": "admin", "password": "ops-password-1" }),
    );
    let ops = server.sign_in("ops", "ops-password-1");
    let modeler_token = ops.ok(
        "/api/create_token",
        json!({ "name": "ops script", "days": 30 }),
    )["secret"]
        .as_str()
        .expect("a secret")
        .to_string();
    admin.ok(
        "/api/set_user_role",
        json!({ "name": "ops", "role": "modeler" }),
    );
    let made = admin.ok(
        "/api/create_token",
        json!({ "name": "old script", "days": 30 }),
    );
    let revoked_token = made["secret"].as_str().expect("a secret").to_string();
    admin.ok(
        "/api/revoke_token",
        json!({ "handle": made["info"]["handle"] }),
    );

    let (_, body) = server.get("/api/v1/openapi.json");
    let document: Value = serde_json::from_str(&body).expect("JSON");
    let script = server.anonymous();
    let mut operations = 0;
    for (path, item) in document["paths"].as_object().expect("paths") {
        let public = path.ends_with("openapi.json");
        for method in item.as_object().expect("a path item").keys() {
            if public {
                continue;
            }
            operations += 1;
            let method = method.to_uppercase();
            let concrete = path.replace("{id}", "x").replace("{namespace}", "x");
            let send = |token: &str| {
                let answer = script.send(
                    &method,
                    &concrete,
                    &[("Authorization", &format!("Bearer {token}"))],
                    None,
                );
                let body: Value = serde_json::from_str(&answer.body).expect("a problem object");
                (answer.status, body)
            };
            let anonymous = script.send(&method, &concrete, &[], None);
            let body: Value = serde_json::from_str(&anonymous.body).expect("a problem object");
            assert_problem(&(anonymous.status, body), 401, "unauthorized");
            let (status, body) = send(&modeler_token);
            assert_problem(&(status, body.clone()), 403, "forbidden");
            let (status, body) = send(&revoked_token);
            assert_problem(&(status, body.clone()), 401, "unauthorized");
            assert!(
                body["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("was revoked on")),
                "{method} {concrete}: {body}"
            );
        }
    }
    assert!(operations >= 20, "{operations} operations");
    server.stop();
}

fn job_events(stream: &str) -> Vec<Value> {
    stream
        .split("\n\n")
        .filter(|event| event.lines().any(|line| line == "event: job"))
        .filter_map(|event| {
            event
                .lines()
                .find_map(|line| line.strip_prefix("data: "))
                .and_then(|data| serde_json::from_str(data).ok())
        })
        .collect()
}

#[test]
fn job_events_stream_a_job_to_its_end_and_every_job_as_it_changes() {
    use std::io::{Read, Write};

    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &["--demo"]);
    let token = server.admin_token("events");
    let script = server.anonymous();
    let bearer = format!("Bearer {token}");

    // Every job, as it changes: a stream that stays open.
    let address = server.base_url.trim_start_matches("http://").to_string();
    let mut all = std::net::TcpStream::connect(&address).expect("connects");
    write!(
        all,
        "GET /api/v1/jobs/events HTTP/1.1\r\nHost: {address}\r\nAuthorization: {bearer}\r\nConnection: close\r\n\r\n"
    )
    .expect("sends");
    all.set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .expect("timeout");

    let (status, started) = call(
        &script,
        &token,
        "POST",
        "/api/v1/backups",
        Some(&json!({ "namespace": "demo", "name": "Watched" })),
    );
    assert_eq!(status, 202, "{started}");
    let job = started["job"]["id"].as_str().expect("a job").to_string();

    // One job's stream ends with the event of its end.
    let (status, head, body) = script.exchange(
        "GET",
        &format!("/api/v1/jobs/{job}/events"),
        &[("Authorization", &bearer)],
        None,
    );
    assert_eq!(status, 200, "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/event-stream"),
        "{head}"
    );
    let events = job_events(&String::from_utf8_lossy(&body));
    assert!(!events.is_empty(), "no event");
    assert!(events.iter().all(|event| event["id"] == job.as_str()));
    assert_eq!(
        events.last().map(|e| e["status"].clone()),
        Some(json!("succeeded")),
        "{events:?}"
    );

    // The stream of every job saw it end too.
    let mut seen = String::new();
    let mut buffer = [0u8; 4096];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let read = all.read(&mut buffer).expect("reads");
        assert!(read > 0, "the stream of every job ended: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buffer[..read]));
        if job_events(&seen)
            .iter()
            .any(|event| event["id"] == job.as_str() && event["status"] == "succeeded")
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{seen}");
    }
    drop(all);

    assert_problem(
        &call(&script, &token, "GET", "/api/v1/jobs/nosuch/events", None),
        404,
        "not_found",
    );
    server.stop();
}

#[test]
fn a_script_sets_previews_pauses_resumes_and_deletes_a_schedule() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &["--demo"]);
    let token = server.admin_token("schedules");
    let script = server.anonymous();
    let draft = json!({
        "namespace": "demo", "cron": "0 2 * * *", "timezone": "Europe/Berlin", "enabled": true,
        "name_template": "Nightly {date}", "retention": { "keep_last": 7 }
    });
    let (status, preview) = call(
        &script,
        &token,
        "POST",
        "/api/v1/schedule-previews",
        Some(&draft),
    );
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["problem"], Value::Null, "{preview}");
    assert_eq!(
        preview["next_runs"].as_array().map(Vec::len),
        Some(5),
        "{preview}"
    );
    let (status, set) = call(
        &script,
        &token,
        "PUT",
        "/api/v1/schedules/demo",
        Some(&draft),
    );
    assert_eq!(status, 200, "{set}");
    assert_eq!(set["namespace"], "demo");
    assert!(set["next_run"].is_string(), "{set}");
    let (_, list) = call(&script, &token, "GET", "/api/v1/schedules", None);
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    let (status, paused) = call(
        &script,
        &token,
        "POST",
        "/api/v1/schedules/demo/pause",
        None,
    );
    assert_eq!(status, 200, "{paused}");
    assert_eq!(paused["enabled"], false, "{paused}");
    let (_, resumed) = call(
        &script,
        &token,
        "POST",
        "/api/v1/schedules/demo/resume",
        None,
    );
    assert_eq!(resumed["enabled"], true, "{resumed}");
    // Refused: a body for another namespace, an expression that is none.
    assert_problem(
        &call(
            &script,
            &token,
            "PUT",
            "/api/v1/schedules/other",
            Some(&draft),
        ),
        422,
        "invalid",
    );
    let mut bad = draft.clone();
    bad["cron"] = json!("every full moon");
    assert_problem(
        &call(&script, &token, "PUT", "/api/v1/schedules/demo", Some(&bad)),
        422,
        "invalid",
    );
    let (status, _) = call(&script, &token, "DELETE", "/api/v1/schedules/demo", None);
    assert_eq!(status, 204);
    assert_problem(
        &call(
            &script,
            &token,
            "POST",
            "/api/v1/schedules/demo/pause",
            None,
        ),
        404,
        "not_found",
    );
    server.stop();
}
