#!/usr/bin/env bash
# Seeds the demo state into the running test control plane. Idempotent (server-side apply);
# it resets what the demo owns (the mesh config too), so each e2e run starts from the seed.
source "$(dirname "$0")/env.sh"
export KUBECONFIG=${KUBECONFIG:-$STATE_DIR/kubeconfig}
# The demo's ServiceEntries are re-created, not merged: a test may have replaced one (its
# ports would merge with the seed's into duplicates).
"$KUBE_BIN_DIR/kubectl" get -f "$TESTENV_DIR/manifests/demo.yaml" --ignore-not-found --no-headers \
  -o custom-columns=KIND:.kind,NS:.metadata.namespace,NAME:.metadata.name \
  | while read -r kind namespace name; do
      [ "$kind" = ServiceEntry ] || continue
      "$KUBE_BIN_DIR/kubectl" delete serviceentry "$name" -n "$namespace" --ignore-not-found >/dev/null
    done
"$KUBE_BIN_DIR/kubectl" apply --server-side --force-conflicts --field-manager mesh-egress-demo \
  -f "$TESTENV_DIR/manifests/demo.yaml" >/dev/null
# Namespaces a test restricted through mesh-egress: the Sidecars it created go.
"$KUBE_BIN_DIR/kubectl" delete sidecars -A -l app.kubernetes.io/managed-by=mesh-egress \
  --ignore-not-found >/dev/null
log "demo data seeded"
# The demo's traffic: the traffic source plays every scenario file in $TRAFFIC_DIR.
if [ "$TESTENV_ISTIOD" = 1 ]; then
  mkdir -p "$TRAFFIC_DIR"
  cp "$TESTENV_DIR/manifests/traffic-demo.yaml" "$TRAFFIC_DIR/demo.yaml.tmp"
  mv "$TRAFFIC_DIR/demo.yaml.tmp" "$TRAFFIC_DIR/demo.yaml"
  log "demo traffic playing (Prometheus: $PROMETHEUS_URL)"
fi
