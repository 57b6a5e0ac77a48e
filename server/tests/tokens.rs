//! API tokens on the real binary: a script with a token acts as its user without a cookie
//! (and without the browser's cross-site check, which still guards cookies), a revoked
//! token is refused with a message, and `nsbackup token …` manages them.

mod support;

use std::process::Output;

use serde_json::json;
use support::{Server, command_in, text};

fn token(dir: &std::path::Path, args: &[&str]) -> Output {
    command_in(dir, "token", args)
}

#[test]
fn a_script_with_a_token_acts_as_its_user_until_the_token_is_revoked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &["--demo"]);
    let admin = server.admin();
    let made = admin.ok(
        "/api/create_token",
        json!({ "name": "nightly copy", "days": 30 }),
    );
    let secret = made["secret"].as_str().expect("a secret").to_string();
    let handle = made["info"]["handle"]
        .as_str()
        .expect("a handle")
        .to_string();
    let bearer = format!("Bearer {secret}");
    let script = server.anonymous();

    // No cookie, and a header a browser would send from another site: a token needs no
    // cross-site check, and it acts as the administrator.
    let listed = script.send(
        "POST",
        "/api/list_backups",
        &[("Authorization", &bearer), ("Sec-Fetch-Site", "cross-site")],
        Some(("application/json", "{}")),
    );
    assert_eq!(listed.status, 200, "{}", listed.body);
    let created = script.send(
        "POST",
        "/api/create_backup",
        &[("Authorization", &bearer)],
        Some((
            "application/json",
            r#"{"namespace": "demo", "name": "From a script"}"#,
        )),
    );
    assert_eq!(created.status, 200, "{}", created.body);
    // A cookie from another site is still refused.
    let (status, _) = {
        let response = admin.send(
            "POST",
            "/api/list_backups",
            &[("Sec-Fetch-Site", "cross-site")],
            Some(("application/json", "{}")),
        );
        (response.status, response.body)
    };
    assert_eq!(status, 403);
    // A token nobody made is refused with a message, and so is one in the wrong form.
    for wrong in ["Bearer nsb_0000", "Bearer "] {
        let refused = script.send(
            "POST",
            "/api/list_backups",
            &[("Authorization", wrong)],
            Some(("application/json", "{}")),
        );
        assert_eq!(refused.status, 401, "{wrong}: {}", refused.body);
    }
    // Its use is in the audit log, with the token's handle.
    let audit = admin.ok("/api/list_audit", json!({ "before": null, "limit": 200 }));
    let entries = audit["entries"].as_array().expect("entries");
    assert!(
        entries.iter().any(|e| e["action"] == "token use"
            && e["detail"].as_str().is_some_and(|d| d.contains(&handle))),
        "{audit}"
    );
    drop(admin);
    server.stop();

    // The command line lists it (never the secret) and revokes it.
    let listed = token(dir.path(), &["list"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let list = text(&listed.stdout);
    assert!(
        list.contains(&handle) && list.contains("nightly copy"),
        "{list}"
    );
    assert!(!list.contains(&secret), "{list}");
    let revoked = token(dir.path(), &["revoke", &handle]);
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));

    let server = Server::start(dir.path(), &[]);
    let refused = server.anonymous().send(
        "POST",
        "/api/list_backups",
        &[("Authorization", &bearer)],
        Some(("application/json", "{}")),
    );
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert!(refused.body.contains("was revoked on"), "{}", refused.body);
    server.stop();
}

#[test]
fn the_command_line_makes_a_token_that_a_server_then_accepts() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The first start makes the administrator.
    Server::start(dir.path(), &[]).stop();
    let never = token(
        dir.path(),
        &["create", "deploy pipeline", "--expires", "never"],
    );
    assert!(never.status.success(), "{}", text(&never.stderr));
    assert!(
        text(&never.stderr).contains("never expires"),
        "{}",
        text(&never.stderr)
    );
    let made = token(
        dir.path(),
        &["create", "nightly", "--user", "admin", "--expires", "7d"],
    );
    assert!(made.status.success(), "{}", text(&made.stderr));
    let secret = text(&made.stdout).trim().to_string();
    assert!(secret.starts_with("nsb_"), "{secret}");
    // Refused: an expiry that is not one, and a user who does not exist.
    let bad = token(dir.path(), &["create", "x", "--expires", "soon"]);
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("--expires"),
        "{}",
        text(&bad.stderr)
    );
    let nobody = token(dir.path(), &["create", "x", "--user", "nobody"]);
    assert!(!nobody.status.success());

    let server = Server::start(dir.path(), &[]);
    let answer = server.anonymous().send(
        "GET",
        "/api/audit.csv",
        &[("Authorization", &format!("Bearer {secret}"))],
        None,
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body.contains("token create"), "{}", answer.body);
    server.stop();
}
