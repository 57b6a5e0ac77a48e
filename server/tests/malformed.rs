//! Every endpoint, sent a catalogue of malformed requests by an administrator (who passes
//! every access rule, so that the request reaches the code that reads it): each is the
//! sender's mistake and is answered 4xx with a message, never 5xx.

mod support;

use support::Server;

/// Bodies no server function can accept, or accepts only to refuse what they say: not JSON,
/// the wrong JSON shape, missing, duplicated and wrongly typed arguments, empty keys,
/// negative numbers, unknown enum values.
fn bodies() -> Vec<(&'static str, String)> {
    let every_key_empty = serde_json::json!({
        "namespace": "", "name": "", "id": "", "title": "", "parent": "", "folder": "",
        "backup": "", "target": "", "user": "", "password": "", "current": "", "new": "",
        "file": "", "content": "", "kind": "service", "policy": "copy", "role": "modeler",
        "before": "", "limit": 0, "revision": 0, "permissions": []
    });
    let every_key_wrong = serde_json::json!({
        "namespace": 5, "name": ["a"], "id": {"a": 1}, "title": true, "parent": 3.5,
        "folder": [], "backup": null, "target": -1, "user": {}, "password": 1,
        "current": 2, "new": 3, "file": 4, "content": 5, "kind": "spreadsheet",
        "policy": "sideways", "role": "god", "before": 7, "limit": -5, "revision": -1,
        "permissions": [{"principal": {"kind": "group", "name": "x"}, "access": "god"}]
    });
    let huge_numbers = serde_json::json!({
        "namespace": "demo", "id": "x", "limit": 1e300, "revision": 18446744073709551616u128 as f64,
        "before": "zzz"
    });
    vec![
        ("an empty body", String::new()),
        ("text that is not JSON", "this is not json".into()),
        ("JSON cut off", r#"{"namespace": "de"#.into()),
        ("a JSON array", "[]".into()),
        ("JSON null", "null".into()),
        ("a JSON string", r#""namespace""#.into()),
        ("an empty object", "{}".into()),
        (
            "a duplicated argument",
            r#"{"namespace":"a","namespace":"b","name":"x","name":"y"}"#.into(),
        ),
        ("every argument empty", every_key_empty.to_string()),
        (
            "every argument of the wrong type",
            every_key_wrong.to_string(),
        ),
        ("numbers out of range", huge_numbers.to_string()),
        (
            "a NUL in a key",
            "{\"namespace\":\"a\\u0000b\",\"id\":\"\\u0000\"}".into(),
        ),
    ]
}

/// Content types a JSON endpoint does not take.
const WRONG_TYPES: &[(&str, &str)] = &[
    ("application/x-www-form-urlencoded", "namespace=demo&name=x"),
    (
        "multipart/form-data; boundary=XyZ",
        "--XyZ\r\nContent-Disposition: form-data; name=\"namespace\"\r\n\r\ndemo\r\n--XyZ--\r\n",
    ),
    ("text/plain", "namespace=demo"),
];

#[test]
fn no_malformed_request_to_any_endpoint_is_answered_5xx() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &["--db", "mem://", "--demo"]);
    let admin = server.admin();
    let mut failures = Vec::new();
    let mut sent = 0;
    let endpoints: Vec<&str> = app::api::rules::API
        .iter()
        .map(|(path, _)| *path)
        // Signing out would end the session the sweep runs in; it takes no arguments.
        .filter(|path| *path != "/api/sign_out")
        .collect();
    for path in &endpoints {
        let mut check = |what: String, response: support::Response| {
            sent += 1;
            if response.status >= 500 {
                failures.push(format!(
                    "{path} with {what}: {} {}",
                    response.status, response.body
                ));
            } else if response.status >= 400
                && serde_json::from_str::<serde_json::Value>(&response.body).is_err()
            {
                failures.push(format!(
                    "{path} with {what}: {} without a message: {}",
                    response.status, response.body
                ));
            }
        };
        for (what, body) in bodies() {
            let response = admin.send("POST", path, &[], Some(("application/json", &body)));
            check(what.to_string(), response);
        }
        for (content_type, body) in WRONG_TYPES {
            let response = admin.send("POST", path, &[], Some((content_type, body)));
            if leptos::server_fn::axum::server_fn_paths().any(|(p, _)| p == *path) {
                assert_eq!(
                    response.status, 415,
                    "{path} with {content_type}: {}",
                    response.body
                );
            }
            check(format!("a {content_type} body"), response);
        }
        for query in [
            "",
            "?id=",
            "?namespace=&folder=",
            "?namespace=demo&item=%00",
            "?id=%ZZ",
        ] {
            let response = admin.send("GET", &format!("{path}{query}"), &[], None);
            check(format!("GET {query}"), response);
        }
    }
    assert!(sent > 500, "the sweep sent only {sent} requests");
    assert!(
        failures.is_empty(),
        "{} of {sent} malformed requests were answered as the server's fault or without a message:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
