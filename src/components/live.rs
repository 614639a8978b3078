use crate::domain::LiveStatus;
use leptos::prelude::*;

/// The live status pushed by the server (`/api/events`); `None` until the first message
/// (and always on the server, so nothing flickers before hydration).
#[derive(Clone, Copy)]
pub struct Live(pub RwSignal<Option<LiveStatus>>);

impl Live {
    /// Grows with every change the server's watch sees: key data reloads on it.
    pub fn generation(&self) -> u64 {
        self.0
            .with(|s| s.as_ref().map(|s| s.generation).unwrap_or(0))
    }
}

/// Provides [`Live`] and, in the browser, subscribes to the server's event stream.
pub fn provide_live() {
    let status = RwSignal::new(None::<LiveStatus>);
    provide_context(Live(status));
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| subscribe(status));
}

#[cfg(feature = "hydrate")]
fn subscribe(status: RwSignal<Option<LiveStatus>>) {
    use wasm_bindgen::prelude::Closure;
    use wasm_bindgen::JsCast;
    let Ok(source) = web_sys::EventSource::new("/api/events") else {
        return;
    };
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            if let Some(text) = event.data().as_string() {
                if let Ok(next) = serde_json::from_str::<LiveStatus>(&text) {
                    status.set(Some(next));
                }
            }
        });
    source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // NB: the page keeps this subscription for its whole life; the closures must outlive
    // this function, so they are handed to JS for good.
    on_message.forget();
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
        status.update(|s| {
            let mut next = s.clone().unwrap_or_default();
            next.connected = false;
            next.error = Some("lost the connection to the mesh-egress server".to_string());
            *s = Some(next);
        });
    });
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();
}

/// Says so when the cluster (or the dashboard server) cannot be reached; clears by itself.
#[component]
pub fn LiveBanner() -> impl IntoView {
    let live = expect_context::<Live>();
    move || {
        live.0
            .get()
            .filter(|s| !s.connected && s.error.is_some())
            .map(|s| {
                view! {
                    <div class="notice error live" role="status" data-testid="connection-lost">
                        <p class="notice-title">
                            "Connection lost: " {s.error.unwrap_or_default()}
                        </p>
                        <p class="notice-hint">
                            "Showing the last known state; this page recovers by itself when the cluster answers again."
                        </p>
                    </div>
                }
            })
    }
}
