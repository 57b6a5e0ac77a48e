//! The OpenAPI document, and what the API refuses: callers without a working token, a
//! modeler's token, a revoked or an expired one, a busy namespace, an upload over the limit.

use serde_json::{Value, json};

use super::assert_problem;
use crate::support::{Server, call, command_in, text};

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
