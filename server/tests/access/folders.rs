//! Folder permissions: what a modeler sees and changes.

use crate::support::{Client, Server};

#[test]
fn folder_permissions_decide_what_a_modeler_sees_and_changes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &["--db", "mem://"]);
    let admin = server.admin();
    let mia = server.modeler("mia");
    let ok = |client: &Client<'_>, path: &str, body: serde_json::Value| {
        let (status, answer) = client.post_json(path, &body.to_string());
        assert_eq!(status, 200, "{path}: {answer}");
        serde_json::from_str::<serde_json::Value>(&answer).expect("json")
    };
    ok(
        &admin,
        "/api/create_namespace",
        serde_json::json!({"name": "ops", "title": ""}),
    );
    let folder = |name: &str| {
        ok(
            &admin,
            "/api/create_folder",
            serde_json::json!({"namespace": "ops", "parent": null, "name": name}),
        )["id"]
            .as_str()
            .expect("id")
            .to_string()
    };
    let (open, readonly, secret) = (folder("Open"), folder("Readonly"), folder("Secret"));
    let set = |id: &str, permissions: serde_json::Value| {
        ok(
            &admin,
            "/api/set_folder_permissions",
            serde_json::json!({"namespace": "ops", "id": id, "permissions": permissions}),
        );
    };
    set(
        &readonly,
        serde_json::json!([{"principal": {"kind": "role", "name": "modeler"}, "access": "read"}]),
    );
    set(&secret, serde_json::json!([]));

    let tree = ok(
        &mia,
        "/api/get_namespace_tree",
        serde_json::json!({"namespace": "ops"}),
    );
    let names: Vec<&str> = tree["folders"]
        .as_array()
        .expect("folders")
        .iter()
        .map(|f| f["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["Open", "Readonly"], "Secret is hidden from mia");

    let create_in = |client: &Client<'_>, id: &str| {
        client.post_json(
            "/api/create_item",
            &serde_json::json!({"namespace": "ops", "folder": id, "kind": "service", "name": "S"})
                .to_string(),
        )
    };
    assert_eq!(create_in(&mia, &open).0, 200, "write in Open");
    let (status, body) = create_in(&mia, &readonly);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("write access"), "{body}");
    assert_eq!(
        create_in(&mia, &secret).0,
        404,
        "Secret does not exist for mia"
    );
    assert_eq!(
        create_in(&admin, &secret).0,
        200,
        "admins manage everything"
    );
    let (status, _) = mia.post_json(
        "/api/set_folder_permissions",
        &serde_json::json!({"namespace": "ops", "id": open, "permissions": null}).to_string(),
    );
    assert_eq!(status, 403, "changing permissions needs manage");
    let export = mia.send(
        "GET",
        &format!("/api/export?namespace=ops&folder={secret}"),
        &[],
        None,
    );
    assert_eq!(export.status, 404, "no export of what mia may not see");

    // What mia saved is recorded under her name.
    let items = ok(
        &mia,
        "/api/list_items",
        serde_json::json!({"namespace": "ops", "folder": open}),
    );
    assert_eq!(items[0]["updated_by"], "mia");
}
