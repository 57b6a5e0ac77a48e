//! Job events: one job's stream to its end, and the stream of every job as it changes.

use serde_json::{Value, json};

use super::assert_problem;
use crate::support::{Server, call};

/// The `data:` of every `event: job` in a server-sent event stream, as JSON.
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
