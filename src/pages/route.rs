//! On an entry's page: how its traffic leaves the mesh, and routing it through an egress
//! gateway — pick a gateway and a port (`?via=NS/GATEWAY&port=N`, a plain GET form, so it
//! works without WASM), see the objects that would be written, route; or stop routing.

use crate::api::form::FormArgs;
use crate::api::{get_entry_routing, preview_route, RouteEntry, StopRouting};
use crate::components::shown;
use crate::components::PostForm;
use crate::components::{use_query, use_replace_query, ErrorNotice, Loading};
use crate::domain::route::{EntryRouting, RoutePreview, RoutingView};
use leptos::prelude::*;

/// The "Egress gateway" card of `namespace/name`'s page.
#[component]
pub fn EntryRoutingCard(namespace: String, name: String) -> impl IntoView {
    let route = ServerAction::<FormArgs<RouteEntry>>::new();
    let stop = ServerAction::<FormArgs<StopRouting>>::new();
    let key = StoredValue::new((namespace, name));
    let routing = Resource::new(
        move || (key.get_value(), route.version().get(), stop.version().get()),
        |((namespace, name), ..)| get_entry_routing(namespace, name),
    );
    let query = use_query();
    let asked = move || {
        query("via")
            .filter(|v| !v.is_empty())
            .map(|via| (via, query("port").unwrap_or_default()))
    };
    let preview = Resource::new(
        move || (key.get_value(), asked(), route.version().get()),
        |((namespace, name), asked, _)| async move {
            match asked {
                Some((via, port)) => Some(preview_route(namespace, name, via, port).await),
                None => None,
            }
        },
    );
    view! {
        <section class="card" data-testid="entry-routing">
            <h2>"Egress gateway"</h2>
            <Loading>
                {move || routing.get().map(|result| shown(result.map(|view| {
                    let shown = matches!(view.routing, EntryRouting::Direct)
                        .then(|| preview.get().flatten())
                        .flatten();
                    view! { <RoutingState view preview=shown key=key.get_value() route stop /> }
                })))}
            </Loading>
            {move || route.value().get().map(|result| match result {
                Ok(plan) => view! {
                    <p class="notice" role="status" data-testid="route-done">
                        {format!(
                            "Routed port {} via gateway {}: wrote {}.",
                            plan.port,
                            plan.gateway,
                            plan.objects.iter().map(|o| o.label()).collect::<Vec<_>>().join(", ")
                        )}
                    </p>
                }.into_any(),
                Err(error) => view! { <ErrorNotice error /> }.into_any(),
            })}
            {move || stop.value().get().map(|result| match result {
                Ok(removed) => view! {
                    <p class="notice" role="status" data-testid="route-stopped">
                        {format!("Stopped routing through the gateway: removed {}.", removed.join(", "))}
                    </p>
                }.into_any(),
                Err(error) => view! { <ErrorNotice error /> }.into_any(),
            })}
        </section>
    }
}

