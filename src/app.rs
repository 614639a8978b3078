//! The HTML shell, the `<App/>` component and its routes.

use crate::components::{HydratedMark, LiveUpdates, SessionBadge};
use crate::pages::{
    CreatePage, EditPage, GatewaysPage, HomePage, LoginPage, MapPage, NamespacePage, RolloutPage,
    ServiceEntryPage, ServicesPage, TrafficPage,
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::{
    components::{Outlet, ParentRoute, Route, Router, Routes, A},
    ParamSegment, SsrMode, StaticSegment,
};

/// The document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.ico" />
                <AutoReload options=options.clone() />
                // The site's files carry a content hash in their names when the build made them
                // so (hash.txt beside the binary): cached for good, fetched again when changed.
                <HashedStylesheet options=options.clone() id="leptos" />
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application: header and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="mesh-egress" />
        <Router>
            <header class="topbar">
                <A href="/" attr:class="brand">"mesh-egress"</A>
                <nav>
                    <A href="/">"Policy & namespaces"</A>
                    <A href="/services">"External services"</A>
                    <A href="/traffic">"Outgoing calls"</A>
                    <A href="/rollout">"Rollout"</A>
                    <A href="/map">"Map"</A>
                    <A href="/gateways">"Gateways"</A>
                    <A href="/new">"Register"</A>
                </nav>
                <span class="tagline">"How your Istio mesh reaches the outside world"</span>
                <SessionBadge />
            </header>
            <LiveUpdates />
            // `data-hydrated` turns true once the page's islands are: tests and people can tell
            // that the page is live.
            <main data-hydrated="false">
                // NB: Async SSR renders the finished page, so it reads fully without WASM and
                // needs no streaming scripts.
                <Routes fallback=|| view! { <p>"Page not found."</p> }>
                    <Route path=StaticSegment("") view=HomePage ssr=SsrMode::Async />
                    <Route path=StaticSegment("services") view=ServicesPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("traffic") view=TrafficPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("rollout") view=RolloutPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("map") view=MapPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("gateways") view=GatewaysPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("new") view=CreatePage ssr=SsrMode::Async />
                    <Route path=StaticSegment("login") view=LoginPage ssr=SsrMode::Async />
                    <Route
                        path=(StaticSegment("namespaces"), ParamSegment("namespace"))
                        view=NamespacePage
                        ssr=SsrMode::Async
                    />
                    // An entry's page, and its edit page below it.
                    <ParentRoute
                        path=(
                            StaticSegment("namespaces"),
                            ParamSegment("namespace"),
                            StaticSegment("serviceentries"),
                            ParamSegment("name"),
                        )
                        view=Outlet
                        ssr=SsrMode::Async
                    >
                        <Route path=StaticSegment("") view=ServiceEntryPage ssr=SsrMode::Async />
                        <Route path=StaticSegment("edit") view=EditPage ssr=SsrMode::Async />
                    </ParentRoute>
                </Routes>
            </main>
            <HydratedMark />
        </Router>
    }
}
