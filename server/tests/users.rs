//! `nsbackup user …` on the real binary.

mod support;

use std::io::Write;
use std::process::{Output, Stdio};

use support::{nsbackup, text};

fn user(dir: &std::path::Path, args: &[&str], password: Option<&str>) -> Output {
    let mut command = nsbackup();
    command.arg("user").args(args).arg("--data-dir").arg(dir);
    if let Some(password) = password {
        command.env("NSBACKUP_PASSWORD", password);
    }
    command.output().expect("runs")
}

#[test]
fn users_are_created_listed_and_deleted_from_the_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = user(
        dir.path(),
        &["create", "grace", "--admin"],
        Some("correct horse battery"),
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout).trim(), "Created user grace (admin)");

    // A password on standard input, as a script would pipe it.
    let mut child = nsbackup()
        .args(["user", "create", "ada", "--data-dir"])
        .arg(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"analytical engine\n")
        .expect("writes");
    let output = child.wait_with_output().expect("ends");
    assert!(output.status.success(), "{}", text(&output.stderr));

    let output = user(dir.path(), &["list"], None);
    let listed = text(&output.stdout);
    let rows: Vec<Vec<&str>> = listed
        .lines()
        .map(|line| line.split('\t').take(2).collect())
        .collect();
    assert_eq!(rows, [vec!["ada", "modeler"], vec!["grace", "admin"]]);
    assert!(!listed.contains("horse"), "passwords are never shown");

    let output = user(dir.path(), &["passwd", "ada"], Some("a new long password"));
    assert!(output.status.success(), "{}", text(&output.stderr));

    let output = user(dir.path(), &["delete", "grace"], None);
    assert!(!output.status.success());
    let last = text(&output.stderr)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    assert!(last.contains("`grace` is the last administrator"), "{last}");
    let output = user(dir.path(), &["delete", "ada"], None);
    assert!(output.status.success(), "{}", text(&output.stderr));
}

#[test]
fn a_short_password_or_a_taken_name_is_refused_with_one_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = user(dir.path(), &["create", "bob"], Some("short"));
    assert!(!output.status.success());
    assert!(
        text(&output.stderr)
            .lines()
            .last()
            .unwrap_or_default()
            .contains("at least 10 characters")
    );
    assert!(
        user(dir.path(), &["create", "bob"], Some("long enough pw"))
            .status
            .success()
    );
    let output = user(dir.path(), &["create", "bob"], Some("long enough pw"));
    assert!(
        text(&output.stderr)
            .lines()
            .last()
            .unwrap_or_default()
            .contains("`bob` exists already")
    );
}
