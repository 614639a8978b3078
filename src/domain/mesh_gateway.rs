//! Creating an egress gateway where Service Mesh Manager manages the mesh: an
//! `IstioMeshGateway` of `type: egress` (its name, namespace, ports and control plane), as the
//! Calisti guide's "Create egress gateway" page does. SMM makes its Deployment and Service,
//! named after it, with pods labelled `gateway-name`/`gateway-type`.

use super::validation::is_k8s_label;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The form on the gateways page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeshGatewayForm {
    /// Where the gateway runs.
    pub namespace: String,
    /// Its name (also its Service's and Deployment's).
    pub name: String,
    /// Its ports: `80 http2, 443 https` (one per line or comma; a bare number is named after
    /// what it usually carries).
    pub ports: String,
    /// The control plane it belongs to, `namespace/name`.
    pub control_plane: String,
}

/// Why the form is refused: the field, and why.
pub type FieldRefusal = (String, String);

fn refuse(field: &str, reason: String) -> FieldRefusal {
    (field.to_string(), reason)
}

/// The usual name of a port (Istio reads the protocol from it).
fn default_name(number: i64) -> String {
    match number {
        80 => "http2".into(),
        443 => "https".into(),
        n => format!("tcp-{n}"),
    }
}

/// `80 http2, 443 https` as `(number, name)` pairs.
pub fn parse_ports(text: &str) -> Result<Vec<(i64, String)>, FieldRefusal> {
    let mut ports: Vec<(i64, String)> = Vec::new();
    for item in text
        .split([',', '\n'])
        .map(str::trim)
        .filter(|i| !i.is_empty())
    {
        let mut words = item.split([' ', '/', '\t']).filter(|w| !w.is_empty());
        let number = words.next().unwrap_or_default();
        let number = match number.parse::<i64>() {
            Ok(n) if (1..=65535).contains(&n) => n,
            _ => {
                return Err(refuse(
                    "ports",
                    format!(
                        "{}: a port is a number from 1 to 65535, then a name",
                        crate::domain::quoted(item)
                    ),
                ))
            }
        };
        let name = words
            .next()
            .map_or_else(|| default_name(number), str::to_string);
        if !is_k8s_label(&name) || name.len() > 15 {
            return Err(refuse(
                "ports",
                format!(
                    "{}: a port name is lower-case letters, digits and '-', at most 15",
                    crate::domain::quoted(item)
                ),
            ));
        }
        if ports.iter().any(|(n, _)| *n == number) {
            return Err(refuse("ports", format!("port {number} is given twice")));
        }
        ports.push((number, name));
    }
    if ports.is_empty() {
        return Err(refuse(
            "ports",
            "give at least one port, such as 443 https".into(),
        ));
    }
    Ok(ports)
}

/// The control plane a gateway belongs to, `namespace/name`, each part a Kubernetes name.
pub fn control_plane(text: &str) -> Result<(&str, &str), FieldRefusal> {
    let refused = || {
        refuse(
            "control_plane",
            format!(
                "{} is not a control plane: pick one as namespace/name (lower-case letters, \
                 digits and '-')",
                super::quoted(text)
            ),
        )
    };
    match text.trim().split_once('/') {
        Some((namespace, name)) if is_k8s_label(namespace) && is_k8s_label(name) => {
            Ok((namespace, name))
        }
        _ => Err(refused()),
    }
}

/// The IstioMeshGateway the form describes (without apiVersion, which the cluster knows).
pub fn mesh_gateway(form: &MeshGatewayForm) -> Result<Value, FieldRefusal> {
    let namespace = form.namespace.trim();
    let name = form.name.trim();
    if !is_k8s_label(namespace) {
        return Err(refuse(
            "namespace",
            format!(
                "{} is not a namespace name (lower-case letters, digits, '-')",
                crate::domain::quoted(namespace)
            ),
        ));
    }
    if !is_k8s_label(name) {
        return Err(refuse(
            "name",
            format!(
                "{}: the gateway's name is also its Service's: lower-case letters, digits \
                 and '-', at most 63",
                crate::domain::quoted(name)
            ),
        ));
    }
    let (plane_namespace, plane_name) = control_plane(&form.control_plane)?;
    let ports = parse_ports(&form.ports)?;
    let ports: Vec<Value> = ports
        .into_iter()
        .map(|(number, name)| {
            // The gateway runs unprivileged: low ports listen 8000 higher, as Istio's charts do.
            let target = if number < 1024 { number + 8000 } else { number };
            json!({"name": name, "port": number, "protocol": "TCP", "targetPort": target})
        })
        .collect();
    Ok(json!({
        "kind": "IstioMeshGateway",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "mesh-egress"},
        },
        "spec": {
            "type": "egress",
            "istioControlPlane": {"name": plane_name, "namespace": plane_namespace},
            "service": {"type": "ClusterIP", "ports": ports},
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(ports: &str) -> MeshGatewayForm {
        MeshGatewayForm {
            namespace: "istio-system".into(),
            name: "egress-payments".into(),
            ports: ports.into(),
            control_plane: "istio-system/cp-v117x".into(),
        }
    }

    #[test]
    fn the_form_makes_an_egress_mesh_gateway() {
        let object = mesh_gateway(&form("80, 443 https\n9000/tcp-db")).expect("valid");
        assert_eq!(object["spec"]["type"], "egress");
        assert_eq!(object["spec"]["istioControlPlane"]["name"], "cp-v117x");
        let ports = &object["spec"]["service"]["ports"];
        assert_eq!(
            ports[0],
            json!({"name": "http2", "port": 80, "protocol": "TCP", "targetPort": 8080})
        );
        assert_eq!(ports[1]["targetPort"], 8443);
        assert_eq!(
            ports[2],
            json!({"name": "tcp-db", "port": 9000, "protocol": "TCP", "targetPort": 9000})
        );
    }

    #[test]
    fn bad_fields_are_named() {
        let field = |f: &MeshGatewayForm| mesh_gateway(f).expect_err("refused").0;
        assert_eq!(field(&form("")), "ports");
        assert_eq!(field(&form("70000 big")), "ports");
        assert_eq!(field(&form("80, 80")), "ports");
        assert_eq!(field(&form("443 HTTPS")), "ports");
        let mut bad = form("443");
        bad.name = "Egress.Gateway".into();
        assert_eq!(field(&bad), "name");
        bad = form("443");
        bad.control_plane = String::new();
        assert_eq!(field(&bad), "control_plane");
    }
}
