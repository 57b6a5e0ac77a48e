//! The server's job events in the browser: every job's (to refresh the list) and one job's
//! as it runs (to follow it), from `/api/v1`'s server-sent events.

use leptos::prelude::*;

use crate::types::JobInfo;

/// Counts the server's job events (`/api/v1/jobs/events`) in `events`; the source, to be
/// closed when the page goes. `None` when the browser cannot listen (the list is then read
/// every five seconds only).
pub(super) fn listen_to_jobs(events: RwSignal<u64>) -> Option<web_sys::EventSource> {
    use leptos::wasm_bindgen::JsCast;
    use leptos::wasm_bindgen::closure::Closure;
    let source = web_sys::EventSource::new("/api/v1/jobs/events").ok()?;
    let on_job =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_: web_sys::MessageEvent| {
            events.try_update(|n| *n += 1);
        });
    source
        .add_event_listener_with_callback("job", on_job.as_ref().unchecked_ref())
        .ok()?;
    // The listener lives as long as the source; the browser reconnects a broken stream.
    on_job.forget();
    Some(source)
}

/// Follows job `id` through its server-sent events (`/api/v1/jobs/{id}/events`) into
/// `followed`, until it ends (`true`) or the stream breaks off (`false`).
pub(super) async fn watch_job(followed: RwSignal<Option<JobInfo>>, id: &str) -> bool {
    use leptos::wasm_bindgen::closure::Closure;
    use leptos::wasm_bindgen::{JsCast, JsValue};
    let Ok(source) = web_sys::EventSource::new(&format!("/api/v1/jobs/{id}/events")) else {
        return false;
    };
    let mut settle = None;
    let ended = js_sys::Promise::new(&mut |resolve, _| settle = Some(resolve));
    let Some(settle) = settle else {
        source.close();
        return false;
    };
    let on_job = {
        let (settle, source) = (settle.clone(), source.clone());
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let Some(job) = event
                .data()
                .as_string()
                .and_then(|text| serde_json::from_str::<JobInfo>(&text).ok())
            else {
                return;
            };
            let done = job.status.is_final();
            followed.set(Some(job));
            if done {
                source.close();
                let _ = settle.call1(&JsValue::NULL, &JsValue::TRUE);
            }
        })
    };
    let on_error = {
        let (settle, source) = (settle.clone(), source.clone());
        Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| {
            source.close();
            let _ = settle.call1(&JsValue::NULL, &JsValue::FALSE);
        })
    };
    let listening = source
        .add_event_listener_with_callback("job", on_job.as_ref().unchecked_ref())
        .is_ok();
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    if !listening {
        source.close();
        return false;
    }
    let outcome = wasm_bindgen_futures::JsFuture::from(ended).await;
    drop((on_job, on_error));
    outcome
        .ok()
        .and_then(|value| value.as_bool())
        .unwrap_or(false)
}
