//! Restores: start one, preview one, a namespace's restore points, undo.

use app::domain::Services;
use app::domain::backup;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::wire::Job;
use crate::routes::extract::{Admin, Body, PassphraseHeader, Query};
use crate::routes::problem::Problem;

/// Where to restore a backup.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RestoreInto {
    /// The namespace to replace (or to create, when there is none of that name).
    pub namespace: String,
    /// The passphrase of a backup encrypted with one.
    #[serde(default)]
    pub passphrase: Option<String>,
}

/// Restores a backup into a namespace, all or nothing; follow its job. The namespace's
/// content before it is kept as a restore point (see undo).
#[utoipa::path(
    post, path = "/api/v1/backups/{id}/restore", tag = "restores",
    params(("id" = String, Path, description = "The backup's id")),
    request_body = RestoreInto,
    responses(
        (status = 202, description = "Started", body = Job),
        (status = 400, description = "The body does not parse", body = Problem),
        (status = 404, description = "No such backup", body = Problem),
        (status = 409, description = "A backup or restore of the namespace is running", body = Problem),
        (status = 422, description = "A backup that cannot be restored here, a namespace name that cannot be, or a passphrase missing or wrong", body = Problem),
    )
)]
pub(super) async fn restore_backup(
    State(services): State<Services>,
    Admin(actor): Admin,
    Path(id): Path<String>,
    Body(into): Body<RestoreInto>,
) -> Result<(StatusCode, axum::Json<Job>), Problem> {
    let passphrase = backup::passphrase_to_open(into.passphrase)?;
    let engine = &services.backups;
    let job =
        backup::restore_with_passphrase(engine, &id, &into.namespace, &actor.name, passphrase)
            .await?;
    Ok((StatusCode::ACCEPTED, axum::Json(job.into())))
}

/// Which namespace a preview is for.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PreviewQuery {
    /// The namespace the restore would replace.
    namespace: String,
}

/// What restoring a backup into a namespace would do, changing nothing.
#[utoipa::path(
    get, path = "/api/v1/backups/{id}/preview", tag = "restores",
    params(
        ("id" = String, Path, description = "The backup's id"),
        PreviewQuery,
        ("Backup-Passphrase" = Option<String>, Header, description = "The passphrase of a backup encrypted with one, percent-encoded"),
    ),
    responses(
        (status = 200, description = "What the restore would do", body = app::types::RestorePreview),
        (status = 404, description = "No such backup", body = Problem),
        (status = 422, description = "A backup that cannot be restored here, or a passphrase missing or wrong", body = Problem),
    )
)]
pub(super) async fn preview_restore(
    State(services): State<Services>,
    _: Admin,
    Path(id): Path<String>,
    Query(query): Query<PreviewQuery>,
    PassphraseHeader(passphrase): PassphraseHeader,
) -> Result<axum::Json<app::types::RestorePreview>, Problem> {
    let passphrase = backup::passphrase_to_open(passphrase)?;
    let engine = &services.backups;
    Ok(axum::Json(
        backup::preview::preview_with_passphrase(engine, &id, &query.namespace, passphrase).await?,
    ))
}

/// The restore points of a namespace: the content restores (and undos) replaced, newest
/// first, while they are kept.
#[utoipa::path(
    get, path = "/api/v1/namespaces/{namespace}/restore-points", tag = "restores",
    params(("namespace" = String, Path, description = "The namespace")),
    responses(
        (status = 200, description = "Its restore points", body = Vec<app::types::RestorePoint>),
    )
)]
pub(super) async fn list_restore_points(
    State(services): State<Services>,
    _: Admin,
    Path(namespace): Path<String>,
) -> Result<axum::Json<Vec<app::types::RestorePoint>>, Problem> {
    Ok(axum::Json(
        backup::undo::restore_points(&services.backups, Some(&namespace)).await?,
    ))
}

/// Which restore point to switch back to.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UndoTo {
    /// The restore point's `generation`.
    pub generation: String,
}

/// Switches a namespace back to one of its restore points, in one transaction; its content
/// until then becomes a restore point in turn. Edits made since are discarded: the page
/// asks first, a script decides itself (`GET …/restore-points` and the job report say what).
#[utoipa::path(
    post, path = "/api/v1/namespaces/{namespace}/undo", tag = "restores",
    params(("namespace" = String, Path, description = "The namespace")),
    request_body = UndoTo,
    responses(
        (status = 200, description = "Switched back: the point it switched to", body = app::types::RestorePoint),
        (status = 400, description = "The body does not parse", body = Problem),
        (status = 404, description = "No such restore point (used or expired)", body = Problem),
        (status = 409, description = "A backup or restore of the namespace is running", body = Problem),
    )
)]
pub(super) async fn undo_restore(
    State(services): State<Services>,
    Admin(actor): Admin,
    Path(namespace): Path<String>,
    Body(to): Body<UndoTo>,
) -> Result<axum::Json<app::types::RestorePoint>, Problem> {
    Ok(axum::Json(
        backup::undo::undo(&services.backups, &namespace, &to.generation, &actor.name).await?,
    ))
}
