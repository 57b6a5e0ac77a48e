//! Sessions: the cookie, signing out, expiry and restarts, a new password or a deleted user,
//! and failed sign-ins slowed down and audited.

use std::time::Duration;

use crate::support::{ADMIN_PASSWORD, Server};

#[test]
fn signing_out_ends_the_session_and_the_cookie_is_safe() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &["--db", "mem://"]);
    let body = format!(r#"{{"name": "admin", "password": "{ADMIN_PASSWORD}"}}"#);
    let response = server.anonymous().send(
        "POST",
        "/api/sign_in",
        &[],
        Some(("application/json", &body)),
    );
    let cookie = response
        .header("set-cookie")
        .unwrap_or_default()
        .to_string();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=43200"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");

    let admin = server.admin();
    assert_eq!(admin.post_json("/api/list_users", "{}").0, 200);
    let out = admin.send(
        "POST",
        "/api/sign_out",
        &[],
        Some(("application/json", "{}")),
    );
    assert_eq!(out.status, 200);
    assert!(
        out.header("set-cookie")
            .is_some_and(|c| c.contains("Max-Age=0")),
        "the cookie is removed: {out:?}"
    );
    // The old cookie no longer opens anything, even if the browser kept it.
    assert_eq!(admin.post_json("/api/list_users", "{}").0, 401);

    // Behind an https proxy the cookie is Secure.
    let response = server.anonymous().send(
        "POST",
        "/api/sign_in",
        &[("X-Forwarded-Proto", "https")],
        Some(("application/json", &body)),
    );
    assert!(
        response
            .header("set-cookie")
            .is_some_and(|c| c.contains("; Secure")),
        "{response:?}"
    );
}

#[test]
fn sessions_expire_and_survive_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &["--session-lifetime", "3s"]);
    let admin = server.admin();
    let cookie = admin.cookie.clone();
    assert_eq!(admin.post_json("/api/list_users", "{}").0, 200);
    let (status, _) = server.stop();
    assert!(status.success());

    let server = Server::start(dir.path(), &["--session-lifetime", "3s"]);
    let mut admin = server.anonymous();
    admin.cookie = cookie;
    assert_eq!(
        admin.post_json("/api/list_users", "{}").0,
        200,
        "a session survives a restart"
    );
    std::thread::sleep(Duration::from_secs(4));
    let (status, body) = admin.post_json("/api/list_users", "{}");
    assert_eq!(status, 401, "an expired session opens nothing: {body}");
    assert!(body.contains("Sign in"), "{body}");
}

#[test]
fn a_new_password_or_a_deleted_user_ends_their_sessions() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &["--db", "mem://"]);
    let admin = server.admin();
    let mia = server.modeler("mia");
    assert_eq!(mia.post_json("/api/list_namespaces", "{}").0, 200);
    let (status, body) = admin.post_json(
        "/api/set_user_password",
        r#"{"name": "mia", "password": "another-password-2"}"#,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(mia.post_json("/api/list_namespaces", "{}").0, 401);

    let mia = server.sign_in("mia", "another-password-2");
    let (status, body) = admin.post_json("/api/delete_user", r#"{"name": "mia"}"#);
    assert_eq!(status, 200, "{body}");
    assert_eq!(mia.post_json("/api/list_namespaces", "{}").0, 401);

    // Administrators cannot delete themselves, and the last one cannot stop being one.
    let (status, body) = admin.post_json("/api/delete_user", r#"{"name": "admin"}"#);
    assert_eq!(status, 409, "{body}");
    let (status, body) = admin.post_json(
        "/api/set_user_role",
        r#"{"name": "admin", "role": "modeler"}"#,
    );
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("last administrator"), "{body}");
}

#[test]
fn failed_sign_ins_look_alike_are_slowed_down_and_audited() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &["--db", "mem://"]);
    let admin = server.admin();
    server.modeler("mia");
    let attempt = |name: &str, password: &str| {
        let body = serde_json::json!({ "name": name, "password": password }).to_string();
        server.post_json("/api/sign_in", &body)
    };

    let (unknown_status, unknown) = attempt("nobody", "some-password-9");
    let (wrong_status, wrong) = attempt("mia", "some-password-9");
    assert_eq!(unknown_status, 400);
    assert_eq!(
        (wrong_status, &wrong),
        (unknown_status, &unknown),
        "a wrong password and an unknown name get the same answer"
    );
    for _ in 1..5 {
        assert_eq!(attempt("mia", "some-password-9").0, 400);
    }
    // Five failures in a row: now even the right password must wait.
    let (status, body) = attempt("mia", "mia-password-1");
    assert_eq!(status, 429, "{body}");
    assert!(body.contains("Wait"), "{body}");
    // Other names are not affected.
    let (status, _) = attempt("admin", ADMIN_PASSWORD);
    assert_eq!(status, 200);

    let (status, log) = admin.post_json("/api/list_audit", r#"{"before": null, "limit": 50}"#);
    assert_eq!(status, 200, "{log}");
    let log: serde_json::Value = serde_json::from_str(&log).expect("json");
    let entries = log["entries"].as_array().expect("entries");
    let count = |action: &str, target: &str, outcome: &str| {
        entries
            .iter()
            .filter(|e| e["action"] == action && e["target"] == target && e["outcome"] == outcome)
            .count()
    };
    assert_eq!(count("sign-in", "mia", "failed"), 5);
    assert_eq!(count("sign-in", "mia", "refused"), 1);
    assert_eq!(count("sign-in", "nobody", "failed"), 1);
    assert_eq!(count("user create", "mia", "succeeded"), 1);
    assert!(count("sign-in", "admin", "succeeded") >= 2);
    assert_eq!(entries[0]["action"], "sign-in", "newest first");
    assert!(
        !log.to_string().contains("some-password-9"),
        "no password in the log"
    );
}
