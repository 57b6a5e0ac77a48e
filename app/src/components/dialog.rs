//! A modal confirmation dialog: focus moves into it (onto Cancel when the action destroys
//! something), Escape or Cancel closes it, and focus returns to where it was.

use leptos::html;
use leptos::prelude::*;

/// Asks to confirm an action. `open` shows and hides it; `on_confirm` runs when the user
/// confirms (the dialog closes first).
#[component]
pub fn ConfirmDialog(
    open: RwSignal<bool>,
    #[prop(into)] title: Signal<String>,
    #[prop(into)] message: Signal<String>,
    #[prop(into)] confirm_label: Signal<String>,
    #[prop(optional)] danger: bool,
    on_confirm: Callback<()>,
) -> impl IntoView {
    let confirm_button = NodeRef::<html::Button>::new();
    let cancel_button = NodeRef::<html::Button>::new();
    // Focus moves only in the browser; on the server there is none to move (and elements
    // may not cross threads there).
    #[cfg(feature = "hydrate")]
    {
        let restore_focus = StoredValue::new_local(None::<leptos::web_sys::HtmlElement>);
        Effect::new(move |_| {
            if open.get() {
                restore_focus.set_value(active_element());
                // A destructive action is never one Enter away: its dialog starts on Cancel.
                let first = if danger {
                    cancel_button
                } else {
                    confirm_button
                };
                if let Some(button) = first.get() {
                    let _ = button.focus();
                }
            } else if let Some(element) = restore_focus.get_value() {
                let _ = element.focus();
                restore_focus.set_value(None);
            }
        });
    }
    let close = move || open.set(false);
    let confirm = move |_| {
        open.set(false);
        on_confirm.run(());
    };
    view! {
        <Show when=move || open.get()>
            <div class="dialog-backdrop" on:click=move |_| close()>
                <div
                    class="dialog"
                    role="dialog"
                    aria-modal="true"
                    aria-labelledby="dialog-title"
                    aria-describedby="dialog-message"
                    on:click=|ev| ev.stop_propagation()
                    on:keydown=move |ev| {
                        if ev.key() == "Escape" {
                            close();
                        } else if ev.key() == "Tab" {
                            // Keep focus inside the dialog: its two buttons take turns.
                            ev.prevent_default();
                            let next = if is_focused(confirm_button) { cancel_button } else { confirm_button };
                            if let Some(button) = next.get() {
                                let _ = button.focus();
                            }
                        }
                    }
                >
                    <h2 id="dialog-title">{move || title.get()}</h2>
                    <p id="dialog-message">{move || message.get()}</p>
                    <div class="dialog-actions">
                        <button type="button" node_ref=cancel_button on:click=move |_| close()>"Cancel"</button>
                        <button
                            type="button"
                            class=if danger { "danger-solid" } else { "primary" }
                            node_ref=confirm_button
                            on:click=confirm
                        >
                            {move || confirm_label.get()}
                        </button>
                    </div>
                </div>
            </div>
        </Show>
    }
}

/// A modal dialog around a form: the focus moves onto its first field when it opens, Tab and
/// Shift+Tab go round inside it, Escape calls `on_escape`, and when it closes the focus
/// returns to where it was (the button that opened it).
#[component]
pub fn FormDialog(
    /// The id of the dialog's heading, which names it.
    labelled_by: &'static str,
    on_escape: Callback<()>,
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<html::Div>::new();
    #[cfg(feature = "hydrate")]
    {
        let opener = send_wrapper::SendWrapper::new(active_element());
        on_cleanup(move || {
            if let Some(opener) = opener.take().filter(|element| element.is_connected()) {
                let _ = opener.focus();
            }
        });
        dialog.on_load(|element| {
            if let Some(first) = focusable(&element).first() {
                let _ = first.focus();
            }
        });
    }
    view! {
        <div class="dialog-backdrop">
            <div class="dialog wide" role="dialog" aria-modal="true" aria-labelledby=labelled_by
                node_ref=dialog
                on:keydown=move |ev| {
                    if ev.key() == "Escape" {
                        on_escape.run(());
                    } else if ev.key() == "Tab" {
                        keep_tab_inside(&ev, dialog);
                    }
                }>
                {children()}
            </div>
        </div>
    }
}

/// What Tab can reach inside `element`, in order.
#[cfg(feature = "hydrate")]
fn focusable(element: &leptos::web_sys::Element) -> Vec<leptos::web_sys::HtmlElement> {
    use leptos::wasm_bindgen::JsCast;
    const REACHABLE: &str = "button:not([disabled]), select:not([disabled]), \
        input:not([disabled]), textarea:not([disabled]), a[href], [tabindex]:not([tabindex='-1'])";
    let Ok(found) = element.query_selector_all(REACHABLE) else {
        return Vec::new();
    };
    (0..found.length())
        .filter_map(|i| found.item(i))
        .filter_map(|node| node.dyn_into::<leptos::web_sys::HtmlElement>().ok())
        .collect()
}

/// Tab on the dialog's last field goes to its first, Shift+Tab on its first to its last.
fn keep_tab_inside(ev: &leptos::ev::KeyboardEvent, dialog: NodeRef<html::Div>) {
    #[cfg(feature = "hydrate")]
    {
        let Some(dialog) = dialog.get_untracked() else {
            return;
        };
        let reachable = focusable(&dialog);
        let (Some(first), Some(last)) = (reachable.first(), reachable.last()) else {
            return;
        };
        let focused = active_element();
        let at = |edge: &leptos::web_sys::HtmlElement| focused.as_ref() == Some(edge);
        let next = if ev.shift_key() && at(first) {
            last
        } else if !ev.shift_key() && at(last) {
            first
        } else {
            return;
        };
        ev.prevent_default();
        let _ = next.focus();
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (ev, dialog);
    }
}

/// Whether `button` has the focus.
fn is_focused(button: NodeRef<html::Button>) -> bool {
    #[cfg(feature = "hydrate")]
    {
        let focused = active_element();
        button
            .get_untracked()
            .zip(focused)
            .is_some_and(|(button, focused)| {
                let button: &leptos::web_sys::Element = &button;
                let focused: &leptos::web_sys::Element = &focused;
                button == focused
            })
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = button;
        false
    }
}

#[cfg(feature = "hydrate")]
fn active_element() -> Option<leptos::web_sys::HtmlElement> {
    use leptos::wasm_bindgen::JsCast;
    leptos::web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.active_element())
        .and_then(|element| element.dyn_into::<leptos::web_sys::HtmlElement>().ok())
}
