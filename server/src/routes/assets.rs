//! The compiled web assets under `/pkg/` (the WebAssembly bundle, its JavaScript and the
//! stylesheet), and how every answer is cached.
//!
//! A release build (`make release`) names its bundle after the content's hash and writes
//! `hash.txt` into the site; files so named never change, so browsers keep them for a year
//! without asking again. Its `.br` and `.gz` twins are sent to browsers that accept them.
//! Everything else — pages, server functions, files of a development build — is `no-cache`:
//! kept, but checked with the server before each use.
//!
//! Pages and JSON answers are compressed on the way out ([`compression`]); downloads and event
//! streams are not.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, Version, header};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::services::ServeDir;

/// The file cargo-leptos writes beside the site when it hashes the file names.
pub const HASH_FILE: &str = "hash.txt";

/// How long a browser may keep a file whose name carries its content's hash.
const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
/// Keep, but ask the server (with the validators it sent) before every use.
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");

/// The content hashes in the names of the site's files, as `hash.txt` lists them (`js: …`,
/// `wasm: …`, `css: …`); empty for a build that does not hash its file names.
#[derive(Clone, Debug, Default)]
pub struct Hashes(Arc<Vec<String>>);

impl Hashes {
    /// Reads `<site_root>/hash.txt`; a site without one has no hashed names.
    pub fn read(site_root: &Path) -> Self {
        let Ok(text) = std::fs::read_to_string(hash_file(site_root)) else {
            return Self::default();
        };
        let hashes = text
            .lines()
            .filter_map(|line| line.split_once(':'))
            .map(|(_, hash)| hash.trim().to_string())
            .filter(|hash| hash.len() >= 8)
            .collect();
        Self(Arc::new(hashes))
    }

    /// Whether the build hashed its file names.
    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }

    /// Whether the file at `path` is named after its content (and so never changes).
    fn names(&self, path: &str) -> bool {
        let name = path.rsplit('/').next().unwrap_or(path);
        self.0
            .iter()
            .any(|hash| name.contains(&format!(".{hash}.")))
    }
}

/// Where a site keeps its `hash.txt`.
pub fn hash_file(site_root: &Path) -> PathBuf {
    site_root.join(HASH_FILE)
}

/// `/pkg/…`: the bundle, sent as its precompressed twin when the browser accepts one.
pub fn router<S: Clone + Send + Sync + 'static>(site_root: &Path, hashes: Hashes) -> Router<S> {
    let files = ServeDir::new(site_root.join("pkg"))
        .precompressed_br()
        .precompressed_gzip();
    Router::new()
        .nest_service("/pkg", files)
        .layer(axum::middleware::from_fn_with_state(hashes, cache_assets))
}

async fn cache_assets(State(hashes): State<Hashes>, request: Request, next: Next) -> Response {
    let immutable = hashes.names(request.uri().path());
    let mut response = next.run(request).await;
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        let value = if immutable { IMMUTABLE } else { REVALIDATE };
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, value);
        // The same name answers with its .br, .gz or plain twin: caches on the way must
        // keep them apart.
        if !headers.contains_key(header::VARY) {
            headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
    }
    response
}

/// Every answer that says nothing of caching is revalidated: pages and server functions
/// answer for one user at one moment.
pub fn default_cache_control(response: &mut Response) {
    response
        .headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(REVALIDATE);
}

/// The types of answer worth compressing: text a browser reads (pages, JSON, scripts, styles).
const COMPRESSIBLE: [&str; 7] = [
    "text/html",
    "application/json",
    "application/problem+json",
    "text/javascript",
    "application/javascript",
    "text/css",
    "image/svg+xml",
];

/// Whether an answer is compressed on the way out: text of the [`COMPRESSIBLE`] types, never a
/// download (`Content-Disposition: attachment` — a backup, a CSV export: the browser shows its
/// size and may ask for ranges of it) and, as tower-http's default already says, never an event
/// stream or an answer too small to gain.
fn worth_compressing(_: StatusCode, _: Version, headers: &HeaderMap, _: &Extensions) -> bool {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    let download = headers
        .get(header::CONTENT_DISPOSITION)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim_start().starts_with("attachment"));
    COMPRESSIBLE
        .iter()
        .any(|kind| essence.eq_ignore_ascii_case(kind))
        && !download
}

/// Compression of pages and JSON (brotli or gzip, as the browser accepts), at tower-http's
/// default level (brotli 4, gzip 6): an answer is made for one request, so its compression
/// must take little time (the fastest level made brotli larger than gzip). The release
/// bundle comes precompressed at the best level instead.
pub fn compression() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new()
        .quality(CompressionLevel::Default)
        .compress_when(DefaultPredicate::new().and(worth_compressing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_named_after_a_listed_hash_are_immutable() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(
            dir.path().join(HASH_FILE),
            "js: Ab3dEf9hIjKlMnOpQrStUv\nwasm: Zz9yXw8vUt7sRq6pOn5mLk\ncss: c55HashOfTheStyle0001\n",
        )
        .expect("hash.txt written");
        let hashes = Hashes::read(dir.path());
        assert!(hashes.any());
        assert!(hashes.names("/pkg/nsbackup.Ab3dEf9hIjKlMnOpQrStUv.js"));
        assert!(hashes.names("/pkg/nsbackup.Zz9yXw8vUt7sRq6pOn5mLk.wasm"));
        assert!(hashes.names("/pkg/nsbackup.c55HashOfTheStyle0001.css"));
        assert!(!hashes.names("/pkg/nsbackup.js"));
        assert!(!hashes.names("/pkg/Ab3dEf9hIjKlMnOpQrStUv/other.js"));
    }

    fn compressed(content_type: &str, disposition: Option<&str>) -> bool {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(content_type).expect("a header"),
        );
        if let Some(disposition) = disposition {
            headers.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(disposition).expect("a header"),
            );
        }
        worth_compressing(
            StatusCode::OK,
            Version::HTTP_11,
            &headers,
            &Extensions::new(),
        )
    }

    #[test]
    fn pages_and_json_are_compressed_downloads_and_streams_are_not() {
        assert!(compressed("text/html; charset=utf-8", None));
        assert!(compressed("application/json", None));
        assert!(compressed("application/problem+json", None));
        assert!(!compressed(
            "application/json",
            Some("attachment; filename=\"report.json\"")
        ));
        assert!(!compressed(
            "text/csv; charset=utf-8",
            Some("attachment; filename=\"audit.csv\"")
        ));
        assert!(!compressed("application/zip", None));
        assert!(!compressed("text/event-stream", None));
        assert!(!compressed("application/wasm", None));
    }

    #[test]
    fn a_site_without_hash_file_names_nothing_immutable() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let hashes = Hashes::read(dir.path());
        assert!(!hashes.any());
        assert!(!hashes.names("/pkg/nsbackup.js"));
    }
}
