//! What only the browser can do: wait, and send a file with progress. On the server these
//! are never called (only event handlers and effects use them); they compile to no-ops.

/// Waits `ms` milliseconds.
pub async fn sleep(ms: u32) {
    #[cfg(feature = "hydrate")]
    {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            if let Some(window) = web_sys::window() {
                let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                    &resolve,
                    i32::try_from(ms).unwrap_or(i32::MAX),
                );
            }
        });
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ms;
}

/// What a finished upload answered: its HTTP status and body.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// Sends `file` as the body of a POST to `url`, calling `progress(sent, total)` as it goes.
/// `None` when the request could not be made or the connection broke.
#[cfg(feature = "hydrate")]
pub async fn upload(
    url: &str,
    file: web_sys::File,
    progress: impl Fn(f64, f64) + 'static,
) -> Option<Answer> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    let request = web_sys::XmlHttpRequest::new().ok()?;
    request.open("POST", url).ok()?;
    request
        .set_request_header("Content-Type", "application/zip")
        .ok()?;
    let on_progress =
        Closure::<dyn Fn(web_sys::ProgressEvent)>::new(move |event: web_sys::ProgressEvent| {
            progress(event.loaded(), event.total());
        });
    if let Ok(target) = request.upload() {
        target.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    }
    let done = js_sys::Promise::new(&mut |resolve, _| {
        request.set_onloadend(Some(&resolve));
    });
    request.send_with_opt_blob(Some(&file)).ok()?;
    let _ = wasm_bindgen_futures::JsFuture::from(done).await;
    drop(on_progress);
    let status = request.status().ok()?;
    if status == 0 {
        return None;
    }
    Some(Answer {
        status,
        body: request.response_text().ok().flatten().unwrap_or_default(),
    })
}
