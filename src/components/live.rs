//! Live pages without a client-side app. One island listens to the server's event stream
//! (`/api/events`) and shares the status with every island of the page ([`use_live`]): page
//! islands reload their data when the watch's generation moves. On pages that are not islands
//! (`/`), it fetches the page again when the cluster changes (and every 15 s, for the traffic)
//! and replaces the parts marked `data-live="ID"` with the server's new rendering of them;
//! nothing else on the page (what is typed, the focus, other islands) is touched.

use crate::domain::LiveStatus;
use leptos::prelude::*;

/// The live status pushed by the server; `None` until the first message (and always on the
/// server, so nothing flickers before hydration).
#[derive(Clone, Copy)]
pub struct Live(pub RwSignal<Option<LiveStatus>>);

impl Live {
    /// Grows with every change the server's watch sees (always 0 on the server).
    pub fn generation(&self) -> u64 {
        self.0
            .with(|s| s.as_ref().map(|s| s.generation).unwrap_or(0))
    }
}

/// The live status: on the server none (generation 0), in the browser the one every island of
/// the page shares (islands hydrate without their parents' context).
pub fn use_live() -> Live {
    #[cfg(feature = "hydrate")]
    {
        thread_local! {
            static SHARED: Live = Live(RwSignal::new(None));
        }
        SHARED.with(|live| *live)
    }
    #[cfg(not(feature = "hydrate"))]
    Live(RwSignal::new(None))
}

/// The live status and the "connection lost" notice; refreshes the page's live parts.
#[island]
pub fn LiveUpdates() -> impl IntoView {
    let status = use_live().0;
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| browser::subscribe(status));
    move || {
        status
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

/// Marks `<main>` as hydrated (`data-hydrated="true"`) once every island before it is: it is the
/// page's last island, and islands hydrate in the page's order.
#[island]
pub fn HydratedMark() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(main) = document().query_selector("main").ok().flatten() {
            let _ = main.set_attribute("data-hydrated", "true");
        }
    });
}

#[cfg(feature = "hydrate")]
pub(crate) mod browser {
    use crate::domain::LiveStatus;
    use leptos::prelude::*;
    use std::cell::Cell;
    use std::rc::Rc;
    use wasm_bindgen::prelude::Closure;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    /// The event fired on `document` after live parts were replaced: islands that work on
    /// them (the row filter) apply themselves again.
    pub const REFRESHED: &str = "mesh-egress-refreshed";

    /// How often the traffic parts are fetched again.
    const TRAFFIC_EVERY_MS: u32 = 15_000;

    pub fn subscribe(status: RwSignal<Option<LiveStatus>>) {
        let Ok(source) = web_sys::EventSource::new("/api/events") else {
            return;
        };
        let refresher = Refresher::default();
        let seen = Rc::new(Cell::new(None::<u64>));
        let on_live = refresher.clone();
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |event: web_sys::MessageEvent| {
                let Some(text) = event.data().as_string() else {
                    return;
                };
                let Ok(next) = serde_json::from_str::<LiveStatus>(&text) else {
                    return;
                };
                // The first message says where the watch is; a later, different one that the
                // page is behind.
                if seen
                    .replace(Some(next.generation))
                    .is_some_and(|g| g != next.generation)
                {
                    on_live.refresh();
                }
                status.set(Some(next));
            },
        );
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
        let on_tick = Closure::<dyn FnMut()>::new(move || refresher.refresh());
        let _ = window().set_interval_with_callback_and_timeout_and_arguments_0(
            on_tick.as_ref().unchecked_ref(),
            TRAFFIC_EVERY_MS as i32,
        );
        on_tick.forget();
    }

    /// One refresh at a time; a change during one asks for one more after it.
    #[derive(Clone, Default)]
    struct Refresher {
        running: Rc<Cell<bool>>,
        again: Rc<Cell<bool>>,
    }

    impl Refresher {
        fn refresh(&self) {
            if self.running.replace(true) {
                self.again.set(true);
                return;
            }
            let this = self.clone();
            leptos::task::spawn_local(async move {
                loop {
                    this.again.set(false);
                    let _ = refresh_live_parts().await;
                    if !this.again.get() {
                        break;
                    }
                }
                this.running.set(false);
            });
        }
    }

    /// Fetches the page again and replaces every live part on screen with the server's new
    /// rendering of it.
    async fn refresh_live_parts() -> Result<(), JsValue> {
        let document = document();
        let parts = document.query_selector_all("[data-live]")?;
        if parts.length() == 0 {
            return Ok(());
        }
        let href = window().location().href()?;
        let response: web_sys::Response = JsFuture::from(window().fetch_with_str(&href))
            .await?
            .dyn_into()?;
        if !response.ok() {
            return Err(JsValue::from_str("the page could not be fetched"));
        }
        let text = JsFuture::from(response.text()?)
            .await?
            .as_string()
            .unwrap_or_default();
        let fresh = web_sys::DomParser::new()?
            .parse_from_string(&text, web_sys::SupportedType::TextHtml)?;
        for i in 0..parts.length() {
            let Some(part) = parts
                .item(i)
                .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
            else {
                continue;
            };
            let Some(id) = part.get_attribute("data-live") else {
                continue;
            };
            let new = fresh.query_selector(&format!("[data-live=\"{id}\"]"))?;
            if let Some(new) = new {
                let html = new.inner_html();
                if html != part.inner_html() {
                    part.set_inner_html(&html);
                }
            }
        }
        document.dispatch_event(&web_sys::Event::new(REFRESHED)?)?;
        Ok(())
    }
}
