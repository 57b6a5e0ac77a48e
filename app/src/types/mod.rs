//! Wire types: what the server sends to the browser and back. Plain data, the same on both sides,
//! one area a file: content, accounts, the audit log, backups.

mod accounts;
mod audit;
mod backups;
mod content;
mod schedules;

pub use self::accounts::*;
pub use self::audit::*;
pub use self::backups::*;
pub use self::content::*;
pub use self::schedules::*;

use serde::{Deserialize, Serialize};

/// The schema version of the data this build writes and reads (the database, exports and
/// backups record it; `domain::schema` holds the migrations up to it).
pub const SCHEMA_VERSION: u32 = 3;

/// Where a backup's file is downloaded (`GET`, administrators; a `Range` resumes).
pub fn backup_download_path(backup: &str) -> String {
    format!("/api/v1/backups/{backup}/download")
}

/// Where a finished restore's (or undo's) report is downloaded, as a JSON file.
pub fn report_path(job: &str) -> String {
    format!("/api/v1/jobs/{job}/report")
}

/// The job whose report `detail` (an audit entry's) names, and where in it that is: the
/// path of [`report_path`], or `/api/jobs/report?id=JOB` as older entries wrote it.
pub fn report_named_in(detail: &str) -> Option<(std::ops::Range<usize>, &str)> {
    let id_at = |at: usize| {
        let len = detail[at..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .unwrap_or(detail.len() - at);
        &detail[at..at + len]
    };
    const OLDER: &str = "/api/jobs/report?id=";
    const NOW: &str = "/api/v1/jobs/";
    if let Some(at) = detail.find(NOW) {
        let job = id_at(at + NOW.len());
        let end = at + NOW.len() + job.len();
        if !job.is_empty() && detail[end..].starts_with("/report") {
            return Some((at..end + "/report".len(), job));
        }
    }
    let at = detail.find(OLDER)?;
    let job = id_at(at + OLDER.len());
    (!job.is_empty()).then_some((at..at + OLDER.len() + job.len(), job))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_found_in_audit_details_old_and_new() {
        let now = format!("from Daily (report: {}).", report_path("abc123"));
        let (span, job) = report_named_in(&now).expect("named");
        assert_eq!((job, &now[span]), ("abc123", "/api/v1/jobs/abc123/report"));
        let older = "from Daily (report: /api/jobs/report?id=0f9e).";
        let (span, job) = report_named_in(older).expect("named");
        assert_eq!((job, &older[span]), ("0f9e", "/api/jobs/report?id=0f9e"));
        assert_eq!(report_named_in("from Daily: the store refused"), None);
        assert_eq!(report_named_in("/api/v1/jobs/x/events"), None);
    }
}

/// What the server says about itself: its version, its data's schema version and whether its
/// database answers. Served by `GET /api/health` and shown on the overview page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerStatus {
    /// The application's version (`CARGO_PKG_VERSION`).
    pub version: String,
    /// The schema version this build of the application writes and reads.
    pub schema_version: u32,
    /// The schema version the database reports, when it answers.
    pub database_schema_version: Option<u32>,
    /// Whether the database answered a query just now.
    pub database_ok: bool,
}

impl ServerStatus {
    /// The status word shown to people and returned by the health endpoint.
    pub fn status(&self) -> &'static str {
        if self.database_ok { "ok" } else { "degraded" }
    }
}

/// What the page reads of an accepted upload's answer (`POST /api/v1/uploads`, whose
/// whole shape is the API's `UploadedBackup`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uploaded {
    pub backup: UploadedName,
    /// What to know about the file, when there is something: that the same file is listed
    /// already (it is listed again, never overwritten), or that a newer nsbackup made it.
    pub note: Option<String>,
}

/// The name an upload was listed under.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadedName {
    pub name: String,
}

/// What the page shows of a refusal of a plain route (a problem object: `{"code",
/// "status", "message", "next"}`): its message for a person, which says what to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemMessage {
    pub message: String,
}
