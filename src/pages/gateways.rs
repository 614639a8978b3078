use crate::api::form::FormArgs;
use crate::api::{get_control_planes, get_egress_gateways, CreateEgressGateway};
use crate::components::shown;
use crate::components::PostForm;
use crate::components::{provide_page, Column, ErrorNotice, Loading, PageUrl, Table};
use crate::domain::gateway::EgressGateway;
use leptos::prelude::*;

/// `/gateways`: the egress gateways that can carry traffic out of the mesh, with their ports
/// and the hosts routed through them.
#[component]
pub fn GatewaysPage() -> impl IntoView {
    view! { <GatewaysIsland url=PageUrl::current() /> }
}

/// The page's content: an island loaded with the page (its code is a WASM chunk of its own).
#[island(lazy)]
fn GatewaysIsland(url: PageUrl) -> impl IntoView {
    provide_page(url);
    let create = ServerAction::<FormArgs<CreateEgressGateway>>::new();
    let gateways = Resource::new(move || create.version().get(), |_| get_egress_gateways());
    let planes = Resource::new(|| (), |_| get_control_planes());
    view! {
        <h1>"Egress gateways"</h1>
        <p class="muted">
            "Where traffic to outside hosts can leave the mesh through one place: Services "
            "labelled istio=egressgateway and Service Mesh Manager's IstioMeshGateways of type egress."
        </p>
        <section class="card">
            <Loading>
                {move || gateways.get().map(|result| shown(result.map(|list| {
                    if list.is_empty() {
                        return view! {
                            <p class="muted" data-testid="no-gateways">"No egress gateway is installed."</p>
                        }.into_any();
                    }
                    view! {
                        <Table rows=Signal::stored(list) columns=columns() row_id=|g: &EgressGateway| format!("gateway-{}-{}", g.namespace, g.name) testid="gateways" />
                    }.into_any()
                })))}
            </Loading>
        </section>
        <section class="card" data-testid="install-gateway">
            <h2>"Installing one"</h2>
            <Transition fallback=|| ()>
                {move || planes.get().map(|planes| match planes {
                    Ok(planes) if !planes.is_empty() => view! { <CreateForm planes create /> }.into_any(),
                    _ => view! { <HelmHint /> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

fn columns() -> Vec<Column<EgressGateway>> {
    vec![
        Column::new("Gateway", |g: &EgressGateway| {
            format!("{}/{}", g.namespace, g.name).into_any()
        }),
        Column::new("Kind", |g: &EgressGateway| g.source.label().into_any()),
        Column::new("Ports", |g: &EgressGateway| g.ports_label().into_any()),
        Column::new("Carries", |g: &EgressGateway| {
            if g.hosts.is_empty() {
                return view! { <span class="muted">"no host routed through it"</span> }.into_any();
            }
            view! {
                <span>{g.hosts.join(", ")}</span>
                <span class="muted small">{format!(" (Gateway {})", g.gateways.join(", "))}</span>
            }
            .into_any()
        }),
    ]
}

/// On a plain Istio install: Istio's `gateway` chart, labelled as the egress task expects.
#[component]
fn HelmHint() -> impl IntoView {
    view! {
        <p>
            "On a plain Istio install, an egress gateway comes from Istio's " <code>"gateway"</code>
            " Helm chart, labelled the way Istio's egress task expects:"
        </p>
        <pre class="yaml">"helm install istio-egressgateway istio/gateway -n istio-system \\\n  --set service.type=ClusterIP --set labels.istio=egressgateway"</pre>
    }
}

/// Where Service Mesh Manager manages the mesh: an IstioMeshGateway of type egress.
#[component]
fn CreateForm(
    planes: Vec<String>,
    create: ServerAction<FormArgs<CreateEgressGateway>>,
) -> impl IntoView {
    let pending = create.pending();
    let namespace = planes
        .first()
        .and_then(|p| p.split_once('/'))
        .map(|(ns, _)| ns.to_string())
        .unwrap_or_default();
    view! {
        <p>
            "Service Mesh Manager manages this mesh: it runs an egress gateway for an "
            <code>"IstioMeshGateway"</code> " of type egress (its Deployment and Service are named after it)."
        </p>
        <PostForm action=create attr:class="form" attr:data-testid="create-gateway-form">
            <label>"Namespace " <input name="namespace" required value=namespace data-testid="gateway-namespace" /></label>
            <label>"Name " <input name="name" required value="egressgateway" data-testid="gateway-name" /></label>
            <label>"Ports " <input name="ports" required value="80 http2, 443 https" data-testid="gateway-ports" /></label>
            <label>"Control plane "
                <select name="control_plane" data-testid="gateway-control-plane">
                    {planes.into_iter().map(|p| view! { <option value=p.clone()>{p.clone()}</option> }).collect_view()}
                </select>
            </label>
            <button type="submit" data-testid="create-gateway" disabled=move || pending.get()>"Create the egress gateway"</button>
        </PostForm>
        {move || create.value().get().map(|result| match result {
            Ok(id) => view! {
                <p class="notice" role="status" data-testid="gateway-created">
                    {format!("Created the IstioMeshGateway {id}: Service Mesh Manager makes its Deployment and Service.")}
                </p>
            }.into_any(),
            Err(error) => view! { <ErrorNotice error /> }.into_any(),
        })}
    }
}
