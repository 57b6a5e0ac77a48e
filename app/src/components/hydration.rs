//! Knowing whether the page is interactive yet.

use leptos::prelude::*;

/// `false` while the page is only server-rendered HTML, `true` once the WASM has hydrated
/// it. Controls that need the WASM stay disabled until then, so a click never goes nowhere.
pub fn use_hydrated() -> ReadSignal<bool> {
    let (hydrated, set_hydrated) = signal(false);
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| set_hydrated.set(true));
    hydrated
}