#[component]
fn RoutingState(
    view: RoutingView,
    preview: Option<Result<RoutePreview, crate::error::AppError>>,
    key: (String, String),
    route: ServerAction<FormArgs<RouteEntry>>,
    stop: ServerAction<FormArgs<StopRouting>>,
) -> impl IntoView {
    let (namespace, name) = key;
    let label = view.routing.label();
    // With WASM the pick previews in place (the query changes, the preview reloads); without,
    // the form loads the page with it.
    let replace_query = use_replace_query();
    let pick = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let form = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok());
            let Some(data) = form.and_then(|f| web_sys::FormData::new_with_form(&f).ok()) else {
                return;
            };
            ev.prevent_default();
            let field = |k: &str| data.get(k).as_string().unwrap_or_default();
            replace_query(vec![
                ("via".to_string(), field("via")),
                ("port".to_string(), field("port")),
            ]);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, replace_query);
    };
    match view.routing.clone() {
        EntryRouting::Routed { objects, .. } => view! {
            <p>
                <span class="badge" data-testid="entry-via">{label.unwrap_or_default()}</span>
                " " <a class="small" href="/gateways">"(egress gateways)"</a>
            </p>
            <p class="small">"Written by mesh-egress: "</p>
            <ul class="small" data-testid="route-objects">
                {objects.into_iter().map(|o| view! { <li>{o}</li> }).collect_view()}
            </ul>
            {view.yaml.map(|yaml| view! {
                <details>
                    <summary>"YAML of these objects"</summary>
                    <pre class="yaml" data-testid="route-yaml">{yaml}</pre>
                </details>
            })}
            <PostForm action=stop attr:data-testid="stop-routing-form">
                <input type="hidden" name="namespace" value=namespace />
                <input type="hidden" name="name" value=name />
                <button type="submit" data-testid="stop-routing">"Stop routing (remove these objects)"</button>
            </PostForm>
        }
        .into_any(),
        EntryRouting::ByHand { virtual_services, .. } => view! {
            <p><span class="badge" data-testid="entry-via">{label.unwrap_or_default()}</span></p>
            <p class="small muted" data-testid="route-by-hand">
                {format!(
                    "Routed by VirtualService {}, written by hand: shown here, never changed by mesh-egress.",
                    virtual_services.join(", ")
                )}
            </p>
        }
        .into_any(),
        EntryRouting::Direct if view.ports.is_empty() => view! {
            <p class="muted" data-testid="entry-direct">
                "Leaves the mesh straight from each calling sidecar. It has no HTTP or TLS port, which a gateway routes by host."
            </p>
        }
        .into_any(),
        EntryRouting::Direct if view.gateways.is_empty() => {
            let why = match view.gateways_hidden.clone() {
                Some(reason) => format!("The egress gateways cannot be listed: {reason}."),
                None => "No egress gateway is installed: see ".to_string(),
            };
            let hidden = view.gateways_hidden.is_some();
            view! {
                <p class="muted" data-testid="entry-direct">
                    "Leaves the mesh straight from each calling sidecar. " {why}
                    {(!hidden).then(|| view! { <a href="/gateways">"Gateways"</a> " for how to add one." })}
                </p>
            }
            .into_any()
        }
        EntryRouting::Direct => {
            let action = format!("/namespaces/{namespace}/serviceentries/{name}");
            view! {
                <p class="muted" data-testid="entry-direct">"Leaves the mesh straight from each calling sidecar."</p>
                <form method="get" action=action class="route-pick" data-testid="route-pick" on:submit=pick>
                    <label>"Gateway "
                        <select name="via" data-testid="route-gateway">
                            {view.gateways.iter().map(|g| {
                                let id = format!("{}/{}", g.namespace, g.name);
                                view! { <option value=id.clone()>{format!("{id} ({})", g.ports_label())}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                    " "
                    <label>"Port "
                        <select name="port" data-testid="route-port">
                            {view.ports.iter().map(|p| view! { <option value=p.to_string()>{p.to_string()}</option> }).collect_view()}
                        </select>
                    </label>
                    " "
                    <button type="submit" data-testid="route-preview-button">"Preview the route…"</button>
                </form>
                {preview.map(|preview| match preview {
                    Ok(preview) => view! { <RoutePreviewView preview route /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                })}
            }
            .into_any()
        }
    }
}

#[component]
fn RoutePreviewView(
    preview: RoutePreview,
    route: ServerAction<FormArgs<RouteEntry>>,
) -> impl IntoView {
    let pending = route.pending();
    let plan = preview.plan;
    let (namespace, name) = plan
        .entry
        .split_once('/')
        .map(|(n, e)| (n.to_string(), e.to_string()))
        .unwrap_or_default();
    let writes: Vec<String> = plan.objects.iter().map(|o| o.label()).collect();
    view! {
        <div class="preview" data-testid="route-preview">
            <p><strong>{format!(
                "Routing port {} via gateway {} writes {} (judged by istiod in a dry run):",
                plan.port, plan.gateway, writes.join(", ")
            )}</strong></p>
            <pre class="yaml" data-testid="route-preview-yaml">{preview.yaml}</pre>
            <PostForm action=route attr:data-testid="route-form">
                <input type="hidden" name="namespace" value=namespace />
                <input type="hidden" name="name" value=name />
                <input type="hidden" name="gateway" value=plan.gateway.clone() />
                <input type="hidden" name="port" value=plan.port.to_string() />
                <button type="submit" data-testid="route-button" disabled=move || pending.get()>
                    {format!("Route through {}", plan.gateway)}
                </button>
            </PostForm>
        </div>
    }
}
