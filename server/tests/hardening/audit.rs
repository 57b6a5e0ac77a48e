//! The audit log: every change recorded, filtered and exported, refused requests recorded
//! without flooding it.

use serde_json::json;

use super::mem_server;
use crate::support;

/// The audit entries that match `filter` (as the page sends it).
fn audit_entries(admin: &support::Client<'_>, filter: serde_json::Value) -> Vec<serde_json::Value> {
    admin.ok(
        "/api/list_audit",
        json!({ "before": null, "limit": 200, "filter": filter }),
    )["entries"]
        .as_array()
        .expect("entries")
        .clone()
}

#[test]
fn every_change_is_audited_and_the_log_is_filtered_and_exported() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = mem_server(&dir);
    let admin = server.admin();
    admin.ok(
        "/api/create_namespace",
        json!({ "name": "audited", "title": "" }),
    );
    admin.ok(
        "/api/set_namespace_title",
        json!({ "name": "audited", "title": "Audited" }),
    );
    let mira = server.modeler("mira");
    let folder = mira.ok(
        "/api/create_folder",
        json!({ "namespace": "audited", "parent": null, "name": "Plans" }),
    );
    mira.ok(
        "/api/rename_folder",
        json!({ "namespace": "audited", "id": folder["id"], "name": "Plans 2027" }),
    );
    let item = mira.ok(
        "/api/create_item",
        json!({ "namespace": "audited", "folder": folder["id"], "kind": "service", "name": "Billing" }),
    );
    mira.ok(
        "/api/save_item_content",
        json!({ "namespace": "audited", "id": item["id"], "content": "{}", "base_revision": 1 }),
    );
    // Refused: a modeler may not change the top level's permissions here.
    let body = json!({ "namespace": "audited", "id": folder["id"], "permissions": [] });
    assert_eq!(
        mira.post_json("/api/set_folder_permissions", &body.to_string())
            .0,
        403
    );
    let (status, _) = mira.get(&format!(
        "/api/export?namespace=audited&folder={}",
        folder["id"].as_str().expect("id")
    ));
    assert_eq!(status, 200);
    admin.ok(
        "/api/move_item",
        json!({ "namespace": "audited", "id": item["id"], "folder": null }),
    );
    admin.ok(
        "/api/delete_item",
        json!({ "namespace": "audited", "id": item["id"] }),
    );

    let by_mira = audit_entries(&admin, json!({ "actor": "MIRA" }));
    let actions: Vec<&str> = by_mira
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for expected in [
        "folder create",
        "folder rename",
        "item create",
        "item save",
        "folder permissions",
        "export",
    ] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
    assert!(by_mira.iter().all(|e| e["actor"] == "mira"));
    let refused = by_mira
        .iter()
        .find(|e| e["action"] == "folder permissions")
        .expect("refused change");
    assert_eq!(refused["outcome"], "refused");
    let renamed = by_mira
        .iter()
        .find(|e| e["action"] == "folder rename")
        .expect("rename");
    assert_eq!(renamed["target"], "audited");
    assert!(
        renamed["detail"]
            .as_str()
            .is_some_and(|d| d.contains("Plans 2027")),
        "{renamed}"
    );

    let deletes = audit_entries(&admin, json!({ "action": "item delete" }));
    assert_eq!(deletes.len(), 1, "{deletes:?}");
    assert_eq!(deletes[0]["actor"], "admin");
    let namespaces = audit_entries(&admin, json!({ "target": "AUDIT" }));
    assert!(
        namespaces
            .iter()
            .any(|e| e["action"] == "namespace retitle")
    );
    assert!(
        namespaces
            .iter()
            .all(|e| e["target"].as_str().is_some_and(|t| t.contains("audit")))
    );
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1))
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc();
    let old = audit_entries(&admin, json!({ "until": yesterday }));
    assert!(old.is_empty(), "{old:?}");

    // The CSV export takes the same filter; a name typed at sign-in cannot become a formula.
    let (status, _) = server.post_json(
        "/api/sign_in",
        &json!({ "name": "=HYPERLINK(1)", "password": "whatever-password" }).to_string(),
    );
    assert_eq!(status, 400);
    let (status, head, csv) = admin.exchange("GET", "/api/audit.csv?actor=mira", &[], None);
    assert_eq!(status, 200, "{head}");
    assert!(head.to_ascii_lowercase().contains("text/csv"), "{head}");
    let csv = String::from_utf8(csv).expect("utf-8");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("at,actor,action,target,outcome,detail"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), by_mira.len(), "{csv}");
    assert!(
        rows.iter().all(|row| row.split(',').nth(1) == Some("mira")),
        "{csv}"
    );
    let (_, _, all) = admin.exchange("GET", "/api/audit.csv", &[], None);
    let all = String::from_utf8(all).expect("utf-8");
    assert!(all.contains("'=HYPERLINK(1)"), "{all}");
    let (status, _, _) = admin.exchange("GET", "/api/audit.csv?from=yesterday", &[], None);
    assert_eq!(status, 400);
}

#[test]
fn refused_requests_are_audited_without_flooding_the_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = mem_server(&dir);
    let mira = server.modeler("mira");
    for _ in 0..20 {
        assert_eq!(server.post_json("/api/list_namespaces", "{}").0, 401);
        assert_eq!(mira.post_json("/api/list_users", "{}").0, 403);
    }
    let admin = server.admin();
    let refused = audit_entries(&admin, json!({ "action": "request refused" }));
    let anonymous = refused
        .iter()
        .filter(|e| e["actor"] == "(anonymous)" && e["target"] == "/api/list_namespaces")
        .count();
    let modeler = refused
        .iter()
        .filter(|e| e["actor"] == "mira" && e["target"] == "/api/list_users")
        .count();
    assert_eq!((anonymous, modeler), (1, 1), "{refused:?}");
}
