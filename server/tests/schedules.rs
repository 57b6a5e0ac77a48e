//! Scheduled backups on the real binary: the scheduler of a running server makes them, and
//! `nsbackup schedule …` manages them from the command line.

mod support;

use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Server, command_in, text};

fn schedule(dir: &std::path::Path, args: &[&str]) -> Output {
    command_in(dir, "schedule", args)
}

#[test]
fn a_running_server_makes_the_scheduled_backups_and_prunes_them_by_its_policy() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &["--demo", "--scheduler-tick", "1s"]);
    let admin = server.admin();
    // Before any schedule exists, the list is empty and the scheduler has nothing to do.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(admin.ok("/api/list_schedules", json!({})), json!([]));
    // Every two seconds, keeping the last two.
    let draft = json!({
        "namespace": "demo", "cron": "*/2 * * * * *", "timezone": "UTC", "enabled": true,
        "name_template": "Scheduled {date} {time}", "retention": { "keep_last": 2 }
    });
    let set = admin.ok("/api/set_schedule", json!({ "draft": draft }));
    assert_eq!(set["enabled"], true, "{set}");
    let scheduled = |list: &Value| -> Vec<Value> {
        list.as_array()
            .expect("a list")
            .iter()
            .filter(|backup| backup["origin"] == "scheduled" && backup["status"] == "completed")
            .cloned()
            .collect()
    };
    // Runs come, and the policy keeps two of them.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let shown = admin.ok("/api/list_schedules", json!({}));
        let runs_so_far = shown[0]["last_run"]["due"].as_str().map(str::to_string);
        let list = admin.ok("/api/list_backups", json!({}));
        let made = scheduled(&list);
        let audit = admin.ok("/api/list_audit", json!({ "before": null, "limit": 200 }));
        let pruned = audit["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .filter(|entry| entry["actor"] == "(retention)")
            .count();
        if pruned >= 1 && made.len() == 2 {
            assert!(
                made[0]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("Scheduled ")
            );
            assert_eq!(made[0]["created_by"], "(scheduler)");
            assert!(runs_so_far.is_some());
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no scheduled backups were made and pruned: {list}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    // Paused, it makes no more.
    admin.ok(
        "/api/pause_schedule",
        json!({ "namespace": "demo", "paused": true }),
    );
    std::thread::sleep(Duration::from_millis(2500));
    let before = scheduled(&admin.ok("/api/list_backups", json!({})));
    std::thread::sleep(Duration::from_millis(3000));
    let after = scheduled(&admin.ok("/api/list_backups", json!({})));
    assert_eq!(before, after, "a paused schedule makes no backups");
    // A bad expression is refused with the reason.
    let bad = json!({
        "namespace": "demo", "cron": "0 25 * * *", "timezone": "UTC", "enabled": true,
        "name_template": "x", "retention": {}
    });
    let preview = admin.ok("/api/preview_schedule", json!({ "draft": bad }));
    assert!(
        preview["problem"]
            .as_str()
            .is_some_and(|p| p.contains("not a cron expression")),
        "{preview}"
    );
    let (status, answer) =
        admin.post_json("/api/set_schedule", &json!({ "draft": bad }).to_string());
    assert_eq!(status, 400, "{answer}");
    let trouble: Vec<String> = server
        .log()
        .into_iter()
        .filter(|line| line.contains("WARN") || line.contains("ERROR"))
        .collect();
    assert!(
        trouble.is_empty(),
        "the scheduler ran cleanly: {trouble:#?}"
    );
}

#[test]
fn schedules_are_set_listed_paused_and_removed_from_the_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &["--demo"]);
    let (status, log) = server.stop();
    assert!(status.success(), "{log:#?}");

    let output = schedule(
        dir.path(),
        &[
            "set",
            "demo",
            "--cron",
            "0 2 * * *",
            "--timezone",
            "Europe/Berlin",
            "--keep-daily",
            "7",
            "--keep-weekly",
            "4",
        ],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let shown = text(&output.stdout);
    assert!(shown.contains("demo\t0 2 * * * (Europe/Berlin"), "{shown}");
    assert!(shown.contains("keep daily 7, weekly 4"), "{shown}");
    assert!(
        shown.matches(" UTC\n").count() >= 5,
        "five next runs: {shown}"
    );

    let output = schedule(dir.path(), &["pause", "demo"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let listed = text(&schedule(dir.path(), &["list"]).stdout);
    assert!(listed.contains("paused"), "{listed}");
    assert!(listed.contains("next run: none"), "{listed}");
    let output = schedule(dir.path(), &["resume", "demo"]);
    assert!(text(&output.stdout).contains("enabled"));

    // Refusals say what is wrong.
    let output = schedule(dir.path(), &["set", "demo", "--cron", "every night"]);
    assert!(!output.status.success());
    let refusal = support::refusal(&output);
    assert!(refusal.contains("not a cron expression"), "{refusal}");
    let output = schedule(dir.path(), &["set", "nowhere", "--cron", "0 2 * * *"]);
    assert!(support::refusal(&output).contains("nowhere"));

    let output = schedule(dir.path(), &["delete", "demo"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&schedule(dir.path(), &["list"]).stdout).contains("No namespace has a schedule"));
    let output = schedule(dir.path(), &["delete", "demo"]);
    assert!(support::refusal(&output).contains("has no schedule"));
}
