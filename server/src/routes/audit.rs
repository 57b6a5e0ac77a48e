//! `GET /api/audit.csv`: the audit log, or the part of it a filter picks, as a CSV file
//! (administrators only; the request guard refuses everyone else first).

use app::domain::{Services, audit};
use app::error::AppError;
use app::types::{AuditEntry, AuditFilter};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::StreamExt;
use serde::Deserialize;

use super::extract::{Admin, Query};
use super::problem::Problem;
use super::{AppState, content_disposition};

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/audit.csv", get(export_csv))
}

/// The filter, as the Audit Log page's address has it.
#[derive(Debug, Deserialize)]
pub struct FilterQuery {
    actor: Option<String>,
    action: Option<String>,
    target: Option<String>,
    from: Option<String>,
    until: Option<String>,
}

/// Entries read from the database at a time.
const CHUNK: usize = audit::MAX_PAGE;

/// Every matching entry, newest first, streamed a page at a time.
async fn export_csv(
    State(services): State<Services>,
    _: Admin,
    Query(query): Query<FilterQuery>,
) -> Result<Response, Problem> {
    let filter = AuditFilter::from_query(
        query.actor.as_deref(),
        query.action.as_deref(),
        query.target.as_deref(),
        query.from.as_deref(),
        query.until.as_deref(),
    )
    .map_err(AppError::BadRequest)?;
    let db = services.db.clone();
    let header_row = "at,actor,action,target,outcome,detail\r\n".to_string();
    // `Some(cursor)`: more to read after `cursor` (`None`: from the newest); `None`: done.
    let pages = futures_util::stream::unfold(Some(None::<String>), move |cursor| {
        let (db, filter) = (db.clone(), filter.clone());
        async move {
            let before = cursor?;
            match audit::page(&db, &filter, before.as_deref(), CHUNK).await {
                Ok(page) => {
                    let rows: String = page.entries.iter().map(csv_row).collect();
                    Some((Ok::<_, std::io::Error>(rows), page.older.map(Some)))
                }
                Err(error) => {
                    tracing::error!(%error, "the audit log export stopped");
                    Some((
                        Err(std::io::Error::other("the audit log could not be read")),
                        None,
                    ))
                }
            }
        }
    });
    let body = futures_util::stream::once(async move { Ok(header_row) }).chain(pages);
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    let name = format!(
        "audit-log_{}.csv",
        chrono::Utc::now().format("%Y-%m-%d_%H-%M-%S")
    );
    headers.insert(header::CONTENT_DISPOSITION, content_disposition(&name));
    Ok((headers, Body::from_stream(body)).into_response())
}

/// One entry as a CSV line.
fn csv_row(entry: &AuditEntry) -> String {
    let fields = [
        entry.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        entry.actor.clone(),
        entry.action.clone(),
        entry.target.clone(),
        entry.outcome.as_str().to_string(),
        entry.detail.clone(),
    ];
    let mut line = fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

/// A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break, quotes
/// doubled. A field that a spreadsheet would run as a formula (it starts with `=`, `+`, `-`,
/// `@`, a tab or a carriage return) is prefixed with `'`, so that a name someone typed at
/// the sign-in cannot become a formula in an administrator's spreadsheet.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1+2"), "'-1+2");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
    }
}
