use crate::api::get_egress_gateways;
use crate::components::{Column, Loading, Table};
use crate::domain::gateway::EgressGateway;
use leptos::prelude::*;

/// `/gateways`: the egress gateways that can carry traffic out of the mesh, with their ports
/// and the hosts routed through them.
#[component]
pub fn GatewaysPage() -> impl IntoView {
    let gateways = Resource::new(|| (), |_| get_egress_gateways());
    view! {
        <h1>"Egress gateways"</h1>
        <p class="muted">
            "Where traffic to outside hosts can leave the mesh through one place: Services "
            "labelled istio=egressgateway and Service Mesh Manager's IstioMeshGateways of type egress."
        </p>
        <section class="card">
            <Loading>
                {move || gateways.get().map(|result| result.map(|list| {
                    if list.is_empty() {
                        return view! {
                            <p class="muted" data-testid="no-gateways">"No egress gateway is installed."</p>
                        }.into_any();
                    }
                    view! {
                        <Table rows=Signal::stored(list) columns=columns() row_id=|g: &EgressGateway| format!("gateway-{}-{}", g.namespace, g.name) testid="gateways" />
                    }.into_any()
                }))}
            </Loading>
        </section>
        <section class="card">
            <h2>"Installing one"</h2>
            <p>
                "On a plain Istio install, an egress gateway comes from Istio's " <code>"gateway"</code>
                " Helm chart, labelled the way Istio's egress task expects:"
            </p>
            <pre class="yaml">"helm install istio-egressgateway istio/gateway -n istio-system \\\n  --set service.type=ClusterIP --set labels.istio=egressgateway"</pre>
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
