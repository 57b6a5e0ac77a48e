//! Folders and names: the depth cap, a hidden folder's name, permissions an import would
//! grant, names that spoof what administrators read.

use serde_json::json;

use super::mem_server;

#[test]
fn a_chain_of_folders_is_capped_at_its_depth_and_still_renders() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = mem_server(&dir);
    let admin = server.admin();
    admin.ok(
        "/api/create_namespace",
        json!({ "name": "deep", "title": "" }),
    );
    let mira = server.modeler("mira");
    let mut parent: Option<String> = None;
    for level in 1..=app::validate::FOLDER_DEPTH_MAX {
        let folder = mira.ok(
            "/api/create_folder",
            json!({ "namespace": "deep", "parent": parent, "name": format!("Level {level}") }),
        );
        parent = folder["id"].as_str().map(str::to_string);
    }
    let body = json!({ "namespace": "deep", "parent": parent, "name": "One too deep" });
    let (status, answer) = mira.post_json("/api/create_folder", &body.to_string());
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("at most 64 levels"), "{answer}");

    // The page of the namespace, rendered on the server, shows the deepest folder, and the
    // server is still there afterwards.
    let (status, page) = mira.get("/explorer/deep");
    assert_eq!(status, 200);
    assert!(
        page.contains("Level 64"),
        "the deepest folder is in the tree"
    );
    let (status, tree) = mira.post_json("/api/get_namespace_tree", r#"{"namespace":"deep"}"#);
    assert_eq!(status, 200, "{tree}");
    let (status, _) = server.get("/api/health");
    assert_eq!(status, 200);

    // Moving a branch of two folders below level 63 would make level 65.
    let top = admin.ok(
        "/api/create_folder",
        json!({ "namespace": "deep", "parent": null, "name": "Branch" }),
    );
    admin.ok(
        "/api/create_folder",
        json!({ "namespace": "deep", "parent": top["id"], "name": "Twig" }),
    );
    let tree: serde_json::Value = serde_json::from_str(&tree).expect("json");
    let level_63 = tree["folders"]
        .as_array()
        .expect("folders")
        .iter()
        .find(|f| f["name"] == "Level 63")
        .expect("level 63")["id"]
        .clone();
    let body = json!({ "namespace": "deep", "id": top["id"], "parent": level_63 });
    let (status, answer) = admin.post_json("/api/move_folder", &body.to_string());
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("at most 64 levels"), "{answer}");
}

#[test]
fn a_hidden_folder_s_name_is_not_revealed_by_a_clash() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = mem_server(&dir);
    let admin = server.admin();
    admin.ok(
        "/api/create_namespace",
        json!({ "name": "shared", "title": "" }),
    );
    let secret = admin.ok(
        "/api/create_folder",
        json!({ "namespace": "shared", "parent": null, "name": "secret" }),
    );
    admin.ok(
        "/api/set_folder_permissions",
        json!({ "namespace": "shared", "id": secret["id"], "permissions": [
            { "principal": { "kind": "user", "name": "admin" }, "access": "manage" }
        ] }),
    );
    let mira = server.modeler("mira");
    mira.ok(
        "/api/create_folder",
        json!({ "namespace": "shared", "parent": null, "name": "visible" }),
    );
    let create = |name: &str| {
        let body = json!({ "namespace": "shared", "parent": null, "name": name });
        mira.post_json("/api/create_folder", &body.to_string())
    };
    let (hidden_status, hidden) = create("secret");
    let (seen_status, seen) = create("visible");
    assert_eq!((hidden_status, seen_status), (409, 409));
    assert_eq!(
        hidden.replace("secret", "NAME"),
        seen.replace("visible", "NAME"),
        "a clash with a hidden folder reads exactly like one with a visible folder"
    );
    assert!(!hidden.contains("exists"), "{hidden}");
}

#[test]
fn an_import_cannot_grant_what_the_importer_may_not_manage() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = mem_server(&dir);
    let admin = server.admin();
    admin.ok(
        "/api/create_namespace",
        json!({ "name": "team", "title": "" }),
    );
    let mira = server.modeler("mira");
    let work = mira.ok(
        "/api/create_folder",
        json!({ "namespace": "team", "parent": null, "name": "Work" }),
    );
    // An export file whose folder grants its importer manage.
    let file = json!({
        "format": "nsbackup-export", "format_version": 1, "schema_version": app::domain::schema::SCHEMA_VERSION,
        "app_version": "1", "exported_at": "2026-01-01T00:00:00Z", "namespace": "elsewhere",
        "folders": [{ "id": "f1", "parent": null, "name": "Mine now", "permissions": [
            { "principal": { "kind": "user", "name": "mira" }, "access": "manage" }
        ] }],
        "items": []
    });
    let report = mira.ok(
        "/api/import_entry",
        json!({ "namespace": "team", "folder": work["id"], "file": file.to_string(), "policy": "Refuse" }),
    );
    assert_eq!(report["permissions_dropped"], 1, "{report}");
    let tree = mira.ok("/api/get_namespace_tree", json!({ "namespace": "team" }));
    let imported = tree["folders"]
        .as_array()
        .expect("folders")
        .iter()
        .find(|f| f["name"] == "Mine now")
        .expect("imported")
        .clone();
    assert_eq!(imported["permissions"], serde_json::Value::Null);
    assert_eq!(imported["access"], "write", "{imported}");
    let body = json!({ "namespace": "team", "id": imported["id"], "permissions": [] });
    let (status, answer) = mira.post_json("/api/set_folder_permissions", &body.to_string());
    assert_eq!(status, 403, "{answer}");

    // An administrator (who manages everything) imports the permissions as they are.
    let report = admin.ok(
        "/api/import_entry",
        json!({ "namespace": "team", "folder": null, "file": file.to_string(), "policy": "Refuse" }),
    );
    assert_eq!(report["permissions_dropped"], 0, "{report}");
}

#[test]
fn names_that_spoof_what_administrators_read_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = mem_server(&dir);
    let admin = server.admin();
    admin.ok(
        "/api/create_namespace",
        json!({ "name": "names", "title": "" }),
    );
    for name in ["invoice\u{202e}fdp.exe", "Orders\u{200b}"] {
        let body = json!({ "namespace": "names", "parent": null, "name": name });
        let (status, answer) = admin.post_json("/api/create_folder", &body.to_string());
        assert_eq!(status, 400, "{answer}");
        assert!(answer.contains("invisible"), "{answer}");
    }
    let body = json!({ "name": "names", "title": "Sales\u{2066}" });
    let (status, answer) = admin.post_json("/api/set_namespace_title", &body.to_string());
    assert_eq!(status, 400, "{answer}");
    let body = json!({ "name": "ev\u{200d}e", "role": "modeler", "password": "long-enough-pw" });
    let (status, answer) = admin.post_json("/api/create_user", &body.to_string());
    assert_eq!(status, 400, "{answer}");
}
