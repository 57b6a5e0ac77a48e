//! Notifications ("toasts") in a corner of the screen, announced to screen readers.

use leptos::prelude::*;

use crate::error::AppError;

/// How a notification looks and how long it stays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToastKind {
    /// Something is under way.
    Info,
    /// Something finished well.
    Success,
    /// Something failed; stays until dismissed.
    Error,
}

impl ToastKind {
    fn class(self) -> &'static str {
        match self {
            ToastKind::Info => "toast toast-info",
            ToastKind::Success => "toast toast-success",
            ToastKind::Error => "toast toast-error",
        }
    }
}

#[derive(Clone, Debug)]
struct Toast {
    id: u64,
    kind: ToastKind,
    message: String,
    /// What is under way, below the message, and how far it is.
    detail: Option<Progress>,
}

/// What a notification of something under way shows below its message: its own words
/// ("Creating backup..."), and beside them how far it is — a bar of the percent, and the
/// step it is at — both changing while it is shown.
#[derive(Clone, Debug)]
pub struct Progress {
    pub words: &'static str,
    pub percent: Signal<Option<u64>>,
    pub step: Signal<String>,
}

/// The notifications of the page; take it with [`use_toasts`].
#[derive(Clone, Copy)]
pub struct Toasts {
    list: RwSignal<Vec<Toast>>,
    next: RwSignal<u64>,
}

impl Toasts {
    /// Shows a notification that something is under way.
    pub fn info(&self, message: impl Into<String>) {
        self.push(ToastKind::Info, message.into());
    }

    /// Shows a notification that something finished well.
    pub fn success(&self, message: impl Into<String>) {
        self.push(ToastKind::Success, message.into());
    }

    /// Shows a notification that something failed.
    pub fn error(&self, message: impl Into<String>) {
        self.push(ToastKind::Error, message.into());
    }

    /// Shows a notification that something is under way with its `progress` below it; it
    /// stays until [`Toasts::dismiss`] is called with the id returned.
    pub fn progress(&self, message: impl Into<String>, progress: Progress) -> u64 {
        self.add(ToastKind::Info, message.into(), Some(progress))
    }

    fn push(&self, kind: ToastKind, message: String) {
        let id = self.add(kind, message, None);
        if kind != ToastKind::Error {
            let list = self.list;
            // Read, then gone: errors stay until the user dismisses them.
            set_timeout(
                move || list.update(|list| list.retain(|toast| toast.id != id)),
                std::time::Duration::from_secs(6),
            );
        }
    }

    fn add(&self, kind: ToastKind, message: String, detail: Option<Progress>) -> u64 {
        let id = self.next.get_untracked();
        self.next.set(id + 1);
        self.list.update(|list| {
            // The same words again (a second upload's "uploaded"): the newer one stands.
            list.retain(|toast| toast.detail.is_some() || toast.message != message);
            list.push(Toast {
                id,
                kind,
                message,
                detail,
            });
            // At most a few: the oldest that follows no job goes first.
            while list.len() > Self::MAX {
                let oldest = list
                    .iter()
                    .position(|toast| toast.detail.is_none())
                    .unwrap_or(0);
                list.remove(oldest);
            }
        });
        id
    }

    /// How many notifications show at once at most.
    const MAX: usize = 3;

    /// Removes a notification.
    pub fn dismiss(&self, id: u64) {
        self.list.update(|list| list.retain(|toast| toast.id != id));
    }
}

/// Makes notifications available to every component below.
pub fn provide_toasts() {
    provide_context(Toasts {
        list: RwSignal::new(Vec::new()),
        next: RwSignal::new(0),
    });
}

/// The page's notifications.
pub fn use_toasts() -> Toasts {
    use_context::<Toasts>().unwrap_or_else(|| {
        let toasts = Toasts {
            list: RwSignal::new(Vec::new()),
            next: RwSignal::new(0),
        };
        provide_context(toasts);
        toasts
    })
}

/// Where notifications appear.
#[component]
pub fn ToastRegion() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div class="toasts" aria-live="polite">
            <For each=move || toasts.list.get() key=|toast| toast.id let:toast>
                <div class=toast.kind.class() role=if toast.kind == ToastKind::Error { "alert" } else { "status" }>
                    <span class="toast-message">{toast.message.clone()}</span>
                    {toast.detail.map(|Progress { words, percent, step }| view! {
                        <span class="toast-work">
                        {(!words.is_empty()).then(|| view! { <span class="toast-detail">{words}</span> })}
                        <span class="toast-progress">
                            {move || percent.get().map(|percent| view! {
                                <progress max="100" value=percent.to_string() aria-label=if words.is_empty() { "Progress" } else { words }></progress>
                                <span class="toast-percent">{format!("{percent}%")}</span>
                            })}
                            <span class="toast-step">{step}</span>
                        </span>
                        </span>
                    })}
                    <button type="button" class="toast-close" aria-label="Dismiss" on:click=move |_| toasts.dismiss(toast.id)>
                        "×"
                    </button>
                </div>
            </For>
        </div>
    }
}

/// Runs `on_ok` with the value of each finished `action`; a failure becomes an error
/// notification with the server's message.
pub fn when_done<I, T>(action: Action<I, Result<T, AppError>>, on_ok: impl Fn(T) + 'static)
where
    I: Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    let toasts = use_toasts();
    Effect::new(move |_| {
        if let Some(result) = action.value().get() {
            match result {
                Ok(value) => on_ok(value),
                Err(error) => toasts.error(error.to_string()),
            }
        }
    });
}
