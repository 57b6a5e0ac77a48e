//! The compiled web assets under `/pkg/` (the WebAssembly bundle, its JavaScript and the
//! stylesheet), and how every answer is cached.
//!
//! A release build (`make release`) names its bundle after the content's hash and writes
//! `hash.txt` into the site; files so named never change, so browsers keep them for a year
//! without asking again. Its `.br` and `.gz` twins are sent to browsers that accept them.
//! Everything else — pages, server functions, files of a development build — is `no-cache`:
//! kept, but checked with the server before each use.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
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
    if response.status().is_success() || response.status() == axum::http::StatusCode::NOT_MODIFIED {
        let value = if immutable { IMMUTABLE } else { REVALIDATE };
        response.headers_mut().insert(header::CACHE_CONTROL, value);
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

    #[test]
    fn a_site_without_hash_file_names_nothing_immutable() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let hashes = Hashes::read(dir.path());
        assert!(!hashes.any());
        assert!(!hashes.names("/pkg/nsbackup.js"));
    }
}
