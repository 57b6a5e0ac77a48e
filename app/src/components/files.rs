//! Files the user chooses in the browser: the chosen file of an input, its text, and sending
//! it to the server with progress. These run in the browser only (event handlers call them).

#[cfg(feature = "hydrate")]
use leptos::prelude::*;

/// The file chosen in `input`, if any.
#[cfg(feature = "hydrate")]
pub fn chosen(input: &web_sys::HtmlInputElement) -> Option<web_sys::File> {
    input.files().and_then(|files| files.get(0))
}

/// Reads the file chosen in the input that fired `ev` into `chosen` as `(name, text)`; a
/// file that cannot be read is an error notification that says to choose it again.
#[cfg(feature = "hydrate")]
pub fn read_chosen_text(
    ev: leptos::ev::Event,
    chosen_text: RwSignal<Option<(String, String)>>,
    toasts: crate::components::toast::Toasts,
) {
    let input: web_sys::HtmlInputElement = event_target(&ev);
    let Some(file) = chosen(&input) else {
        return;
    };
    leptos::task::spawn_local(async move {
        match wasm_bindgen_futures::JsFuture::from(file.text())
            .await
            .ok()
            .and_then(|text| text.as_string())
        {
            Some(text) => chosen_text.set(Some((file.name(), text))),
            None => toasts.error(format!(
                "{} could not be read. Choose the file again.",
                file.name()
            )),
        }
    });
}

/// Whether `file` is a backup encrypted with a passphrase: an age file whose first
/// recipient stanza is `scrypt` (read from its first bytes only).
#[cfg(feature = "hydrate")]
pub async fn needs_passphrase(file: &web_sys::File) -> bool {
    let Ok(start) = file.slice_with_i32_and_i32(0, 64) else {
        return false;
    };
    let Ok(text) = wasm_bindgen_futures::JsFuture::from(start.text()).await else {
        return false;
    };
    text.as_string()
        .is_some_and(|text| text.starts_with(crate::types::PASSPHRASE_FILE_START))
}

/// What a finished upload answered: its HTTP status and body.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// Sends `file` as the body of a POST to `url`, with `headers` besides its type, calling
/// `progress(sent, total)` as it goes. `None` when the request could not be made or the
/// connection broke.
#[cfg(feature = "hydrate")]
pub async fn upload(
    url: &str,
    file: web_sys::File,
    headers: &[(&str, String)],
    progress: impl Fn(f64, f64) + 'static,
) -> Option<Answer> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    let request = web_sys::XmlHttpRequest::new().ok()?;
    request.open("POST", url).ok()?;
    request
        .set_request_header("Content-Type", "application/zip")
        .ok()?;
    for (name, value) in headers {
        request.set_request_header(name, value).ok()?;
    }
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
