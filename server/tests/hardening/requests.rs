//! Requests too large or malformed, refused before their body is read or answered in JSON,
//! and the security headers every answer carries.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::json;

use super::{mem_server, raw};
use crate::support::ADMIN_PASSWORD;

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
