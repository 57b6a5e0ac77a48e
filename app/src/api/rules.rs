//! Who may reach what: one rule for every server function and every plain HTTP route, and
//! one for every page. The server's request layer enforces them before anything runs; a
//! server function whose path is not listed here is refused for everyone (and the
//! authorization matrix test fails), so a new endpoint cannot be forgotten.

/// Who may reach an endpoint or a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rule {
    /// Everybody, signed in or not: the sign-in page and its server functions, the health
    /// check, the files of the page itself.
    Public,
    /// Every signed-in user. Folder permissions still apply inside.
    SignedIn,
    /// Administrators only: everything under Administration.
    Admin,
}

/// The message of a 401.
pub const SIGN_IN_FIRST: &str =
    "You are not signed in, or your session has ended. Sign in and try again.";

/// The message of a 403 for a non-administrator.
pub const ADMINS_ONLY: &str =
    "Only administrators may do this. Ask an administrator if you need it done.";

/// The message of a cross-site request.
pub const CROSS_SITE: &str = "This request came from another site and was refused. Open nsbackup directly (not through a link or form on another site) and try again.";

/// The rule of every server function and plain HTTP route under `/api/`.
pub const API: &[(&str, Rule)] = &[
    // Plain routes.
    ("/api/health", Rule::Public),
    ("/api/export", Rule::SignedIn),
    // Account.
    ("/api/current_user", Rule::Public),
    ("/api/sign_in", Rule::Public),
    ("/api/sign_out", Rule::Public),
    ("/api/change_own_password", Rule::SignedIn),
    ("/api/list_own_sessions", Rule::SignedIn),
    ("/api/end_own_sessions", Rule::SignedIn),
    // Overview.
    ("/api/get_server_status", Rule::SignedIn),
    // Explorer: namespaces are created, retitled and deleted by administrators.
    ("/api/list_namespaces", Rule::SignedIn),
    ("/api/create_namespace", Rule::Admin),
    ("/api/set_namespace_title", Rule::Admin),
    ("/api/delete_namespace", Rule::Admin),
    ("/api/get_namespace_tree", Rule::SignedIn),
    ("/api/create_folder", Rule::SignedIn),
    ("/api/rename_folder", Rule::SignedIn),
    ("/api/move_folder", Rule::SignedIn),
    ("/api/delete_folder", Rule::SignedIn),
    ("/api/set_folder_permissions", Rule::SignedIn),
    ("/api/list_items", Rule::SignedIn),
    ("/api/get_item", Rule::SignedIn),
    ("/api/create_item", Rule::SignedIn),
    ("/api/save_item_content", Rule::SignedIn),
    ("/api/rename_item", Rule::SignedIn),
    ("/api/move_item", Rule::SignedIn),
    ("/api/delete_item", Rule::SignedIn),
    ("/api/import_entry", Rule::SignedIn),
    // Administration.
    ("/api/list_users", Rule::Admin),
    ("/api/list_tokens", Rule::Admin),
    ("/api/create_token", Rule::Admin),
    ("/api/revoke_token", Rule::Admin),
    ("/api/create_user", Rule::Admin),
    ("/api/set_user_password", Rule::Admin),
    ("/api/set_user_role", Rule::Admin),
    ("/api/delete_user", Rule::Admin),
    ("/api/list_audit", Rule::Admin),
    ("/api/audit.csv", Rule::Admin),
    // Administration → Backup and Restore: every operation and every download.
    ("/api/list_backups", Rule::Admin),
    ("/api/list_backup_page", Rule::Admin),
    ("/api/create_backup", Rule::Admin),
    ("/api/delete_backup", Rule::Admin),
    ("/api/restore_backup", Rule::Admin),
    ("/api/list_jobs", Rule::Admin),
    ("/api/get_job", Rule::Admin),
    ("/api/pin_backup", Rule::Admin),
    ("/api/list_restore_points", Rule::Admin),
    ("/api/check_undo", Rule::Admin),
    ("/api/undo_restore", Rule::Admin),
    ("/api/preview_restore", Rule::Admin),
    ("/api/preview_progress", Rule::Admin),
    ("/api/list_restores", Rule::Admin),
    ("/api/list_schedules", Rule::Admin),
    ("/api/schedule_time_zones", Rule::Admin),
    ("/api/preview_schedule", Rule::Admin),
    ("/api/set_schedule", Rule::Admin),
    ("/api/pause_schedule", Rule::Admin),
    ("/api/delete_schedule", Rule::Admin),
    // Moved to /api/v1: answered with a redirect there, for administrators as before.
    ("/api/backups/download", Rule::Admin),
    ("/api/jobs/report", Rule::Admin),
    ("/api/backups/upload", Rule::Admin),
];

