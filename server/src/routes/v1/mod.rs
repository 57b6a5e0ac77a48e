//! `/api/v1/…`: the versioned HTTP API for scripts. JSON in and out, errors as a problem
//! object (`{"code", "status", "message", "next"}`) with a stable code, authentication by
//! `Authorization: Bearer TOKEN` (or an administrator's session). Every route is registered
//! through [`utoipa_axum`], so the OpenAPI document at `/api/v1/openapi.json` is generated
//! from the same handlers and cannot miss one. The operations are the backup engine's, the
//! same the page's server functions call.

mod backups;
mod jobs;
mod restores;
mod schedules;
pub mod wire;

pub use super::problem::{Code, Problem};

use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

/// The prefix of every route of this API.
pub const PREFIX: &str = "/api/v1";

/// The document's frame: title, version, the bearer scheme every operation uses.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "nsbackup API",
        description = "Backups of whole namespaces for scripts. Authenticate with `Authorization: Bearer TOKEN` (Administration → API tokens, or `nsbackup token create`). Errors are problem objects: a stable `code`, the `status`, a `message` for a person and the `next` step.",
    ),
    modifiers(&BearerAuth),
    components(schemas(Problem, Code)),
    security(("bearer" = [])),
    tags(
        (name = "backups", description = "Backups of namespaces"),
        (name = "jobs", description = "Backups, restores and undos on the server"),
        (name = "restores", description = "Restores, their preview, and undoing them"),
        (name = "schedules", description = "Scheduled backups and their retention"),
    ),
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A personal API token: nsb_…"))
                    .build(),
            ),
        );
    }
}

/// Every operation refuses a caller without a working token (401) and one who is no
/// administrator (403), before it looks at anything else of the request ([`extract::Admin`]):
/// both are in the document once, here, for every operation.
struct RefusedCallers;

impl Modify for RefusedCallers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let problem = || {
            Content::builder()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                for (status, description) in
                    [("401", "No working token"), ("403", "Not an administrator")]
                {
                    operation.responses.responses.insert(
                        status.to_string(),
                        ResponseBuilder::new()
                            .description(description)
                            .content("application/problem+json", problem())
                            .build()
                            .into(),
                    );
                }
            }
        }
    }
}

/// The routes, and the OpenAPI document made from them.
pub fn router() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, api) = OpenApiRouter::<AppState>::with_openapi(ApiDoc::openapi())
        .routes(routes!(backups::list_backups, backups::create_backup))
        .routes(routes!(backups::get_backup, backups::delete_backup))
        .routes(routes!(backups::download_backup))
        .routes(routes!(backups::upload_backup))
        .routes(routes!(jobs::get_job))
        .routes(routes!(jobs::list_jobs))
        .routes(routes!(jobs::job_events))
        .routes(routes!(jobs::all_job_events))
        .routes(routes!(jobs::get_report))
        .routes(routes!(restores::restore_backup))
        .routes(routes!(restores::preview_restore))
        .routes(routes!(restores::list_restore_points))
        .routes(routes!(restores::undo_restore))
        .routes(routes!(schedules::list_schedules))
        .routes(routes!(schedules::set_schedule, schedules::delete_schedule))
        .routes(routes!(schedules::pause_schedule))
        .routes(routes!(schedules::resume_schedule))
        .routes(routes!(schedules::preview_schedule))
        .split_for_parts();
    let mut api = api;
    RefusedCallers.modify(&mut api);
    let document = api.clone();
    let router = router
        .route(
            &format!("{PREFIX}/openapi.json"),
            axum::routing::get(move || {
                let document = document.clone();
                async move { axum::Json(document) }
            }),
        )
        .route(
            &format!("{PREFIX}/{{*rest}}"),
            axum::routing::any(no_such_operation),
        );
    (router, api)
}

/// Any path under `/api/v1/` that is no operation.
async fn no_such_operation(uri: axum::http::Uri) -> Problem {
    Problem::new(
        Code::NotFound,
        format!("There is no operation `{}` in this API.", uri.path()),
    )
}
