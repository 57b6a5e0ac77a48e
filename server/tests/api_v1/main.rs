//! The versioned API on the real binary: a script with a token lists, makes, follows and
//! deletes backups; every refusal is a problem object with a stable code; the OpenAPI
//! document describes every operation the server answers.

#[path = "../support/mod.rs"]
mod support;

mod backups;
mod events;
mod refusals;
mod schedules;

use serde_json::Value;

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
