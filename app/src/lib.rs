//! nsbackup's application: the pages and components (rendered on the server and hydrated in
//! the browser), the wire types and server functions, and — on the server only — the domain.

// Leptos' view types nest deeply; builds without `--cfg erase_components` (the fuzz target's)
// need more than the default limit.
#![recursion_limit = "256"]

pub mod api;
pub mod components;
#[cfg(feature = "ssr")]
pub mod domain;
pub mod error;
pub mod pages;
pub mod text;
pub mod types;
pub mod validate;

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use components::layout::Layout;
use pages::{
    admin::{AuditLogPage, UsersPage},
    backups::BackupAndRestorePage,
    explorer::ExplorerPage,
    not_found::NotFoundPage,
    overview::OverviewPage,
    signin::{AccountPage, SignInPage},
};

/// Picks the colour theme before the first paint, so that a dark theme never flashes light.
const THEME_SCRIPT: &str = "try{var t=localStorage.getItem('nsbackup-theme');\
if(t!=='dark'&&t!=='light'){t=matchMedia('(prefers-color-scheme: dark)').matches?'dark':'light'}\
document.documentElement.dataset.theme=t}catch(e){}";

/// The Content-Security-Policy of a page: scripts only from nsbackup itself or inline with
/// this response's nonce (the hydration scripts and the theme script carry it), WebAssembly
/// allowed to compile, styles and everything else from nsbackup itself, and never framed.
/// `live_reload` (`cargo leptos watch` only) also lets the page reach the reload socket.
pub fn content_security_policy(nonce: &str, live_reload: bool) -> String {
    let connect = if live_reload {
        "'self' ws: wss:"
    } else {
        "'self'"
    };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src {connect}; font-src 'self'; \
         frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'"
    )
}

/// The HTML document around the application, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let nonce = leptos::nonce::use_nonce();
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(response)) = (
        nonce.as_ref(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) {
        // As `AutoReload` decides whether the page gets the live-reload script.
        let live_reload = std::env::var("LEPTOS_WATCH").is_ok();
        let policy = content_security_policy(&nonce.to_string(), live_reload);
        if let Ok(policy) = http::HeaderValue::from_str(&policy) {
            response.insert_header(http::header::CONTENT_SECURITY_POLICY, policy);
        }
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <script nonce=nonce inner_html=THEME_SCRIPT></script>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HashedStylesheet id="leptos" options=options.clone()/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: the layout around the routed pages.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    components::toast::provide_toasts();
    components::session::provide_current_user();

    view! {
        <Title formatter=|page: String| if page.is_empty() { "nsbackup".to_string() } else { format!("{page} · nsbackup") }/>
        <Router>
            <Layout>
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=OverviewPage/>
                    <Route path=path!("/explorer") view=ExplorerPage/>
                    <Route path=path!("/explorer/:namespace") view=ExplorerPage/>
                    <Route path=path!("/signin") view=SignInPage/>
                    <Route path=path!("/account") view=AccountPage/>
                    <Route path=path!("/admin/backups") view=BackupAndRestorePage/>
                    <Route path=path!("/admin/users") view=UsersPage/>
                    <Route path=path!("/admin/audit") view=AuditLogPage/>
                    <Route path=path!("/admin/tokens") view=pages::tokens::TokensPage/>
                </Routes>
            </Layout>
        </Router>
    }
}

#[cfg(test)]
mod tests {
    use super::content_security_policy;

    #[test]
    fn only_live_reload_lets_a_page_open_sockets_elsewhere() {
        let served = content_security_policy("abc", false);
        assert!(served.contains("script-src 'self' 'nonce-abc'"), "{served}");
        assert!(served.contains("connect-src 'self';"), "{served}");
        assert!(!served.contains("ws:"), "{served}");
        assert!(content_security_policy("abc", true).contains("connect-src 'self' ws: wss:"));
    }
}
