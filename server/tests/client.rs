//! `nsbackup backup …` as a client of a running server, and `nsbackup verify FILE` offline:
//! what a cron job or a deployment pipeline does, with the exit codes they branch on.

mod support;

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};
use support::{Server, nsbackup, text};

/// `nsbackup ARGS… --server URL` with the token in `NSBACKUP_TOKEN`.
fn client(server: &str, token: &str, args: &[&str]) -> Output {
    nsbackup()
        .args(args)
        .args(["--server", server])
        .env("NSBACKUP_TOKEN", token)
        .output()
        .expect("runs")
}

fn json_of(output: &Output) -> Value {
    assert!(output.status.success(), "{}", text(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("JSON on standard output")
}

fn verify(file: &Path) -> Output {
    nsbackup().arg("verify").arg(file).output().expect("runs")
}

#[test]
fn a_script_backs_up_downloads_verifies_uploads_restores_and_undoes_with_exit_codes_to_branch_on() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &["--demo"]);
    let token = server.admin_token("cli");
    let url = server.base_url.clone();
    let run = |args: &[&str]| client(&url, &token, args);

    // A backup, followed to its end; its phases on standard error (not a terminal).
    let made = run(&["backup", "create", "demo", "Nightly"]);
    assert!(made.status.success(), "{}", text(&made.stderr));
    assert!(
        text(&made.stdout).contains("completed"),
        "{}",
        text(&made.stdout)
    );
    assert!(
        text(&made.stderr).contains("backup of demo: "),
        "{}",
        text(&made.stderr)
    );
    let list = json_of(&run(&["backup", "list", "--namespace", "demo", "--json"]));
    let id = list["items"][0]["id"].as_str().expect("listed").to_string();
    assert_eq!(list["items"][0]["name"], "Nightly");
    // Without --json, a line a backup: id, name, namespace, time, status, size.
    let plain = run(&["backup", "list", "--namespace", "demo"]);
    let line = text(&plain.stdout);
    let fields: Vec<&str> = line.trim_end().split('\t').collect();
    assert_eq!(
        (fields[0], fields[1], fields[2], fields[4]),
        (id.as_str(), "Nightly", "demo", "completed"),
        "{line}"
    );
    assert!(
        fields[3].ends_with('Z') && fields[5].ends_with('B'),
        "{line}"
    );
    // The preview of the backup over its own namespace: nothing would change.
    let same = text(&run(&["backup", "preview", &id, "--namespace", "demo"]).stdout);
    assert!(
        same.starts_with("folders: 0 added, 0 removed, 0 changed, ")
            && same.contains("\nitems: 0 added, 0 removed, 0 changed, "),
        "{same}"
    );

    // Downloaded, checked offline, uploaded again.
    let file = dir.path().join("nightly.zip");
    let got = run(&[
        "backup",
        "download",
        &id,
        "--output",
        file.to_str().expect("utf-8"),
    ]);
    assert!(got.status.success(), "{}", text(&got.stderr));
    assert!(std::fs::read(&file).expect("written").starts_with(b"PK"));
    // A download that broke off is continued from where it stopped; a part of other bytes
    // is not continued into a wrong file: it is downloaded again.
    let whole = std::fs::read(&file).expect("read");
    let again = dir.path().join("again.zip");
    let part = dir.path().join("again.zip.part");
    let mut other = whole.clone();
    other[10] ^= 0xff;
    for (held, says) in [(&whole, "Resuming"), (&other, "does not match")] {
        std::fs::write(&part, &held[..whole.len() / 2]).expect("a part");
        let got = run(&[
            "backup",
            "download",
            &id,
            "--output",
            again.to_str().expect("utf-8"),
        ]);
        assert!(got.status.success(), "{}", text(&got.stderr));
        assert!(text(&got.stderr).contains(says), "{}", text(&got.stderr));
        assert_eq!(std::fs::read(&again).expect("written"), whole);
        assert!(!part.exists(), "the part became the file");
    }
    let checked = verify(&file);
    assert!(checked.status.success(), "{}", text(&checked.stderr));
    assert!(
        text(&checked.stdout).contains("a sound backup of namespace demo"),
        "{}",
        text(&checked.stdout)
    );
    assert!(
        text(&checked.stdout).contains("current version"),
        "{}",
        text(&checked.stdout)
    );
    let junk = dir.path().join("junk.zip");
    std::fs::write(&junk, b"not a zip").expect("written");
    let refused = verify(&junk);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(
        text(&refused.stderr).contains("is not a backup this nsbackup accepts"),
        "{}",
        text(&refused.stderr)
    );
    // A script reading JSON gets the refusal as JSON, with the same exit code.
    let refused = nsbackup()
        .args(["verify", "--json"])
        .arg(&junk)
        .output()
        .expect("runs");
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    let answer: Value = serde_json::from_slice(&refused.stdout).expect("JSON on standard output");
    assert_eq!(
        (&answer["sound"], &answer["restorable"]),
        (&json!(false), &json!(false))
    );
    assert!(
        answer["error"]
            .as_str()
            .is_some_and(|e| e.contains("is not a backup this nsbackup accepts")),
        "{answer}"
    );
    // A sound file that only a newer version restores: its report, and an exit code of its own.
    let newer = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../end2end/tests/files/backup-from-a-newer-version.zip");
    let checked = nsbackup()
        .args(["verify", "--json"])
        .arg(&newer)
        .output()
        .expect("runs");
    assert_eq!(checked.status.code(), Some(4), "{}", text(&checked.stderr));
    let answer: Value = serde_json::from_slice(&checked.stdout).expect("JSON on standard output");
    assert_eq!(
        (&answer["sound"], &answer["restorable"]),
        (&json!(true), &json!(false))
    );
    assert!(
        text(&checked.stderr).contains("only a newer nsbackup can restore it"),
        "{}",
        text(&checked.stderr)
    );
    let sound = nsbackup()
        .args(["verify", "--json"])
        .arg(&file)
        .output()
        .expect("runs");
    let answer = json_of(&sound);
    assert_eq!(
        (&answer["sound"], &answer["restorable"]),
        (&json!(true), &json!(true))
    );
    let uploaded = json_of(&run(&[
        "backup",
        "upload",
        file.to_str().expect("utf-8"),
        "--namespace",
        "copy",
        "--json",
    ]));
    let copy = uploaded["backup"]["id"]
        .as_str()
        .expect("an id")
        .to_string();

    // Previewed, restored twice, the second undone.
    let preview = json_of(&run(&[
        "backup",
        "preview",
        &copy,
        "--namespace",
        "copy",
        "--json",
    ]));
    assert_eq!(preview["target_exists"], false, "{preview}");
    let nothing = run(&["backup", "undo", "copy"]);
    assert_eq!(
        nothing.status.code(),
        Some(2),
        "no restore point yet: {}",
        text(&nothing.stderr)
    );
    // The first restore creates the namespace; the second finds every item as it is.
    for again in [false, true] {
        let restored = run(&["backup", "restore", &copy, "--namespace", "copy"]);
        assert!(restored.status.success(), "{}", text(&restored.stderr));
        assert!(
            text(&restored.stdout).starts_with("Restored into copy: ")
                && (text(&restored.stdout).contains(": 0 item(s) added, 0 removed, 0 changed, ")
                    == again),
            "{}",
            text(&restored.stdout)
        );
    }
    let undone = run(&["backup", "undo", "copy"]);
    assert!(undone.status.success(), "{}", text(&undone.stderr));
    assert!(
        text(&undone.stdout).contains("switched back"),
        "{}",
        text(&undone.stdout)
    );

    // Refused (2), unreachable (3), no token (1): each says what to do.
    let gone = run(&["backup", "delete", "nosuch"]);
    assert_eq!(gone.status.code(), Some(2), "{}", text(&gone.stderr));
    assert!(
        text(&gone.stderr).contains("refused (404"),
        "{}",
        text(&gone.stderr)
    );
    let port = support::free_port();
    let away = client(
        &format!("http://127.0.0.1:{port}"),
        &token,
        &["backup", "list"],
    );
    assert_eq!(away.status.code(), Some(3), "{}", text(&away.stderr));
    assert!(
        text(&away.stderr).contains("could not reach the server"),
        "{}",
        text(&away.stderr)
    );
    let anonymous = nsbackup()
        .args(["backup", "list", "--server", &url])
        .output()
        .expect("runs");
    assert_eq!(anonymous.status.code(), Some(1));
    assert!(
        text(&anonymous.stderr).contains("NSBACKUP_TOKEN"),
        "{}",
        text(&anonymous.stderr)
    );
    let revoked = run(&["backup", "delete", &id]);
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    server.stop();
}

#[test]
fn on_a_terminal_a_job_draws_a_progress_bar_instead_of_plain_lines() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &["--demo"]);
    let token = server.admin_token("terminal");
    // `script` runs the command on a pseudo-terminal and passes on what it drew.
    let command = format!(
        "{} backup create demo Terminal --server {}",
        env!("CARGO_BIN_EXE_nsbackup"),
        server.base_url
    );
    let output = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("NSBACKUP_TOKEN", &token)
        // A terminal that draws: the runner's own may be none, or `dumb`.
        .env("TERM", "xterm-256color")
        .output()
        .expect("script runs (util-linux)");
    let drawn = text(&output.stdout);
    assert!(output.status.success(), "{drawn}");
    assert!(drawn.contains("completed"), "{drawn}");
    // A bar: drawn with terminal controls and a [====> ] gauge, not as plain lines.
    assert!(drawn.contains('\u{1b}'), "no terminal control: {drawn:?}");
    assert!(
        drawn.contains("backup of demo: ") && drawn.contains('['),
        "{drawn:?}"
    );
    assert!(
        !drawn
            .lines()
            .any(|line| line.starts_with("backup of demo: ") && !line.contains('[')),
        "plain lines: {drawn:?}"
    );
    server.stop();
}
