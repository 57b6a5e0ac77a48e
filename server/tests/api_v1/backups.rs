//! Backups through the API: listed, made, followed and deleted; downloaded, uploaded,
//! previewed, restored and undone.

use serde_json::{Value, json};

use super::assert_problem;
use crate::support::{Server, call, job_succeeds};

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