/// The OpenAPI document of `/api/v1/`.
pub const V1_DOCUMENT: &str = "/api/v1/openapi.json";

/// The page where users sign in.
pub const SIGN_IN_PAGE: &str = "/signin";

/// The rule for a request path; `None` for a path under `/api/` that has no rule (refused).
pub fn rule(path: &str) -> Option<Rule> {
    // The versioned API for scripts: its document is public, its operations are the
    // administrators' (unknown ones answer 404 there, as problem objects).
    if path == V1_DOCUMENT {
        return Some(Rule::Public);
    }
    if path.starts_with("/api/v1/") {
        return Some(Rule::Admin);
    }
    if path == "/api" || path.starts_with("/api/") {
        return API
            .iter()
            .find(|(endpoint, _)| *endpoint == path)
            .map(|(_, rule)| *rule);
    }
    Some(page_rule(path))
}

/// The rule for a page (or a static file).
pub fn page_rule(path: &str) -> Rule {
    if path == SIGN_IN_PAGE
        || path.starts_with("/pkg/")
        || path == "/favicon.svg"
        || path == "/favicon.ico"
    {
        Rule::Public
    } else if path == "/admin" || path.starts_with("/admin/") {
        Rule::Admin
    } else {
        Rule::SignedIn
    }
}

/// Where to go after signing in: `next` when it is a path on this site, otherwise the
/// overview. Never another site (an open redirect would help phishing).
///
/// Browsers drop tabs and line breaks anywhere in a URL and treat `\\` like `/`, so
/// `/\t/evil.example` would become `//evil.example`, another host. Rather than guess what
/// a browser makes of such a path, any path with a control character, a space of any kind
/// or a backslash is refused whole (nothing is stripped).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path
                    .chars()
                    .any(|c| c == '\\' || c.is_control() || c.is_whitespace())
                && !path.starts_with(SIGN_IN_PAGE) =>
        {
            path.to_string()
        }
        _ => "/".to_string(),
    }
}

/// The largest request body of server functions and routes that take small arguments:
/// names, ids, a few fields. Anything larger is refused with 413 before it is read.
pub const SMALL_BODY: usize = 64 * 1024;

/// The endpoints that take large bodies, each reading within a limit of its own: an item's
/// content, an export file to import, a backup file to upload.
pub const LARGE_BODIES: &[&str] = &[
    "/api/create_item",
    "/api/save_item_content",
    "/api/import_entry",
    "/api/backups/upload",
    "/api/v1/uploads",
];

/// The endpoints that take a backup file as the request's body.
pub const BACKUP_UPLOADS: &[&str] = &["/api/backups/upload", "/api/v1/uploads"];

/// Whether a declared content type may carry a backup file: a zip (under any of the names
/// browsers and systems give it), or bytes of no declared kind.
pub fn is_backup_file_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    matches!(
        essence.as_str(),
        "application/zip"
            | "application/x-zip-compressed"
            | "application/x-zip"
            | "application/octet-stream"
    )
}

/// The most bytes a request body to `path` may have, when it is capped at [`SMALL_BODY`];
/// `None` for the endpoints of [`LARGE_BODIES`].
pub fn body_limit(path: &str) -> Option<usize> {
    (!LARGE_BODIES.contains(&path)).then_some(SMALL_BODY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_api_paths_have_no_rule_and_pages_default_to_signed_in() {
        assert_eq!(rule("/api/no_such_function"), None);
        assert_eq!(rule("/api/list_users"), Some(Rule::Admin));
        assert_eq!(rule("/admin/backups"), Some(Rule::Admin));
        assert_eq!(rule("/administrators"), Some(Rule::SignedIn));
        assert_eq!(rule("/explorer/demo"), Some(Rule::SignedIn));
        assert_eq!(rule("/signin"), Some(Rule::Public));
        assert_eq!(rule("/pkg/nsbackup.wasm"), Some(Rule::Public));
    }

    #[test]
    fn sign_in_only_returns_to_this_site() {
        assert_eq!(
            safe_next(Some("/explorer/demo?folder=1")),
            "/explorer/demo?folder=1"
        );
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("/signin?next=/")), "/");
        for sneaky in [
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "/\u{0}/evil.example",
            "/ /evil.example",
            "/\u{3000}/evil.example",
            "/\u{7f}/evil.example",
        ] {
            assert_eq!(safe_next(Some(sneaky)), "/", "{sneaky:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
