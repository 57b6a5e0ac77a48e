//! Who may reach what, against the real binary: the authorization matrix, cross-site
//! requests, sessions (sign-out, expiry, restarts, password changes) and sign-in abuse.

#[path = "../support/mod.rs"]
mod support;

mod folders;
mod sessions;

use std::collections::BTreeSet;

use app::api::rules;
use support::{Client, Server};

/// Who may reach an endpoint or page, as this test expects it. Kept apart from the server's
/// own table on purpose: a change to who may do what must change both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Anyone,
    SignedIn,
    Admins,
}

/// Every server function and plain route. A new endpoint must be added here, with who may
/// reach it, or `the_matrix_covers_every_endpoint` fails.
const API: &[(&str, &str, Who)] = &[
    ("GET", "/api/health", Who::Anyone),
    ("GET", "/api/export?namespace=demo&folder=x", Who::SignedIn),
    ("POST", "/api/current_user", Who::Anyone),
    ("POST", "/api/sign_in", Who::Anyone),
    ("POST", "/api/sign_out", Who::Anyone),
    ("POST", "/api/change_own_password", Who::SignedIn),
    ("POST", "/api/list_own_sessions", Who::SignedIn),
    ("POST", "/api/end_own_sessions", Who::SignedIn),
    ("POST", "/api/get_server_status", Who::SignedIn),
    ("POST", "/api/list_namespaces", Who::SignedIn),
    ("POST", "/api/create_namespace", Who::Admins),
    ("POST", "/api/set_namespace_title", Who::Admins),
    ("POST", "/api/delete_namespace", Who::Admins),
    ("POST", "/api/get_namespace_tree", Who::SignedIn),
    ("POST", "/api/create_folder", Who::SignedIn),
    ("POST", "/api/rename_folder", Who::SignedIn),
    ("POST", "/api/move_folder", Who::SignedIn),
    ("POST", "/api/delete_folder", Who::SignedIn),
    ("POST", "/api/set_folder_permissions", Who::SignedIn),
    ("POST", "/api/list_items", Who::SignedIn),
    ("POST", "/api/get_item", Who::SignedIn),
    ("POST", "/api/create_item", Who::SignedIn),
    ("POST", "/api/save_item_content", Who::SignedIn),
    ("POST", "/api/rename_item", Who::SignedIn),
    ("POST", "/api/move_item", Who::SignedIn),
    ("POST", "/api/delete_item", Who::SignedIn),
    ("POST", "/api/import_entry", Who::SignedIn),
    ("POST", "/api/list_users", Who::Admins),
    ("POST", "/api/create_user", Who::Admins),
    ("POST", "/api/set_user_password", Who::Admins),
    ("POST", "/api/set_user_role", Who::Admins),
    ("POST", "/api/delete_user", Who::Admins),
    ("POST", "/api/list_audit", Who::Admins),
    ("GET", "/api/audit.csv", Who::Admins),
    ("POST", "/api/list_backups", Who::Admins),
    ("POST", "/api/list_backup_page", Who::Admins),
    ("POST", "/api/create_backup", Who::Admins),
    ("POST", "/api/delete_backup", Who::Admins),
    ("POST", "/api/restore_backup", Who::Admins),
    ("POST", "/api/list_jobs", Who::Admins),
    ("POST", "/api/get_job", Who::Admins),
    ("POST", "/api/pin_backup", Who::Admins),
    ("POST", "/api/list_restore_points", Who::Admins),
    ("POST", "/api/check_undo", Who::Admins),
    ("POST", "/api/undo_restore", Who::Admins),
    ("POST", "/api/preview_restore", Who::Admins),
    ("POST", "/api/preview_progress", Who::Admins),
    ("POST", "/api/list_restores", Who::Admins),
    ("POST", "/api/list_tokens", Who::Admins),
    ("POST", "/api/create_token", Who::Admins),
    ("POST", "/api/revoke_token", Who::Admins),
    ("POST", "/api/list_schedules", Who::Admins),
    ("POST", "/api/schedule_time_zones", Who::Admins),
    ("POST", "/api/preview_schedule", Who::Admins),
    ("POST", "/api/set_schedule", Who::Admins),
    ("POST", "/api/pause_schedule", Who::Admins),
    ("POST", "/api/delete_schedule", Who::Admins),
    ("GET", "/api/backups/download?id=none", Who::Admins),
    ("GET", "/api/jobs/report?id=none", Who::Admins),
    (
        "POST",
        "/api/backups/upload?name=x&namespace=demo",
        Who::Admins,
    ),
];

/// Every page.
const PAGES: &[(&str, Who)] = &[
    ("/signin", Who::Anyone),
    ("/", Who::SignedIn),
    ("/explorer", Who::SignedIn),
    ("/explorer/demo", Who::SignedIn),
    ("/account", Who::SignedIn),
    ("/admin/backups", Who::Admins),
    ("/admin/users", Who::Admins),
    ("/admin/audit", Who::Admins),
    ("/admin/tokens", Who::Admins),
];

fn path_of(target: &str) -> &str {
    target.split('?').next().unwrap_or(target)
}

