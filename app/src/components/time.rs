//! Times as the person reading them expects: in their browser's time zone and language.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

/// A point in time, to the second (two rows made a few seconds apart never look the same).
/// The server renders it in UTC; once the page is interactive it shows in the browser's time
/// zone and locale, with the time zone's name on hover.
#[component]
pub fn LocalTime(at: DateTime<Utc>) -> impl IntoView {
    let text = RwSignal::new(at.format("%Y-%m-%d %H:%M:%S UTC").to_string());
    let exact = RwSignal::new(at.format("%Y-%m-%d %H:%M:%S UTC").to_string());
    Effect::new(move |_| {
        if let Some((short, long)) = in_browser_zone(at) {
            text.set(short);
            exact.set(long);
        }
    });
    view! { <time datetime=at.to_rfc3339() title=exact>{text}</time> }
}

/// `(medium date + time with seconds, the same with the time zone)` in the browser's zone.
#[cfg(feature = "hydrate")]
fn in_browser_zone(at: DateTime<Utc>) -> Option<(String, String)> {
    use leptos::wasm_bindgen::{JsCast, JsValue};
    let date = js_sys::Date::new(&JsValue::from_f64(at.timestamp_millis() as f64));
    // `toLocaleString(undefined, options)`: undefined means the browser's own locale.
    let to_locale_string: js_sys::Function = js_sys::Reflect::get(&date, &"toLocaleString".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let format = |time_style: &str| {
        let options = js_sys::Object::new();
        js_sys::Reflect::set(&options, &"dateStyle".into(), &"medium".into()).ok()?;
        js_sys::Reflect::set(&options, &"timeStyle".into(), &time_style.into()).ok()?;
        to_locale_string
            .call2(&date, &JsValue::UNDEFINED, &options)
            .ok()?
            .as_string()
    };
    Some((format("medium")?, format("long")?))
}

#[cfg(not(feature = "hydrate"))]
fn in_browser_zone(_at: DateTime<Utc>) -> Option<(String, String)> {
    None
}
