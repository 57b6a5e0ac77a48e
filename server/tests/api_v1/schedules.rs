//! Schedules through the API: set, previewed, paused, resumed and deleted.

use serde_json::{Value, json};

use super::assert_problem;
use crate::support::{Server, call};

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