#[test]
fn the_matrix_covers_every_endpoint() {
    let tested: BTreeSet<&str> = API.iter().map(|(_, target, _)| path_of(target)).collect();
    let ruled: BTreeSet<&str> = rules::API.iter().map(|(path, _)| *path).collect();
    assert_eq!(
        tested, ruled,
        "the server's rules and this test's matrix list different endpoints"
    );
    // Every server function the application registers has a rule.
    let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_string())
        .collect();
    assert!(
        registered.len() > 20,
        "the server functions are registered: {registered:?}"
    );
    for path in &registered {
        assert!(
            ruled.contains(path.as_str()),
            "server function {path} has no access rule: add it to app::api::rules::API and to this test"
        );
    }
    for (_, target, who) in API {
        let expected = match who {
            Who::Anyone => rules::Rule::Public,
            Who::SignedIn => rules::Rule::SignedIn,
            Who::Admins => rules::Rule::Admin,
        };
        assert_eq!(rules::rule(path_of(target)), Some(expected), "{target}");
    }
}

fn call(client: &Client<'_>, method: &str, target: &str) -> support::Response {
    let body = (method == "POST").then_some(("application/json", "{}"));
    client.send(method, target, &[], body)
}

#[test]
fn anonymous_users_modelers_and_administrators_reach_what_they_may() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &["--db", "mem://", "--demo"]);
    let admin = server.admin();
    let modeler = server.modeler("mia");
    let anonymous = server.anonymous();

    for (method, target, who) in API {
        if *target == "/api/sign_out" {
            continue; // would end the sessions this test uses; tested below
        }
        let anon = call(&anonymous, method, target);
        match who {
            Who::Anyone => assert!(
                ![401, 403].contains(&anon.status),
                "anonymous {target}: {anon:?}"
            ),
            _ => assert_eq!(anon.status, 401, "anonymous {target}: {}", anon.body),
        }
        let as_modeler = call(&modeler, method, target);
        match who {
            Who::Admins => assert_eq!(
                as_modeler.status, 403,
                "modeler {target}: {}",
                as_modeler.body
            ),
            _ => assert!(
                ![401, 403].contains(&as_modeler.status),
                "modeler {target}: {as_modeler:?}"
            ),
        }
        let as_admin = call(&admin, method, target);
        assert!(
            ![401, 403].contains(&as_admin.status),
            "admin {target}: {as_admin:?}"
        );
    }

    for (page, who) in PAGES {
        let anon = anonymous.send("GET", page, &[], None);
        match who {
            Who::Anyone => assert_eq!(anon.status, 200, "anonymous {page}"),
            _ => {
                assert_eq!(anon.status, 303, "anonymous {page} is sent to sign in");
                let location = anon.header("location").unwrap_or_default();
                assert!(location.starts_with("/signin"), "{page} → {location}");
            }
        }
        let (status, body) = modeler.get(page);
        match who {
            Who::Admins => {
                assert_eq!(status, 403, "modeler {page}");
                assert!(body.contains("Administrators only"), "{body}");
                assert!(
                    !body.contains(">Users</a>"),
                    "the menu hides Administration"
                );
            }
            _ => assert_eq!(status, 200, "modeler {page}"),
        }
        let (status, body) = admin.get(page);
        assert_eq!(status, 200, "admin {page}");
        if *page == "/" {
            assert!(body.contains("Backup and Restore"), "admins see the menu");
        }
    }

    // An unknown endpoint is refused, not passed through.
    let unknown = call(&admin, "POST", "/api/no_such_function");
    assert_eq!(unknown.status, 404);
}

#[test]
fn the_sign_in_page_returns_to_where_the_user_was_going() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &["--db", "mem://"]);
    let response = server
        .anonymous()
        .send("GET", "/explorer/demo?folder=a1", &[], None);
    assert_eq!(response.status, 303);
    assert_eq!(
        response.header("location"),
        Some("/signin?next=/explorer/demo%3Ffolder%3Da1")
    );
}

#[test]
fn cross_site_state_changes_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &["--db", "mem://"]);
    let admin = server.admin();
    let create = |name: &str, headers: &[(&str, &str)], content_type: &str| {
        let body = format!(r#"{{"name": "{name}", "title": ""}}"#);
        admin.send(
            "POST",
            "/api/create_namespace",
            headers,
            Some((content_type, &body)),
        )
    };

    let forged = create(
        "forged1",
        &[("Origin", "http://evil.example")],
        "application/json",
    );
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert!(forged.body.contains("another site"), "{}", forged.body);
    let forged = create(
        "forged2",
        &[("Sec-Fetch-Site", "cross-site")],
        "application/json",
    );
    assert_eq!(forged.status, 403, "{}", forged.body);
    // A form post or an upload from another site is refused before it is even read.
    let forged = create(
        "forged3",
        &[("Sec-Fetch-Site", "cross-site")],
        "multipart/form-data; boundary=x",
    );
    assert_eq!(forged.status, 403, "{}", forged.body);
    let forged = create(
        "forged4",
        &[("Origin", "null")],
        "application/x-www-form-urlencoded",
    );
    assert_eq!(forged.status, 403, "{}", forged.body);

    let origin = server.base_url.clone();
    let fine = create(
        "genuine",
        &[("Origin", &origin), ("Sec-Fetch-Site", "same-origin")],
        "application/json",
    );
    assert_eq!(fine.status, 200, "{}", fine.body);

    let (_, list) = admin.post_json("/api/list_namespaces", "{}");
    assert!(list.contains("genuine"), "{list}");
    assert!(
        !list.contains("forged"),
        "nothing forged was created: {list}"
    );
}
